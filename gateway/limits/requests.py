"""Request rate limits: per credential, per user, per tenant, on ``limits``' counters.

Limited: the API paths (``/api/...`` and the provider-compatible ``/v1/...``); never
``/healthz``, ``/readyz`` or ``/openapi.json``. A request with a valid credential counts
against its credential's, its user's and its tenant's per-minute limits; one without
counts against its client address. Windows are ``limits``' sliding-window counters
(this minute's count plus the previous minute's, weighted by how much of it the last
60 s still cover): one atomic Lua call per limit in Redis, O(1), so concurrent requests
from any worker or host are counted exactly. Every response of a limited path carries
the IETF draft ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset``
(seconds) headers; a 429 says which limit was hit, when it resets, with ``Retry-After``.

The check is one ``before_request`` hook calling the counters of ``limits`` (the engine
Flask-Limiter is built on) directly. Flask-Limiter's own hook resolved its generic limit
set on every request and cost about 0.4 ms of CPU, a fifth of the gateway's whole budget
per request; the same counters, keys and storages cost a tenth of that here.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, cast

from flask import Flask, Response, g, request
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import Storage
from limits.strategies import RateLimiter, SlidingWindowCounterRateLimiter

from gateway.auth.principal import Principal, optional_principal
from gateway.budgets import LimitStorageDown, StorageHealth
from gateway.errors import ApiError, TooManyRequests, error_response
from gateway.limits.policy import Policies
from gateway.limits.storage import InlineExpiryMemoryStorage, SnapshotRedisStorage
from gateway.services import Services

log = logging.getLogger("workjet.limits")

LIMITED_PREFIXES = ("/api/", "/v1/")
SNAPSHOT_SCHEMES = ("redis://", "rediss://", "redis+unix://")
KEY_PREFIX = "wj"  # counters are LIMITER/wj/<scope>:<id>/requests/<n>/1/minute
MAX_RECHECK_SECONDS = 16.0  # while the storage is down (fail open), ask again at most this late
_SCOPE_WORDS: dict[str, str] = {
    "key": "this credential's", "user": "your user's", "tenant": "your tenant's",
    "anon": "this client address's",
}

Windows = SnapshotRedisStorage | InlineExpiryMemoryStorage


def is_limited_path(path: str) -> bool:
    return path.startswith(LIMITED_PREFIXES)


@dataclass(slots=True)
class Hit:
    """One limit counted for this request, for the RateLimit-* headers and a 429."""

    scope: str
    item: RateLimitItem
    key: tuple[str, str, str]
    breached: bool


class RequestLimiter:
    """Counts each limited request; ``services.limiter``.

    ``limiter`` is the counting strategy in use (the shared storage's, or the in-process
    fallback's while the shared one is down in fail-open mode); ``storage`` the shared one.
    """

    def __init__(self, storage: Windows, settings: Any, policies: Policies,
                 health: StorageHealth) -> None:
        self.storage: Storage = storage
        self._shared: RateLimiter = SlidingWindowCounterRateLimiter(storage)
        self._policies = policies
        self._health = health
        self._anonymous = settings.ratelimit_anonymous_per_minute
        self._fail_open = settings.ratelimit_fail_mode == "open"
        self._fallback: RateLimiter | None = None
        self._recheck_at = 0.0
        self._recheck_after = 1.0
        self._items: dict[int, RateLimitItem] = {}

    # --- which strategy counts --------------------------------------------------------

    @property
    def limiter(self) -> RateLimiter:
        if self._fallback is None:
            return self._shared
        now = time.monotonic()
        if now >= self._recheck_at:  # back off 1, 2, 4... s between looks at the storage
            self._recheck_after = min(self._recheck_after * 2, MAX_RECHECK_SECONDS)
            self._recheck_at = now + self._recheck_after
            if self.storage.check():
                log.warning("rate-limit storage reachable again; shared counting resumed")
                self._fallback = None
                self._health.up("request limits")
                return self._shared
        return self._fallback

    def _fall_back(self, exc: BaseException) -> None:
        self._health.down("request limits", exc)
        if self._fallback is None:
            self._fallback = SlidingWindowCounterRateLimiter(
                InlineExpiryMemoryStorage("memory://"))
            self._recheck_after = 1.0
            self._recheck_at = time.monotonic() + self._recheck_after

    # --- per request ------------------------------------------------------------------

    def _item(self, per_minute: int) -> RateLimitItem:
        item = self._items.get(per_minute)
        if item is None:
            item = RateLimitItemPerMinute(per_minute)
            if len(self._items) < 4096:  # limits come from settings and tenant overrides
                self._items[per_minute] = item
        return item

    def _wanted(self, principal: Principal | None, address: str) -> list[Hit]:
        if principal is None:
            if self._anonymous <= 0:
                return []
            return [Hit("anon", self._item(self._anonymous),
                        (KEY_PREFIX, f"anon:{address}", "requests"), False)]
        effective = self._policies.for_tenant(principal.tenant_id)
        wanted = []
        for scope, subject, values in (("key", principal.credential_id, effective.key),
                                       ("user", principal.user_id, effective.user),
                                       ("tenant", principal.tenant_id, effective.tenant)):
            n = values.requests_per_minute
            if n > 0:
                wanted.append(Hit(scope, self._item(n),
                                  (KEY_PREFIX, f"{scope}:{subject}", "requests"), False))
        return wanted

    def check(self) -> Response | None:
        """``before_request``: count the request; a 429 or 503 response refuses it."""
        req = request._get_current_object()  # type: ignore[attr-defined]
        if not is_limited_path(req.path):
            return None
        try:
            principal = optional_principal()
        except ApiError:  # e.g. a cookie without its CSRF token: the view answers that
            principal = None
        wanted = self._wanted(principal, req.remote_addr or "-")
        if not wanted:
            return None
        try:
            hits = self._count(self.limiter, wanted)
        except StorageError as exc:
            if not self._fail_open:
                self._health.down("request limits", exc)
                err = LimitStorageDown()
                return error_response(err.status, err.code, err.message, err.headers)
            self._fall_back(exc)
            assert self._fallback is not None
            hits = self._count(self._fallback, wanted)  # none breached: the storage failed
        else:
            if self._fallback is None:
                self._health.up("request limits")
        g.limits_hits = hits
        if hits[-1].breached:
            return self._exceeded(hits[-1])
        return None

    def _count(self, strategy: RateLimiter, wanted: list[Hit]) -> list[Hit]:
        """Hit each limit in turn, stopping at the first one exhausted."""
        # a worker thread serves many requests: drop the windows its last one saw
        cast(Windows, strategy.storage).forget_windows()
        counted = []
        for hit in wanted:
            counted.append(hit)
            if not strategy.hit(hit.item, *hit.key):
                hit.breached = True
                break
        return counted

    def _reset_in(self, hit: Hit) -> int:
        reset_at = self.limiter.get_window_stats(hit.item, *hit.key).reset_time
        return max(1, math.ceil(reset_at - time.time()))

    def _exceeded(self, hit: Hit) -> Response:
        try:
            resets_in = self._reset_in(hit)
        except StorageError:  # storage failed between the check and now; a minute is the window
            resets_in = 60
        err = TooManyRequests(
            f"Too many requests: {_SCOPE_WORDS[hit.scope]} limit of {hit.item.amount} "
            f"requests per minute is reached. It resets in {resets_in} s.",
            headers={"Retry-After": str(resets_in)},
        )
        return error_response(err.status, err.code, err.message, err.headers)

    def add_headers(self, response: Response) -> Response:
        """``after_request``: the RateLimit-* headers of the limit closest to exhaustion.

        With Redis the windows come from each hit's own answer: no extra round trip.
        """
        hits: list[Hit] | None = g.get("limits_hits")
        if not hits:
            return response
        strategy = self.limiter
        try:
            closest: tuple[int, bool, Hit, float] | None = None
            for hit in hits:
                stats = strategy.get_window_stats(hit.item, *hit.key)
                remaining = 0 if hit.breached else stats.remaining
                if closest is None or (remaining, not hit.breached) < closest[:2]:
                    closest = (remaining, not hit.breached, hit, stats.reset_time)
        except StorageError as exc:  # storage died after the check; the response still goes
            self._health.down("request limits", exc)
            return response
        assert closest is not None
        remaining, _, hit, reset_at = closest
        headers = response.headers
        headers["RateLimit-Limit"] = str(hit.item.amount)
        headers["RateLimit-Remaining"] = str(max(0, remaining))
        headers["RateLimit-Reset"] = str(max(1, math.ceil(reset_at - time.time())))
        if response.status_code == 429 and "Retry-After" not in headers:
            headers["Retry-After"] = headers["RateLimit-Reset"]
        return response


def build_limiter(app: Flask, services: Services, policies: Policies,
                  health: StorageHealth) -> RequestLimiter:
    settings = services.settings
    uri = settings.ratelimit_storage_uri
    options: dict[str, Any] = {"socket_timeout": 1, "socket_connect_timeout": 1,
                               "wrap_exceptions": True}
    storage: Windows = (SnapshotRedisStorage(uri, **options) if uri.startswith(SNAPSHOT_SCHEMES)
                        else InlineExpiryMemoryStorage(uri))
    limiter = RequestLimiter(storage, settings, policies, health)
    app.before_request(limiter.check)
    app.after_request(limiter.add_headers)
    return limiter
