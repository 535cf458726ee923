"""OpenAI Chat Completions (``POST /v1/chat/completions``): JSON, or SSE chunks and ``[DONE]``."""

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
    join_text,
    loads,
    sse_events,
)
from shared.chat import ChatRequest, ContentPart, StopReason, TextPart, ToolCallPart
from shared.events import TextDelta, ToolCallDelta, ToolCallEnd, ToolCallStart

STOP: dict[str, StopReason] = {"stop": "end_turn", "length": "max_tokens",
                               "tool_calls": "tool_use", "function_call": "tool_use",
                               "content_filter": "content_filter"}


def messages(req: ChatRequest) -> list[dict[str, Any]]:
    """Shared messages in OpenAI's shape (Ollama reuses most of it)."""
    out: list[dict[str, Any]] = []
    for m in req.messages:
        if m.role == "tool":
            for part in m.content:
                if part.type == "tool_result":
                    out.append({"role": "tool", "tool_call_id": part.tool_call_id,
                                "content": part.content})
            continue
        item: dict[str, Any] = {"role": m.role, "content": join_text(m.content)}
        calls = [p for p in m.content if isinstance(p, ToolCallPart)]
        if calls and m.role == "assistant":
            item["content"] = item["content"] or None
            item["tool_calls"] = [
                {"id": c.id, "type": "function",
                 "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
                for c in calls]
        out.append(item)
    return out


def tools(req: ChatRequest) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": t.name, "description": t.description,
                                              "parameters": t.input_schema}}
            for t in req.tools]


class OpenAIAdapter:
    provider = "openai"

    def build(self, req: ChatRequest, model: CatalogModel, api_key: str,
              stream: bool) -> UpstreamRequest:
        body: dict[str, Any] = {"model": model.upstream, "messages": messages(req)}
        if req.tools:
            body["tools"] = tools(req)
        if req.max_tokens is not None:
            body["max_completion_tokens"] = req.max_tokens
        if req.temperature is not None:
            body["temperature"] = req.temperature
        if req.stop:
            body["stop"] = list(req.stop)
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        return UpstreamRequest("/chat/completions", headers, dumps(body))

    def parse(self, data: Any) -> Parsed:
        try:
            choice = data["choices"][0]
            message = choice["message"]
        except (KeyError, IndexError, TypeError):
            raise MalformedUpstreamError("OpenAI answer without choices[0].message") from None
        content: list[ContentPart] = []
        if message.get("content"):
            content.append(TextPart(message["content"]))
        for call in message.get("tool_calls") or []:
            fn = call.get("function") or {}
            args = loads(fn.get("arguments") or "{}")
            content.append(ToolCallPart(id=call.get("id", ""), name=fn.get("name", ""),
                                        arguments=args if isinstance(args, dict) else {}))
        usage = data.get("usage") or {}
        return Parsed(tuple(content), STOP.get(choice.get("finish_reason") or "", "end_turn"),
                      as_int(usage.get("prompt_tokens")), as_int(usage.get("completion_tokens")))

    def stream(self, chunks: Chunks) -> Iterator[UpstreamEvent | Pause]:
        open_calls: dict[int, int] = {}  # provider's tool index -> our index
        stop: StopReason = "end_turn"
        usage: dict[str, Any] = {}
        for item in sse_events(chunks):
            if isinstance(item, Pause):
                yield item
                continue
            data = item[1]
            if data == b"[DONE]":
                break
            chunk = loads(data)
            if "error" in chunk:
                raise MalformedUpstreamError(str(chunk["error"].get("message", "stream error")))
            if chunk.get("usage"):
                usage = chunk["usage"]
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                if delta.get("content"):
                    yield TextDelta(delta["content"])
                for call in delta.get("tool_calls") or []:
                    upstream_index = as_int(call.get("index"))
                    fn = call.get("function") or {}
                    if upstream_index not in open_calls:
                        open_calls[upstream_index] = len(open_calls)
                        yield ToolCallStart(index=open_calls[upstream_index],
                                            id=call.get("id") or "", name=fn.get("name") or "")
                    if fn.get("arguments"):
                        yield ToolCallDelta(index=open_calls[upstream_index],
                                            arguments_delta=fn["arguments"])
                if choice.get("finish_reason"):
                    stop = STOP.get(choice["finish_reason"], "end_turn")
        else:
            raise MalformedUpstreamError("OpenAI stream ended without [DONE]")
        for index in open_calls.values():
            yield ToolCallEnd(index=index)
        yield StreamDone(stop, as_int(usage.get("prompt_tokens")),
                         as_int(usage.get("completion_tokens")))

    def error_message(self, data: Any) -> str:
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            return str(data["error"].get("message", ""))
        return ""
