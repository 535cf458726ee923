"""Browser sign-in with OpenID Connect, and sign-out.

``/auth/login/start`` stores the transaction (hash of ``state``, ``nonce``, PKCE
verifier, where to return) server-side, so any worker or host can finish it, and binds
it to this browser with a short-lived ``__Host-workjet_login`` cookie. ``/auth/callback``
takes the transaction once, checks the binding, redeems the code and verifies the ID
token, admits the identity to a tenant, and sets a fresh session cookie.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from urllib.parse import urlencode

from flask import redirect, request, url_for
from werkzeug.wrappers import Response

from gateway.audit.ext import record_event
from gateway.auth.admission import admit
from gateway.auth.keys import hash_secret
from gateway.auth.oidc import OidcClient, OidcError
from gateway.auth.principal import optional_principal
from gateway.auth.sessions import (
    COOKIE_NAME,
    clear_session_cookie,
    set_session_cookie,
    start_session,
)
from gateway.services import services
from gateway.store import now
from gateway.web.blueprint import bp, page, page_csrf, safe_return_path

log = logging.getLogger("workjet.auth")

LOGIN_COOKIE = "__Host-workjet_login"
LOGIN_TTL = 600  # seconds a person has to finish signing in at the provider


def oidc_client() -> OidcClient:
    from flask import current_app

    client: OidcClient = current_app.extensions["workjet.oidc"]
    return client


@bp.get("/auth/login")
def sign_in() -> Response:
    principal = optional_principal()
    if principal is not None and principal.kind == "session":
        return page(
            "signed_in.html", email=principal.email, role=principal.role,
            tenant=principal.tenant_name, csrf=page_csrf(),
        )
    next_path = safe_return_path(request.args.get("next"))
    start_url = url_for("web.login_start") + "?" + urlencode({"next": next_path})
    return page("sign_in.html", configured=oidc_client().configured, start_url=start_url)


@bp.get("/auth/login/start")
def login_start() -> Response:
    client = oidc_client()
    if not client.configured:
        return page("failed.html", 503, reason="sign-in is not set up on this gateway")
    pepper = services().settings.api_key_pepper
    state, binding = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    try:
        target = client.authorization_url(state=state, nonce=nonce, code_verifier=verifier)
    except OidcError as exc:
        log.warning("sign-in could not start: %s", exc)
        return page("failed.html", 502, reason=str(exc))
    services().store.create_login_flow(
        state_hash=hash_secret(state, pepper), binding_hash=hash_secret(binding, pepper),
        nonce=nonce, code_verifier=verifier,
        return_to=safe_return_path(request.args.get("next")), expires_at=now() + LOGIN_TTL,
    )
    response = redirect(target, 302)
    response.set_cookie(
        LOGIN_COOKIE, binding, max_age=LOGIN_TTL, path="/", secure=True, httponly=True,
        samesite="Lax",
    )
    return response


def _failed(reason: str, status: int = 400) -> Response:
    log.info("sign-in refused: %s", reason)
    response = page("failed.html", status, reason=reason)
    response.delete_cookie(LOGIN_COOKIE, path="/", secure=True, httponly=True, samesite="Lax")
    return response


@bp.get("/auth/callback")
def callback() -> Response:
    settings = services().settings
    store = services().store
    state, code = request.args.get("state", ""), request.args.get("code", "")
    if not state or len(state) > 200:
        return _failed("the sign-in response has no valid state")
    flow = store.take_login_flow(hash_secret(state, settings.api_key_pepper))
    if flow is None:
        return _failed("this sign-in is unknown, expired or already used")
    binding = request.cookies.get(LOGIN_COOKIE, "")
    if not binding or not hmac.compare_digest(
        hash_secret(binding, settings.api_key_pepper), flow.binding_hash
    ):
        return _failed("this sign-in was started in another browser")
    if request.args.get("error") or not code or len(code) > 2000:
        return _failed("the sign-in provider did not authorize it")
    try:
        identity = oidc_client().exchange(
            code=code, code_verifier=flow.code_verifier, nonce=flow.nonce
        )
    except OidcError as exc:
        return _failed(str(exc))
    admission = admit(store, identity)
    if admission is None:
        log.info("sign-in not admitted: no tenant allows this identity")
        record_event("sign_in", status=403, error_code="forbidden")
        refused = page("not_allowed.html", 403, email=identity.email)
        refused.delete_cookie(LOGIN_COOKIE, path="/", secure=True, httponly=True, samesite="Lax")
        return refused
    old = optional_principal()  # signing in again replaces the browser's old session
    if old is not None and old.kind == "session":
        store.tenant(old.tenant_id).revoke_session(old.credential_id)
    token, _ = start_session(
        store.tenant(admission.tenant_id), admission.user_id, kind="browser",
        client_name=(request.user_agent.string or "browser")[:100],
        pepper=settings.api_key_pepper,
    )
    if admission.created:
        record_event("user_created", tenant_id=admission.tenant_id, user_id=admission.user_id)
    record_event("sign_in", tenant_id=admission.tenant_id, user_id=admission.user_id)
    response = redirect(flow.return_to, 303)
    set_session_cookie(response, token)
    response.delete_cookie(LOGIN_COOKIE, path="/", secure=True, httponly=True, samesite="Lax")
    return response


@bp.post("/auth/logout")
def logout() -> Response:
    """Sign out this browser (the form carries the CSRF token): the session ends at once."""
    principal = optional_principal()  # raises 403 when the CSRF token is missing
    if principal is not None and principal.kind == "session":
        services().store.tenant(principal.tenant_id).revoke_session(principal.credential_id)
        record_event("sign_out")
    response = page("signed_out.html")
    clear_session_cookie(response)
    return response


__all__ = ["COOKIE_NAME", "bp"]
