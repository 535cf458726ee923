"""Throttling of guessable inputs (device user codes) in the limiter's shared storage.

The counters live where the request limits keep theirs (memory, or Redis for several
workers and hosts), so a guesser cannot spread attempts over workers.
"""

from __future__ import annotations

import math
import time

from limits import parse

from gateway.errors import TooManyRequests
from gateway.services import services


def throttle(name: str, limit: str, *keys: str) -> None:
    """Count one attempt against each key; 429 with Retry-After once any is exhausted."""
    limiter = services().limiter
    item = parse(limit)
    for key in keys:
        if not limiter.limiter.hit(item, "workjet-throttle", name, key):
            reset = limiter.limiter.get_window_stats(item, "workjet-throttle", name, key).reset_time
            wait = max(1, math.ceil(reset - time.time()))
            raise TooManyRequests(
                f"Too many attempts; wait {wait} seconds and try again.",
                headers={"Retry-After": str(wait)},
            )
