"""Audit record: metadata of one request or administrative event, never content.

No field may hold message content, tool arguments or results, or credentials;
``principal_id`` is the id of the API key or session, never its secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.dlp import DlpFinding

AuditKind = Literal["request", "admin"]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: str
    time: str  # RFC 3339, UTC
    kind: AuditKind
    tenant_id: str
    request_id: str
    user_id: str = ""
    principal_id: str = ""
    client_address: str = ""
    endpoint: str = ""
    event: str = ""  # admin events: sign_in, key_created, key_revoked, limits_changed, ...
    model: str = ""
    provider: str = ""
    status: int = 0
    error_code: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    latency_ms: float = 0.0
    ttfb_ms: float = 0.0
    dlp: tuple[DlpFinding, ...] = ()
    rate_limit: str = ""  # "ok", or which limit refused the request
    host: str = ""
    worker: str = ""
    # Tamper evidence, filled in by the gateway's uploader: position in the stream
    # (tenant, host, worker) and the SHA-256 of the previous record's line in it.
    seq: int = 0
    prev_hash: str = ""
