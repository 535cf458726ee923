"""OpenAI-compatible front door: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Existing OpenAI tools work unmodified with the gateway's URL as ``base_url`` and a Workjet
API key as their key; any catalog model may answer, whatever its provider. DLP findings
on the prompt are reported in ``X-Workjet-DLP``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Blueprint, Response, jsonify

from gateway import pipeline
from gateway.api.body import json_body
from gateway.api.sse import FLUSH_FRAME, KEEPALIVE, sse_response
from gateway.auth.principal import current_principal, require_auth
from gateway.router import compat as c
from gateway.router.relay import Flush, Relayed
from gateway.services import services
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
    ToolCallStart,
    UsageEvent,
)

bp = Blueprint("openai_compat", __name__, url_prefix="/v1")

FINISH: dict[StopReason, str] = {"end_turn": "stop", "stop_sequence": "stop",
                                 "max_tokens": "length", "tool_use": "tool_calls",
                                 "content_filter": "content_filter", "error": "stop"}
ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


@bp.post("/chat/completions")
@require_auth
def chat_completions() -> Response:
    body = c.obj(json_body(), "body")
    req = parse_request(body)
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    prepared = pipeline.prepare(req, "/v1/chat/completions")
    headers = {"X-Workjet-DLP": pipeline.dlp_summary(prepared.findings)} \
        if prepared.findings else {}
    if req.stream:
        return sse_response(frames(pipeline.stream(prepared), include_usage), headers)
    answer = pipeline.complete(prepared)
    return Response(_COMPACT(completion(answer)), mimetype="application/json", headers=headers)


@bp.get("/models")
@require_auth
def list_models() -> Response:
    p = current_principal()
    visible = services().router.catalog.visible(p.tenant_id, p.tenant_name)
    # OpenAI's list shape, with Anthropic's fields too, so both SDKs' models.list() work.
    data = [{"id": m.id, "object": "model", "created": 0, "owned_by": m.provider,
             "type": "model", "display_name": m.id, "created_at": "1970-01-01T00:00:00Z"}
            for m in visible]
    return jsonify(object="list", data=data, has_more=False,
                   first_id=data[0]["id"] if data else None,
                   last_id=data[-1]["id"] if data else None)


# --- request ------------------------------------------------------------------------

def _content(value: Any, path: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    out = []
    for i, part in enumerate(c.arr(value, path)):
        part = c.obj(part, f"{path}[{i}]")
        if part.get("type") not in ("text", "input_text"):
            raise c.fail(f"{path}[{i}].type", "only text content is supported")
        out.append(c.text(part.get("text"), f"{path}[{i}].text"))
    return "".join(out)


def parse_request(body: dict[str, Any]) -> ChatRequest:
    if body.get("n") not in (None, 1):
        raise c.fail("n", "only one choice per request is supported")
    messages: list[Message] = []
    for i, raw in enumerate(c.arr(body.get("messages"), "messages")):
        m = c.obj(raw, f"messages[{i}]")
        role = m.get("role")
        where = f"messages[{i}]"
        if role == "tool":
            call_id = c.text(m.get("tool_call_id"), f"{where}.tool_call_id")
            result = ToolResultPart(call_id, _content(m.get("content"), f"{where}.content"))
            if messages and messages[-1].role == "tool":  # one tool turn with every result
                messages[-1] = Message("tool", (*messages[-1].content, result))
            else:
                messages.append(Message("tool", (result,)))
            continue
        if role not in ROLES:
            raise c.fail(f"{where}.role", "expected system, developer, user, assistant or tool")
        parts: list[ContentPart] = []
        text = _content(m.get("content"), f"{where}.content")
        if text:
            parts.append(TextPart(text))
        for j, call in enumerate(m.get("tool_calls") or [] if role == "assistant" else []):
            call = c.obj(call, f"{where}.tool_calls[{j}]")
            fn = c.obj(call.get("function"), f"{where}.tool_calls[{j}].function")
            parts.append(ToolCallPart(
                id=c.text(call.get("id"), f"{where}.tool_calls[{j}].id"),
                name=c.text(fn.get("name"), f"{where}.tool_calls[{j}].function.name"),
                arguments=c.arguments(fn.get("arguments"),
                                      f"{where}.tool_calls[{j}].function.arguments")))
        messages.append(Message(ROLES[role], tuple(parts)))  # type: ignore[arg-type]
    tools = []
    for i, raw in enumerate(body.get("tools") or []):
        tool = c.obj(raw, f"tools[{i}]")
        if tool.get("type", "function") != "function":
            raise c.fail(f"tools[{i}].type", "only function tools are supported")
        fn = c.obj(tool.get("function"), f"tools[{i}].function")
        tools.append(ToolDefinition(
            name=c.text(fn.get("name"), f"tools[{i}].function.name"),
            input_schema=c.schema(fn.get("parameters"), f"tools[{i}].function.parameters"),
            description=str(fn.get("description") or "")))
    return ChatRequest(
        model=c.text(body.get("model"), "model"), messages=tuple(messages), tools=tuple(tools),
        max_tokens=c.opt_int(body, "max_completion_tokens", "max_tokens"),
        temperature=c.opt_float(body, "temperature"), stop=c.stops(body.get("stop"), "stop"),
        stream=body.get("stream") is True)


# --- response -----------------------------------------------------------------------

def _usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {"prompt_tokens": input_tokens, "completion_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens}


def completion(answer: ChatResponse) -> dict[str, Any]:
    text = "".join(p.text for p in answer.content if isinstance(p, TextPart))
    message: dict[str, Any] = {"role": "assistant", "content": text or None, "refusal": None}
    calls = [p for p in answer.content if isinstance(p, ToolCallPart)]
    if calls:
        message["tool_calls"] = [{"id": p.id, "type": "function", "function": {
            "name": p.name, "arguments": json.dumps(p.arguments)}} for p in calls]
    return {"id": "chatcmpl-" + answer.id, "object": "chat.completion",
            "created": int(time.time()), "model": answer.model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": FINISH[answer.stop_reason]}],
            "usage": _usage(answer.usage.input_tokens, answer.usage.output_tokens)}


def frames(events: Iterable[Relayed], include_usage: bool) -> Iterator[bytes]:
    """Shared events as OpenAI chunks, ending ``data: [DONE]``."""
    head = ""
    usage: UsageEvent | None = None
    for event in events:
        if event is None:
            yield KEEPALIVE
            continue
        if isinstance(event, Flush):
            yield FLUSH_FRAME
            continue
        if isinstance(event, MessageStart):
            head = json.dumps({"id": "chatcmpl-" + event.id, "object": "chat.completion.chunk",
                               "created": int(time.time()), "model": event.model})[:-1] + ","
            delta: dict[str, Any] | None = {"role": "assistant", "content": ""}
        elif type(event) is TextDelta:  # most chunks: no generic encoding of a dict
            yield (f'data: {head}"choices":[{{"index": 0, "delta": {{"content": '
                   f'{_DUMPS(event.text)}}}, "logprobs": null, "finish_reason": null}}]}}\n\n'
                   ).encode()  # byte for byte what _chunk makes
            continue
        elif isinstance(event, TextDelta):
            delta = {"content": event.text}
        elif isinstance(event, ToolCallStart):
            delta = {"tool_calls": [{"index": event.index, "id": event.id, "type": "function",
                                     "function": {"name": event.name, "arguments": ""}}]}
        elif isinstance(event, ToolCallDelta):
            delta = {"tool_calls": [{"index": event.index,
                                     "function": {"arguments": event.arguments_delta}}]}
        elif isinstance(event, UsageEvent):
            usage, delta = event, None
        elif isinstance(event, MessageEnd):
            yield _chunk(head, {}, FINISH[event.stop_reason])
            if include_usage and usage is not None:
                yield (f'data: {head}"choices":[],"usage":'
                       f'{json.dumps(_usage(usage.input_tokens, usage.output_tokens))}}}\n\n'
                       ).encode()
            yield b"data: [DONE]\n\n"
            return
        elif isinstance(event, ErrorEvent):
            error = {"message": event.error.message, "type": event.error.code,
                     "code": event.error.code, "request_id": event.error.request_id}
            yield f"data: {json.dumps({'error': error})}\n\n".encode()
            return
        else:
            delta = None
        if delta is not None:
            yield _chunk(head, delta, None)


_DUMPS = json.JSONEncoder(ensure_ascii=False).encode  # the chunks' style, as _chunk's
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _chunk(head: str, delta: dict[str, Any], finish: str | None) -> bytes:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return f'data: {head}"choices":[{json.dumps(choice, ensure_ascii=False)}]}}\n\n'.encode()
