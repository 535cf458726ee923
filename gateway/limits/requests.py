"""Request rate limits with Flask-Limiter: per credential, per user, per tenant.

Limited: the API paths (``/api/...`` and the provider-compatible ``/v1/...``); never
``/healthz``, ``/readyz`` or ``/openapi.json``. A request with a valid credential counts
against its credential's, its user's and its tenant's per-minute limits; one without
counts against its client address. Windows are Flask-Limiter's sliding-window counters
(this minute's count plus the previous minute's, weighted by how much of it the last
60 s still cover): one atomic Lua call per limit in Redis, O(1), so concurrent requests
from any worker or host are counted exactly. Every response of a limited path carries
the IETF draft ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset``
(seconds) headers; a 429 says which limit was hit, when it resets, with ``Retry-After``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g, request
from flask_limiter import ApplicationLimit, Limiter, RequestLimit
from flask_limiter.errors import RateLimitExceeded
from limits.errors import StorageError
from limits.strategies import SlidingWindowCounterRateLimiter

from gateway.auth.principal import Principal, optional_principal
from gateway.budgets import LimitStorageDown, StorageHealth
from gateway.errors import ApiError, TooManyRequests, error_response
from gateway.limits.policy import EffectiveLimits, Policies, Scope
from gateway.limits.storage import InlineExpiryMemoryStorage, SnapshotRedisStorage
from gateway.services import Services

log = logging.getLogger("workjet.limits")

LIMITED_PREFIXES = ("/api/", "/v1/")
SNAPSHOT_SCHEMES = ("redis://", "rediss://", "redis+unix://")
_SCOPE_WORDS: dict[str, str] = {
    "key": "this credential's", "user": "your user's", "tenant": "your tenant's",
    "anon": "this client address's",
}


def is_limited_path(path: str) -> bool:
    return path.startswith(LIMITED_PREFIXES)


def principal_or_none() -> Principal | None:
    """The principal ``_identify`` resolved for this request (None: count by address)."""
    principal: Principal | None = g.get("limits_principal")
    return principal


def _identify(policies: Policies,
              storage: SnapshotRedisStorage | InlineExpiryMemoryStorage | None) -> None:
    """Resolve the caller and its limits before Flask-Limiter runs: anything failing inside
    Flask-Limiter's hook would be taken for a storage failure (and, failing open, make it
    count in process). Views reuse the resolved principal."""
    if storage is not None:
        storage.forget_windows()  # a worker thread serves many requests
    if not is_limited_path(request.path):
        return
    try:
        principal = optional_principal()
    except ApiError:  # e.g. a cookie without its CSRF token: the view answers that
        principal = None
    g.limits_principal = principal
    if principal is not None:
        g.limits_effective = policies.for_tenant(principal.tenant_id)


def build_limiter(app: Flask, services: Services, policies: Policies,
                  health: StorageHealth) -> Limiter:
    settings = services.settings
    open_mode = settings.ratelimit_fail_mode == "open"

    def per_minute(scope: Scope) -> Callable[[], str]:
        def provider() -> str:
            effective: EffectiveLimits | None = g.get("limits_effective")
            if effective is None:
                return ""
            n = effective.for_scope(scope).requests_per_minute
            return f"{n}/minute" if n > 0 else ""

        return provider

    def anonymous() -> str:
        n = settings.ratelimit_anonymous_per_minute
        return f"{n}/minute" if n > 0 and principal_or_none() is None else ""

    def subject(scope: str) -> Callable[[], str]:
        def key() -> str:
            p = principal_or_none()
            if scope == "anon" or p is None:
                return f"anon:{request.remote_addr or '-'}"
            ids = {"key": p.credential_id, "user": p.user_id, "tenant": p.tenant_id}
            return f"{scope}:{ids[scope]}"

        return key

    uri = settings.ratelimit_storage_uri
    options: dict[str, Any] = {"socket_timeout": 1, "socket_connect_timeout": 1,
                               "wrap_exceptions": True}
    snapshots = SnapshotRedisStorage(uri, **options) if uri.startswith(SNAPSHOT_SCHEMES) else None
    memory = InlineExpiryMemoryStorage(uri) if uri.startswith("memory://") else None
    windows = snapshots if snapshots is not None else memory
    app.before_request(lambda: _identify(policies, windows))  # before Flask-Limiter's hook
    limits = [
        ApplicationLimit(limit_provider=per_minute(scope), key_function=subject(scope),
                         scope="requests")
        for scope in ("key", "user", "tenant")
    ]
    limits.append(ApplicationLimit(limit_provider=anonymous, key_function=subject("anon"),
                                   scope="requests"))
    limiter = Limiter(
        subject("anon"),
        app=app,
        application_limits=list(limits),
        storage_uri=uri,
        storage_options=options if not uri.startswith("memory://") else {},
        strategy="sliding-window-counter",  # O(1) per check, atomic in Redis
        headers_enabled=False,  # ours follow the IETF draft (RateLimit-*, reset in seconds)
        key_prefix="wj",
        in_memory_fallback_enabled=open_mode,
        fail_on_first_breach=True,
    )
    if snapshots is not None:  # the same Redis, answering the headers from each hit
        limiter._storage = snapshots
        limiter._limiter = SlidingWindowCounterRateLimiter(snapshots)
    elif memory is not None:  # the same counting, without a thread per request
        limiter._storage = memory
        limiter._limiter = SlidingWindowCounterRateLimiter(memory)
    def no_limit_applies() -> bool:
        # Skips Flask-Limiter's resolving of all four limits when none of them counts
        # this request (0 = unlimited): the same answer, without its per-request work.
        if not is_limited_path(request.path):
            return True
        effective: EffectiveLimits | None = g.get("limits_effective")
        if effective is None:  # no principal: only the client address's limit applies
            return settings.ratelimit_anonymous_per_minute <= 0
        return (effective.key.requests_per_minute <= 0
                and effective.user.requests_per_minute <= 0
                and effective.tenant.requests_per_minute <= 0)

    limiter.request_filter(no_limit_applies)

    def on_exceeded(exc: RateLimitExceeded) -> Response:
        return _exceeded_response(limiter, exc)

    def on_storage_error(exc: StorageError) -> Response:
        health.down("request limits", exc)
        err = LimitStorageDown()
        return error_response(err.status, err.code, err.message, err.headers)

    def add_headers(response: Response) -> Response:
        if is_limited_path(request.path):
            _add_headers(limiter, response, health)
        return response

    app.register_error_handler(RateLimitExceeded, on_exceeded)
    app.register_error_handler(StorageError, on_storage_error)
    app.after_request(add_headers)
    return limiter


def _scope_of(limit: RequestLimit) -> str:
    key = limit.key  # "wj/LIMITER/<scope>:<id>/requests/<n>/1/minute"
    for scope in _SCOPE_WORDS:
        if f"/{scope}:" in key:
            return scope
    return "anon"


def _seconds_until(reset_at: float) -> int:
    return max(1, math.ceil(reset_at - time.time()))


def _exceeded_response(limiter: Limiter, exc: RateLimitExceeded) -> Response:
    hit = limiter.current_limit
    amount = exc.limit.limit.amount
    scope = _scope_of(hit) if hit is not None else "anon"
    try:
        resets_in = _seconds_until(hit.window[0]) if hit is not None else 60
    except Exception:  # storage failed between the check and now; a minute is the window
        resets_in = 60
    err = TooManyRequests(
        f"Too many requests: {_SCOPE_WORDS[scope]} limit of {amount} requests per minute "
        f"is reached. It resets in {resets_in} s.",
        headers={"Retry-After": str(resets_in)},
    )
    return error_response(err.status, err.code, err.message, err.headers)


def _add_headers(limiter: Limiter, response: Response, health: StorageHealth) -> None:
    # Flask-Limiter switches to in-process counting on its own in fail-open mode; say so.
    if limiter._storage_dead:
        health.down("request limits", ConnectionError("Flask-Limiter fell back to memory"))
    limits = limiter.current_limits
    if not limits:
        return
    # The policy closest to exhaustion is reported (the breached one on a 429). With
    # Redis the windows come from each hit's own answer: no extra round trip.
    try:
        remaining, item = min(
            ((0 if x.breached else x.remaining, x) for x in limits),
            key=lambda pair: (pair[0], not pair[1].breached),
        )
        reset_at = item.window[0]
    except Exception as exc:  # storage died after the check; the response still goes out
        health.down("request limits", exc)
        return
    response.headers["RateLimit-Limit"] = str(item.limit.amount)
    response.headers["RateLimit-Remaining"] = str(max(0, remaining))
    response.headers["RateLimit-Reset"] = str(_seconds_until(reset_at))
    if response.status_code == 429 and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = response.headers["RateLimit-Reset"]
    if not limiter._storage_dead:
        health.up("request limits")
