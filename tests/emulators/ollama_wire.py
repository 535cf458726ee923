"""Ollama: ``POST /api/chat``, JSON or an NDJSON stream (streaming is Ollama's default)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, jsonify, request

from tests.emulators.behaviour import (
    Conversation,
    EmulatorState,
    Reply,
    count_words,
    paced,
    plan_reply,
)

DONE = {"end": "stop", "tool": "stop", "length": "length"}


def register(app: Flask, state: EmulatorState) -> None:
    from tests.emulators.server import begin, error_response

    @app.post("/api/chat")
    def ollama_chat() -> Response:
        body: dict[str, Any] = request.get_json(force=True)
        behaviour = begin(state, "ollama", body)
        if behaviour.status != 200:
            return error_response({"error": "emulated failure"}, behaviour.status, behaviour)
        problem = _check(body)
        if problem:
            return error_response({"error": problem}, 400, behaviour)
        conv = _conversation(body)
        reply = plan_reply(conv, behaviour)
        if not conv.stream:
            return jsonify(_final(conv.model, reply, reply.text or "", with_tool=True))
        return Response(paced(_lines(conv.model, reply), behaviour, state),
                        mimetype="application/x-ndjson")


def _check(body: dict[str, Any]) -> str:
    if not body.get("model"):
        return "model is required"
    for m in body.get("messages") or []:
        if m.get("role") not in ("system", "user", "assistant", "tool"):
            return f"invalid role {m.get('role')!r}"
        if not isinstance(m.get("content", ""), str):
            return "message content must be a string"
    return ""


def _conversation(body: dict[str, Any]) -> Conversation:
    messages = body.get("messages") or [{"role": "user", "content": ""}]
    last = messages[-1]
    users = [m.get("content", "") for m in messages if m["role"] == "user"]
    return Conversation(
        model=body["model"], last_user_text=users[-1] if users else "",
        tool_names=tuple(t["function"]["name"] for t in body.get("tools") or []),
        tool_result=last.get("content", "") if last["role"] == "tool" else None,
        stream=body.get("stream", True) is not False,
        input_words=count_words(m.get("content", "") for m in messages),
        system=" ".join(m.get("content", "") for m in messages if m["role"] == "system"),
    )


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _final(model: str, reply: Reply, text: str, with_tool: bool) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if reply.tool_name and with_tool:
        message["tool_calls"] = [{"function": {"name": reply.tool_name,
                                               "arguments": reply.tool_arguments}}]
    return {"model": model, "created_at": _now(), "message": message, "done": True,
            "done_reason": DONE[reply.stop], "total_duration": 1000, "load_duration": 10,
            "prompt_eval_count": reply.input_tokens, "prompt_eval_duration": 100,
            "eval_count": reply.output_tokens, "eval_duration": 800}


def _lines(model: str, reply: Reply) -> Iterator[bytes]:
    for piece in reply.pieces:
        line = {"model": model, "created_at": _now(),
                "message": {"role": "assistant", "content": piece}, "done": False}
        yield (json.dumps(line) + "\n").encode()
    if reply.tool_name:
        line = {"model": model, "created_at": _now(), "done": False,
                "message": {"role": "assistant", "content": "",
                            "tool_calls": [{"function": {"name": reply.tool_name,
                                                         "arguments": reply.tool_arguments}}]}}
        yield (json.dumps(line) + "\n").encode()
    yield (json.dumps(_final(model, reply, "", with_tool=False)) + "\n").encode()
