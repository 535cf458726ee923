"""Storages for the request limits: Redis answering the RateLimit-* headers without a second
round trip, and an in-process one that starts no thread per request.

Its sliding-window acquire runs limits' own algorithm in one Lua script that also returns
the window it saw, and remembers that snapshot for the calling thread; reading the
window for the same key afterwards (for the headers) uses the snapshot once instead of
asking Redis again; the in-process storage keeps the same snapshots. Snapshots are dropped
at the start of every request.
"""

from __future__ import annotations

import threading
import time
from math import floor
from typing import Any

from limits.storage import MemoryStorage, RedisStorage

Window = tuple[int, float, int, float]  # previous count, its TTL s, current count, its TTL s

# limits' acquire_sliding_window.lua, returning {acquired, previous count, previous TTL ms,
# current count, current TTL ms} as seen after the acquisition.
_ACQUIRE = """
local limit = tonumber(ARGV[1])
local expiry = tonumber(ARGV[2]) * 1000
local amount = tonumber(ARGV[3])
local current_ttl = tonumber(redis.call('pttl', KEYS[2]))
if current_ttl > 0 and current_ttl < expiry then
    redis.call('rename', KEYS[2], KEYS[1])
    redis.call('set', KEYS[2], 0, 'PX', current_ttl + expiry)
end
local previous_count = tonumber(redis.call('get', KEYS[1])) or 0
local previous_ttl = tonumber(redis.call('pttl', KEYS[1])) or 0
local current_count = tonumber(redis.call('get', KEYS[2])) or 0
current_ttl = tonumber(redis.call('pttl', KEYS[2])) or 0
if previous_ttl <= 0 then previous_ttl = 0 end
if current_ttl <= 0 then current_ttl = 0 end
local weighted = math.floor(previous_count * previous_ttl / expiry) + current_count
if amount > limit or (weighted + amount) > limit then
    return {0, previous_count, previous_ttl, current_count, current_ttl}
end
if redis.call('exists', KEYS[2]) == 1 then
    current_count = redis.call('incrby', KEYS[2], amount)
else
    redis.call('set', KEYS[2], amount, 'PX', expiry * 2)
    current_count = amount
    current_ttl = expiry * 2
end
return {1, previous_count, previous_ttl, current_count, current_ttl}
"""


class WindowSnapshots:
    """The window each acquisition saw, per thread, until read once or forgotten."""

    def __init__(self) -> None:
        self._local = threading.local()

    def forget(self) -> None:
        self._local.windows = {}

    def remember(self, key: str, window: Window) -> None:
        self._current()[key] = window

    def take(self, key: str) -> Window | None:
        return self._current().pop(key, None)

    def _current(self) -> dict[str, Window]:
        windows: dict[str, Window] | None = getattr(self._local, "windows", None)
        if windows is None:
            windows = self._local.windows = {}
        return windows


class SnapshotRedisStorage(RedisStorage):
    """``RedisStorage`` (same URI and options) remembering each acquisition's window."""

    # No STORAGE_SCHEME: limits' registry keeps mapping redis:// to its own class.

    def initialize_storage(self, uri: str) -> None:
        super().initialize_storage(uri)
        connection: Any = self.get_connection()
        self._acquire_with_window: Any = connection.register_script(_ACQUIRE)
        self._snapshots = WindowSnapshots()

    def forget_windows(self) -> None:
        self._snapshots.forget()

    def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        previous_key = self.prefixed_key(self._previous_window_key(key))
        current_key = self.prefixed_key(self._current_window_key(key))
        result = self._acquire_with_window([previous_key, current_key], [limit, expiry, amount])
        self._snapshots.remember(key, (
            int(result[1] or 0), max(0, float(result[2] or 0)) / 1000,
            int(result[3] or 0), max(0, float(result[4] or 0)) / 1000,
        ))
        return bool(result[0])

    def get_sliding_window(self, key: str, expiry: int) -> Window:
        seen = self._snapshots.take(key)
        if seen is not None:
            return seen
        window: Window = super().get_sliding_window(key, expiry)
        return window


class InlineExpiryMemoryStorage(MemoryStorage):
    """limits' ``MemoryStorage`` without a thread per request.

    The stock storage schedules a 10 ms ``threading.Timer`` on every write whenever the
    previous one has run, so a gateway under steady traffic starts a new thread for almost
    every request (about 0.1 ms of CPU each). Here expired entries are swept inline instead,
    at most once per ``SWEEP_INTERVAL`` seconds; reads already ignore expired counters.
    """

    SWEEP_INTERVAL = 1.0

    def __init__(self, uri: str | None = None, **options: Any) -> None:
        super().__init__(uri, **options)
        self.timer.cancel()  # the constructor's timer; sweeping is inline from here on
        self._next_sweep = 0.0
        self._sweep_lock = threading.Lock()
        self._snapshots = WindowSnapshots()

    def _MemoryStorage__schedule_expiry(self) -> None:  # overrides the name-mangled method
        now = time.monotonic()
        if now < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + self.SWEEP_INTERVAL
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
        finally:
            self._sweep_lock.release()

    # Like the Redis storage, each acquisition remembers the window it saw for the calling
    # thread, so the RateLimit-* headers need no second look at the counters.

    def forget_windows(self) -> None:
        self._snapshots.forget()

    def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        # limits' MemoryStorage algorithm, keeping the counts it read or wrote.
        if amount > limit:
            return False
        now = time.time()
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        previous_count, previous_ttl, current_count, current_ttl = (
            self._get_sliding_window_info(previous_key, current_key, expiry, now)
        )
        acquired = floor(previous_count * previous_ttl / expiry + current_count) + amount <= limit
        if acquired:
            current_count = self.incr(current_key, 2 * expiry, amount=amount)
            if floor(previous_count * previous_ttl / expiry + current_count) > limit:
                # another thread won the race: take the hit back and refuse this one
                self.decr(current_key, amount)
                current_count -= amount
                acquired = False
        self._snapshots.remember(key, (previous_count, previous_ttl, current_count, current_ttl))
        return acquired

    def get_sliding_window(self, key: str, expiry: int) -> Window:
        seen = self._snapshots.take(key)
        if seen is not None:
            return seen
        window: Window = super().get_sliding_window(key, expiry)
        return window
