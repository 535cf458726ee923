"""What every provider adapter provides, and the pieces they share.

An adapter is pure translation: ``build`` turns a shared ``ChatRequest`` into the
provider's HTTP request, ``parse`` turns a whole JSON answer into ``Parsed``, and
``stream`` turns the provider's byte stream into shared stream events ending with one
``StreamDone``. Sending, retrying and timing are the router's job.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.ids import hex_id
from gateway.router.catalog import CatalogModel
from shared.chat import ChatRequest, ContentPart, StopReason, TextPart, ToolCallPart
from shared.events import TextDelta, ToolCallDelta, ToolCallEnd, ToolCallStart


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    path: str  # appended to the endpoint's base URL; may carry a query string
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Parsed:
    content: tuple[ContentPart, ...]
    stop_reason: StopReason
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True, slots=True)
class StreamDone:
    """The provider's stream ended normally."""

    stop_reason: StopReason
    input_tokens: int
    output_tokens: int


class Pause:
    """A pause in the provider's bytes; ``lines``, ``sse_events`` and every adapter's
    ``stream`` pass it through at once, so the relay, reading in the request's own thread,
    can act on it between events.

    ``WAIT``: everything received so far is translated and the next read may wait, so
    what the client has not been sent yet goes out now. ``SILENCE``: the provider has
    sent nothing for the keep-alive interval, so a keep-alive comment goes out.
    """

    __slots__ = ("silent",)

    def __init__(self, silent: bool) -> None:
        self.silent = silent

    def __repr__(self) -> str:
        return "SILENCE" if self.silent else "WAIT"


SILENCE = Pause(silent=True)
WAIT = Pause(silent=False)

UpstreamEvent = TextDelta | ToolCallStart | ToolCallDelta | ToolCallEnd | StreamDone
Chunks = Iterable[bytes | Pause]


class MalformedUpstreamError(ValueError):
    """The provider sent something that is not its documented wire format."""


class Adapter(Protocol):
    provider: str

    def build(self, req: ChatRequest, model: CatalogModel, api_key: str,
              stream: bool) -> UpstreamRequest: ...

    def parse(self, data: Any) -> Parsed: ...

    def stream(self, chunks: Chunks) -> Iterator[UpstreamEvent | Pause]: ...

    def error_message(self, data: Any) -> str: ...


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def loads(raw: bytes | str) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise MalformedUpstreamError(f"provider sent invalid JSON: {exc}") from None


def new_call_id() -> str:
    """Ids for tool calls of providers that do not give one (Gemini, Ollama)."""
    return "call_" + hex_id(8)


def tool_names_by_id(req: ChatRequest) -> dict[str, str]:
    """Providers that answer tool results by function name need the name of each call id."""
    return {part.id: part.name for m in req.messages for part in m.content
            if isinstance(part, ToolCallPart)}


def join_text(parts: Iterable[ContentPart]) -> str:
    return "".join(p.text for p in parts if isinstance(p, TextPart))


def whole_tool_call(index: int, call_id: str, name: str,
                    arguments: Any) -> Iterator[UpstreamEvent]:
    """A tool call that arrives whole becomes start, one arguments delta, end."""
    yield ToolCallStart(index=index, id=call_id, name=name)
    yield ToolCallDelta(index=index, arguments_delta=json.dumps(arguments or {}))
    yield ToolCallEnd(index=index)


def lines(chunks: Chunks) -> Iterator[bytes | Pause]:
    """Lines of a byte stream whatever the chunk boundaries; ``\\r\\n`` and ``\\n`` both end one."""
    rest = b""
    for chunk in chunks:
        if isinstance(chunk, Pause):
            yield chunk
            continue
        if rest:
            chunk = rest + chunk
        parts = chunk.split(b"\n")
        rest = parts.pop()
        for line in parts:
            yield line[:-1] if line.endswith(b"\r") else line
    if rest:
        yield rest[:-1] if rest.endswith(b"\r") else rest


def sse_events(chunks: Chunks) -> Iterator[tuple[str, bytes] | Pause]:
    """Server-sent events as (event name, data); comments and ids are skipped."""
    event = ""
    data: list[bytes] = []
    for line in lines(chunks):
        if isinstance(line, Pause):
            yield line
        elif not line:
            if data:
                yield event, b"\n".join(data)
            event, data = "", []
        elif line.startswith(b"data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(b" ") else value)
        elif line.startswith(b"event:"):
            event = line[6:].strip().decode()
    if data:
        yield event, b"\n".join(data)


def as_int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
