"""Ollama (``POST /api/chat``), JSON or an NDJSON stream; streaming is asked for explicitly."""

from __future__ import annotations

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
    join_text,
    lines,
    loads,
    new_call_id,
    tool_names_by_id,
    whole_tool_call,
)
from gateway.router.providers.openai import tools
from shared.chat import ChatRequest, ContentPart, StopReason, TextPart, ToolCallPart
from shared.events import TextDelta


def _stop(reason: str, called: bool) -> StopReason:
    if reason == "length":
        return "max_tokens"
    return "tool_use" if called else "end_turn"


def messages(req: ChatRequest) -> list[dict[str, Any]]:
    names = tool_names_by_id(req)
    out: list[dict[str, Any]] = []
    for m in req.messages:
        if m.role == "tool":
            for p in m.content:
                if p.type == "tool_result":
                    out.append({"role": "tool", "content": p.content,
                                "tool_name": names.get(p.tool_call_id, p.tool_call_id)})
            continue
        item: dict[str, Any] = {"role": m.role, "content": join_text(m.content)}
        calls = [p for p in m.content if isinstance(p, ToolCallPart)]
        if calls:
            item["tool_calls"] = [{"function": {"name": c.name, "arguments": c.arguments}}
                                  for c in calls]
        out.append(item)
    return out


class OllamaAdapter:
    provider = "ollama"

    def build(self, req: ChatRequest, model: CatalogModel, api_key: str,
              stream: bool) -> UpstreamRequest:
        body: dict[str, Any] = {"model": model.upstream, "messages": messages(req),
                                "stream": stream}
        if req.tools:
            body["tools"] = tools(req)
        options: dict[str, Any] = {}
        if req.max_tokens is not None:
            options["num_predict"] = req.max_tokens
        if req.temperature is not None:
            options["temperature"] = req.temperature
        if req.stop:
            options["stop"] = list(req.stop)
        if options:
            body["options"] = options
        headers = {"Content-Type": "application/json"}
        if api_key:  # Ollama behind an authenticating proxy
            headers["Authorization"] = f"Bearer {api_key}"
        return UpstreamRequest("/api/chat", headers, dumps(body))

    def parse(self, data: Any) -> Parsed:
        if not isinstance(data, dict) or not isinstance(data.get("message"), dict):
            raise MalformedUpstreamError("Ollama answer without message")
        message = data["message"]
        content: list[ContentPart] = []
        if message.get("content"):
            content.append(TextPart(message["content"]))
        for call in message.get("tool_calls") or []:
            fn = call.get("function") or {}
            args = fn.get("arguments")
            content.append(ToolCallPart(id=call.get("id") or new_call_id(),
                                        name=fn.get("name", ""),
                                        arguments=args if isinstance(args, dict) else {}))
        called = any(p.type == "tool_call" for p in content)
        return Parsed(tuple(content), _stop(data.get("done_reason") or "", called),
                      as_int(data.get("prompt_eval_count")), as_int(data.get("eval_count")))

    def stream(self, chunks: Chunks) -> Iterator[UpstreamEvent | Pause]:
        calls = 0
        for line in lines(chunks):
            if isinstance(line, Pause):
                yield line
                continue
            if not line.strip():
                continue
            body = loads(line)
            if body.get("error"):
                raise MalformedUpstreamError(str(body["error"]))
            message = body.get("message") or {}
            if message.get("content"):
                yield TextDelta(message["content"])
            for call in message.get("tool_calls") or []:
                fn = call.get("function") or {}
                yield from whole_tool_call(calls, call.get("id") or new_call_id(),
                                           fn.get("name", ""), fn.get("arguments"))
                calls += 1
            if body.get("done"):
                yield StreamDone(_stop(body.get("done_reason") or "", calls > 0),
                                 as_int(body.get("prompt_eval_count")),
                                 as_int(body.get("eval_count")))
                return
        raise MalformedUpstreamError("Ollama stream ended before done")

    def error_message(self, data: Any) -> str:
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            return str(data["error"])
        return ""
