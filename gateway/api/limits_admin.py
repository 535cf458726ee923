"""``/api/v1/limits``: a tenant's request limits and budgets (the CLI's ``tenant limits``).

``GET`` (admin): the tenant's overrides and the limits in effect per scope. ``PATCH``
(owner): change overrides; ``null`` returns a field to the configured default, 0 means
unlimited. Every worker applies a change within ``WORKJET_LIMITS_CACHE_SECONDS``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from gateway.api.body import json_body
from gateway.audit.ext import record_event
from gateway.auth.principal import current_principal, require_role
from gateway.errors import ValidationFailed
from gateway.limits.policy import changed_overrides
from gateway.services import services

bp = Blueprint("limits_admin", __name__, url_prefix="/api/v1")


def describe(tenant_id: str, tenant_name: str) -> dict[str, Any]:
    svc = services()
    return {
        "tenant": {"id": tenant_id, "name": tenant_name},
        "overrides": svc.store.tenant(tenant_id).limit_overrides().to_json(),
        "effective": svc.budgets.policies.for_tenant(tenant_id).to_json(),
        "unlimited": 0,
    }


@bp.get("/limits")
@require_role("admin")
def get_limits() -> Response:
    p = current_principal()
    return jsonify(describe(p.tenant_id, p.tenant_name))


@bp.patch("/limits")
@require_role("owner")
def patch_limits() -> Response:
    p = current_principal()
    body = json_body()
    if not isinstance(body, dict) or not body:
        raise ValidationFailed(
            "Send a JSON object with any of requests_per_minute, tokens_per_minute, "
            "daily_budget, monthly_budget (a number, or null for the default)."
        )
    scope = services().store.tenant(p.tenant_id)
    try:
        updated = changed_overrides(scope.limit_overrides(), body)
    except ValueError as exc:
        raise ValidationFailed(f"Invalid limits: {exc}") from None
    scope.set_limit_overrides(updated)
    services().budgets.policies.invalidate(p.tenant_id)
    record_event("limits_changed")
    return jsonify(describe(p.tenant_id, p.tenant_name))
