"""Errors of the gateway client, each with a message that tells the person what to do."""

from __future__ import annotations

import email.utils
import time
from dataclasses import replace

from shared.errors import ErrorDetail


class GatewayError(Exception):
    """A request to the gateway failed; ``str(error)`` is the message to show."""

    def __init__(self, message: str, *, code: str = "", status: int = 0, request_id: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.request_id = request_id


class SignedOutError(GatewayError):
    """The key or session is missing, expired or revoked (401)."""


class RateLimitedError(GatewayError):
    """Too many requests (429); ``retry_after`` is in seconds when the gateway said."""

    def __init__(self, message: str, *, retry_after: float | None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class GatewayUnreachableError(GatewayError):
    """No connection to the gateway (refused, DNS, timeout, TLS)."""


class GatewayProtocolError(GatewayError):
    """The gateway answered with something this client cannot read."""


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def retry_phrase(seconds: float | None) -> str:
    if seconds is None:
        return "Wait a little and try again."
    at = time.strftime("%H:%M:%S", time.localtime(time.time() + seconds))
    return f"Try again in {int(seconds + 0.999)} s (at {at})."


def describe(detail: ErrorDetail, gateway_url: str, *, retry_after: float | None = None) -> str:
    """The person-facing message for an error the gateway reported."""
    ref = f" (request id {detail.request_id})" if detail.request_id else ""
    code = detail.code
    # the gateway's messages are sentences; ours follow them, so drop their final stop
    detail = replace(detail, message=detail.message.rstrip().rstrip("."))
    if code == "unauthenticated":
        return (
            f"You are signed out of {gateway_url}: {detail.message}. "
            "Sign in again (ctrl+g, or `workjet login`)."
        )
    if code in ("rate_limited", "budget_exceeded"):
        return f"{detail.message}. {retry_phrase(retry_after)}"
    if code == "dlp_blocked":
        return (
            f"Not sent: your organisation's data-protection policy blocked it ({detail.message}). "
            "Remove the secret or personal data from your message and send it again."
        )
    if code == "model_not_allowed":
        return f"{detail.message}. Pick another model (ctrl+o)."
    if code == "forbidden":
        return f"{detail.message}. Ask your Workjet administrator for access{ref}."
    if code in ("provider_error", "provider_unavailable", "provider_timeout"):
        return f"The model's provider failed: {detail.message}. Try again, or pick another model."
    if code in ("service_unavailable", "audit_unavailable", "internal_error"):
        return (
            f"The gateway had a problem: {detail.message}. Try again in a moment; "
            f"if it persists, tell your administrator{ref}."
        )
    return f"The gateway refused the request: {detail.message}{ref}."
