"""The in-process limit storage counts like limits' own and starts no thread per request."""

from __future__ import annotations

import threading
import time

from limits import RateLimitItemPerSecond
from limits.strategies import SlidingWindowCounterRateLimiter

from gateway.limits.storage import InlineExpiryMemoryStorage


def test_counts_exactly_and_starts_no_threads() -> None:
    storage = InlineExpiryMemoryStorage("memory://")
    limiter = SlidingWindowCounterRateLimiter(storage)
    limit = RateLimitItemPerSecond(5)
    storage.timer.join()  # the constructor's timer, cancelled
    threads_before = threading.active_count()
    outcomes, threads_after_hits = [], []
    for _ in range(8):
        outcomes.append(limiter.hit(limit, "k"))
        threads_after_hits.append(threading.active_count())
        time.sleep(0.015)  # longer than the stock storage's 10 ms timer
    assert outcomes == [True] * 5 + [False] * 3
    assert threads_after_hits == [threads_before] * 8


def test_expired_entries_are_swept_inline() -> None:
    storage = InlineExpiryMemoryStorage("memory://")
    storage.SWEEP_INTERVAL = 0.0
    storage.incr("short", expiry=0.01)
    time.sleep(0.03)
    storage.incr("other", expiry=60)  # any write sweeps what has expired
    assert "short" not in storage.storage
    assert storage.get("other") == 1
