"""Chat request and response: what the client sends and what a non-streaming answer is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from shared.dlp import DlpFinding

Role = Literal["system", "user", "assistant", "tool"]
StopReason = Literal[
    "end_turn", "max_tokens", "stop_sequence", "tool_use", "content_filter", "error"
]


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str
    type: Literal["text"] = "text"


@dataclass(frozen=True, slots=True)
class ToolCallPart:
    """The model asks for a tool; ``arguments`` is the decoded JSON object."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    type: Literal["tool_call"] = "tool_call"


@dataclass(frozen=True, slots=True)
class ToolResultPart:
    """What a tool returned, sent back to the model in a ``tool`` message."""

    tool_call_id: str
    content: str
    is_error: bool = False
    type: Literal["tool_result"] = "tool_result"


ContentPart = TextPart | ToolCallPart | ToolResultPart


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: tuple[ContentPart, ...]


@dataclass(frozen=True, slots=True)
class ToolDefinition:
    """A tool offered to the model; ``input_schema`` is a JSON Schema object."""

    name: str
    input_schema: dict[str, Any]
    description: str = ""


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    messages: tuple[Message, ...]
    tools: tuple[ToolDefinition, ...] = ()
    max_tokens: int | None = None
    temperature: float | None = None
    stop: tuple[str, ...] = ()
    stream: bool = False


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts and their cost in the catalog's currency (US dollars by default)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0


@dataclass(frozen=True, slots=True)
class ChatResponse:
    """A whole answer, for ``stream: false``."""

    id: str
    model: str
    provider: str
    content: tuple[ContentPart, ...]
    stop_reason: StopReason
    usage: Usage
    dlp: tuple[DlpFinding, ...] = ()
