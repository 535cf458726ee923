"""Budget counters in Redis: one Lua script checks and charges all counters atomically.

All keys of one reservation are touched by a single script, so two gateways (or two
workers) reserving at once are serialised by Redis itself: no check-then-record race.
"""

from __future__ import annotations

from typing import Any

import redis

from gateway.budgets.counters import Charge, Refusal

# KEYS: counters. ARGV: amount, limit, ttl for each key in turn.
# Returns 0 when charged, or {index (1-based), used} of the first counter that would pass.
_RESERVE = """
for i, key in ipairs(KEYS) do
  local used = tonumber(redis.call('GET', key) or '0')
  if used + tonumber(ARGV[3 * i - 2]) > tonumber(ARGV[3 * i - 1]) then
    return {i, used}
  end
end
for i, key in ipairs(KEYS) do
  redis.call('INCRBY', key, ARGV[3 * i - 2])
  if redis.call('TTL', key) < 0 then
    redis.call('EXPIRE', key, ARGV[3 * i])
  end
end
return 0
"""

# KEYS: counters; ARGV: delta for each. A counter that expired is left alone (no
# immortal negative counters).
_ADJUST = """
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    redis.call('INCRBY', key, ARGV[i])
  end
end
return 0
"""

KEY_PREFIX = "wj:budget:"


class RedisCounters:
    def __init__(self, url: str, timeout: float = 1.0) -> None:
        if url.startswith("redis+unix://"):  # limits' spelling of redis-py's unix://
            url = "unix://" + url.removeprefix("redis+unix://")
        self.client: Any = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._reserve = self.client.register_script(_RESERVE)
        self._adjust = self.client.register_script(_ADJUST)

    def reserve(self, charges: list[Charge]) -> Refusal | None:
        keys = [KEY_PREFIX + c.key for c in charges]
        args: list[int] = []
        for c in charges:
            args += [c.amount, c.limit, c.ttl]
        result = self._reserve(keys=keys, args=args)
        if result == 0:
            return None
        return Refusal(int(result[0]) - 1, int(result[1]))

    def adjust(self, deltas: list[tuple[str, int]]) -> None:
        if deltas:
            self._adjust(keys=[KEY_PREFIX + k for k, _ in deltas], args=[d for _, d in deltas])

    def value(self, key: str) -> int:
        return int(self.client.get(KEY_PREFIX + key) or 0)

    def check(self) -> None:
        self.client.ping()

    def close(self) -> None:
        self.client.close()
