"""Anthropic Messages: ``POST /v1/messages``, JSON or named SSE events."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, jsonify, request

from tests.emulators.behaviour import (
    Conversation,
    EmulatorState,
    Reply,
    count_words,
    paced,
    plan_reply,
    split_json,
)

STOP = {"end": "end_turn", "tool": "tool_use", "length": "max_tokens"}
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
               403: "permission_error", 404: "not_found_error", 429: "rate_limit_error",
               529: "overloaded_error"}


def register(app: Flask, state: EmulatorState) -> None:
    from tests.emulators.server import begin, error_response, sse_response

    @app.post("/v1/messages")
    def anthropic_messages() -> Response:
        body: dict[str, Any] = request.get_json(force=True)
        behaviour = begin(state, "anthropic", body)
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if state.api_key not in (request.headers.get("x-api-key"), bearer):
            return error_response(_error(401, "invalid x-api-key"), 401, behaviour)
        if behaviour.status != 200:
            return error_response(_error(behaviour.status, "emulated failure"),
                                  behaviour.status, behaviour)
        problem = _check(body)
        if problem:
            return error_response(_error(400, problem), 400, behaviour)
        conv = _conversation(body)
        reply = plan_reply(conv, behaviour)
        mid = f"msg_{uuid.uuid4().hex[:24]}"
        if not conv.stream:
            return jsonify(_message(mid, conv.model, reply))
        return sse_response(paced(_events(mid, conv.model, reply), behaviour, state))


def _error(status: int, message: str) -> dict[str, Any]:
    kind = ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}}


def _check(body: dict[str, Any]) -> str:
    if not isinstance(body.get("model"), str):
        return "model: Field required"
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    for i, m in enumerate(messages):
        if m.get("role") not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        if i and messages[i - 1].get("role") == m.get("role"):
            return "messages: roles must alternate between user and assistant"
    if messages[0].get("role") != "user":
        return "messages: first message must use the user role"
    for tool in body.get("tools") or []:
        if "name" not in tool or "input_schema" not in tool:
            return "tools: each tool needs name and input_schema"
    return ""


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content if isinstance(b, dict)]


def _text_of(block: dict[str, Any]) -> str:
    if block.get("type") == "text":
        return str(block.get("text", ""))
    if block.get("type") == "tool_result":
        inner = block.get("content", "")
        return inner if isinstance(inner, str) else "".join(_text_of(b) for b in inner)
    return ""


def _conversation(body: dict[str, Any]) -> Conversation:
    messages = body["messages"]
    last_blocks = _blocks(messages[-1]["content"])
    results = [b for b in last_blocks if b.get("type") == "tool_result"]
    user_texts = ["".join(_text_of(b) for b in _blocks(m["content"]) if b.get("type") == "text")
                  for m in messages if m["role"] == "user"]
    user_texts = [t for t in user_texts if t]
    system = body.get("system") or ""
    if isinstance(system, list):
        system = "".join(b.get("text", "") for b in system)
    all_text = [system] + [_text_of(b) for m in messages for b in _blocks(m["content"])]
    return Conversation(
        model=body["model"],
        last_user_text=user_texts[-1] if user_texts else "",
        tool_names=tuple(t["name"] for t in body.get("tools") or []),
        tool_result=_text_of(results[-1]) if results else None,
        stream=bool(body.get("stream")),
        input_words=count_words(all_text),
        system=system,
    )


def _usage(reply: Reply, output: int) -> dict[str, Any]:
    return {"input_tokens": reply.input_tokens, "output_tokens": output,
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}


def _message(mid: str, model: str, reply: Reply) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if reply.text is not None:
        content.append({"type": "text", "text": reply.text})
    if reply.tool_name:
        content.append({"type": "tool_use", "id": "toolu_emu0", "name": reply.tool_name,
                        "input": reply.tool_arguments})
    return {"id": mid, "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": STOP[reply.stop], "stop_sequence": None,
            "usage": _usage(reply, reply.output_tokens)}


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def _events(mid: str, model: str, reply: Reply) -> Iterator[bytes]:
    start = {"id": mid, "type": "message", "role": "assistant", "model": model, "content": [],
             "stop_reason": None, "stop_sequence": None, "usage": _usage(reply, 1)}
    yield _sse("message_start", {"type": "message_start", "message": start})
    index = 0
    if reply.text is not None:
        yield _sse("content_block_start", {"type": "content_block_start", "index": 0,
                                           "content_block": {"type": "text", "text": ""}})
        yield _sse("ping", {"type": "ping"})
        for piece in reply.pieces:
            yield _sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                               "delta": {"type": "text_delta", "text": piece}})
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": 0})
        index = 1
    if reply.tool_name:
        block = {"type": "tool_use", "id": "toolu_emu0", "name": reply.tool_name, "input": {}}
        yield _sse("content_block_start", {"type": "content_block_start", "index": index,
                                           "content_block": block})
        for fragment in split_json(json.dumps(reply.tool_arguments)):
            delta = {"type": "input_json_delta", "partial_json": fragment}
            yield _sse("content_block_delta", {"type": "content_block_delta", "index": index,
                                               "delta": delta})
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
    yield _sse("message_delta", {"type": "message_delta",
                                 "delta": {"stop_reason": STOP[reply.stop], "stop_sequence": None},
                                 "usage": {"output_tokens": reply.output_tokens}})
    yield _sse("message_stop", {"type": "message_stop"})
