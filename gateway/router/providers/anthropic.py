"""Anthropic Messages (``POST /v1/messages``), JSON and named SSE events."""

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
    loads,
    sse_events,
)
from shared.chat import ChatRequest, ContentPart, StopReason, TextPart, ToolCallPart
from shared.events import TextDelta, ToolCallDelta, ToolCallEnd, ToolCallStart

API_VERSION = "2023-06-01"
STOP: dict[str, StopReason] = {"end_turn": "end_turn", "max_tokens": "max_tokens",
                               "stop_sequence": "stop_sequence", "tool_use": "tool_use",
                               "pause_turn": "end_turn", "refusal": "content_filter"}


def _blocks(parts: tuple[ContentPart, ...]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for p in parts:
        if p.type == "text":
            if p.text:
                blocks.append({"type": "text", "text": p.text})
        elif p.type == "tool_call":
            blocks.append({"type": "tool_use", "id": p.id, "name": p.name, "input": p.arguments})
        else:
            blocks.append({"type": "tool_result", "tool_use_id": p.tool_call_id,
                           "content": p.content, "is_error": p.is_error})
    return blocks


def messages(req: ChatRequest) -> tuple[str, list[dict[str, Any]]]:
    """System text apart; tool results go in user turns; same-role turns are merged."""
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for m in req.messages:
        if m.role == "system":
            system.extend(p.text for p in m.content if p.type == "text")
            continue
        role = "assistant" if m.role == "assistant" else "user"
        blocks = _blocks(m.content)
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return "\n\n".join(system), out


class AnthropicAdapter:
    provider = "anthropic"

    def build(self, req: ChatRequest, model: CatalogModel, api_key: str,
              stream: bool) -> UpstreamRequest:
        system, msgs = messages(req)
        body: dict[str, Any] = {"model": model.upstream, "messages": msgs,
                                "max_tokens": req.max_tokens or model.max_output_tokens}
        if system:
            body["system"] = system
        if req.tools:
            body["tools"] = [{"name": t.name, "description": t.description,
                              "input_schema": t.input_schema} for t in req.tools]
        if req.temperature is not None:
            body["temperature"] = min(req.temperature, 1.0)  # Anthropic's range is 0..1
        if req.stop:
            body["stop_sequences"] = list(req.stop)
        if stream:
            body["stream"] = True
        headers = {"x-api-key": api_key, "anthropic-version": API_VERSION,
                   "Content-Type": "application/json"}
        return UpstreamRequest("/v1/messages", headers, dumps(body))

    def parse(self, data: Any) -> Parsed:
        if not isinstance(data, dict) or not isinstance(data.get("content"), list):
            raise MalformedUpstreamError("Anthropic answer without content")
        content: list[ContentPart] = []
        for block in data["content"]:
            if block.get("type") == "text":
                content.append(TextPart(block.get("text", "")))
            elif block.get("type") == "tool_use":
                args = block.get("input")
                content.append(ToolCallPart(id=block.get("id", ""), name=block.get("name", ""),
                                            arguments=args if isinstance(args, dict) else {}))
        usage = data.get("usage") or {}
        return Parsed(tuple(content), STOP.get(data.get("stop_reason") or "", "end_turn"),
                      as_int(usage.get("input_tokens")), as_int(usage.get("output_tokens")))

    def stream(self, chunks: Chunks) -> Iterator[UpstreamEvent | Pause]:
        tools: dict[int, int] = {}  # block index -> our tool-call index
        input_tokens = output_tokens = 0
        stop: StopReason = "end_turn"
        for item in sse_events(chunks):
            if isinstance(item, Pause):
                yield item
                continue
            event, data = item
            if event == "ping":
                continue
            body = loads(data)
            kind = body.get("type")
            if kind == "content_block_delta":
                delta = body.get("delta") or {}
                if delta.get("type") == "text_delta":
                    yield TextDelta(delta.get("text", ""))
                elif delta.get("type") == "input_json_delta" and delta.get("partial_json"):
                    yield ToolCallDelta(index=tools[as_int(body.get("index"))],
                                        arguments_delta=delta["partial_json"])
            elif kind == "content_block_start":
                block = body.get("content_block") or {}
                if block.get("type") == "tool_use":
                    index = tools[as_int(body.get("index"))] = len(tools)
                    yield ToolCallStart(index=index, id=block.get("id", ""),
                                        name=block.get("name", ""))
            elif kind == "content_block_stop":
                if as_int(body.get("index")) in tools:
                    yield ToolCallEnd(index=tools[as_int(body.get("index"))])
            elif kind == "message_start":
                usage = (body.get("message") or {}).get("usage") or {}
                input_tokens = as_int(usage.get("input_tokens"))
                output_tokens = as_int(usage.get("output_tokens"))
            elif kind == "message_delta":
                stop = STOP.get((body.get("delta") or {}).get("stop_reason") or "", stop)
                usage = body.get("usage") or {}
                output_tokens = as_int(usage.get("output_tokens")) or output_tokens
                input_tokens = as_int(usage.get("input_tokens")) or input_tokens
            elif kind == "message_stop":
                yield StreamDone(stop, input_tokens, output_tokens)
                return
            elif kind == "error":
                error = body.get("error") or {}
                raise MalformedUpstreamError(str(error.get("message", "stream error")))
        raise MalformedUpstreamError("Anthropic stream ended without message_stop")

    def error_message(self, data: Any) -> str:
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            return str(data["error"].get("message", ""))
        return ""
