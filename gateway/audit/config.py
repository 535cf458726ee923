"""Audit settings as the audit package needs them, built from the gateway's ``Settings``.

``gateway.config`` is the only reader of the environment; this module only parses the
sink URL and checks the values so a bad setting fails at start with a message that says
what to do.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from gateway.config import Settings

FullPolicy = Literal["refuse", "alarm"]
LockMode = Literal["", "governance", "compliance"]

DEFAULT_SPOOL_DIR = "workjet-audit-spool"
DEFAULT_SPOOL_MAX_BYTES = 512 * 1024 * 1024
DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024
DEFAULT_UPLOAD_INTERVAL = 2.0
DEFAULT_MAX_BACKOFF = 30.0
DEFAULT_CLOSE_TIMEOUT = 10.0

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_HOST_SAFE = re.compile(r"[^A-Za-z0-9.]+")


class AuditConfigError(ValueError):
    """An audit setting is wrong; the message says which and how to fix it."""


@dataclass(frozen=True, slots=True)
class S3Target:
    endpoint: str  # host:port
    bucket: str
    access_key: str
    secret_key: str
    secure: bool = True
    ca_file: str = ""
    region: str = ""
    create_bucket: bool = False
    lock_mode: LockMode = ""
    retention_days: int = 0


@dataclass(frozen=True, slots=True)
class AuditConfig:
    """Everything the audit log needs; ``sink`` is an ``S3Target`` or a directory."""

    sink: S3Target | Path
    spool_dir: Path
    spool_max_bytes: int = DEFAULT_SPOOL_MAX_BYTES
    segment_bytes: int = DEFAULT_SEGMENT_BYTES
    full_policy: FullPolicy = "refuse"
    upload_interval: float = DEFAULT_UPLOAD_INTERVAL
    max_backoff: float = DEFAULT_MAX_BACKOFF
    close_timeout: float = DEFAULT_CLOSE_TIMEOUT
    signing_key_file: Path | None = None  # None: a key generated beside the spool
    host: str = ""

    def __post_init__(self) -> None:
        if self.spool_max_bytes < 64 * 1024:
            raise AuditConfigError("WORKJET_AUDIT_SPOOL_MAX_BYTES must be at least 65536")
        if self.segment_bytes < 4096:
            raise AuditConfigError("the audit segment size must be at least 4096 bytes")
        if self.full_policy not in ("refuse", "alarm"):
            raise AuditConfigError("WORKJET_AUDIT_FULL_POLICY must be 'refuse' or 'alarm'")
        if not 0.01 <= self.upload_interval <= 3600:
            raise AuditConfigError("WORKJET_AUDIT_UPLOAD_INTERVAL must be 0.01..3600 seconds")

    @property
    def host_name(self) -> str:
        """The host part of object names: letters, digits and dots only."""
        return _HOST_SAFE.sub(".", self.host or socket.gethostname()).strip(".") or "host"


def parse_sink_url(
    url: str,
    *,
    access_key: str = "",
    secret_key: str = "",
    allow_http: bool = False,
    ca_file: str = "",
    region: str = "",
    create_bucket: bool = False,
    lock_mode: str = "",
    retention_days: int = 0,
) -> S3Target | Path:
    """``s3://host:port/bucket`` or ``file:///path`` (``file://relative/path`` too)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = unquote(parts.netloc + parts.path)
        if not path:
            raise AuditConfigError("WORKJET_AUDIT_URL file:// needs a directory path")
        return Path(path)
    if parts.scheme != "s3":
        raise AuditConfigError(
            f"WORKJET_AUDIT_URL must start with s3:// or file://, not {parts.scheme or url!r}"
        )
    bucket = parts.path.strip("/")
    if not parts.hostname or not _BUCKET.match(bucket):
        raise AuditConfigError(
            "WORKJET_AUDIT_URL must look like s3://host:port/bucket (a valid bucket name)"
        )
    if not access_key or not secret_key:
        raise AuditConfigError(
            "an s3:// audit sink needs WORKJET_AUDIT_S3_ACCESS_KEY and WORKJET_AUDIT_S3_SECRET_KEY"
        )
    if lock_mode not in ("", "governance", "compliance"):
        raise AuditConfigError("WORKJET_AUDIT_S3_OBJECT_LOCK must be governance or compliance")
    if lock_mode and retention_days < 1:
        raise AuditConfigError("object lock needs WORKJET_AUDIT_S3_RETENTION_DAYS of 1 or more")
    endpoint = parts.netloc.rsplit("@", 1)[-1]
    return S3Target(
        endpoint=endpoint,
        bucket=bucket,
        access_key=access_key,
        secret_key=secret_key,
        secure=not allow_http,
        ca_file=ca_file,
        region=region,
        create_bucket=create_bucket,
        lock_mode=lock_mode,  # type: ignore[arg-type]
        retention_days=retention_days,
    )


def spool_dir(configured: str, audit_url: str) -> Path:
    """The configured spool, else beside a ``file://`` sink (``<dir>-spool``), else ./"""
    if configured:
        return Path(configured)
    sink = parse_sink_url(audit_url) if audit_url.startswith("file://") else None
    if isinstance(sink, Path):
        return sink.with_name(sink.name + "-spool")
    return Path(DEFAULT_SPOOL_DIR)


def from_settings(settings: Settings) -> AuditConfig:
    """Build the audit config from the gateway's settings (its ``audit_*`` fields)."""
    key_file = settings.audit_signing_key_file
    return AuditConfig(
        sink=parse_sink_url(
            settings.audit_url,
            access_key=settings.audit_s3_access_key,
            secret_key=settings.audit_s3_secret_key,
            allow_http=settings.audit_s3_allow_http,
            ca_file=settings.audit_s3_ca_file,
            region=settings.audit_s3_region,
            create_bucket=settings.audit_s3_create_bucket,
            lock_mode=settings.audit_s3_object_lock,
            retention_days=settings.audit_s3_retention_days,
        ),
        spool_dir=spool_dir(settings.audit_spool_dir, settings.audit_url),
        spool_max_bytes=settings.audit_spool_max_bytes,
        full_policy=settings.audit_full_policy,
        upload_interval=settings.audit_upload_interval,
        signing_key_file=Path(key_file) if key_file else None,
        host=settings.host_name,
    )
