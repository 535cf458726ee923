"""The shared limit storage's (Redis') health as this worker sees it.

Logs each change once (down with the failure's type, then recovered), not once per
request, so an outage does not flood the log.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("workjet.limits")


class StorageHealth:
    def __init__(self, fail_mode: str) -> None:
        self.fail_mode = fail_mode
        self._down: set[str] = set()
        self._lock = threading.Lock()

    def down(self, part: str, exc: BaseException) -> None:
        with self._lock:
            if part in self._down:
                return
            self._down.add(part)
        action = (
            "refusing requests with 503 (WORKJET_RATELIMIT_FAIL_MODE=closed)"
            if self.fail_mode == "closed"
            else "counting in this process until it returns (WORKJET_RATELIMIT_FAIL_MODE=open)"
        )
        log.error("limit storage unreachable for %s (%s); %s", part, type(exc).__name__, action)

    def up(self, part: str) -> None:
        if part not in self._down:  # the common case, without the lock
            return
        with self._lock:
            if part not in self._down:
                return
            self._down.discard(part)
        log.warning("limit storage for %s reachable again; shared counting resumed", part)

    @property
    def is_down(self) -> bool:
        return bool(self._down)
