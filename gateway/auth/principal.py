"""Who is calling: the principal resolved from a request's credential.

Views use ``@require_auth`` (or ``@require_role("admin")``) and ``current_principal()``.
Resolution looks the credential up by its hash and compares the stored hash in constant
time; a missing, unknown, expired or revoked credential is a 401 with the error body.

Credentials: ``Authorization: Bearer`` with an API key (``wj_live_``) or a session token
(``wj_sess_``), else the browser's session cookie. A cookie-authenticated request with an
unsafe method must carry the session's CSRF token (header or form field), or it is 403;
bearer requests need none (a browser never adds that header by itself).

There is no operator role in the API: creating tenants and admitting domains for them is
done with the ``workjet-gateway`` CLI by whoever runs the gateway and holds its database.
"""

from __future__ import annotations

import functools
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, ParamSpec, TypeVar, cast

from flask import g, request

from gateway.auth.cache import CredentialCache
from gateway.auth.keys import API_KEY_PREFIX, hash_secret, looks_like_api_key
from gateway.auth.last_used import LastUsedRecorder
from gateway.auth.sessions import (
    COOKIE_NAME,
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_PREFIX,
    csrf_ok,
    looks_like_session_token,
)
from gateway.errors import Forbidden, Unauthorized
from gateway.store import Store
from gateway.store.auth_store import CredentialRow

P = ParamSpec("P")
R = TypeVar("R")

Role = Literal["owner", "admin", "member"]
_ROLE_RANK = {"member": 0, "admin": 1, "owner": 2}


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_id: str
    tenant_name: str
    user_id: str
    email: str
    role: Role
    credential_id: str  # the API key's or session's id, never its secret
    kind: Literal["api_key", "session"]

    def has_role(self, role: Role) -> bool:
        return _ROLE_RANK[self.role] >= _ROLE_RANK[role]


class Authenticator:
    """Turns a bearer credential into a ``Principal``; one per app."""

    def __init__(self, store: Store, pepper: str, last_used: LastUsedRecorder) -> None:
        self.store = store
        self.pepper = pepper
        self.last_used = last_used
        epoch = store.credential_epoch
        self._cache = CredentialCache(epoch) if epoch is not None else None

    def _row(self, kind: Literal["api_key", "session"], token_hash: str) -> CredentialRow | None:
        if self._cache is None:
            return self.store.credential_by_hash(kind, token_hash)
        return self._cache.lookup(token_hash,
                                  lambda: self.store.credential_by_hash(kind, token_hash))

    def authenticate(self, credential: str) -> Principal | None:
        if credential.startswith(API_KEY_PREFIX):
            return self._api_key(credential)
        if credential.startswith(SESSION_PREFIX):
            return self._session(credential)
        return None

    def _session(self, token: str) -> Principal | None:
        if not looks_like_session_token(token):
            return None
        token_hash = hash_secret(token, self.pepper)
        row = self._row("session", token_hash)
        if row is None or not hmac.compare_digest(row.token_hash, token_hash):
            return None
        if row.revoked_at is not None or row.expires_at is None:
            return None
        if row.expires_at <= int(time.time()):
            return None
        return Principal(
            tenant_id=row.tenant_id, tenant_name=row.tenant_name, user_id=row.user_id,
            email=row.email, role=cast("Role", row.role), credential_id=row.id, kind="session",
        )

    def _api_key(self, key: str) -> Principal | None:
        if not looks_like_api_key(key):
            return None
        key_hash = hash_secret(key, self.pepper)
        row = self._row("api_key", key_hash)
        if row is None or not hmac.compare_digest(row.token_hash, key_hash):
            return None
        now = int(time.time())
        if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
            return None
        self.last_used.record(row.id, now)
        return Principal(
            tenant_id=row.tenant_id, tenant_name=row.tenant_name, user_id=row.user_id,
            email=row.email, role=cast("Role", row.role), credential_id=row.id, kind="api_key",
        )


def bearer_credential() -> str | None:
    """The credential from ``Authorization: Bearer``, else from Anthropic's ``x-api-key``.

    Anthropic's SDKs and tools send the key in ``x-api-key``; accepting it lets them use the
    gateway's ``/v1/messages`` unmodified. Like a bearer token it is a header a browser never
    adds by itself, so it needs no CSRF protection.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    api_key = request.headers.get("X-Api-Key", "").strip()
    return api_key or None


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def optional_principal() -> Principal | None:
    """The request's principal (resolved once per request), or None when there is none.

    A bearer credential wins over the cookie; a request with a bearer credential that
    does not resolve gets no principal even if it also carries a cookie.
    """
    if "principal" in g:
        found: Principal | None = g.principal
        return found
    from gateway.services import services

    authenticator = services().authenticator
    principal: Principal | None = None
    credential = bearer_credential()
    if credential is not None:
        principal = authenticator.authenticate(credential)
    else:
        cookie = request.cookies.get(COOKIE_NAME)
        if cookie and looks_like_session_token(cookie):
            principal = authenticator.authenticate(cookie)
            if principal is not None and request.method not in _SAFE_METHODS:
                presented = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
                if not csrf_ok(cookie, presented, authenticator.pepper):
                    raise Forbidden(
                        "This request came without the page's CSRF token; reload the page "
                        "and try again."
                    )
    g.principal = principal
    return principal


def current_principal() -> Principal:
    """The request's principal, resolved once per request; 401 when there is none."""
    principal = optional_principal()
    if principal is None:
        raise Unauthorized()
    return principal


def require_auth(view: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        current_principal()
        return view(*args, **kwargs)

    return wrapper


def require_role(role: Role) -> Callable[[Callable[P, R]], Callable[P, R]]:
    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if not current_principal().has_role(role):
                raise Forbidden(f"This needs the {role} role in your tenant.")
            return view(*args, **kwargs)

        return wrapper

    return decorate

