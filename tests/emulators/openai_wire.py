"""OpenAI Chat Completions: ``POST /v1/chat/completions``, JSON or SSE chunks + ``[DONE]``."""

from __future__ import annotations

import json
import time
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

FINISH = {"end": "stop", "tool": "tool_calls", "length": "length"}
ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_api_key", 403: "permission_denied",
               404: "model_not_found", 429: "rate_limit_exceeded"}


def register(app: Flask, state: EmulatorState) -> None:
    from tests.emulators.server import begin, error_response, sse_response

    @app.post("/v1/chat/completions")
    def openai_chat() -> Response:
        body: dict[str, Any] = request.get_json(force=True)
        behaviour = begin(state, "openai", body)
        if request.headers.get("Authorization") != f"Bearer {state.api_key}":
            return error_response(_error(401, "Incorrect API key provided."), 401, behaviour)
        if behaviour.status != 200:
            return error_response(_error(behaviour.status, "emulated failure"),
                                  behaviour.status, behaviour)
        problem = _check(body)
        if problem:
            return error_response(_error(400, problem), 400, behaviour)
        conv = _conversation(body)
        reply = plan_reply(conv, behaviour)
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if not conv.stream:
            return jsonify(_completion(cid, conv.model, reply))
        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return sse_response(paced(_chunks(cid, conv.model, reply, usage), behaviour, state))


def _error(status: int, message: str) -> dict[str, Any]:
    kind = ERROR_TYPES.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


def _check(body: dict[str, Any]) -> str:
    if not isinstance(body.get("model"), str):
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty array"
    for m in messages:
        if m.get("role") not in ("system", "developer", "user", "assistant", "tool"):
            return f"invalid role {m.get('role')!r}"
        if m.get("role") == "tool" and not m.get("tool_call_id"):
            return "tool messages need tool_call_id"
    for tool in body.get("tools") or []:
        if tool.get("type") != "function" or "name" not in tool.get("function", {}):
            return "tools must be functions with a name"
    return ""


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _conversation(body: dict[str, Any]) -> Conversation:
    messages = body["messages"]
    last = messages[-1]
    users = [_text(m.get("content")) for m in messages if m["role"] == "user"]
    return Conversation(
        model=body["model"],
        last_user_text=users[-1] if users else "",
        tool_names=tuple(t["function"]["name"] for t in body.get("tools") or []),
        tool_result=_text(last.get("content")) if last["role"] == "tool" else None,
        stream=bool(body.get("stream")),
        input_words=count_words(_text(m.get("content")) for m in messages),
        system=" ".join(_text(m.get("content")) for m in messages if m["role"] == "system"),
    )


def _usage(reply: Reply) -> dict[str, int]:
    return {"prompt_tokens": reply.input_tokens, "completion_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens}


def _completion(cid: str, model: str, reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text, "refusal": None}
    if reply.tool_name:
        message["tool_calls"] = [{
            "id": "call_emu0", "type": "function",
            "function": {"name": reply.tool_name, "arguments": json.dumps(reply.tool_arguments)},
        }]
    return {
        "id": cid, "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None,
                     "finish_reason": FINISH[reply.stop]}],
        "usage": _usage(reply),
    }


def _chunks(cid: str, model: str, reply: Reply, usage: bool) -> Iterator[bytes]:
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        data = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None,
                             "finish_reason": finish}]}
        return f"data: {json.dumps(data)}\n\n".encode()

    yield chunk({"role": "assistant", "content": ""})
    for piece in reply.pieces:
        yield chunk({"content": piece})
    if reply.tool_name:
        yield chunk({"tool_calls": [{"index": 0, "id": "call_emu0", "type": "function",
                                     "function": {"name": reply.tool_name, "arguments": ""}}]})
        for fragment in split_json(json.dumps(reply.tool_arguments)):
            yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]})
    yield chunk({}, FINISH[reply.stop])
    if usage:
        data = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [], "usage": _usage(reply)}
        yield f"data: {json.dumps(data)}\n\n".encode()
    yield b"data: [DONE]\n\n"


