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
from limits import RateLimitItem, RateLimitItemPerMinute, WindowStats
from limits.errors import StorageError
from limits.storage import Storage
from limits.strategies import RateLimiter, SlidingWindowCounterRateLimiter

from gateway.auth.principal import Principal, optional_principal
from gateway.budgets import LimitStorageDown, StorageHealth
from gateway.errors import ApiError, TooManyRequests, error_response
from gateway.limits.policy import Policies
from gateway.limits.storage import InlineExpiryMemoryStorage, SnapshotRedisStorage, Window
from gateway.services import Services

log = logging.getLogger("workjet.limits")

LIMITED_PREFIXES = ("/api/", "/v1/")
SNAPSHOT_SCHEMES = ("redis://", "rediss://", "redis+unix://")
KEY_PREFIX = "wj"  # counters are LIMITER/wj/<scope>:<id>/requests/<n>/1/minute
MAX_KEYS = 65536  # counter keys remembered per worker
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
    key: str  # the counter's key: item.key_for(KEY_PREFIX, "<scope>:<id>", "requests")
    breached: bool = False
    window: Window | None = None  # what the storage saw when counting it


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
        self._keys: dict[tuple[str, int], str] = {}

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

    def _hit(self, scope: str, subject: str, per_minute: int) -> Hit:
        """The limit of ``per_minute`` on ``scope:subject``, its key built once per worker."""
        item = self._item(per_minute)
        name = f"{scope}:{subject}"
        key = self._keys.get((name, per_minute))
        if key is None:
            key = item.key_for(KEY_PREFIX, name, "requests")
            if len(self._keys) >= MAX_KEYS:
                self._keys.clear()  # subjects come and go; the hot ones come back at once
            self._keys[(name, per_minute)] = key
        return Hit(scope, item, key)

    def _wanted(self, principal: Principal | None, address: str) -> list[Hit]:
        if principal is None:
            if self._anonymous <= 0:
                return []
            return [self._hit("anon", address, self._anonymous)]
        effective = self._policies.for_tenant(principal.tenant_id)
        wanted = []
        for scope, subject, values in (("key", principal.credential_id, effective.key),
                                       ("user", principal.user_id, effective.user),
                                       ("tenant", principal.tenant_id, effective.tenant)):
            n = values.requests_per_minute
            if n > 0:
                wanted.append(self._hit(scope, subject, n))
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
        # The strategy's hit() is this call plus building the key again; the storage keeps
        # the window it saw, which the RateLimit-* headers use (no second look).
        storage = cast(Windows, strategy.storage)
        storage.forget_windows()  # a worker thread serves many requests
        counted = []
        for hit in wanted:
            counted.append(hit)
            expiry = hit.item.get_expiry()
            acquired = storage.acquire_sliding_window_entry(hit.key, hit.item.amount, expiry)
            hit.window = storage.get_sliding_window(hit.key, expiry)
            if not acquired:
                hit.breached = True
                break
        return counted

    def _reset_in(self, hit: Hit) -> int:
        return max(1, math.ceil(_stats(hit).reset_time - time.time()))

    def _exceeded(self, hit: Hit) -> Response:
        resets_in = self._reset_in(hit)
        err = TooManyRequests(
            f"Too many requests: {_SCOPE_WORDS[hit.scope]} limit of {hit.item.amount} "
            f"requests per minute is reached. It resets in {resets_in} s.",
            headers={"Retry-After": str(resets_in)},
        )
        return error_response(err.status, err.code, err.message, err.headers)

    def add_headers(self, response: Response) -> Response:
        """``after_request``: the RateLimit-* headers of the limit closest to exhaustion,
        from the windows each hit saw (no further look at the storage)."""
        hits: list[Hit] | None = g.get("limits_hits")
        if not hits:
            return response
        closest: tuple[int, bool, Hit, float] | None = None
        for hit in hits:
            stats = _stats(hit)
            remaining = 0 if hit.breached else stats.remaining
            if closest is None or (remaining, not hit.breached) < closest[:2]:
                closest = (remaining, not hit.breached, hit, stats.reset_time)
        assert closest is not None
        remaining, _, hit, reset_at = closest
        headers = response.headers
        headers["RateLimit-Limit"] = str(hit.item.amount)
        headers["RateLimit-Remaining"] = str(max(0, remaining))
        headers["RateLimit-Reset"] = str(max(1, math.ceil(reset_at - time.time())))
        if response.status_code == 429 and "Retry-After" not in headers:
            headers["Retry-After"] = headers["RateLimit-Reset"]
        return response


def _stats(hit: Hit) -> WindowStats:
    """``SlidingWindowCounterRateLimiter.get_window_stats`` over the window ``hit`` saw."""
    assert hit.window is not None
    previous_count, previous_expires_in, current_count, current_expires_in = hit.window
    item = hit.item
    expiry = item.get_expiry()
    weighted = previous_count * previous_expires_in / expiry + current_count
    remaining = max(0, item.amount - math.floor(weighted))
    now = time.time()
    previous_reset_in = current_reset_in = math.inf
    if previous_count:
        previous_reset_in = previous_expires_in % (expiry / previous_count)
    if current_count:
        current_reset_in = current_expires_in % expiry
    if not (previous_count or current_count):
        return WindowStats(now, remaining)
    return WindowStats(now + min(previous_reset_in, current_reset_in), remaining)


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
