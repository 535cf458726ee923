"""Error codes and the one error body every gateway error uses.

Error tree of the contract::

    WireError                 anything wrong with data crossing a zone boundary
    ├── DecodeError           bytes that are not acceptable JSON (syntax, size, depth)
    └── ValidationError       JSON that does not fit the expected wire type

The gateway answers every error with ``{"error": {"code", "message", "request_id"}}``;
the client shows ``message`` to the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ErrorCode = Literal[
    "bad_request",
    "invalid_json",
    "validation_failed",
    "unauthenticated",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "payload_too_large",
    "unsupported_media_type",
    "rate_limited",
    "budget_exceeded",
    "dlp_blocked",
    "model_not_allowed",
    "provider_error",
    "provider_unavailable",
    "provider_timeout",
    "audit_unavailable",
    "service_unavailable",
    "internal_error",
    # device login polling (RFC 8628 section 3.5), answered with status 400
    "authorization_pending",
    "slow_down",
    "expired_token",
    "access_denied",
]

ERROR_CODES: frozenset[str] = frozenset(ErrorCode.__args__)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    code: ErrorCode
    message: str
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class ErrorBody:
    """The JSON error body: ``{"error": {"code", "message", "request_id"}}``."""

    error: ErrorDetail


class WireError(ValueError):
    """Data crossing a zone boundary is not acceptable."""

    code: ErrorCode = "bad_request"


class DecodeError(WireError):
    """Bytes that are not JSON, or JSON beyond the size or depth bounds."""

    code: ErrorCode = "invalid_json"


class ValidationError(WireError):
    """JSON that does not fit the wire type; ``path`` says where (``messages[2].role``)."""

    code: ErrorCode = "validation_failed"

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path or 'body'}: {problem}" if path else problem)
