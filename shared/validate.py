"""Bounds on a chat request beyond its shape, checked at the gateway's edge.

The codec checks types; these checks hold the counts and sizes that come from
outside within limits, so no request can make the gateway do unbounded work.
"""

from __future__ import annotations

from shared.chat import ChatRequest
from shared.errors import ValidationError

MAX_MESSAGES = 1_000
MAX_PARTS_PER_MESSAGE = 256
MAX_TOOLS = 128
MAX_STOP_SEQUENCES = 8
MAX_MODEL_NAME = 200
MAX_TOOL_NAME = 128
MAX_OUTPUT_TOKENS = 1_000_000


def check_chat_request(request: ChatRequest) -> ChatRequest:
    """Return ``request`` unchanged, or raise ``ValidationError`` naming what is out of bounds."""
    if not request.model or len(request.model) > MAX_MODEL_NAME:
        raise ValidationError("model", f"must be 1 to {MAX_MODEL_NAME} characters")
    if not request.messages:
        raise ValidationError("messages", "must hold at least one message")
    if len(request.messages) > MAX_MESSAGES:
        raise ValidationError("messages", f"at most {MAX_MESSAGES} messages")
    for i, message in enumerate(request.messages):
        if len(message.content) > MAX_PARTS_PER_MESSAGE:
            raise ValidationError(
                f"messages[{i}].content", f"at most {MAX_PARTS_PER_MESSAGE} parts"
            )
    if len(request.tools) > MAX_TOOLS:
        raise ValidationError("tools", f"at most {MAX_TOOLS} tools")
    for i, tool in enumerate(request.tools):
        if not tool.name or len(tool.name) > MAX_TOOL_NAME:
            raise ValidationError(f"tools[{i}].name", f"must be 1 to {MAX_TOOL_NAME} characters")
    if len(request.stop) > MAX_STOP_SEQUENCES:
        raise ValidationError("stop", f"at most {MAX_STOP_SEQUENCES} stop sequences")
    if request.max_tokens is not None and not 1 <= request.max_tokens <= MAX_OUTPUT_TOKENS:
        raise ValidationError("max_tokens", f"must be between 1 and {MAX_OUTPUT_TOKENS}")
    if request.temperature is not None and not 0.0 <= request.temperature <= 2.0:
        raise ValidationError("temperature", "must be between 0 and 2")
    return request
