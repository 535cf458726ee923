"""The device approval page: a signed-in person sees which device asks, and decides.

Every look-up of a user code counts against a limit per address and per session, so
user codes (about 34 bits) cannot be guessed; an unknown code and an expired one look
the same. Approving needs a POST with the session's CSRF token.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import redirect, request, url_for
from sqlalchemy.engine import Row
from werkzeug.wrappers import Response

from gateway.auth.device import normalise_user_code
from gateway.auth.keys import hash_secret
from gateway.auth.principal import Principal, optional_principal
from gateway.auth.throttle import throttle
from gateway.services import services
from gateway.store import now
from gateway.web.blueprint import bp, page, page_csrf


def _signed_in() -> Principal | None:
    principal = optional_principal()
    return principal if principal is not None and principal.kind == "session" else None


def _lookup(entered: str, principal: Principal) -> tuple[str | None, Row[Any] | None]:
    settings = services().settings
    throttle(
        "device-verify", settings.device_verify_limit,
        f"addr:{request.remote_addr or '-'}", f"session:{principal.credential_id}",
    )
    user_code = normalise_user_code(entered)
    if user_code is None:
        return None, None
    row = services().store.pending_device(hash_secret(user_code, settings.api_key_pepper))
    return user_code, row


def _age(created_at: int) -> str:
    seconds = max(0, now() - created_at)
    return "just now" if seconds < 60 else f"{seconds // 60} minutes ago"


@bp.get("/device")
def device() -> Response:
    entered = request.args.get("code", "")[:20]
    principal = _signed_in()
    if principal is None:
        back = url_for("web.device") + (f"?{urlencode({'code': entered})}" if entered else "")
        return redirect(url_for("web.sign_in") + "?" + urlencode({"next": back}), 303)
    if not entered:
        return page("device_enter.html", message="")
    user_code, row = _lookup(entered, principal)
    if user_code is None or row is None:
        return page(
            "device_enter.html", 404,
            message="That code is unknown or has expired; check your terminal for the current one.",
        )
    return page(
        "device_confirm.html", client_name=row.client_name, email=principal.email,
        tenant=principal.tenant_name, user_code=user_code, age=_age(row.created_at),
        csrf=page_csrf(),
    )


@bp.post("/device")
def device_decide() -> Response:
    principal = _signed_in()  # a cookie session with a valid CSRF token (else 403)
    if principal is None:
        return redirect(url_for("web.sign_in"), 303)
    user_code, row = _lookup(request.form.get("user_code", "")[:20], principal)
    if user_code is None or row is None:
        return page(
            "device_enter.html", 404,
            message="That code is unknown or has expired; check your terminal for the current one.",
        )
    approve = request.form.get("decision") == "approve"
    decided = services().store.decide_device(
        row.id, approve=approve, tenant_id=principal.tenant_id,
        user_id=principal.user_id,
    )
    if not decided:
        return page("device_enter.html", 409, message="That code was already used.")
    return page("device_done.html", approved=approve, client_name=row.client_name)
