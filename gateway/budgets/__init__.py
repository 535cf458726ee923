"""Token and spend budgets: reserve the worst case before the provider call, settle after.

The pipeline calls, for each chat request::

    reservation = services().budgets.reserve(
        principal, estimated_tokens=input_estimate + max_tokens, max_cost=worst_cost,
        model=request.model,
    )  # raises BudgetExceeded (429) or LimitStorageDown (503)
    try:
        ...call the provider...
    except BaseException:
        reservation.release()   # nothing was used (or settle with partial usage)
        raise
    reservation.settle(usage)   # shared.chat.Usage: real tokens and cost

or ``with budgets.reserve(...) as reservation: ...; reservation.settle(usage)`` (leaving
the block without settling releases). Budgets are tokens per minute, and spend per UTC
day and month, for the credential, the user and the tenant (see ``gateway.limits.policy``).
All counters of one reservation are charged atomically, and only if every one stays
within its limit, so concurrent requests never overshoot at reservation time; settling
replaces the worst case with the real usage and adds it to the usage aggregates.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from gateway.budgets.counters import Charge, Counters, MemoryCounters, Window, window_id
from gateway.budgets.health import StorageHealth
from gateway.budgets.usage import UsageRecorder
from gateway.errors import ApiError, ServiceUnavailable
from gateway.limits.policy import SCOPES, Policies, Scope
from gateway.store.limits_schema import MICROS
from shared.chat import Usage

if TYPE_CHECKING:
    from gateway.auth.principal import Principal

__all__ = [
    "BudgetExceeded", "Budgets", "LimitStorageDown", "Reservation", "StorageHealth",
    "UsageRecorder",
]

log = logging.getLogger("workjet.limits")

RETRY_REDIS_SECONDS = 1.0  # fail-open: how long to count in process before trying Redis
_WINDOWS: tuple[tuple[Window, str, str], ...] = (
    ("minute", "tokens_per_minute", "tokens-per-minute budget"),
    ("day", "daily_budget", "daily spend budget"),
    ("month", "monthly_budget", "monthly spend budget"),
)
_SCOPE_LABEL: dict[Scope, str] = {"key": "credential's", "user": "user's", "tenant": "tenant's"}


class BudgetExceeded(ApiError):
    """A token or spend budget would be passed by this request's worst case (429)."""

    status, code = 429, "budget_exceeded"


class LimitStorageDown(ServiceUnavailable):
    """The shared limit storage (Redis) cannot be reached and the fail mode is closed."""

    def __init__(self) -> None:
        super().__init__(
            "The gateway cannot reach its rate-limit storage (Redis), and it is configured "
            "to refuse requests rather than serve them unlimited; try again shortly.",
            headers={"Retry-After": "5"},
        )


class Reservation:
    """A charged worst case; ``settle`` or ``release`` it exactly once (later calls no-op)."""

    def __init__(
        self, budgets: Budgets, principal: Principal, model: str,
        charges: list[Charge], counters: Counters | None,
    ) -> None:
        self._budgets = budgets
        self.principal = principal
        self.model = model
        self.charges = charges
        self._counters = counters
        self._done = False
        self._lock = threading.Lock()

    @property
    def done(self) -> bool:
        return self._done

    def settle(self, usage: Usage) -> None:
        """Replace the worst case by the real usage, and count it in the usage aggregates."""
        if not self._finish():
            return
        tokens = max(0, usage.input_tokens) + max(0, usage.output_tokens)
        cost = max(0, math.ceil(usage.cost * MICROS))
        self._adjust([(c.key, (tokens if _is_tokens(c.key) else cost) - c.amount)
                      for c in self.charges])
        p = self.principal
        self._budgets.usage.add(
            p.tenant_id, p.user_id, self.model, usage.input_tokens, usage.output_tokens, cost
        )

    def release(self) -> None:
        """Give the whole reservation back (the provider was not called or failed at once)."""
        if self._finish():
            self._adjust([(c.key, -c.amount) for c in self.charges])

    def _finish(self) -> bool:
        with self._lock:
            if self._done:
                return False
            self._done = True
            return True

    def _adjust(self, deltas: list[tuple[str, int]]) -> None:
        deltas = [(key, delta) for key, delta in deltas if delta != 0]
        if not deltas or self._counters is None:
            return
        try:
            self._counters.adjust(deltas)
        except Exception as exc:  # the request is answered; a lost adjustment is logged
            self._budgets.health.down("budgets", exc)
            log.warning("could not settle a budget reservation (%s)", type(exc).__name__)

    def __enter__(self) -> Reservation:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()  # no-op after settle


def _is_tokens(key: str) -> bool:
    return ":minute:" in key


class Budgets:
    def __init__(
        self,
        policies: Policies,
        usage: UsageRecorder,
        shared: Counters | None,
        fail_mode: Literal["closed", "open"],
        health: StorageHealth,
    ) -> None:
        """``shared`` is the Redis counters, or None for in-process counting (memory://)."""
        self.policies = policies
        self.usage = usage
        self.shared = shared
        self.local = MemoryCounters()
        self.fail_mode = fail_mode
        self.health = health
        self._retry_shared_at = 0.0

    def reserve(
        self, principal: Principal, estimated_tokens: int, max_cost: float, *, model: str = ""
    ) -> Reservation:
        """Charge the worst case to every budget that applies; 429 when one would pass."""
        now = time.time()
        charges, labels = self._charges(principal, max(0, estimated_tokens),
                                        max(0, math.ceil(max_cost * MICROS)), now)
        if not charges:
            return Reservation(self, principal, model, [], None)
        counters = self._counters_now()
        try:
            refusal = counters.reserve(charges)
        except Exception as exc:
            if counters is self.local:
                raise
            counters = self._shared_failed(exc)
            refusal = counters.reserve(charges)
        else:
            if counters is not self.local:
                self.health.up("budgets")
        if refusal is not None:
            raise self._refused(charges[refusal.index], labels[refusal.index], refusal.used, now)
        return Reservation(self, principal, model, charges, counters)

    def _counters_now(self) -> Counters:
        if self.shared is None or time.monotonic() < self._retry_shared_at:
            return self.local
        return self.shared

    def _shared_failed(self, exc: Exception) -> Counters:
        self.health.down("budgets", exc)
        if self.fail_mode == "closed":
            raise LimitStorageDown() from exc
        self._retry_shared_at = time.monotonic() + RETRY_REDIS_SECONDS
        return self.local

    def _charges(
        self, principal: Principal, tokens: int, cost: int, now: float
    ) -> tuple[list[Charge], list[tuple[Scope, str, float]]]:
        effective = self.policies.for_tenant(principal.tenant_id)
        subjects: dict[Scope, str] = {
            "key": principal.credential_id, "user": principal.user_id,
            "tenant": principal.tenant_id,
        }
        charges: list[Charge] = []
        labels: list[tuple[Scope, str, float]] = []
        for scope in SCOPES:
            values = effective.for_scope(scope)
            for window, field, label in _WINDOWS:
                limit = getattr(values, field)
                if limit <= 0:
                    continue
                wid, ends = window_id(window, now)
                is_tokens = window == "minute"
                charges.append(Charge(
                    key=f"{scope}:{subjects[scope]}:{window}:{wid}",
                    amount=tokens if is_tokens else cost,
                    limit=int(limit) if is_tokens else round(limit * MICROS),
                    ttl=math.ceil(ends - now) + 60,
                ))
                labels.append((scope, label, ends))
        return charges, labels

    def _refused(
        self, charge: Charge, label: tuple[Scope, str, float], used: int, now: float
    ) -> BudgetExceeded:
        scope, name, ends = label
        resets_in = max(1, math.ceil(ends - now))
        show = _tokens if _is_tokens(charge.key) else _money
        what = f"The {_SCOPE_LABEL[scope]} {name} of {show(charge.limit)}"
        if charge.amount > charge.limit:
            message = (
                f"{what} is smaller than this request's worst case ({show(charge.amount)}); "
                "lower max_tokens or ask an administrator to raise the budget."
            )
        else:
            message = (
                f"{what} is used up: {show(used)} used or reserved, and this request may "
                f"need up to {show(charge.amount)}. It resets {_when(ends, resets_in)}."
            )
        return BudgetExceeded(message, headers={"Retry-After": str(resets_in)})


def _when(ends: float, seconds: int) -> str:
    """``in 42 s`` for the minute window; the UTC time for days and months."""
    if seconds <= 120:
        return f"in {seconds} s"
    return time.strftime("at %Y-%m-%d %H:%M UTC", time.gmtime(ends))


def _tokens(amount: int) -> str:
    return f"{amount} tokens"


def _money(micros: int) -> str:
    return f"{micros / MICROS:.2f}"
