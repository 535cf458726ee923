"""Anthropic-compatible front door: ``POST /v1/messages``.

Anthropic's tools work unmodified with the gateway's URL as ``base_url`` and a Workjet API
key as their key (sent as a bearer token); any catalog model may answer, Gemini or GPT
included, tool calls too. DLP findings on the prompt are reported in ``X-Workjet-DLP``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Blueprint, Response, jsonify

from gateway import pipeline
from gateway.api.body import json_body
from gateway.api.sse import FLUSH_FRAME, KEEPALIVE, sse_response
from gateway.auth.principal import require_auth
from gateway.router import compat as c
from gateway.router.relay import Flush, Relayed
from shared.chat import (
    ChatRequest,
    ChatResponse,
    ContentPart,
    Message,
    StopReason,
    TextPart,
    ToolCallPart,
    ToolDefinition,
    ToolResultPart,
)
from shared.events import (
    ErrorEvent,
    MessageEnd,
    MessageStart,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageEvent,
)

bp = Blueprint("anthropic_compat", __name__, url_prefix="/v1")

STOP: dict[StopReason, str] = {"end_turn": "end_turn", "stop_sequence": "stop_sequence",
                               "max_tokens": "max_tokens", "tool_use": "tool_use",
                               "content_filter": "refusal", "error": "end_turn"}


@bp.post("/messages")
@require_auth
def messages() -> Response:
    req = parse_request(c.obj(json_body(), "body"))
    prepared = pipeline.prepare(req, "/v1/messages")
    headers = {"X-Workjet-DLP": pipeline.dlp_summary(prepared.findings)} \
        if prepared.findings else {}
    if req.stream:
        return sse_response(frames(pipeline.stream(prepared)), headers)
    response = jsonify(message(pipeline.complete(prepared)))
    response.headers.update(headers)
    return response


# --- request ------------------------------------------------------------------------

def _result_text(value: Any, path: str) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    out = []
    for i, block in enumerate(c.arr(value, path)):
        block = c.obj(block, f"{path}[{i}]")
        if block.get("type") != "text":
            raise c.fail(f"{path}[{i}].type", "only text tool results are supported")
        out.append(c.text(block.get("text"), f"{path}[{i}].text"))
    return "".join(out)


def _turn(role: str, content: Any, where: str) -> list[Message]:
    """One Anthropic turn; a user turn's tool results become a ``tool`` message first."""
    if isinstance(content, str):
        return [Message("assistant" if role == "assistant" else "user", (TextPart(content),))]
    results: list[ContentPart] = []
    parts: list[ContentPart] = []
    for i, raw in enumerate(c.arr(content, f"{where}.content")):
        block = c.obj(raw, f"{where}.content[{i}]")
        path = f"{where}.content[{i}]"
        kind = block.get("type")
        if kind == "text":
            parts.append(TextPart(c.text(block.get("text"), f"{path}.text")))
        elif kind == "tool_use" and role == "assistant":
            parts.append(ToolCallPart(id=c.text(block.get("id"), f"{path}.id"),
                                      name=c.text(block.get("name"), f"{path}.name"),
                                      arguments=c.arguments(block.get("input"), f"{path}.input")))
        elif kind == "tool_result" and role == "user":
            results.append(ToolResultPart(
                tool_call_id=c.text(block.get("tool_use_id"), f"{path}.tool_use_id"),
                content=_result_text(block.get("content"), f"{path}.content"),
                is_error=block.get("is_error") is True))
        elif kind in ("thinking", "redacted_thinking"):
            continue  # a model's own reasoning is not sent on to another provider
        else:
            raise c.fail(f"{path}.type", f"{kind!r} blocks are not supported here")
    out = [Message("tool", tuple(results))] if results else []
    if parts:
        out.append(Message("assistant" if role == "assistant" else "user", tuple(parts)))
    return out


def parse_request(body: dict[str, Any]) -> ChatRequest:
    msgs: list[Message] = []
    system = body.get("system")
    if system:
        text = system if isinstance(system, str) else _result_text(system, "system")
        msgs.append(Message("system", (TextPart(text),)))
    for i, raw in enumerate(c.arr(body.get("messages"), "messages")):
        m = c.obj(raw, f"messages[{i}]")
        role = m.get("role")
        if role not in ("user", "assistant"):
            raise c.fail(f"messages[{i}].role", "expected user or assistant")
        msgs.extend(_turn(role, m.get("content"), f"messages[{i}]"))
    tools = []
    for i, raw in enumerate(body.get("tools") or []):
        tool = c.obj(raw, f"tools[{i}]")
        if tool.get("type") not in (None, "custom"):
            raise c.fail(f"tools[{i}].type", "only custom (client) tools are supported")
        tools.append(ToolDefinition(
            name=c.text(tool.get("name"), f"tools[{i}].name"),
            input_schema=c.schema(tool.get("input_schema"), f"tools[{i}].input_schema"),
            description=str(tool.get("description") or "")))
    return ChatRequest(
        model=c.text(body.get("model"), "model"), messages=tuple(msgs), tools=tuple(tools),
        max_tokens=c.opt_int(body, "max_tokens"), temperature=c.opt_float(body, "temperature"),
        stop=c.stops(body.get("stop_sequences"), "stop_sequences"),
        stream=body.get("stream") is True)


# --- response -----------------------------------------------------------------------

def message(answer: ChatResponse) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for p in answer.content:
        if isinstance(p, TextPart):
            content.append({"type": "text", "text": p.text})
        elif isinstance(p, ToolCallPart):
            content.append({"type": "tool_use", "id": p.id, "name": p.name,
                            "input": p.arguments})
    return {"id": answer.id, "type": "message", "role": "assistant", "model": answer.model,
            "content": content, "stop_reason": STOP[answer.stop_reason], "stop_sequence": None,
            "usage": {"input_tokens": answer.usage.input_tokens,
                      "output_tokens": answer.usage.output_tokens}}


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def frames(events: Iterable[Relayed]) -> Iterator[bytes]:
    """Shared events as Anthropic's named SSE events; content blocks opened and closed."""
    block = -1  # index of the open content block
    text_open = False
    tools: dict[int, int] = {}  # our tool index -> block index
    usage: UsageEvent | None = None
    for event in events:
        if event is None:
            yield KEEPALIVE
        elif isinstance(event, Flush):
            yield FLUSH_FRAME
        elif isinstance(event, MessageStart):
            yield _sse("message_start", {"type": "message_start", "message": {
                "id": event.id, "type": "message", "role": "assistant", "model": event.model,
                "content": [], "stop_reason": None, "stop_sequence": None,
                "usage": {"input_tokens": 0, "output_tokens": 0}}})
        elif isinstance(event, TextDelta):
            if not text_open:
                block += 1
                text_open = True
                yield _sse("content_block_start", {"type": "content_block_start", "index": block,
                                                   "content_block": {"type": "text", "text": ""}})
            yield _sse("content_block_delta", {"type": "content_block_delta", "index": block,
                                               "delta": {"type": "text_delta",
                                                         "text": event.text}})
        elif isinstance(event, ToolCallStart):
            if text_open:
                yield _sse("content_block_stop", {"type": "content_block_stop", "index": block})
                text_open = False
            block += 1
            tools[event.index] = block
            yield _sse("content_block_start", {"type": "content_block_start", "index": block,
                                               "content_block": {"type": "tool_use",
                                                                 "id": event.id,
                                                                 "name": event.name,
                                                                 "input": {}}})
        elif isinstance(event, ToolCallDelta):
            yield _sse("content_block_delta", {"type": "content_block_delta",
                                               "index": tools[event.index],
                                               "delta": {"type": "input_json_delta",
                                                         "partial_json": event.arguments_delta}})
        elif isinstance(event, ToolCallEnd):
            yield _sse("content_block_stop", {"type": "content_block_stop",
                                              "index": tools[event.index]})
        elif isinstance(event, UsageEvent):
            usage = event
        elif isinstance(event, MessageEnd):
            if text_open:
                yield _sse("content_block_stop", {"type": "content_block_stop", "index": block})
            used = {"input_tokens": usage.input_tokens if usage else 0,
                    "output_tokens": usage.output_tokens if usage else 0}
            yield _sse("message_delta", {"type": "message_delta",
                                         "delta": {"stop_reason": STOP[event.stop_reason],
                                                   "stop_sequence": None}, "usage": used})
            yield _sse("message_stop", {"type": "message_stop"})
            return
        elif isinstance(event, ErrorEvent):
            yield _sse("error", {"type": "error", "error": {
                "type": "overloaded_error" if event.error.code == "provider_unavailable"
                else "api_error", "message": event.error.message}})
            return
