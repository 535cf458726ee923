"""Request rate limits and token/spend budgets, wired into the app.

Storage is ``memory://`` for one process, ``redis://`` for several workers or hosts
(``WORKJET_RATELIMIT_STORAGE_URI``); in-process storage with more than one worker is
refused at start, because each worker would count on its own. When Redis cannot be
reached, ``WORKJET_RATELIMIT_FAIL_MODE`` decides: ``closed`` answers 503, ``open``
counts in this process until Redis returns. Either way it is logged, and ``/readyz``
names the failed ``ratelimit_storage``.

``services.limiter`` is the ``gateway.limits.requests.RequestLimiter``; ``services.budgets`` the
``gateway.budgets.Budgets`` (``reserve(principal, estimated_tokens, max_cost, model=)``).
"""

from __future__ import annotations

from flask import Flask

from gateway.budgets import Budgets, StorageHealth, UsageRecorder
from gateway.budgets.counters import Counters
from gateway.config import ConfigError, Settings
from gateway.limits.policy import Policies
from gateway.limits.requests import SNAPSHOT_SCHEMES, RequestLimiter, build_limiter
from gateway.services import Services

__all__ = ["check_workers", "in_process_refusal", "init_app", "is_in_process"]


def init_app(app: Flask, services: Services) -> None:
    settings = services.settings
    uri = settings.ratelimit_storage_uri
    if not is_in_process(uri) and not uri.startswith(SNAPSHOT_SCHEMES):
        raise ConfigError(
            f"WORKJET_RATELIMIT_STORAGE_URI={uri.split('://')[0]}://...: use memory:// or "
            "a single Redis (redis://, rediss:// or redis+unix://); budgets run Lua scripts "
            "over several keys, which Redis Cluster would spread over nodes"
        )
    health = StorageHealth(settings.ratelimit_fail_mode)
    policies = Policies(services.store, settings)
    limiter = build_limiter(app, services, policies, health)
    services.limiter = limiter
    services.readiness["ratelimit_storage"] = lambda: _check_storage(limiter)

    shared: Counters | None = None
    if not is_in_process(uri):
        from gateway.budgets.redis_counters import RedisCounters

        redis_counters = RedisCounters(settings.ratelimit_storage_uri)
        services.closers.append(redis_counters.close)
        shared = redis_counters
    store = services.store
    usage = UsageRecorder(
        lambda tenant_id, deltas: store.tenant(tenant_id).add_usage(deltas),
        settings.usage_flush_seconds,
    )
    services.closers.append(usage.close)
    services.budgets = Budgets(policies, usage, shared, settings.ratelimit_fail_mode, health)


class LimitStorageUnreachable(RuntimeError):
    """Named in ``/readyz``: the rate-limit storage (Redis) does not answer."""


def _check_storage(limiter: RequestLimiter) -> None:
    if not limiter.storage.check():
        raise LimitStorageUnreachable("the rate-limit storage does not answer")


def is_in_process(storage_uri: str) -> bool:
    return storage_uri.startswith("memory://")


def in_process_refusal(workers: int) -> str:
    return (
        "rate limits kept in process memory cannot be shared by "
        f"{workers} workers; set WORKJET_RATELIMIT_STORAGE_URI=redis://HOST:PORT "
        "or use one worker"
    )


def check_workers(settings: Settings, workers: int) -> None:
    """Refuse in-process limits with several workers: each would count on its own."""
    if workers > 1 and is_in_process(settings.ratelimit_storage_uri):
        raise ConfigError(in_process_refusal(workers))

