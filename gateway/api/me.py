"""``GET /api/v1/me``: who the credential belongs to."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from gateway.auth.principal import current_principal, require_auth

bp = Blueprint("me", __name__, url_prefix="/api/v1")


@bp.get("/me")
@require_auth
def me() -> Response:
    p = current_principal()
    return jsonify(
        tenant={"id": p.tenant_id, "name": p.tenant_name},
        user={"id": p.user_id, "email": p.email, "role": p.role},
        credential={"id": p.credential_id, "kind": p.kind},
    )
