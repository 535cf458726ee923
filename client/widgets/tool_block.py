"""A tool call and its result in the conversation: one collapsed line, opened by keyboard.

The title says which tool ran and how it ended ("⚙ probe__echo · ok"); inside are the
arguments the model sent and the result text, both cut to a size a terminal can show.
Focus the title (Tab / Shift+Tab) and press Enter to open or close it.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from textual.markup import escape
from textual.widgets import Collapsible, Static

from client.tools import CANCELLED, DENIED
from shared.chat import ToolResultPart

MAX_SHOWN_CHARS = 4_000  # of the arguments and of the result; the whole text stays stored

ToolStatus = Literal["ok", "error", "denied", "cancelled", "no result"]


def tool_status(result: ToolResultPart | None) -> ToolStatus:
    if result is None:
        return "no result"
    if not result.is_error:
        return "ok"
    if result.content == DENIED:
        return "denied"
    if result.content == CANCELLED:
        return "cancelled"
    return "error"


def tool_title(name: str, status: ToolStatus) -> str:
    return f"⚙ {name} · {status}"


class ToolBlock(Collapsible):
    """One tool call and its result; an orphan shows a result whose call is not shown."""

    def __init__(
        self,
        name: str,
        arguments: dict[str, Any],
        result: ToolResultPart | None,
        *,
        tool_call_id: str = "",
        key: str = "",
        orphan: bool = False,
    ) -> None:
        self.tool_name = name
        self.tool_call_id = tool_call_id
        self.key = key  # where the call is in the conversation (ids may repeat)
        self.status = tool_status(result)
        classes = f"tool-block -{self.status.replace(' ', '-')}" + (" -orphan" if orphan else "")
        super().__init__(
            Static(_shown("Arguments", _json(arguments)), markup=False, classes="tool-arguments"),
            Static(_result_text(result), markup=False, classes="tool-result"),
            title=escape(tool_title(name, self.status)),  # a name is text, never markup
            collapsed=True,
            classes=classes,
        )


def _json(arguments: dict[str, Any]) -> str:
    return json.dumps(arguments, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def _result_text(result: ToolResultPart | None) -> str:
    if result is None:
        return "Result\n(none: the answer was stopped before this tool ran)"
    return _shown("Error" if result.is_error else "Result", result.content)


def _shown(heading: str, text: str) -> str:
    if len(text) > MAX_SHOWN_CHARS:
        text = text[:MAX_SHOWN_CHARS] + f"\n… {len(text) - MAX_SHOWN_CHARS} more characters"
    return f"{heading}\n{text}"
