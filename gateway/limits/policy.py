"""Which limits apply to a principal: configured defaults, and per-tenant overrides.

Three scopes are limited: the credential (API key or session), the user (all their
credentials together) and the tenant (everyone in it). Defaults for each scope come from
the settings; a tenant's stored overrides replace the defaults of the *tenant* scope.
A value of 0 means "no limit".

Overrides are read from the database at most once per ``limits_cache_seconds`` per
worker: a change made with the CLI or the admin API reaches every worker of every host
within that time (the worker that served the admin API sees it at once).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, fields
from typing import Literal

from gateway.config import Settings
from gateway.store import Store

Scope = Literal["key", "user", "tenant"]
SCOPES: tuple[Scope, ...] = ("key", "user", "tenant")


@dataclass(frozen=True, slots=True)
class LimitValues:
    """One scope's limits; 0 means unlimited. Budgets are in the catalog's currency."""

    requests_per_minute: int = 0
    tokens_per_minute: int = 0
    daily_budget: float = 0.0
    monthly_budget: float = 0.0

    def to_json(self) -> dict[str, int | float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


LIMIT_NAMES: tuple[str, ...] = tuple(f.name for f in fields(LimitValues))


@dataclass(frozen=True, slots=True)
class TenantOverrides:
    """A tenant's stored overrides; ``None`` keeps the configured default."""

    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    daily_budget: float | None = None
    monthly_budget: float | None = None

    def to_json(self) -> dict[str, int | float | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class EffectiveLimits:
    key: LimitValues
    user: LimitValues
    tenant: LimitValues

    def for_scope(self, scope: Scope) -> LimitValues:
        found: LimitValues = getattr(self, scope)
        return found

    def to_json(self) -> dict[str, dict[str, int | float]]:
        return {scope: self.for_scope(scope).to_json() for scope in SCOPES}


def defaults_from(settings: Settings) -> EffectiveLimits:
    s = settings
    return EffectiveLimits(
        key=LimitValues(
            s.ratelimit_key_per_minute, s.budget_key_tokens_per_minute,
            s.budget_key_daily, s.budget_key_monthly,
        ),
        user=LimitValues(
            s.ratelimit_user_per_minute, s.budget_user_tokens_per_minute,
            s.budget_user_daily, s.budget_user_monthly,
        ),
        tenant=LimitValues(
            s.ratelimit_tenant_per_minute, s.budget_tenant_tokens_per_minute,
            s.budget_tenant_daily, s.budget_tenant_monthly,
        ),
    )


def apply_overrides(defaults: LimitValues, overrides: TenantOverrides) -> LimitValues:
    return LimitValues(
        *(
            default if override is None else override
            for default, override in (
                (getattr(defaults, name), getattr(overrides, name)) for name in LIMIT_NAMES
            )
        )
    )


class Policies:
    """Effective limits per tenant, with overrides cached briefly in this worker."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.defaults = defaults_from(settings)
        self.ttl = settings.limits_cache_seconds
        self._cache: dict[str, tuple[float, EffectiveLimits]] = {}
        self._lock = threading.Lock()

    def for_tenant(self, tenant_id: str) -> EffectiveLimits:
        now = time.monotonic()
        cached = self._cache.get(tenant_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        overrides = self.store.tenant(tenant_id).limit_overrides()
        effective = EffectiveLimits(
            key=self.defaults.key,
            user=self.defaults.user,
            tenant=apply_overrides(self.defaults.tenant, overrides),
        )
        with self._lock:
            self._cache[tenant_id] = (now + self.ttl, effective)
        return effective

    def invalidate(self, tenant_id: str) -> None:
        with self._lock:
            self._cache.pop(tenant_id, None)


# Bounds on what an administrator may set (outside input is bounded everywhere).
MAX_VALUES: dict[str, float] = {
    "requests_per_minute": 10_000_000,
    "tokens_per_minute": 1_000_000_000_000,
    "daily_budget": 1_000_000_000.0,
    "monthly_budget": 1_000_000_000.0,
}


def changed_overrides(
    current: TenantOverrides, changes: dict[str, object]
) -> TenantOverrides:
    """``current`` with ``changes`` applied (``None`` clears an override); ValueError says
    which field is wrong. Limits are whole numbers, budgets may have cents; 0 = unlimited."""
    values: dict[str, object] = dict(current.to_json())
    for name, value in changes.items():
        if name not in MAX_VALUES:
            raise ValueError(f"unknown limit {name!r}; known: {', '.join(MAX_VALUES)}")
        if value is not None:
            integral = name in ("requests_per_minute", "tokens_per_minute")
            if isinstance(value, bool) or not isinstance(value, int | float) or (
                integral and not isinstance(value, int)
            ):
                kind = "a whole number" if integral else "a number"
                raise ValueError(f"{name} must be {kind} or null")
            if not 0 <= value <= MAX_VALUES[name] or value != value:  # NaN is not a limit
                raise ValueError(f"{name} must be between 0 and {MAX_VALUES[name]:g}")
            if not integral:
                value = round(float(value), 6)
        values[name] = value
    return TenantOverrides(**values)  # type: ignore[arg-type]
