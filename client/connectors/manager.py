"""Run every configured connector: start on first need, status, restart, calls, clean exit.

The manager owns one event loop in a background thread; each connector's transport and
session live there. Its methods are plain blocking calls meant for worker threads (the
TUI's ``@work(thread=True)`` workers, the CLI), so no caller needs to share a loop with the
SDK. ``submit_call`` returns a ``concurrent.futures.Future`` so the person stopping an
answer can cancel it: the SDK then sends ``notifications/cancelled`` to the server.

``close()`` stops every child (stdin closed, then SIGTERM/SIGKILL to its process group by
the SDK) and joins the thread; it is also registered with ``atexit`` while running.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any, TypeVar

from mcp import ClientSession, types

from client.connectors.config import ConnectorConfig
from client.connectors.connection import (
    Connection,
    ConnectorError,
    ConnectorStatus,
    parent_environment,
)
from client.connectors.secrets import SecretStore, read_secrets

T = TypeVar("T")

DEFAULT_START_TIMEOUT = 30.0
DEFAULT_CALL_TIMEOUT = 120.0
STOP_TIMEOUT = 15.0
MAX_LIST_PAGES = 20

ProgressCallback = Callable[[float, float | None, str | None], None]
StatusListener = Callable[[ConnectorStatus], None]


class ConnectorManager:
    def __init__(
        self,
        configs: Iterable[ConnectorConfig],
        secrets: SecretStore,
        *,
        start_timeout: float = DEFAULT_START_TIMEOUT,
        call_timeout: float = DEFAULT_CALL_TIMEOUT,
        parent_env: Callable[[], Mapping[str, str]] = parent_environment,
    ) -> None:
        self._configs = {c.name: c for c in configs}
        self._store = secrets
        self.start_timeout = start_timeout
        self.call_timeout = call_timeout
        self._parent_env = parent_env
        self._listeners: list[StatusListener] = []
        self._conns: dict[str, Connection] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._inflight: set[concurrent.futures.Future[Any]] = set()
        self._closed = False

    # -- configuration and status ---------------------------------------------------------------

    @property
    def configs(self) -> list[ConnectorConfig]:
        return list(self._configs.values())

    def config(self, name: str) -> ConnectorConfig:
        try:
            return self._configs[name]
        except KeyError:
            raise ConnectorError(f"no connector named {name!r}") from None

    def add_listener(self, listener: StatusListener) -> None:
        """``listener(status)`` runs on the manager's thread on every state change."""
        self._listeners.append(listener)

    def remove_listener(self, listener: StatusListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def status(self, name: str) -> ConnectorStatus:
        self.config(name)
        conn = self._conns.get(name)
        return conn.status if conn is not None else ConnectorStatus(name)

    def statuses(self) -> list[ConnectorStatus]:
        return [self.status(n) for n in self._configs]

    def set_configs(self, configs: Iterable[ConnectorConfig]) -> None:
        """Replace the configuration; connectors removed or changed are stopped."""
        new = {c.name: c for c in configs}
        for name, old in list(self._configs.items()):
            if new.get(name) != old and name in self._conns:
                self._run(self._stop_one(name), STOP_TIMEOUT)
        self._configs = new

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self, name: str, timeout: float | None = None) -> ConnectorStatus:
        """Start ``name`` if needed and wait until it is ready; raises ConnectorError."""
        self._run(self._ensure(name), timeout or self._start_limit(name) + 5)
        return self.status(name)

    def start_autostart(self) -> None:
        """Begin starting connectors marked ``autostart`` without waiting for them."""
        for cfg in self._configs.values():
            if cfg.enabled and cfg.autostart:
                self._submit(self._ensure(cfg.name)).add_done_callback(_swallow)

    def restart(self, name: str, timeout: float | None = None) -> ConnectorStatus:
        self._run(self._stop_one(name), STOP_TIMEOUT)
        return self.start(name, timeout)

    def stop(self, name: str) -> None:
        if self._loop is not None:
            self._run(self._stop_one(name), STOP_TIMEOUT)

    def close(self) -> None:
        """Stop every connector and the loop thread. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
        atexit.unregister(self.close)
        if loop is None or thread is None:
            return
        self.cancel_all()
        fut = asyncio.run_coroutine_threadsafe(self._stop_all(), loop)
        # On a timeout the SDK has already escalated to SIGKILL; nothing more to do here.
        with contextlib.suppress(concurrent.futures.TimeoutError, ConnectorError):
            fut.result(STOP_TIMEOUT + 5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    def __enter__(self) -> ConnectorManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- MCP operations (blocking) --------------------------------------------------------------

    def list_tools(self, name: str, *, refresh: bool = False) -> list[types.Tool]:
        return self._run(self._list_tools(name, refresh), self._call_limit(name))

    def list_resources(self, name: str) -> list[types.Resource]:
        return self._run(self._paged(name, "resources"), self._call_limit(name))

    def list_prompts(self, name: str) -> list[types.Prompt]:
        return self._run(self._paged(name, "prompts"), self._call_limit(name))

    def read_resource(self, name: str, uri: str) -> types.ReadResourceResult:
        async def go() -> types.ReadResourceResult:
            session = await self._session(name)
            return await session.read_resource(uri)

        return self._run(go(), self._call_limit(name))

    def get_prompt(
        self, name: str, prompt: str, arguments: dict[str, str] | None = None
    ) -> types.GetPromptResult:
        async def go() -> types.GetPromptResult:
            session = await self._session(name)
            return await session.get_prompt(prompt, arguments)

        return self._run(go(), self._call_limit(name))

    def submit_call(
        self,
        name: str,
        tool: str,
        arguments: dict[str, Any],
        *,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> concurrent.futures.Future[types.CallToolResult]:
        """Call a tool; cancel the returned future to cancel the call on the server too."""
        limit = timeout or self.config(name).call_timeout or self.call_timeout

        async def go() -> types.CallToolResult:
            session = await self._session(name)

            async def report(progress: float, total: float | None, message: str | None) -> None:
                if on_progress is not None:
                    on_progress(progress, total, message)

            try:
                async with asyncio.timeout(limit):
                    return await session.call_tool(tool, arguments, progress_callback=report)
            except TimeoutError:
                raise ConnectorError(f"{name}: {tool} did not finish within {limit:g} s") from None

        fut = self._submit(go())
        with self._lock:
            self._inflight.add(fut)
        fut.add_done_callback(self._forget)
        return fut

    def call_tool(
        self,
        name: str,
        tool: str,
        arguments: dict[str, Any],
        *,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> types.CallToolResult:
        fut = self.submit_call(name, tool, arguments, on_progress=on_progress, timeout=timeout)
        return _result(fut, None)

    def cancel_all(self) -> int:
        """Cancel every call in flight (the person stopped the answer); returns how many."""
        with self._lock:
            pending = list(self._inflight)
        return sum(1 for f in pending if f.cancel())

    # -- inside the loop ------------------------------------------------------------------------

    def _conn(self, name: str) -> Connection:
        cfg = self.config(name)
        conn = self._conns.get(name)
        if conn is None or conn.cfg != cfg:
            conn = Connection(
                cfg,
                lambda c: read_secrets(self._store, c),
                self._parent_env,
                self.start_timeout,
                self._notify,
            )
            self._conns[name] = conn
        return conn

    async def _ensure(self, name: str) -> Connection:
        conn = self._conn(name)
        if not conn.cfg.enabled:
            raise ConnectorError(f"{name}: connector is disabled")
        if conn.status.state == "failed" and not conn.alive:
            # Failed connectors are restarted explicitly, so a crash loop never spins alone.
            raise ConnectorError(f"{name}: {conn.status.error} (restart it to try again)")
        await asyncio.shield(conn.start())
        return conn

    async def _session(self, name: str) -> ClientSession:
        conn = await self._ensure(name)
        if conn.session is None:
            raise ConnectorError(f"{name}: {conn.status.error or 'not running'}")
        return conn.session

    async def _list_tools(self, name: str, refresh: bool) -> list[types.Tool]:
        conn = await self._ensure(name)
        cached = conn.tools_cache
        if cached is not None and not refresh and not conn.tools_changed:
            return cached
        tools: list[types.Tool] = await self._paged(name, "tools")
        conn.tools_cache = tools
        conn.tools_changed = False
        return tools

    async def _paged(self, name: str, what: str) -> Any:
        session = await self._session(name)
        lister = {
            "tools": (session.list_tools, "tools"),
            "resources": (session.list_resources, "resources"),
            "prompts": (session.list_prompts, "prompts"),
        }[what]
        items: list[Any] = []
        cursor: str | None = None
        for _ in range(MAX_LIST_PAGES):
            params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
            page = await lister[0](params=params)
            items.extend(getattr(page, lister[1]))
            cursor = page.next_cursor
            if not cursor:
                break
        return items

    async def _stop_one(self, name: str) -> None:
        conn = self._conns.pop(name, None)
        if conn is not None:
            await conn.stop()
            self._notify(ConnectorStatus(name))

    async def _stop_all(self) -> None:
        await asyncio.gather(*(self._stop_one(n) for n in list(self._conns)))

    def _notify(self, status: ConnectorStatus) -> None:
        for listener in list(self._listeners):
            listener(status)

    # -- thread plumbing ------------------------------------------------------------------------

    def _start_limit(self, name: str) -> float:
        return self.config(name).start_timeout or self.start_timeout

    def _call_limit(self, name: str) -> float:
        return (self.config(name).call_timeout or self.call_timeout) + self._start_limit(name)

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise ConnectorError("connectors are shut down")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                started = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(started.set)
                    loop.run_forever()
                    loop.close()

                self._thread = threading.Thread(target=run, name="mcp-connectors", daemon=True)
                self._thread.start()
                started.wait()
                self._loop = loop
                atexit.register(self.close)
            return self._loop

    def _submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        try:
            loop = self._ensure_loop()
        except ConnectorError:
            coro.close()
            raise
        return asyncio.run_coroutine_threadsafe(coro, loop)

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        return _result(self._submit(coro), timeout)

    def _forget(self, fut: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            self._inflight.discard(fut)


def _result(fut: concurrent.futures.Future[T], timeout: float | None) -> T:
    try:
        return fut.result(timeout)
    except concurrent.futures.TimeoutError:
        fut.cancel()
        raise ConnectorError("the connector did not answer in time") from None
    except concurrent.futures.CancelledError:
        raise ConnectorError("cancelled") from None
    except ConnectorError:
        raise
    except Exception as exc:
        raise ConnectorError(str(exc) or type(exc).__name__) from exc


def _swallow(fut: concurrent.futures.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()  # failures show in the connector's status instead
