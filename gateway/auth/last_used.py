"""Batching of API keys' "last used" times, so authentication writes nothing per request.

Each worker remembers the latest use per key in memory and writes them all in one
transaction at most once per interval, from a background thread started on first use
(so it starts in the gunicorn worker, after the fork).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from gateway.periodic import PeriodicFlush

log = logging.getLogger("workjet.auth")

DEFAULT_FLUSH_INTERVAL = 60.0


class LastUsedRecorder:
    def __init__(
        self, write: Callable[[dict[str, int]], None], interval: float = DEFAULT_FLUSH_INTERVAL
    ) -> None:
        self._write = write
        self._pending: dict[str, int] = {}
        self._lock = threading.Lock()
        self._loop = PeriodicFlush("workjet-last-used", interval, self.flush)

    def record(self, key_id: str, when: int) -> None:
        self._pending[key_id] = when  # a dict store is atomic under the GIL
        self._loop.ensure_started()

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            self._write(pending)
        except Exception:  # a failed write must not end the thread; retry next interval
            log.exception("could not record API keys' last use; will retry")
            with self._lock:
                for key_id, when in pending.items():
                    self._pending.setdefault(key_id, when)

    def close(self) -> None:
        self._loop.stop()
        self.flush()
