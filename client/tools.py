"""The seam between the chat and tools the model may call (MCP connectors).

The chat screen's worker thread uses a :class:`ToolProvider`: it sends ``tools()`` with
each request and, when the model asks for a tool, calls ``call(...)`` (blocking, in the
worker thread) and sends the result back to the model through the gateway. When the
person presses Esc, the chat calls ``cancel()``.

A provider that must ask the person first (approval) does so with the app's
``ask_from_thread(screen)``: it pushes a modal screen from the worker thread and blocks
until the screen is dismissed, returning its result (``None`` if the app is closing).

``create_app(..., tool_provider_factory=f)`` calls ``f(app)`` once the app is mounted;
the factory builds the provider with ``ask=lambda req: app.ask_from_thread(Screen(req))``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from shared.chat import ToolDefinition, ToolResultPart

if TYPE_CHECKING:
    from client.app import WorkjetApp

MAX_TOOL_ROUNDS = 8  # tool calls answered in a row before the chat stops the loop
# Result texts of calls that did not run; the chat shows them as "denied"/"cancelled"
# (also when a stored conversation is opened again, so they are part of the format).
DENIED = "The person denied this tool call."
CANCELLED = "The tool call was cancelled."


class ToolProvider(Protocol):
    def tools(self) -> list[ToolDefinition]: ...

    def call(
        self, name: str, arguments: dict[str, Any], tool_call_id: str = ""
    ) -> ToolResultPart: ...

    def cancel(self) -> int: ...


ToolProviderFactory = Callable[["WorkjetApp"], ToolProvider | None]
