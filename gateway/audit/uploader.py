"""The background thread of each worker that ships its spool to the audit store.

Every ``interval`` seconds (or sooner when kicked) it seals the segment being written
and ships every sealed one, oldest first. While the store is away it backs off
exponentially up to ``max_backoff`` and keeps the segments; nothing is lost, the spool
just grows (see the spool's size bound). Now and then it also adopts slots left by
workers that are gone (fewer workers after a restart) and ships their leftovers.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit import slots
from gateway.audit.shipper import Shipper
from gateway.audit.sinks import Sink, SinkError
from gateway.audit.spool import Spool, list_segments

log = logging.getLogger(__name__)

ADOPT_EVERY = 60.0  # seconds between looks for orphaned slots
FIRST_BACKOFF = 0.5


class Uploader:
    def __init__(
        self,
        spool: Spool,
        shipper: Shipper,
        *,
        root: Path,
        signer: Ed25519PrivateKey,
        interval: float,
        max_backoff: float,
        ensure_sink: bool = True,
    ) -> None:
        self.spool = spool
        self.shipper = shipper
        self.sink: Sink = shipper.sink
        self.root = root
        self.signer = signer
        self.interval = interval
        self.max_backoff = max_backoff
        self._need_sink_check = ensure_sink
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._round_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._next_adopt = 0.0
        self.failures = 0
        self.last_error = ""
        self.last_success = 0.0

    # --- thread ----------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="workjet-audit-uploader",
                                        daemon=True)
        self._thread.start()

    def kick(self) -> None:
        self._wake.set()

    def stop(self, timeout: float) -> bool:
        """Stop the thread, then make one last attempt to ship everything."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        return self.run_round(final=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                shipped = self.run_round()
            except Exception:  # a bug must not end the thread: records would pile up unseen
                log.exception("audit uploader round failed; retrying with backoff")
                self.failures += 1
                shipped = False
            if not shipped:
                delay = min(self.max_backoff, FIRST_BACKOFF * 2 ** min(self.failures, 16))
                self._stop.wait(delay * random.uniform(0.8, 1.2))  # noqa: S311 - jitter

    # --- one round -------------------------------------------------------------------

    def run_round(self, *, final: bool = False) -> bool:
        """Ship what is sealed now; ``True`` when the spool was emptied of sealed segments."""
        with self._round_lock:
            try:
                if self._need_sink_check:
                    self.sink.check()
                    self._need_sink_check = False
                self.spool.seal()
                for path in list(self.spool.sealed()):
                    self.shipper.ship(path, self.spool.remove)
                self.shipper.write_digests()
                if not final:
                    self._adopt_orphans()
            except (SinkError, OSError) as exc:
                self.failures += 1
                if self.failures == 1 or self.failures % 10 == 0 or final:
                    log.warning(
                        "audit upload to %s failed (%d in a row), records stay in the spool "
                        "%s: %s", self.sink.describe(), self.failures, self.spool.directory, exc,
                    )
                self.last_error = str(exc)
                return False
            if self.failures:
                log.warning("audit uploads to %s work again after %d failures",
                            self.sink.describe(), self.failures)
            self.failures = 0
            self.last_error = ""
            self.last_success = time.time()
            return True

    def _adopt_orphans(self) -> None:
        now = time.monotonic()
        if now < self._next_adopt:
            return
        self._next_adopt = now + ADOPT_EVERY
        for directory in slots.others(self.root, self.spool.directory.name):
            if not list_segments(directory):
                continue
            slot = slots.try_claim(directory)
            if slot is None:
                continue  # a live worker owns it
            try:
                leftovers = list_segments(directory)
                log.info("shipping %d audit segments left in %s", len(leftovers), directory)
                shipper = Shipper(self.sink, directory, host=self.shipper.host,
                                  worker=slot.name, signer=self.signer)
                for path in leftovers:
                    shipper.ship(path, Path.unlink)
                shipper.write_digests()
            finally:
                slot.release()
