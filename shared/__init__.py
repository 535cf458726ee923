"""The wire contract between Workjet's zones: data-only types and their JSON codec.

Imports neither Flask nor Textual, so both the gateway and the client can use it.
"""

from shared.audit import AuditKind, AuditRecord
from shared.chat import (
    ChatRequest,
    ChatResponse,
    ContentPart,
    Message,
    Role,
    StopReason,
    TextPart,
    ToolCallPart,
    ToolDefinition,
    ToolResultPart,
    Usage,
)
from shared.codec import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    decode,
    decode_json,
    encode,
    from_wire,
    to_wire,
)
from shared.dlp import DlpAction, DlpFinding
from shared.errors import (
    ERROR_CODES,
    DecodeError,
    ErrorBody,
    ErrorCode,
    ErrorDetail,
    ValidationError,
    WireError,
)
from shared.events import (
    DlpNotice,
    ErrorEvent,
    MessageEnd,
    MessageStart,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageEvent,
)
from shared.models import Capability, ModelDescriptor, ModelList, Provider
from shared.validate import check_chat_request

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "ERROR_CODES",
    "AuditKind",
    "AuditRecord",
    "Capability",
    "ChatRequest",
    "ChatResponse",
    "ContentPart",
    "DecodeError",
    "DlpAction",
    "DlpFinding",
    "DlpNotice",
    "ErrorBody",
    "ErrorCode",
    "ErrorDetail",
    "ErrorEvent",
    "Message",
    "MessageEnd",
    "MessageStart",
    "ModelDescriptor",
    "ModelList",
    "Provider",
    "Role",
    "StopReason",
    "StreamEvent",
    "TextDelta",
    "TextPart",
    "ToolCallDelta",
    "ToolCallEnd",
    "ToolCallPart",
    "ToolCallStart",
    "ToolDefinition",
    "ToolResultPart",
    "Usage",
    "UsageEvent",
    "ValidationError",
    "WireError",
    "check_chat_request",
    "decode",
    "decode_json",
    "encode",
    "from_wire",
    "to_wire",
]
