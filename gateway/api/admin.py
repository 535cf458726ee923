"""Administration of one tenant: users, API keys, sessions and invites (``/api/v1/...``).

Everything goes through ``store.tenant(principal.tenant_id)``, so another tenant's ids
match nothing and answer 404 exactly like ids that do not exist. Admins and owners
manage the whole tenant; members see and manage only their own keys and sessions
(another user's key or session is 404 to them). Only an owner may make owners. Allowed
email domains are set by the operator with the CLI: a domain is not verified as the
tenant's own, so tenant admins cannot claim one.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy.engine import Row

from gateway.api.body import json_body
from gateway.audit.ext import record_event
from gateway.auth.keys import display_prefix, generate_api_key, hash_secret
from gateway.auth.principal import Principal, current_principal, require_auth, require_role
from gateway.errors import Conflict, Forbidden, NotFound, ValidationFailed
from gateway.services import services
from gateway.store import DuplicateError, TenantScope, now
from gateway.store.tenant_scope import ROLES

bp = Blueprint("admin", __name__, url_prefix="/api/v1")

MAX_KEY_LIFETIME = 5 * 365 * 24 * 3600


def _scope(principal: Principal) -> TenantScope:
    return services().store.tenant(principal.tenant_id)


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationFailed("Invalid request: the body must be a JSON object.")
    return body


def _text(body: dict[str, Any], name: str, max_length: int, default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise ValidationFailed(
            f"Invalid request: {name} must be a non-empty string of at most {max_length} "
            "characters."
        )
    return value.strip()


def _email(body: dict[str, Any]) -> str:
    email = _text(body, "email", 320).lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or any(ch.isspace() for ch in email):
        raise ValidationFailed("Invalid request: email must be an address like name@example.com.")
    return email


def _role(body: dict[str, Any], principal: Principal) -> str:
    role = body.get("role", "member")
    if role not in ROLES:
        raise ValidationFailed(f"Invalid request: role must be one of {', '.join(ROLES)}.")
    if role == "owner" and principal.role != "owner":
        raise Forbidden("Only an owner can make another owner.")
    return str(role)


def _user_json(row: Row[Any]) -> dict[str, Any]:
    return {"id": row.id, "email": row.email, "role": row.role, "created_at": row.created_at}


def _key_json(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id, "user_id": row.user_id, "name": row.name,
        "display_prefix": row.display_prefix, "created_by": row.created_by,
        "created_at": row.created_at, "last_used_at": row.last_used_at,
        "expires_at": row.expires_at, "revoked_at": row.revoked_at,
    }


def _session_json(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id, "user_id": row.user_id, "kind": row.kind,
        "client_name": row.client_name, "created_at": row.created_at,
        "expires_at": row.expires_at,
    }


def _invite_json(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id, "email": row.email, "role": row.role, "created_by": row.created_by,
        "created_at": row.created_at,
    }


def _visible(principal: Principal, owner_id: str) -> bool:
    return principal.has_role("admin") or owner_id == principal.user_id


# --- users -------------------------------------------------------------------------------


@bp.get("/users")
@require_role("admin")
def list_users() -> Response:
    return jsonify(users=[_user_json(r) for r in _scope(current_principal()).list_users()])


@bp.post("/users")
@require_role("admin")
def create_user() -> tuple[Response, int]:
    principal = current_principal()
    body = _object(json_body())
    email, role = _email(body), _role(body, principal)
    scope = _scope(principal)
    try:
        user_id = scope.create_user(email, role)
    except DuplicateError:
        raise Conflict(f"{email} is already a user of this tenant.") from None
    row = scope.user_by_id(user_id)
    assert row is not None
    record_event("user_created", user_id=user_id)
    return jsonify(_user_json(row)), 201


@bp.get("/users/<user_id>")
@require_auth
def get_user(user_id: str) -> Response:
    principal = current_principal()
    row = _scope(principal).user_by_id(user_id)
    if row is None or not _visible(principal, row.id):
        raise NotFound("There is no such user.")
    return jsonify(_user_json(row))


@bp.patch("/users/<user_id>")
@require_role("admin")
def change_role(user_id: str) -> Response:
    """Change a user's role (owners: only by owners; never one's own, so one always stays)."""
    principal = current_principal()
    scope = _scope(principal)
    row = scope.user_by_id(user_id)
    if row is None:
        raise NotFound("There is no such user.")
    role = _role(_object(json_body()), principal)
    if row.id == principal.user_id:
        raise Conflict("You cannot change your own role; ask another owner.")
    if row.role == "owner" and principal.role != "owner":
        raise Forbidden("Only an owner can change an owner's role.")
    if role != row.role:
        scope.set_role(user_id, role)
        record_event("role_changed", user_id=user_id)
    updated = scope.user_by_id(user_id)
    assert updated is not None
    return jsonify(_user_json(updated))


@bp.delete("/users/<user_id>")
@require_role("admin")
def remove_user(user_id: str) -> Response:
    """Remove a user: their keys and sessions stop working at once (owners: only by owners)."""
    principal = current_principal()
    scope = _scope(principal)
    row = scope.user_by_id(user_id)
    if row is None:
        raise NotFound("There is no such user.")
    if row.id == principal.user_id:
        raise Conflict("You cannot remove yourself; ask another admin or owner.")
    if row.role == "owner" and principal.role != "owner":
        raise Forbidden("Only an owner can remove an owner.")
    scope.remove_user(user_id)
    record_event("user_removed", user_id=user_id)
    return Response(status=204)


# --- API keys ----------------------------------------------------------------------------


@bp.get("/keys")
@require_auth
def list_keys() -> Response:
    principal = current_principal()
    only = None if principal.has_role("admin") else principal.user_id
    return jsonify(keys=[_key_json(r) for r in _scope(principal).list_api_keys(only)])


@bp.post("/keys")
@require_auth
def create_key() -> tuple[Response, int]:
    principal = current_principal()
    body = _object(json_body())
    name = _text(body, "name", 100, default="api")
    user_id = body.get("user_id", principal.user_id)
    if not isinstance(user_id, str):
        raise ValidationFailed("Invalid request: user_id must be a string.")
    expires_in = body.get("expires_in")
    if expires_in is not None and (
        not isinstance(expires_in, int) or isinstance(expires_in, bool)
        or not 60 <= expires_in <= MAX_KEY_LIFETIME
    ):
        raise ValidationFailed(
            f"Invalid request: expires_in must be seconds between 60 and {MAX_KEY_LIFETIME}."
        )
    scope = _scope(principal)
    if scope.user_by_id(user_id) is None or not _visible(principal, user_id):
        raise NotFound("There is no such user.")
    key = generate_api_key()
    key_id = scope.create_api_key(
        user_id=user_id, name=name, display_prefix=display_prefix(key),
        key_hash=hash_secret(key, services().settings.api_key_pepper),
        created_by=principal.user_id,
        expires_at=None if expires_in is None else now() + expires_in,
    )
    row = scope.api_key_by_id(key_id)
    assert row is not None
    record_event("key_created", user_id=user_id)
    return jsonify({**_key_json(row), "key": key}), 201


def _own_key(principal: Principal, key_id: str) -> Row[Any]:
    row = _scope(principal).api_key_by_id(key_id)
    if row is None or not _visible(principal, row.user_id):
        raise NotFound("There is no such API key.")
    return row


@bp.get("/keys/<key_id>")
@require_auth
def get_key(key_id: str) -> Response:
    return jsonify(_key_json(_own_key(current_principal(), key_id)))


@bp.delete("/keys/<key_id>")
@require_auth
def revoke_key(key_id: str) -> Response:
    principal = current_principal()
    row = _own_key(principal, key_id)
    if _scope(principal).revoke_api_key(key_id):  # revoking twice is fine, and not news
        record_event("key_revoked", user_id=row.user_id)
    return Response(status=204)


# --- sessions ----------------------------------------------------------------------------


@bp.get("/sessions")
@require_auth
def list_sessions() -> Response:
    principal = current_principal()
    only = None if principal.has_role("admin") else principal.user_id
    return jsonify(sessions=[_session_json(r) for r in _scope(principal).list_sessions(only)])


def _own_session(principal: Principal, session_id: str) -> Row[Any]:
    row = _scope(principal).session_by_id(session_id)
    if row is None or not _visible(principal, row.user_id):
        raise NotFound("There is no such session.")
    return row


@bp.get("/sessions/<session_id>")
@require_auth
def get_session(session_id: str) -> Response:
    return jsonify(_session_json(_own_session(current_principal(), session_id)))


@bp.delete("/sessions/<session_id>")
@require_auth
def revoke_session(session_id: str) -> Response:
    principal = current_principal()
    row = _own_session(principal, session_id)
    if _scope(principal).revoke_session(session_id):
        record_event("sign_out", user_id=row.user_id)
    return Response(status=204)


# --- invites -----------------------------------------------------------------------------


@bp.get("/invites")
@require_role("admin")
def list_invites() -> Response:
    return jsonify(invites=[_invite_json(r) for r in _scope(current_principal()).list_invites()])


@bp.post("/invites")
@require_role("admin")
def create_invite() -> tuple[Response, int]:
    principal = current_principal()
    body = _object(json_body())
    email, role = _email(body), _role(body, principal)
    scope = _scope(principal)
    try:
        invite_id = scope.create_invite(email, role, principal.user_id)
    except DuplicateError:
        raise Conflict(f"{email} is already invited.") from None
    row = scope.invite_by_id(invite_id)
    assert row is not None
    return jsonify(_invite_json(row)), 201


@bp.get("/invites/<invite_id>")
@require_role("admin")
def get_invite(invite_id: str) -> Response:
    row = _scope(current_principal()).invite_by_id(invite_id)
    if row is None:
        raise NotFound("There is no such invite.")
    return jsonify(_invite_json(row))


@bp.delete("/invites/<invite_id>")
@require_role("admin")
def delete_invite(invite_id: str) -> Response:
    if not _scope(current_principal()).delete_invite(invite_id):
        raise NotFound("There is no such invite.")
    return Response(status=204)
