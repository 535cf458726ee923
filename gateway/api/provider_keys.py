"""A tenant's own provider keys: ``/api/v1/provider-keys`` (tenant admins).

Keys are write-only: they are stored encrypted and no response ever contains one; the
list says which providers have a key and when it changed. Setting or removing a key is
an audited admin event.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from gateway.api.body import json_body
from gateway.audit.ext import record_event
from gateway.auth.principal import current_principal, require_role
from gateway.errors import Conflict, NotFound, ValidationFailed
from gateway.router.catalog import PROVIDERS
from gateway.router.tenant_keys import MAX_KEY_CHARS, KeysDisabledError, TenantKeys
from gateway.services import services

bp = Blueprint("provider_keys", __name__, url_prefix="/api/v1")


def _store() -> TenantKeys:
    store: TenantKeys = services().router.key_store
    return store


def _provider(name: str) -> str:
    if name not in PROVIDERS:
        raise NotFound(f"There is no provider {name[:40]!r}; use one of {', '.join(PROVIDERS)}.")
    return name


@bp.get("/provider-keys")
@require_role("admin")
def list_keys() -> Response:
    return jsonify(provider_keys=_store().list(current_principal().tenant_id))


@bp.put("/provider-keys/<provider>")
@require_role("admin")
def set_key(provider: str) -> Response:
    provider = _provider(provider)
    body = json_body()
    key = body.get("api_key") if isinstance(body, dict) else None
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_CHARS \
            or not key.isprintable() or any(ch.isspace() for ch in key):
        raise ValidationFailed(f"Invalid request: api_key: give the provider key, 1 to "
                               f"{MAX_KEY_CHARS} printable characters without spaces.")
    p = current_principal()
    record_event("provider_key_set")
    try:
        _store().set(p.tenant_id, provider, key, p.user_id)
    except KeysDisabledError:
        raise Conflict("This gateway does not store tenants' provider keys; the operator "
                       "must set WORKJET_PROVIDER_KEY_SECRET first.") from None
    return Response(status=204)


@bp.delete("/provider-keys/<provider>")
@require_role("admin")
def remove_key(provider: str) -> Response:
    provider = _provider(provider)
    record_event("provider_key_removed")
    if not _store().remove(current_principal().tenant_id, provider):
        raise NotFound(f"Your tenant has no {provider} key.")
    return Response(status=204)
