"""Stream events the gateway sends for a streaming chat, one per server-sent event.

A stream is: ``message_start``, then any of ``text_delta``, ``tool_call_start`` /
``tool_call_delta`` / ``tool_call_end``, ``dlp_notice``, then ``usage`` and
``message_end``. ``error`` may end a stream at any point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.chat import StopReason
from shared.dlp import DlpFinding
from shared.errors import ErrorDetail


@dataclass(frozen=True, slots=True)
class MessageStart:
    id: str
    model: str
    provider: str
    type: Literal["message_start"] = "message_start"


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str
    type: Literal["text_delta"] = "text_delta"


@dataclass(frozen=True, slots=True)
class ToolCallStart:
    index: int
    id: str
    name: str
    type: Literal["tool_call_start"] = "tool_call_start"


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A fragment of the tool call's JSON arguments, in order."""

    index: int
    arguments_delta: str
    type: Literal["tool_call_delta"] = "tool_call_delta"


@dataclass(frozen=True, slots=True)
class ToolCallEnd:
    index: int
    type: Literal["tool_call_end"] = "tool_call_end"


@dataclass(frozen=True, slots=True)
class DlpNotice:
    """What the DLP pipeline did; ``direction`` says whether to the prompt or the answer."""

    findings: tuple[DlpFinding, ...]
    direction: Literal["request", "response"] = "request"
    type: Literal["dlp_notice"] = "dlp_notice"


@dataclass(frozen=True, slots=True)
class UsageEvent:
    input_tokens: int
    output_tokens: int
    cost: float
    type: Literal["usage"] = "usage"


@dataclass(frozen=True, slots=True)
class MessageEnd:
    stop_reason: StopReason
    type: Literal["message_end"] = "message_end"


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    error: ErrorDetail
    type: Literal["error"] = "error"


StreamEvent = (
    MessageStart
    | TextDelta
    | ToolCallStart
    | ToolCallDelta
    | ToolCallEnd
    | DlpNotice
    | UsageEvent
    | MessageEnd
    | ErrorEvent
)
