"""One exchange with the model: stream the answer, run requested tools, ask again.

Runs in a worker thread and has no Textual import: it reports what happens through
``emit`` as small update objects, and the chat screen turns them into messages.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from client.errors import GatewayError
from client.gateway_client import EventStream, GatewayClient
from client.tools import MAX_TOOL_ROUNDS, ToolProvider
from shared.chat import (
    ChatRequest,
    ContentPart,
    Message,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    Usage,
)
from shared.dlp import DlpFinding
from shared.events import (
    DlpNotice,
    ErrorEvent,
    MessageEnd,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageEvent,
)


@dataclass(frozen=True, slots=True)
class AnswerStarted:
    round: int


@dataclass(frozen=True, slots=True)
class TextChunk:
    text: str


@dataclass(frozen=True, slots=True)
class DlpSeen:
    findings: tuple[DlpFinding, ...]
    direction: str


@dataclass(frozen=True, slots=True)
class ToolUsed:
    name: str
    result: ToolResultPart
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RoundDone:
    """Messages to add to the conversation (the answer, then any tool results)."""

    messages: tuple[Message, ...]
    usage: Usage


@dataclass(frozen=True, slots=True)
class Finished:
    stop_reason: str


@dataclass(frozen=True, slots=True)
class Failed:
    message: str
    code: str = ""


Update = AnswerStarted | TextChunk | DlpSeen | ToolUsed | RoundDone | Finished | Failed


@dataclass
class _Round:
    text: list[str] = field(default_factory=list)
    calls: dict[int, tuple[str, str, list[str]]] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    stop_reason: str = ""


class Exchange:
    """Send ``request``; stream it; loop over tool calls; ``stop()`` from any thread."""

    def __init__(
        self,
        client: GatewayClient,
        request: ChatRequest,
        emit: Callable[[Update], None],
        tools: ToolProvider | None = None,
    ) -> None:
        self._client = client
        self._request = request
        self._emit = emit
        self._tools = tools
        self._stopped = threading.Event()
        self._stream: EventStream | None = None
        self._lock = threading.Lock()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def stop(self) -> None:
        """End the answer now: close the gateway request and cancel tool calls."""
        self._stopped.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.close()
        if self._tools is not None:
            self._tools.cancel()

    def run(self) -> None:
        """Run to the end; always reports ``Finished`` or ``Failed`` last."""
        ended = False
        emit = self._emit

        def tracked(update: Update) -> None:
            nonlocal ended
            if isinstance(update, Finished) or (
                isinstance(update, Failed) and update.code != "tools"
            ):
                ended = True
            emit(update)

        self._emit = tracked
        try:
            self._run()
        except GatewayError as exc:
            if not self._stopped.is_set():
                tracked(Failed(exc.message, exc.code))
        finally:
            if not ended:
                emit(Finished("stopped"))
            self._emit = emit

    def _run(self) -> None:
        request = self._request
        if self._tools is not None:
            try:
                offered = tuple(self._tools.tools())
            except Exception as exc:  # a broken connector must not stop the chat
                offered = ()
                self._emit(Failed(f"Connector tools are unavailable: {exc}", "tools"))
            request = replace(request, tools=offered)
        for round_no in range(MAX_TOOL_ROUNDS + 1):
            if self._stopped.is_set():
                return
            self._emit(AnswerStarted(round_no))
            done = self._one_round(request)
            if done is None or self._stopped.is_set():
                return
            request = replace(request, messages=(*request.messages, *done))
        self._emit(Failed(f"Stopped after {MAX_TOOL_ROUNDS} rounds of tool calls."))

    def _one_round(self, request: ChatRequest) -> tuple[Message, Message] | None:
        """Stream one answer; the answer and tool results when the model wants more."""
        state = _Round()
        stream = self._client.stream_chat(request)
        with self._lock:
            self._stream = stream
        if self._stopped.is_set():
            stream.close()
        with stream:
            for event in stream:
                if isinstance(event, TextDelta):
                    state.text.append(event.text)
                    self._emit(TextChunk(event.text))
                elif isinstance(event, DlpNotice):
                    self._emit(DlpSeen(event.findings, event.direction))
                elif isinstance(event, ToolCallStart):
                    state.calls[event.index] = (event.id, event.name, [])
                elif isinstance(event, ToolCallDelta) and event.index in state.calls:
                    state.calls[event.index][2].append(event.arguments_delta)
                elif isinstance(event, ToolCallEnd):
                    pass
                elif isinstance(event, UsageEvent):
                    state.usage = Usage(event.input_tokens, event.output_tokens, event.cost)
                elif isinstance(event, MessageEnd):
                    state.stop_reason = event.stop_reason
                elif isinstance(event, ErrorEvent):
                    raise GatewayError(_describe_stream_error(event, self._client.base_url),
                                       code=event.error.code)
        parts: list[ContentPart] = []
        if state.text:
            parts.append(TextPart("".join(state.text)))
        calls = [
            ToolCallPart(call_id, name, _arguments("".join(fragments)))
            for _, (call_id, name, fragments) in sorted(state.calls.items())
        ]
        parts.extend(calls)
        answer = Message("assistant", tuple(parts))
        if self._stopped.is_set():
            self._emit(RoundDone((answer,) if parts else (), state.usage))
            self._emit(Finished("stopped"))
            return None
        if not state.stop_reason:
            raise GatewayError(
                f"The answer from {self._client.base_url} ended early. Try again."
            )
        if state.stop_reason != "tool_use" or not calls or self._tools is None:
            self._emit(RoundDone((answer,), state.usage))
            self._emit(Finished(state.stop_reason))
            return None
        results: list[ContentPart] = []
        for call in calls:
            if self._stopped.is_set():
                break
            result = self._tools.call(call.name, call.arguments, call.id)
            self._emit(ToolUsed(call.name, result, call.arguments))
            results.append(result)
        tool_message = Message("tool", tuple(results))
        self._emit(RoundDone((answer, tool_message), state.usage))
        return answer, tool_message


def _arguments(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _describe_stream_error(event: ErrorEvent, gateway_url: str) -> str:
    from client.errors import describe

    return describe(event.error, gateway_url)
