"""Budget counters: windows, and the in-process implementation.

A reservation adds amounts to several counters (one per scope and window) in one atomic
step, and only if *every* counter stays within its limit; otherwise nothing is added and
the first counter that would pass its limit is named. Settling adds the difference
between the real usage and the reservation to the same counters. So concurrent requests
can never push a counter past its limit at reservation time; only usage larger than
its own worst-case estimate can (by that request's excess alone).
"""

from __future__ import annotations

import calendar
import threading
import time
from dataclasses import dataclass
from typing import Literal, Protocol

Window = Literal["minute", "day", "month"]


@dataclass(frozen=True, slots=True)
class Charge:
    """Add ``amount`` to counter ``key`` if it stays within ``limit`` (``ttl``: seconds)."""

    key: str
    amount: int
    limit: int
    ttl: int


@dataclass(frozen=True, slots=True)
class Refusal:
    """The charge at ``index`` would pass its limit; ``used`` is the counter's value."""

    index: int
    used: int


class Counters(Protocol):
    def reserve(self, charges: list[Charge]) -> Refusal | None: ...

    def adjust(self, deltas: list[tuple[str, int]]) -> None:
        """Add each delta to its counter if the counter still exists (it may have expired)."""

    def check(self) -> None: ...


def window_id(window: Window, at: float) -> tuple[str, float]:
    """The window's id (part of the counter key) and the time it ends (epoch seconds)."""
    t = time.gmtime(at)
    if window == "minute":
        start = int(at // 60) * 60
        return str(start // 60), start + 60.0
    if window == "day":
        day_start = calendar.timegm((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0))
        return f"{t.tm_year:04d}{t.tm_mon:02d}{t.tm_mday:02d}", day_start + 86400.0
    year, month = (t.tm_year + 1, 1) if t.tm_mon == 12 else (t.tm_year, t.tm_mon + 1)
    return f"{t.tm_year:04d}{t.tm_mon:02d}", float(calendar.timegm((year, month, 1, 0, 0, 0)))


class MemoryCounters:
    """Counters in this process (``memory://``, or Redis down in fail-open mode)."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[int, float]] = {}  # key -> (value, expires at)
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def reserve(self, charges: list[Charge]) -> Refusal | None:
        now = time.time()
        with self._lock:
            self._sweep(now)
            for index, charge in enumerate(charges):
                used = self._get(charge.key, now)
                if used + charge.amount > charge.limit:
                    return Refusal(index, used)
            for charge in charges:
                value, expires = self._values.get(charge.key, (0, now + charge.ttl))
                self._values[charge.key] = (value + charge.amount, expires)
        return None

    def adjust(self, deltas: list[tuple[str, int]]) -> None:
        now = time.time()
        with self._lock:
            for key, delta in deltas:
                found = self._values.get(key)
                if found is not None and found[1] > now:
                    self._values[key] = (found[0] + delta, found[1])

    def value(self, key: str) -> int:
        with self._lock:
            return self._get(key, time.time())

    def check(self) -> None:
        return None

    def _get(self, key: str, now: float) -> int:
        found = self._values.get(key)
        return 0 if found is None or found[1] <= now else found[0]

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + 60
        for key in [k for k, (_, expires) in self._values.items() if expires <= now]:
            del self._values[key]
