"""Resolved credentials kept in each worker while nothing about credentials has changed.

Looking a credential up cost each request a database read, and SQLite releasing the GIL
around it costs more than the read itself once requests run concurrently (every release
lets another thread in, and taking the GIL back is a context switch). An entry here is
used only while the store's credential epoch (``gateway.store.credential_epoch``) still
has the value it had before the entry was read, so a revocation, a role change or a removed
user made through any ``Store``, in any process on the host, is seen by the next request.
``MAX_AGE`` bounds what a change made around the store (a ``sqlite3`` shell) can miss.
Expiry is not cached: the caller checks ``expires_at`` against the clock on every use.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway.store.auth_store import CredentialRow
from gateway.store.credential_epoch import CredentialEpoch

MAX_ENTRIES = 10_000  # per worker; unknown credentials are never cached
MAX_AGE = 10.0  # seconds


class CredentialCache:
    def __init__(self, epoch: CredentialEpoch, *, max_entries: int = MAX_ENTRIES,
                 max_age: float = MAX_AGE, clock: Callable[[], float] = time.monotonic) -> None:
        self._epoch = epoch
        self._max_entries = max_entries
        self._max_age = max_age
        self._clock = clock
        self._entries: dict[str, tuple[CredentialRow, int, float]] = {}

    def lookup(self, token_hash: str, load: Callable[[], CredentialRow | None]
               ) -> CredentialRow | None:
        """The row for ``token_hash``: from memory if still current, else from ``load``."""
        epoch = self._epoch.value()  # before loading: a change after it moves the epoch
        if epoch is None:
            return load()
        entry = self._entries.get(token_hash)
        if entry is not None and entry[1] == epoch and self._clock() - entry[2] < self._max_age:
            return entry[0]
        row = load()
        if row is None:
            self._entries.pop(token_hash, None)
            return None
        if len(self._entries) >= self._max_entries:
            self._entries.clear()  # simple and atomic under the GIL; refilled by use
        self._entries[token_hash] = (row, epoch, self._clock())
        return row
