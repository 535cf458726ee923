"""The in-process limit storage counts like limits' own and starts no thread per request."""

from __future__ import annotations

import threading
import time

from limits import RateLimitItemPerMinute
from limits.strategies import SlidingWindowCounterRateLimiter

from gateway.limits.storage import InlineExpiryMemoryStorage


def test_counts_exactly_and_starts_no_threads() -> None:
    storage = InlineExpiryMemoryStorage("memory://")
    limiter = SlidingWindowCounterRateLimiter(storage)
    # A minute, not a second: 8 hits over ~0.12 s crossed a 1 s window's boundary in about
    # one run of twelve, and the sliding window then rightly let a sixth through.
    limit = RateLimitItemPerMinute(5)
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


def test_window_after_a_hit_is_the_one_it_saw_and_matches_the_counters() -> None:
    storage = InlineExpiryMemoryStorage("memory://")
    limiter = SlidingWindowCounterRateLimiter(storage)
    limit = RateLimitItemPerMinute(100)  # a wide window: a rollover mid-test is unlikely
    for _ in range(3):
        storage.forget_windows()  # as at the start of each request
        assert limiter.hit(limit, "k")
    _, remaining = limiter.get_window_stats(limit, "k")  # from the last hit's snapshot
    assert remaining == 97
    _, remaining = limiter.get_window_stats(limit, "k")  # snapshot used up: the counters
    assert remaining == 97
    storage.forget_windows()
    other = InlineExpiryMemoryStorage("memory://")  # a second worker's view of its own hits
    assert SlidingWindowCounterRateLimiter(other).get_window_stats(limit, "k")[1] == 100
