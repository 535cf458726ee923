"""Google Gemini (``models/{model}:generateContent`` / ``:streamGenerateContent?alt=sse``).

Gemini answers tool results by function name, not call id, and gives no call ids of its
own in most versions: ids are made here, and names are found from the conversation.
Tool schemas go as ``parametersJsonSchema`` so that full JSON Schema reaches the model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from gateway.router.catalog import CatalogModel
from gateway.router.providers.base import (
    Chunks,
    MalformedUpstreamError,
    Parsed,
    Pause,
    StreamDone,
    UpstreamEvent,
    UpstreamRequest,
    as_int,
    dumps,
    loads,
    new_call_id,
    sse_events,
    tool_names_by_id,
    whole_tool_call,
)
from shared.chat import ChatRequest, ContentPart, StopReason, TextPart, ToolCallPart
from shared.events import TextDelta

API_PREFIX = "/v1beta/models/"
FILTERED = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
            "IMAGE_SAFETY"}


def _stop(reason: str, called: bool) -> StopReason:
    if reason == "MAX_TOKENS":
        return "max_tokens"
    if reason in FILTERED:
        return "content_filter"
    return "tool_use" if called else "end_turn"


def _result(content: str, is_error: bool) -> dict[str, Any]:
    try:
        value = json.loads(content)
    except ValueError:
        value = content
    if isinstance(value, dict) and not is_error:
        return value
    return {"error" if is_error else "output": value}


def contents(req: ChatRequest) -> tuple[str, list[dict[str, Any]]]:
    names = tool_names_by_id(req)
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for m in req.messages:
        if m.role == "system":
            system.extend(p.text for p in m.content if p.type == "text")
            continue
        parts: list[dict[str, Any]] = []
        for p in m.content:
            if p.type == "text":
                if p.text:
                    parts.append({"text": p.text})
            elif p.type == "tool_call":
                parts.append({"functionCall": {"name": p.name, "args": p.arguments}})
            else:
                parts.append({"functionResponse": {
                    "name": names.get(p.tool_call_id, p.tool_call_id),
                    "response": _result(p.content, p.is_error)}})
        if not parts:
            continue
        role = "model" if m.role == "assistant" else "user"
        if out and out[-1]["role"] == role:
            out[-1]["parts"].extend(parts)
        else:
            out.append({"role": role, "parts": parts})
    return "\n\n".join(system), out


class GoogleAdapter:
    provider = "google"

    def build(self, req: ChatRequest, model: CatalogModel, api_key: str,
              stream: bool) -> UpstreamRequest:
        system, parts = contents(req)
        body: dict[str, Any] = {"contents": parts}
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        if req.tools:
            body["tools"] = [{"functionDeclarations": [
                {"name": t.name, "description": t.description,
                 "parametersJsonSchema": t.input_schema} for t in req.tools]}]
        config: dict[str, Any] = {}
        if req.max_tokens is not None:
            config["maxOutputTokens"] = req.max_tokens
        if req.temperature is not None:
            config["temperature"] = req.temperature
        if req.stop:
            config["stopSequences"] = list(req.stop)
        if config:
            body["generationConfig"] = config
        action = ":streamGenerateContent?alt=sse" if stream else ":generateContent"
        headers = {"x-goog-api-key": api_key, "Content-Type": "application/json"}
        return UpstreamRequest(API_PREFIX + model.upstream + action, headers, dumps(body))

    def parse(self, data: Any) -> Parsed:
        if not isinstance(data, dict):
            raise MalformedUpstreamError("Gemini answer is not an object")
        content: list[ContentPart] = []
        reason = ""
        for candidate in (data.get("candidates") or [])[:1]:
            reason = candidate.get("finishReason") or ""
            for part in (candidate.get("content") or {}).get("parts") or []:
                if part.get("thought"):
                    continue
                if "text" in part:
                    content.append(TextPart(part["text"]))
                elif "functionCall" in part:
                    fc = part["functionCall"]
                    args = fc.get("args")
                    content.append(ToolCallPart(id=fc.get("id") or new_call_id(),
                                                name=fc.get("name", ""),
                                                arguments=args if isinstance(args, dict) else {}))
        usage = data.get("usageMetadata") or {}
        called = any(p.type == "tool_call" for p in content)
        return Parsed(tuple(content), _stop(reason, called),
                      as_int(usage.get("promptTokenCount")),
                      as_int(usage.get("candidatesTokenCount"))
                      + as_int(usage.get("thoughtsTokenCount")))

    def stream(self, chunks: Chunks) -> Iterator[UpstreamEvent | Pause]:
        calls = 0
        reason = ""
        usage: dict[str, Any] = {}
        for item in sse_events(chunks):
            if isinstance(item, Pause):
                yield item
                continue
            body = loads(item[1])
            if "error" in body:
                raise MalformedUpstreamError(str(body["error"].get("message", "stream error")))
            usage = body.get("usageMetadata") or usage
            for candidate in (body.get("candidates") or [])[:1]:
                reason = candidate.get("finishReason") or reason
                for part in (candidate.get("content") or {}).get("parts") or []:
                    if part.get("thought"):
                        continue
                    if part.get("text"):
                        yield TextDelta(part["text"])
                    elif "functionCall" in part:
                        fc = part["functionCall"]
                        yield from whole_tool_call(calls, fc.get("id") or new_call_id(),
                                                   fc.get("name", ""), fc.get("args"))
                        calls += 1
        if not reason:
            raise MalformedUpstreamError("Gemini stream ended without a finish reason")
        yield StreamDone(_stop(reason, calls > 0), as_int(usage.get("promptTokenCount")),
                         as_int(usage.get("candidatesTokenCount"))
                         + as_int(usage.get("thoughtsTokenCount")))

    def error_message(self, data: Any) -> str:
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            return str(data["error"].get("message", ""))
        return ""
