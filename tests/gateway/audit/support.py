"""Helpers for the audit tests: records, configs, and reading back what reached a sink."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from gateway.audit.config import AuditConfig, S3Target
from gateway.audit.objects import object_lines, parse_data_key
from gateway.audit.records import new_id, now
from gateway.audit.sinks import Sink
from shared.audit import AuditRecord
from shared.dlp import DlpFinding


def record(tenant: str = "t-acme", **fields: Any) -> AuditRecord:
    values: dict[str, Any] = {
        "id": new_id(),
        "time": now(),
        "kind": "request",
        "tenant_id": tenant,
        "request_id": new_id()[:24],
        "user_id": "u-1",
        "principal_id": "k-1",
        "endpoint": "/api/v1/chat",
        "model": "gpt-test",
        "provider": "openai",
        "status": 200,
        "input_tokens": 12,
        "output_tokens": 34,
        "cost": 0.0012,
        "latency_ms": 120.5,
        "ttfb_ms": 40.0,
        "dlp": (DlpFinding("EMAIL", 1, "redact"),),
        "rate_limit": "ok",
    }
    values.update(fields)
    return AuditRecord(**values)


def file_config(tmp: Path, **kw: Any) -> AuditConfig:
    kw.setdefault("upload_interval", 0.1)
    kw.setdefault("max_backoff", 0.5)
    kw.setdefault("host", "testhost")
    return AuditConfig(sink=tmp / "sink", spool_dir=tmp / "spool", **kw)


def s3_target(server: Any, bucket: str, **kw: Any) -> S3Target:
    return S3Target(
        endpoint=server.endpoint, bucket=bucket, access_key=server.access_key,
        secret_key=server.secret_key, secure=False, region=server.region, **kw,
    )


def stored_lines(sink: Sink, tenant: str | None = None) -> list[dict[str, Any]]:
    """Every record line in every data object of ``tenant`` (or of all tenants)."""
    out: list[dict[str, Any]] = []
    for key in sink.list(f"{tenant}/" if tenant else ""):
        if parse_data_key(key) is None:
            continue
        out.extend(json.loads(line) for line in object_lines(sink.get(key)))
    return out


def id_counts(sink: Sink, tenant: str | None = None) -> Counter[str]:
    return Counter(line["id"] for line in stored_lines(sink, tenant))


def data_keys(sink: Sink, tenant: str) -> list[str]:
    return [k for k in sink.list(f"{tenant}/") if parse_data_key(k) is not None]
