"""The audit log: metadata of every request and administrative event, never content.

Records go to a durable local spool before a request completes, then a background
uploader ships them as hash-chained, digest-signed objects to S3 or a local directory.
See ``log.AuditLog`` for the interface the rest of the gateway uses.
"""

from gateway.audit.config import AuditConfig, AuditConfigError, S3Target, from_settings
from gateway.audit.log import AuditLog, AuditStatus
from gateway.audit.spool import AuditUnavailableError

__all__ = [
    "AuditConfig",
    "AuditConfigError",
    "AuditLog",
    "AuditStatus",
    "AuditUnavailableError",
    "S3Target",
    "from_settings",
]
