"""A circuit breaker per provider endpoint.

Closed: requests pass and consecutive failures are counted. After ``threshold`` failures
it opens: requests are refused at once (the router falls back) for ``reset_after``
seconds. Then it is half-open: one probe passes; its success closes the circuit, its
failure opens it again. State is per process, which is enough to stop hammering a
provider that is down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

State = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    def __init__(self, threshold: int = 5, reset_after: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = threshold
        self.reset_after = reset_after
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.reset_after:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        if self._opened_at is None:  # the common case needs no lock
            return True
        with self._lock:
            if self.state != "half_open" or self._probing:
                return False
            self._probing = True
            return True

    def success(self) -> None:
        if self._failures or self._opened_at is not None:
            with self._lock:
                self._failures = 0
                self._opened_at = None
                self._probing = False

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            self._probing = False
            if self._opened_at is not None or self._failures >= self.threshold:
                self._opened_at = self._clock()
