"""Turn what an MCP server returns into the text sent back to the model (through the gateway).

Everything becomes text so the gateway's DLP can scan it: text blocks verbatim, embedded
text resources with their URI, binary content as a short placeholder (never forwarded).
The total is capped so one tool cannot flood the conversation.
"""

from __future__ import annotations

import json

from mcp import types

MAX_RESULT_CHARS = 100_000


def tool_result_text(result: types.CallToolResult, limit: int = MAX_RESULT_CHARS) -> str:
    parts = [block_text(b) for b in result.content]
    if not any(parts) and result.structured_content is not None:
        parts = [json.dumps(result.structured_content, ensure_ascii=False, indent=2)]
    return truncate("\n".join(p for p in parts if p), limit)


def block_text(block: types.ContentBlock) -> str:
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.ImageContent):
        return f"[image {block.mime_type}, {_b64_size(block.data)} bytes, not forwarded]"
    if isinstance(block, types.AudioContent):
        return f"[audio {block.mime_type}, {_b64_size(block.data)} bytes, not forwarded]"
    if isinstance(block, types.ResourceLink):
        return f"[resource link {block.uri}" + (f": {block.name}]" if block.name else "]")
    if isinstance(block, types.EmbeddedResource):
        return resource_text(block.resource)
    return f"[{getattr(block, 'type', 'unknown')} content, not forwarded]"


def resource_text(contents: types.TextResourceContents | types.BlobResourceContents) -> str:
    if isinstance(contents, types.TextResourceContents):
        return f"[resource {contents.uri}]\n{contents.text}"
    size = _b64_size(contents.blob)
    return f"[resource {contents.uri}: {contents.mime_type or 'binary'}, {size} bytes, not shown]"


def read_result_text(result: types.ReadResourceResult, limit: int = MAX_RESULT_CHARS) -> str:
    return truncate("\n".join(resource_text(c) for c in result.contents), limit)


def prompt_text(result: types.GetPromptResult, limit: int = MAX_RESULT_CHARS) -> str:
    lines = [f"{m.role}: {block_text(m.content)}" for m in result.messages]
    return truncate("\n\n".join(lines), limit)


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[… {len(text) - limit} more characters cut]"


def _b64_size(data: str) -> int:
    return len(data) * 3 // 4 - data[-2:].count("=")
