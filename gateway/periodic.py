"""A daemon thread that calls a flush function every interval, started on first use.

Starting lazily means the thread starts in the gunicorn worker, after the fork. Used by the
parts that batch writes off the request path (API keys' last use, usage aggregates).
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class PeriodicFlush:
    def __init__(self, name: str, interval: float, flush: Callable[[], None]) -> None:
        self._name = name
        self._interval = interval
        self._flush = flush
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._wake.wait(self._interval):
            self._flush()

    def stop(self) -> None:
        """End the loop (a last flush is the caller's)."""
        self._wake.set()
