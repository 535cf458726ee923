"""Connector tools in the chat: offered to the model, approved by the person, then run.

The chat screen holds a ``ToolProvider``. It asks ``tools()`` for the definitions to send
with the request, and for each tool call the model makes it calls ``call(...)`` from a
worker thread. ``call`` asks the person through ``ask`` unless an "always" approval with
the same fingerprint (connector target + tool definition, see ``approvals``) exists; a
server's annotations never skip the question. The text result goes back to the model in
the next request, through the gateway, so DLP scans it.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from mcp import types

from client import tools
from client.connectors.approvals import (
    ApprovalRequest,
    ApprovalStore,
    Decision,
    tool_fingerprint,
)
from client.connectors.config import ConnectorConfig
from client.connectors.connection import ConnectorError
from client.connectors.manager import ConnectorManager
from client.connectors.results import tool_result_text
from shared.chat import ToolDefinition, ToolResultPart

MAX_TOOL_NAME = 64  # what Anthropic, OpenAI and Google all accept
MAX_TOOLS = 128
MAX_DESCRIPTION_CHARS = 2_000
MAX_SCHEMA_CHARS = 32_000  # a server's input schema goes to the model in every request
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

DENIED = tools.DENIED
CANCELLED = tools.CANCELLED


class ToolProvider(Protocol):
    """The seam with the chat screen."""

    def tools(self) -> list[ToolDefinition]: ...

    def call(
        self, name: str, arguments: dict[str, Any], tool_call_id: str = ""
    ) -> ToolResultPart: ...

    def cancel(self) -> int: ...


@dataclass(frozen=True, slots=True)
class ProgressUpdate:
    connector: str
    tool: str
    tool_call_id: str
    progress: float
    total: float | None
    message: str | None


AskFn = Callable[[ApprovalRequest], Decision]
ProgressFn = Callable[[ProgressUpdate], None]


def exposed_name(connector: str, tool: str, taken: set[str]) -> str:
    """``connector__tool`` in the characters and length every provider accepts, unique."""
    base = f"{connector}__{_UNSAFE.sub('_', tool)}"
    name = base[:MAX_TOOL_NAME]
    if name in taken or name != base:
        digest = hashlib.sha256(f"{connector}\0{tool}".encode()).hexdigest()[:8]
        name = f"{base[: MAX_TOOL_NAME - 9]}_{digest}"
    return name


class ConnectorToolProvider:
    def __init__(
        self,
        manager: ConnectorManager,
        approvals: ApprovalStore,
        ask: AskFn,
        *,
        on_progress: ProgressFn | None = None,
    ) -> None:
        self.manager = manager
        self.approvals = approvals
        self.ask = ask
        self.on_progress = on_progress
        self._routes: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()
        self._cancelled = threading.Event()

    def tools(self) -> list[ToolDefinition]:
        """Definitions of every enabled connector's tools; starts connectors on first need.

        A connector that fails to start is left out (its status shows why).
        """
        routes: dict[str, tuple[str, str]] = {}
        out: list[ToolDefinition] = []
        for cfg in self.manager.configs:
            if not cfg.enabled:
                continue
            try:
                listed = self.manager.list_tools(cfg.name)
            except ConnectorError:
                continue
            for tool in listed:
                if len(out) >= MAX_TOOLS:
                    break
                if len(json.dumps(tool.input_schema)) > MAX_SCHEMA_CHARS:
                    continue  # oversized definitions are left out rather than truncated
                name = exposed_name(cfg.name, tool.name, set(routes))
                routes[name] = (cfg.name, tool.name)
                desc = f"[{cfg.name}] {tool.description or ''}".strip()
                out.append(
                    ToolDefinition(name, dict(tool.input_schema), desc[:MAX_DESCRIPTION_CHARS])
                )
        with self._lock:
            self._routes = routes
        return out

    def route(self, name: str) -> tuple[str, str] | None:
        """``(connector, tool)`` for an exposed tool name, for showing it to the person."""
        with self._lock:
            return self._routes.get(name)

    def call(
        self,
        name: str,
        arguments: dict[str, Any],
        tool_call_id: str = "",
    ) -> ToolResultPart:
        """Ask, run and return the result; never raises for a tool's own failure."""
        self._cancelled.clear()
        route = self.route(name)
        if route is None:
            return ToolResultPart(tool_call_id, f"Unknown tool {name!r}.", is_error=True)
        connector, tool_name = route
        try:
            cfg = self.manager.config(connector)
            # Re-read the definition now: approval is for what would run, not what was listed.
            tool = next(
                (
                    t
                    for t in self.manager.list_tools(connector, refresh=True)
                    if t.name == tool_name
                ),
                None,
            )
            if tool is None:
                return ToolResultPart(tool_call_id, f"{connector} no longer has {tool_name}.", True)
            fingerprint = tool_fingerprint(cfg, tool)
            if not self.approvals.is_always_allowed(connector, tool_name, fingerprint):
                decision = self.ask(_request(cfg.name, cfg.target, tool, arguments, fingerprint))
                if self._cancelled.is_set() or decision == "deny":
                    return ToolResultPart(tool_call_id, DENIED, is_error=True)
                if decision == "always":
                    self.approvals.allow_always(connector, tool_name, fingerprint)
            fut = self.manager.submit_call(
                connector,
                tool_name,
                arguments,
                on_progress=self._progress(connector, tool_name, tool_call_id),
            )
            result = fut.result()
        except concurrent.futures.CancelledError:
            return ToolResultPart(tool_call_id, CANCELLED, is_error=True)
        except ConnectorError as exc:
            return ToolResultPart(tool_call_id, f"Tool call failed: {exc}", is_error=True)
        except Exception as exc:
            return ToolResultPart(tool_call_id, f"Tool call failed: {exc}", is_error=True)
        return ToolResultPart(tool_call_id, tool_result_text(result), is_error=result.is_error)

    def cancel(self) -> int:
        """The person stopped the answer: cancel calls in flight (and pending approvals)."""
        self._cancelled.set()
        return self.manager.cancel_all()

    def reload(self, configs: Iterable[ConnectorConfig]) -> None:
        """The connectors changed (connectors screen): stop removed or changed ones."""
        self.manager.set_configs(configs)

    def close(self) -> None:
        """Stop every connector process; call when the app exits."""
        self.manager.close()

    def _progress(
        self, connector: str, tool: str, call_id: str
    ) -> Callable[[float, float | None, str | None], None] | None:
        if self.on_progress is None:
            return None
        sink = self.on_progress

        def report(progress: float, total: float | None, message: str | None) -> None:
            sink(ProgressUpdate(connector, tool, call_id, progress, total, message))

        return report


def _request(
    connector: str, target: str, tool: types.Tool, arguments: dict[str, Any], fingerprint: str
) -> ApprovalRequest:
    hints = tool.annotations.model_dump(exclude_none=True) if tool.annotations else {}
    return ApprovalRequest(
        connector=connector,
        target=target,
        tool=tool.name,
        description=tool.description or "",
        arguments=arguments,
        annotations=hints,
        fingerprint=fingerprint,
    )
