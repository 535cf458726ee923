"""One live connector: its transport, its MCP session and its state, inside the manager's loop.

Everything here runs on the manager's event loop thread. ``run`` holds the transport and
session context managers for the connector's whole life (the SDK's task groups must be
entered and left by the same task) and waits until it is told to stop or the child dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from client.connectors.config import ConnectorConfig
from client.connectors.environment import build_environment
from client.connectors.stderr_tail import StderrTail, child_pid_with_stderr

ConnectorState = Literal["stopped", "starting", "ready", "failed"]


@dataclass(frozen=True, slots=True)
class ConnectorStatus:
    """What the connectors screen shows for one connector."""

    name: str
    state: ConnectorState = "stopped"
    error: str = ""
    stderr_tail: tuple[str, ...] = ()
    pid: int | None = None
    server: str = ""


class ConnectorError(RuntimeError):
    """A connector could not start, died, or a call to it failed; the message says which."""


class Connection:
    def __init__(
        self,
        cfg: ConnectorConfig,
        secrets: Callable[[ConnectorConfig], dict[str, str]],
        parent_env: Callable[[], Mapping[str, str]],
        start_timeout: float,
        on_change: Callable[[ConnectorStatus], None],
    ) -> None:
        self.cfg = cfg
        self._secrets = secrets
        self._parent_env = parent_env
        self._start_timeout = start_timeout
        self._on_change = on_change
        self.status = ConnectorStatus(cfg.name)
        self.session: ClientSession | None = None
        self.task: asyncio.Task[None] | None = None
        self.ready: asyncio.Future[None] | None = None
        self.tools_changed = True
        self.tools_cache: list[Any] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._tail: StderrTail | None = None

    # -- state -----------------------------------------------------------------------------

    def _set(
        self, state: ConnectorState, error: str = "", *, pid: int | None = None, server: str = ""
    ) -> None:
        tail = self._tail.lines() if self._tail is not None and state == "failed" else ()
        if state in ("starting", "ready"):
            pid = pid or self.status.pid
            server = server or self.status.server
        self.status = ConnectorStatus(self.cfg.name, state, error, tail, pid, server)
        self._on_change(self.status)

    @property
    def alive(self) -> bool:
        return self.task is not None and not self.task.done()

    def start(self) -> asyncio.Future[None]:
        """Start the connector unless it runs already; the future resolves when it is ready."""
        if self.alive and self.ready is not None:
            return self.ready
        loop = asyncio.get_running_loop()
        self.ready = loop.create_future()
        self._wake = asyncio.Event()
        self._stopping = False
        self.tools_changed = True
        self.task = loop.create_task(self._run(self.ready), name=f"mcp-{self.cfg.name}")
        return self.ready

    async def stop(self) -> None:
        if self.task is None:
            return
        self._stopping = True
        self._wake.set()
        if self.session is None:
            # Still starting (e.g. a server that never answers): do not wait out the start
            # timeout; cancelling unwinds the SDK's transport, which kills the child.
            self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.task = None

    # -- the connector's life ---------------------------------------------------------------

    async def _run(self, ready: asyncio.Future[None]) -> None:
        self.status = ConnectorStatus(self.cfg.name)
        self._set("starting")
        loop = asyncio.get_running_loop()
        died = False
        try:
            async with contextlib.AsyncExitStack() as stack:
                secrets = await asyncio.to_thread(self._secrets, self.cfg)
                if self.cfg.transport == "stdio":
                    read, write = await self._open_stdio(stack, secrets, loop)
                else:
                    read, write = await self._open_http(stack, secrets)
                del secrets  # held only by the child's environment or the HTTP client now
                session = await stack.enter_async_context(
                    ClientSession(read, write, message_handler=self._on_message)
                )
                with anyio.fail_after(self.cfg.start_timeout or self._start_timeout):
                    init = await session.initialize()
                self.session = session
                info = init.server_info
                self._set("ready", server=f"{info.name} {info.version}".strip())
                if not ready.done():
                    ready.set_result(None)
                await self._wake.wait()
                died = not self._stopping
                self.session = None
        except asyncio.CancelledError:
            self._set("failed", "start cancelled")
            raise
        except Exception as exc:
            if any(isinstance(e, TimeoutError) for e in _leaves(exc)):
                timeout = self.cfg.start_timeout or self._start_timeout
                await self._fail(ready, f"did not answer within {timeout:g} s")
            else:
                await self._fail(ready, _describe(exc))
            return
        finally:
            self.session = None
            if self._tail is not None:
                self._tail.close_writer()
        if died:
            await self._fail(ready, "the connector exited unexpectedly")
        else:
            self._set("stopped")

    async def _fail(self, ready: asyncio.Future[None], message: str) -> None:
        # Let the last stderr lines arrive; a closed pipe means the child is gone.
        closed = self._tail is not None and await asyncio.to_thread(self._tail.wait_closed, 1.0)
        if closed and "exited" not in message:
            message = f"the connector exited ({message})"
        self._set("failed", message)
        if not ready.done():
            ready.set_exception(ConnectorError(f"{self.cfg.name}: {message}"))
            ready.exception()  # mark retrieved: a caller may never await it

    async def _open_stdio(
        self,
        stack: contextlib.AsyncExitStack,
        secrets: dict[str, str],
        loop: asyncio.AbstractEventLoop,
    ) -> tuple[Any, Any]:
        def child_gone() -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed first: nothing to wake
                loop.call_soon_threadsafe(self._wake.set)

        self._tail = StderrTail(on_eof=child_gone)
        params = StdioServerParameters(
            command=self.cfg.command,
            args=list(self.cfg.args),
            env=build_environment(self._parent_env(), secrets),
            cwd=self.cfg.cwd or None,
        )
        assert self._tail.writer is not None
        streams = await stack.enter_async_context(stdio_client(params, errlog=self._tail.writer))
        self._tail.close_writer()
        self._set("starting", pid=child_pid_with_stderr(self._tail.inode))
        return streams

    async def _open_http(
        self, stack: contextlib.AsyncExitStack, secrets: dict[str, str]
    ) -> tuple[Any, Any]:
        self._tail = None
        # The bearer token lives in this connector's own HTTP client and nowhere else.
        token = next(iter(secrets.values()), None)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = await stack.enter_async_context(create_mcp_http_client(headers=headers))
        return await stack.enter_async_context(
            streamable_http_client(self.cfg.url, http_client=client)
        )

    async def _on_message(self, message: Any) -> None:
        method = getattr(message, "method", "")
        if method == "notifications/tools/list_changed":
            self.tools_changed = True
        elif isinstance(message, Exception):
            pass  # a malformed line from the server; the call waiting on it times out


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for e in exc.exceptions for leaf in _leaves(e)]
    return [exc]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"command not found: {exc.filename}"
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions)
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:300]


def parent_environment() -> Mapping[str, str]:
    return os.environ
