"""Device login for the terminal and logout (``/api/v1/auth/...``).

``POST /auth/device`` (no auth) issues a device code; the terminal polls
``POST /auth/device/token`` until a person approves it in a browser, and then receives a
session token (``wj_sess_...``) once. ``POST /auth/logout`` ends the calling session.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from flask import Blueprint, Response, jsonify, request

from gateway.api.body import json_body
from gateway.audit.ext import record_event
from gateway.auth.device import MAX_CLIENT_NAME, issue_device_code
from gateway.auth.keys import hash_secret
from gateway.auth.principal import current_principal, require_auth
from gateway.auth.sessions import SESSION_TTL, clear_session_cookie, start_session
from gateway.auth.throttle import throttle
from gateway.errors import ApiError, BadRequest, ServiceUnavailable, ValidationFailed
from gateway.services import services
from shared.errors import ErrorCode

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


@bp.after_request
def _no_store(response: Response) -> Response:
    """Codes and tokens must never sit in a cache (RFC 6749 section 5.1)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


DEVICE_ISSUE_LIMIT = "30 per minute"  # device codes per address
DEVICE_POLL_LIMIT = "120 per minute"  # polls per address (slow_down handles each code)


class DevicePollError(ApiError):
    status = 400
    code: ClassVar[ErrorCode]


class AuthorizationPending(DevicePollError):
    code = "authorization_pending"


class SlowDown(DevicePollError):
    code = "slow_down"


class ExpiredToken(DevicePollError):
    code = "expired_token"


class AccessDenied(DevicePollError):
    code = "access_denied"


_POLL_ERRORS: dict[str, tuple[type[DevicePollError], str]] = {
    "authorization_pending": (AuthorizationPending, "Waiting for approval in the browser."),
    "slow_down": (SlowDown, "Polling too fast; wait longer between polls."),
    "expired_token": (ExpiredToken, "The code expired or was used; start the sign-in again."),
    "access_denied": (AccessDenied, "The sign-in was denied in the browser."),
}


def _string_field(body: Any, name: str, max_length: int) -> str:
    if not isinstance(body, dict):
        raise ValidationFailed("Invalid request: the body must be a JSON object.")
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise ValidationFailed(
            f"Invalid request: {name} must be a non-empty string of at most {max_length} "
            "characters."
        )
    return value.strip()


@bp.post("/device")
def device_start() -> tuple[Response, int]:
    settings = services().settings
    if not settings.public_url:
        raise ServiceUnavailable("Device login is not set up: the operator must set "
                                 "WORKJET_PUBLIC_URL.")
    client_name = _string_field(json_body(), "client_name", MAX_CLIENT_NAME)
    if any(ord(ch) < 0x20 for ch in client_name):
        raise ValidationFailed("Invalid request: client_name has control characters.")
    throttle("device-issue", DEVICE_ISSUE_LIMIT, f"addr:{request.remote_addr or '-'}")
    issued = issue_device_code(
        services().store, client_name, ttl=settings.device_code_ttl,
        interval=settings.device_poll_interval, pepper=settings.api_key_pepper,
    )
    base = settings.public_url.rstrip("/") + "/device"
    return jsonify(
        device_code=issued.device_code, user_code=issued.user_code, verification_uri=base,
        verification_uri_complete=f"{base}?code={issued.user_code}",
        expires_in=issued.expires_in, interval=issued.interval,
    ), 200


@bp.post("/device/token")
def device_token() -> Response:
    device_code = _string_field(json_body(), "device_code", 100)
    throttle("device-poll", DEVICE_POLL_LIMIT, f"addr:{request.remote_addr or '-'}")
    settings = services().settings
    store = services().store
    result = store.poll_device(
        hash_secret(device_code, settings.api_key_pepper), int(time.time() * 1000)
    )
    if result.state != "approved":
        error, message = _POLL_ERRORS[result.state]
        raise error(message)
    token, _ = start_session(
        store.tenant(result.tenant_id), result.user_id, kind="device",
        client_name=result.client_name, pepper=settings.api_key_pepper,
    )
    record_event("sign_in", tenant_id=result.tenant_id, user_id=result.user_id)
    return jsonify(access_token=token, token_type="Bearer", expires_in=SESSION_TTL)  # noqa: S106


@bp.post("/logout")
@require_auth
def logout() -> Response:
    principal = current_principal()
    if principal.kind != "session":
        raise BadRequest("Logout ends a session; revoke an API key with DELETE /api/v1/keys/<id>.")
    services().store.tenant(principal.tenant_id).revoke_session(principal.credential_id)
    record_event("sign_out")
    response = Response(status=204)
    clear_session_cookie(response)
    return response
