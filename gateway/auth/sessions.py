"""Session tokens: browser sessions (cookie) and terminal sessions (bearer), one format.

A token is ``wj_sess_`` + 43 base64url characters (256 random bits). The server keeps
only its hash (SHA-256, or HMAC-SHA256 with the pepper) and an expiry, so logout and
revocation end it on the next request. Every sign-in issues a new token (no fixation).

CSRF: a cookie-authenticated request that changes state must carry a token derived from
the session token (``csrf_token``): a page of ours embeds it, another site cannot read
the HttpOnly cookie it is derived from, and nothing needs storing for it.
"""

from __future__ import annotations

import hmac
import secrets

from werkzeug.wrappers import Response

from gateway.auth.keys import hash_secret
from gateway.store import TenantScope, now

SESSION_PREFIX = "wj_sess_"
SESSION_TOKEN_LENGTH = len(SESSION_PREFIX) + 43
SESSION_TTL = 7 * 24 * 3600  # 604800 s: the cookie's Max-Age and the server-side expiry
COOKIE_NAME = "__Host-workjet_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def generate_session_token() -> str:
    return SESSION_PREFIX + secrets.token_urlsafe(32)


def looks_like_session_token(value: str) -> bool:
    return len(value) == SESSION_TOKEN_LENGTH and value.startswith(SESSION_PREFIX)


def csrf_token(session_token: str, pepper: str = "") -> str:
    """The CSRF token bound to one session (one-way: it does not reveal the session)."""
    return hash_secret("workjet-csrf:" + session_token, pepper)


def csrf_ok(session_token: str, presented: str | None, pepper: str = "") -> bool:
    if not presented:
        return False
    return hmac.compare_digest(csrf_token(session_token, pepper), presented)


def start_session(
    scope: TenantScope, user_id: str, *, kind: str, client_name: str, pepper: str
) -> tuple[str, str]:
    """A new session for ``user_id``; returns ``(token, session_id)``. Shown once."""
    token = generate_session_token()
    session_id = scope.create_session(
        user_id=user_id, token_hash=hash_secret(token, pepper), kind=kind,
        client_name=client_name, expires_at=now() + SESSION_TTL,
    )
    return token, session_id


def set_session_cookie(response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE_NAME, token, max_age=SESSION_TTL, path="/", secure=True, httponly=True,
        samesite="Lax",
    )


def clear_session_cookie(response: Response) -> None:
    response.set_cookie(
        COOKIE_NAME, "", max_age=0, expires=0, path="/", secure=True, httponly=True,
        samesite="Lax",
    )
