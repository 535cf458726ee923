"""Usage aggregates (tokens and cost per tenant, day, user and model), batched.

Settling a reservation adds to an in-memory aggregate; a background thread (started on
first use, so in the gunicorn worker after the fork) writes all pending aggregates in
one transaction per tenant at most every ``usage_flush_seconds``, and on close. No
database write happens on the request path. Metadata only: never content.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from gateway.periodic import PeriodicFlush
from gateway.store.limits_scope import UsageDelta

log = logging.getLogger("workjet.usage")

# (tenant_id, day, user_id, model) -> [requests, input tokens, output tokens, cost micros]
_Key = tuple[str, str, str, str]
Writer = Callable[[str, list[UsageDelta]], None]


def utc_day(at: float | None = None) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() if at is None else at))


class UsageRecorder:
    def __init__(self, write: Writer, interval: float) -> None:
        self._write = write
        self._pending: dict[_Key, list[int]] = {}
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._loop = PeriodicFlush("workjet-usage", interval, self.flush)

    def add(
        self, tenant_id: str, user_id: str, model: str,
        input_tokens: int, output_tokens: int, cost_micros: int,
    ) -> None:
        key = (tenant_id, utc_day(), user_id, model[:200])
        with self._lock:
            totals = self._pending.get(key)
            if totals is None:
                self._pending[key] = [1, input_tokens, output_tokens, cost_micros]
            else:
                totals[0] += 1
                totals[1] += input_tokens
                totals[2] += output_tokens
                totals[3] += cost_micros
        self._loop.ensure_started()

    def flush(self) -> None:
        """Write what is pending; on failure keep it for the next attempt."""
        with self._flush_lock:
            with self._lock:
                pending, self._pending = self._pending, {}
            by_tenant: dict[str, list[UsageDelta]] = {}
            for (tenant_id, day, user_id, model), (n, inp, out, cost) in pending.items():
                by_tenant.setdefault(tenant_id, []).append(
                    UsageDelta(day, user_id, model, n, inp, out, cost)
                )
            for tenant_id, deltas in by_tenant.items():
                try:
                    self._write(tenant_id, deltas)
                except Exception:  # a failed write must not end the thread; retry next time
                    log.exception("could not write usage aggregates; will retry")
                    self._requeue(tenant_id, deltas)

    def _requeue(self, tenant_id: str, deltas: list[UsageDelta]) -> None:
        with self._lock:
            for d in deltas:
                totals = self._pending.setdefault((tenant_id, d.day, d.user_id, d.model),
                                                  [0, 0, 0, 0])
                totals[0] += d.requests
                totals[1] += d.input_tokens
                totals[2] += d.output_tokens
                totals[3] += d.cost_micros

    def close(self) -> None:
        self._loop.stop()
        self.flush()
