"""A separate process reserving budgets through real Redis, for the concurrency tests.

Usage: python -m tests.gateway.limits.reserve_worker SPEC_JSON. SPEC holds the settings
(``redis``, ``database``, budget fields), the principal, ``threads``, ``tokens``, ``cost``
and the ``usage`` each admitted reservation settles to. Prints ``ready``, then reads
``START_AT SETTLE_AT`` (wall times) from stdin: all threads reserve at START_AT and hold
what they got until SETTLE_AT. Prints one JSON line: how many were admitted and refused.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

from gateway.auth.principal import Principal
from gateway.budgets import BudgetExceeded, Budgets, StorageHealth, UsageRecorder
from gateway.budgets.redis_counters import RedisCounters
from gateway.config import Settings
from gateway.limits.policy import Policies
from gateway.store import Store
from shared.chat import Usage


def run(spec: dict[str, Any]) -> dict[str, int]:
    settings = Settings(database_url=spec["database"], ratelimit_storage_uri=spec["redis"],
                        **spec["settings"])
    store = Store(settings.database_url)
    usage = UsageRecorder(lambda tenant_id, deltas: store.tenant(tenant_id).add_usage(deltas),
                          60.0)
    budgets = Budgets(Policies(store, settings), usage, RedisCounters(spec["redis"]),
                      "closed", StorageHealth("closed"))
    principal = Principal(**spec["principal"])
    budgets.policies.for_tenant(principal.tenant_id)  # warm the cache before the start line
    if budgets.shared is not None:
        budgets.shared.check()
    print("ready", flush=True)
    start_at, settle_at = (float(x) for x in sys.stdin.readline().split())
    results = {"admitted": 0, "refused": 0}
    lock = threading.Lock()
    settle = Usage(**spec["usage"])

    def one() -> None:
        time.sleep(max(0.0, start_at - time.time()))
        try:
            reservation = budgets.reserve(principal, spec["tokens"], spec["cost"], model="m")
        except BudgetExceeded:
            with lock:
                results["refused"] += 1
            return
        with lock:
            results["admitted"] += 1
        # "the provider call": hold every reservation until all processes have tried
        time.sleep(max(0.0, settle_at - time.time()))
        reservation.settle(settle)

    threads = [threading.Thread(target=one) for _ in range(spec["threads"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    usage.close()
    return results


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
