"""Google Gemini: ``models/{model}:generateContent`` and ``:streamGenerateContent?alt=sse``."""

from __future__ import annotations

import json
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
)

FINISH = {"end": "STOP", "tool": "STOP", "length": "MAX_TOKENS"}
STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
          404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE",
          504: "DEADLINE_EXCEEDED"}


def register(app: Flask, state: EmulatorState) -> None:
    from tests.emulators.server import begin, error_response, sse_response

    @app.post("/v1beta/models/<path:target>")
    @app.post("/v1/models/<path:target>")
    def gemini(target: str) -> Response:
        body: dict[str, Any] = request.get_json(force=True)
        model, _, action = target.partition(":")
        stream = action == "streamGenerateContent"
        behaviour = begin(state, "google", body)
        if request.headers.get("x-goog-api-key") != state.api_key:
            return error_response(_error(401, "API key not valid."), 401, behaviour)
        if behaviour.status != 200:
            return error_response(_error(behaviour.status, "emulated failure"),
                                  behaviour.status, behaviour)
        if action not in ("generateContent", "streamGenerateContent"):
            return error_response(_error(404, f"unknown method {action}"), 404, behaviour)
        if stream and request.args.get("alt") != "sse":
            return error_response(_error(400, "this emulator streams only with alt=sse"), 400,
                                  behaviour)
        problem = _check(body)
        if problem:
            return error_response(_error(400, problem), 400, behaviour)
        conv = _conversation(model, body, stream)
        reply = plan_reply(conv, behaviour)
        if not stream:
            return jsonify(_response(model, reply, reply.pieces, final=True))
        return sse_response(paced(_chunks(model, reply), behaviour, state))


def _error(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": STATUS.get(status, "UNKNOWN")}}


def _check(body: dict[str, Any]) -> str:
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return "contents is not specified"
    for i, c in enumerate(contents):
        if c.get("role") not in ("user", "model"):
            return f"contents[{i}].role: please use a valid role: user, model"
        if not c.get("parts"):
            return f"contents[{i}].parts: must not be empty"
        for part in c["parts"]:
            fr = part.get("functionResponse")
            if fr is not None and not fr.get("name"):
                return "functionResponse.name: must be the function's name"
    for tool in body.get("tools") or []:
        for decl in tool.get("functionDeclarations") or []:
            if "name" not in decl:
                return "functionDeclarations: name is required"
    return ""


def _part_text(part: dict[str, Any]) -> str:
    if "text" in part:
        return str(part["text"])
    if "functionResponse" in part:
        response = part["functionResponse"].get("response", {})
        if isinstance(response, dict) and set(response) <= {"output", "error", "content"}:
            value = response.get("output", response.get("content", response.get("error", "")))
            return value if isinstance(value, str) else json.dumps(value)
        return json.dumps(response)
    return ""


def _conversation(model: str, body: dict[str, Any], stream: bool) -> Conversation:
    contents = body["contents"]
    last_parts = contents[-1]["parts"]
    results = [p for p in last_parts if "functionResponse" in p]
    users = ["".join(p.get("text", "") for p in c["parts"]) for c in contents
             if c["role"] == "user"]
    users = [u for u in users if u]
    system = "".join(p.get("text", "") for p in (body.get("systemInstruction") or {})
                     .get("parts", []))
    names = tuple(d["name"] for t in body.get("tools") or []
                  for d in t.get("functionDeclarations") or [])
    return Conversation(
        model=model, last_user_text=users[-1] if users else "", tool_names=names,
        tool_result=_part_text(results[-1]) if results else None, stream=stream,
        input_words=count_words([system] + [_part_text(p) for c in contents for p in c["parts"]]),
        system=system,
    )


def _response(model: str, reply: Reply, pieces: tuple[str, ...], final: bool,
              with_tool: bool = True) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if pieces:
        parts.append({"text": "".join(pieces)})
    if reply.tool_name and with_tool:
        parts.append({"functionCall": {"name": reply.tool_name, "args": reply.tool_arguments}})
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    out: dict[str, Any] = {"candidates": [candidate], "modelVersion": model,
                           "responseId": "emu-response"}
    if final:
        candidate["finishReason"] = FINISH[reply.stop]
        out["usageMetadata"] = {"promptTokenCount": reply.input_tokens,
                                "candidatesTokenCount": reply.output_tokens,
                                "totalTokenCount": reply.input_tokens + reply.output_tokens}
    return out


def _chunks(model: str, reply: Reply) -> Iterator[bytes]:
    bodies: list[dict[str, Any]] = []
    pieces = reply.pieces
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1 and not reply.tool_name
        bodies.append(_response(model, reply, (piece,), final=last, with_tool=False))
    if reply.tool_name:
        bodies.append(_response(model, reply, (), final=True))
    for body in bodies:
        yield f"data: {json.dumps(body)}\r\n\r\n".encode()
