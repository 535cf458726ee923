"""Helpers that build audit records: ids, times, and administrative events.

A record has metadata fields only (see ``shared.audit.AuditRecord``); these helpers
bound every free-text field, and admin events must be one of ``ADMIN_EVENTS``, so a
careless caller cannot turn a field into a carrier of content.
"""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.ids import hex_id
from shared.audit import AuditRecord
from shared.errors import ERROR_CODES

ADMIN_EVENTS = frozenset(
    {
        "sign_in",
        "sign_out",
        "key_created",
        "key_revoked",
        "user_created",
        "user_removed",
        "role_changed",
        "policy_changed",
        "limits_changed",
        "provider_key_set",
        "provider_key_removed",
        "audit_read",
    }
)
MAX_FIELD = 200  # characters of any identifier-like field


def new_id() -> str:
    return hex_id(16)


def now() -> str:
    """RFC 3339 UTC with milliseconds: ``2026-12-03T09:41:07.123Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def bounded(value: str) -> str:
    return value[:MAX_FIELD]


def admin_record(
    *,
    event: str,
    tenant_id: str,
    request_id: str,
    user_id: str = "",
    principal_id: str = "",
    client_address: str = "",
    endpoint: str = "",
    status: int = 200,
    error_code: str = "",
) -> AuditRecord:
    """One administrative event (sign-in, key created or revoked, policy changed, ...)."""
    if event not in ADMIN_EVENTS:
        raise ValueError(f"unknown audit event {event!r}; add it to ADMIN_EVENTS")
    if error_code and error_code not in ERROR_CODES:
        raise ValueError(f"unknown error code {error_code!r}")
    return AuditRecord(
        id=new_id(),
        time=now(),
        kind="admin",
        tenant_id=tenant_id,
        request_id=bounded(request_id),
        user_id=bounded(user_id),
        principal_id=bounded(principal_id),
        client_address=bounded(client_address),
        endpoint=bounded(endpoint),
        event=event,
        status=status,
        error_code=error_code,
    )
