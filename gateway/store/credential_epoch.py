"""A counter that moves whenever a credential, user or tenant row may have changed.

Authentication caches resolved credentials in each worker (``gateway.auth.cache``) and
trusts an entry only while this counter still has the value it had when the entry was read
from the database. Every write through a ``Store`` to the tables a credential lookup reads
(API keys, sessions, users, tenants) moves the counter once the write's transaction is
over, in whichever process made it: a revocation by the admin API in one worker or by the
CLI is seen by the next request in every worker.

With SQLite (one host by nature) the counter is eight bytes of a small file next to the
database, mapped into every process that opens the store: reading it on each request is a
memory load, no system call. Other databases (PostgreSQL, possibly several hosts) get no
counter, and authentication reads the database on every request.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import mmap
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

log = logging.getLogger("workjet.auth")

CREDENTIAL_TABLES = frozenset({"api_keys", "sessions", "users", "tenants"})
# Writes to those tables that cannot change who a credential belongs to or whether it is
# valid (an API key's "last used" time) say so with this execution option.
UNCHANGED_OPTION = "credentials_unchanged"
_FLAG = "workjet_credentials_written"
_SIZE = 8


class CredentialEpoch(Protocol):
    def value(self) -> int | None:
        """The counter now; None when it cannot be read (then nothing may be cached)."""

    def prepare_bump(self) -> None:
        """Raise unless ``bump`` can work: called before a credential write is made."""

    def bump(self) -> None: ...


class LocalEpoch:
    """The counter for a database only this process can see (in-memory SQLite)."""

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    def value(self) -> int:
        return self._value

    def prepare_bump(self) -> None:
        pass

    def bump(self) -> None:
        with self._lock:
            self._value += 1


class FileEpoch:
    """The counter in a file shared by every process on this host (``MAP_SHARED``).

    The file is opened on first use, so a store whose database cannot be reached yet is
    still made (and ``/readyz`` says what is wrong). Until it can be opened, readers get
    None and authentication reads the database every time; a credential write that could
    not move the counter is refused before it is made.
    """

    def __init__(self, path: Path, owner_like: Path | None = None) -> None:
        self.path = path
        self._owner_like = owner_like
        self._map: mmap.mmap | None = None
        self._lock = threading.Lock()
        self._warned = False

    def _mapped(self) -> mmap.mmap:
        if self._map is not None:
            return self._map
        with self._lock, self._open() as fd:
            if self._map is None:
                if os.fstat(fd).st_size < _SIZE:
                    _adopt_owner(fd, self._owner_like)
                    os.ftruncate(fd, _SIZE)
                self._map = mmap.mmap(fd, _SIZE, mmap.MAP_SHARED,
                                      mmap.PROT_READ | mmap.PROT_WRITE)
            return self._map

    @contextlib.contextmanager
    def _open(self) -> Iterator[int]:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise RuntimeError(
                f"cannot open the credential change counter {self.path}: {exc.strerror}; it "
                "must be writable by the gateway and by whoever runs workjet-gateway commands"
            ) from exc
        try:
            yield fd
        finally:
            os.close(fd)

    def value(self) -> int | None:
        mapped = self._map
        if mapped is None:
            try:
                mapped = self._mapped()
            except (RuntimeError, OSError) as exc:
                if not self._warned:
                    self._warned = True
                    log.warning("%s; credentials are read from the database on every "
                                "request until it can be opened", exc)
                return None
        return int.from_bytes(mapped[:_SIZE], "little")

    def prepare_bump(self) -> None:
        self._mapped()

    def bump(self) -> None:
        # Writers are rare (admin actions); the file lock makes concurrent bumps from
        # several processes each count, so no reader can miss one.
        mapped = self._mapped()
        with self._open() as fd:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd closes
            count = int.from_bytes(mapped[:_SIZE], "little")
            mapped[:_SIZE] = ((count + 1) % 2**64).to_bytes(_SIZE, "little")


def _adopt_owner(fd: int, like: Path | None) -> None:
    """A counter created by root (running the CLI) belongs to the database's owner."""
    if like is None or os.geteuid() != 0:
        return
    try:
        stat = like.stat()
    except OSError:
        return
    os.fchown(fd, stat.st_uid, stat.st_gid)


def epoch_for(url: str) -> CredentialEpoch | None:
    """The counter for the database at ``url``; None where other hosts may write to it."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return LocalEpoch()
    db_path = Path(database)
    return FileEpoch(db_path.with_name(db_path.name + "-epoch"), owner_like=db_path)


def watch_credential_writes(engine: Engine, epoch: CredentialEpoch) -> None:
    """Move ``epoch`` after every transaction that wrote to the credential tables."""

    @event.listens_for(engine, "before_cursor_execute")
    def _note_write(conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any,
                    _executemany: bool) -> None:
        if _may_change_credentials(statement, context):
            epoch.prepare_bump()  # a change the caches could not learn of is not made
            conn.info[_FLAG] = True

    # The pool takes a connection back only after its transaction committed or rolled
    # back, so a reader that looks the credential up after the move sees the new rows.
    @event.listens_for(engine, "checkin")  # the pool's event, kept across dispose()
    def _moved(_dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop(_FLAG, False):
            epoch.bump()


def _may_change_credentials(statement: str, context: Any) -> bool:
    if context.execution_options.get(UNCHANGED_OPTION):
        return False
    compiled = context.compiled
    if compiled is not None:
        clause = compiled.statement
        if clause.is_select:
            return False
        if clause.is_dml:
            table = getattr(getattr(clause, "table", None), "name", None)
            return table is None or table in CREDENTIAL_TABLES
    # DDL (migrations) and SQL text we cannot see into: assume the worst.
    return not statement.lstrip()[:6].upper().startswith(("SELECT", "PRAGMA"))
