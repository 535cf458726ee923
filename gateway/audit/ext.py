"""Wiring the audit log into the Flask app (called once from ``create_app``).

Registers ``services.audit``, its readiness check and closer, turns
``AuditUnavailableError`` into 503 ``audit_unavailable``, and refuses state-changing API
requests up front while the spool is full under the ``refuse`` policy, before any
provider is called.
"""

from __future__ import annotations

from flask import Flask, Response, request

from gateway.audit.config import from_settings
from gateway.audit.log import AuditLog
from gateway.audit.spool import AuditUnavailableError
from gateway.errors import ServiceUnavailable, error_response
from gateway.services import Services


class AuditUnavailable(ServiceUnavailable):
    code = "audit_unavailable"  # type: ignore[assignment]  # a narrower 503


REFUSED_MESSAGE = (
    "The gateway cannot record this request in its audit log right now; try again shortly."
)


def init_app(app: Flask, services: Services) -> AuditLog:
    audit = AuditLog(from_settings(services.settings))
    services.audit = audit
    services.readiness["audit"] = audit.check
    services.closers.append(audit.close)

    def admit() -> None:
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.path.startswith(
            "/api/"
        ):
            try:
                audit.admit()
            except AuditUnavailableError as exc:
                raise AuditUnavailable(REFUSED_MESSAGE) from exc

    def on_unavailable(exc: AuditUnavailableError) -> Response:
        return error_response(503, "audit_unavailable", REFUSED_MESSAGE)

    app.before_request(admit)
    app.register_error_handler(AuditUnavailableError, on_unavailable)
    return audit
