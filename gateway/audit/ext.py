"""Wiring the audit log into the Flask app (called once from ``create_app``).

Registers ``services.audit``, its readiness check and closer, turns
``AuditUnavailableError`` into 503 ``audit_unavailable``, and refuses state-changing
requests up front while the spool is full under the ``refuse`` policy, before any
provider is called.
"""

from __future__ import annotations

from flask import Flask, Response, g, request

from gateway.audit.config import from_settings
from gateway.audit.log import AuditLog
from gateway.audit.records import admin_record
from gateway.audit.spool import AuditUnavailableError
from gateway.errors import ServiceUnavailable, error_response
from gateway.services import Services, services


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
        # Every state-changing request is audited (chat on any front door, sign-in, admin),
        # so each is refused before it does anything; reads and health checks go on.
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            try:
                audit.admit()
            except AuditUnavailableError as exc:
                raise AuditUnavailable(REFUSED_MESSAGE) from exc

    def on_unavailable(exc: AuditUnavailableError) -> Response:
        return error_response(503, "audit_unavailable", REFUSED_MESSAGE)

    app.before_request(admit)
    app.register_error_handler(AuditUnavailableError, on_unavailable)
    return audit


def record_event(
    event: str,
    *,
    tenant_id: str = "",
    user_id: str = "",
    status: int = 200,
    error_code: str = "",
) -> None:
    """Record an administrative event of the current request (``sign_in``,
    ``key_created``, ``key_revoked``, ``policy_changed``, ...; see ``ADMIN_EVENTS``).

    Who, from where and on which endpoint come from the request; the principal's tenant
    and user unless given (a sign-in has no principal yet). Durable when it returns.
    """
    principal = g.get("principal")
    svc = services()
    if svc.audit is None:
        return
    svc.audit.record(admin_record(
        event=event,
        tenant_id=tenant_id or (principal.tenant_id if principal else ""),
        user_id=user_id or (principal.user_id if principal else ""),
        principal_id=principal.credential_id if principal else "",
        request_id=g.get("request_id", ""),
        client_address=request.remote_addr or "",
        endpoint=request.path,
        status=status,
        error_code=error_code,
    ))
