"""The per-worker credential cache: requests stop reading the database for a known
credential, and every change to credentials, users or tenants is still seen by the very
next request — made in this process, in another ``Store``, or by the CLI in another process."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.auth.cache import CredentialCache
from gateway.auth.last_used import LastUsedRecorder
from gateway.auth.principal import Authenticator
from gateway.limits.policy import TenantOverrides
from gateway.store import Store, now
from gateway.store.auth_store import CredentialRow
from gateway.store.credential_epoch import FileEpoch, LocalEpoch, epoch_for
from tests.gateway.auth.helpers import actor


class CountingStore(Store):
    """A real store that counts the authentication reads reaching the database."""

    reads = 0

    def credential_by_hash(self, kind, token_hash):  # type: ignore[no-untyped-def]
        self.reads += 1
        return super().credential_by_hash(kind, token_hash)


def _store(tmp_path: Path) -> CountingStore:
    store = CountingStore(f"sqlite:///{tmp_path}/gw.db")
    store.migrate()
    return store


def _authenticator(store: Store) -> Authenticator:
    return Authenticator(store, "", LastUsedRecorder(store.touch_api_keys, interval=3600))


def test_a_known_key_is_read_from_the_database_once(tmp_path: Path) -> None:
    store = _store(tmp_path)
    auth = _authenticator(store)
    member = actor(store, "acme", "m@acme.test", "member")
    for _ in range(5):
        principal = auth.authenticate(member.key)
        assert principal is not None and principal.user_id == member.user_id
    assert store.reads == 1
    # Unknown credentials are never remembered: each one is a read, and a 401.
    assert auth.authenticate(member.key[:-1] + ("A" if member.key[-1] != "A" else "B")) is None
    assert auth.authenticate(member.key[:-1] + ("C" if member.key[-1] != "C" else "D")) is None
    assert store.reads == 3


def test_changes_by_another_store_are_seen_by_the_next_request(tmp_path: Path) -> None:
    store = _store(tmp_path)
    auth = _authenticator(store)
    member = actor(store, "acme", "m@acme.test", "member")
    admin = actor(store, "acme", "a@acme.test", "admin")
    assert auth.authenticate(member.key) is not None
    assert auth.authenticate(member.session) is not None

    other = Store(store.url)  # what a second worker or the CLI opens
    other.dispose()  # as after a fork: the new pool still moves the counter
    scope = other.tenant(member.tenant_id)
    assert scope.set_role(member.user_id, "admin")
    principal = auth.authenticate(member.key)
    assert principal is not None and principal.role == "admin"

    assert scope.revoke_session(member.session_id)
    assert auth.authenticate(member.session) is None
    assert auth.authenticate(member.key) is not None
    assert scope.revoke_api_key(member.key_id)
    assert auth.authenticate(member.key) is None

    assert auth.authenticate(admin.key) is not None
    assert scope.remove_user(admin.user_id)
    assert auth.authenticate(admin.key) is None
    assert auth.authenticate(admin.session) is None


def test_writes_that_change_no_credential_keep_the_cache(tmp_path: Path) -> None:
    store = _store(tmp_path)
    auth = _authenticator(store)
    member = actor(store, "acme", "m@acme.test", "member")
    assert auth.authenticate(member.key) is not None
    epoch = store.credential_epoch
    assert epoch is not None
    before = epoch.value()
    store.touch_api_keys({member.key_id: now()})  # the batched "last used" write
    store.tenant(member.tenant_id).set_limit_overrides(TenantOverrides(requests_per_minute=5))
    assert epoch.value() == before
    assert auth.authenticate(member.key) is not None
    assert store.reads == 1
    # A new user or key moves it too (a write to a credential table): one read more.
    actor(store, "acme", "n@acme.test", "member")
    assert epoch.value() > before


def test_the_cli_in_another_process_revokes_at_once(tmp_path: Path) -> None:
    store = _store(tmp_path)
    auth = _authenticator(store)
    member = actor(store, "acme", "m@acme.test", "member")
    assert auth.authenticate(member.key) is not None
    assert store.reads == 1
    revoke = subprocess.run(
        [str(Path(sys.executable).with_name("workjet-gateway")), "key", "revoke",
         "--tenant", "acme", member.key_id],
        env={**os.environ, "WORKJET_DATABASE_URL": store.url}, capture_output=True,
        text=True, timeout=60, check=False,
    )
    assert revoke.returncode == 0, revoke.stderr
    assert auth.authenticate(member.key) is None
    assert store.reads == 2


def test_the_counter_is_shared_through_a_file_next_to_the_database(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/gw.db")
    assert isinstance(store.credential_epoch, FileEpoch)
    assert store.credential_epoch.path == tmp_path / "gw.db-epoch"
    assert store.credential_epoch.value() == 0  # made on first use
    assert oct((tmp_path / "gw.db-epoch").stat().st_mode & 0o777) == "0o600"
    second = FileEpoch(tmp_path / "gw.db-epoch")
    start = second.value()
    store.credential_epoch.bump()
    store.credential_epoch.bump()
    assert second.value() == start + 2
    assert isinstance(epoch_for("sqlite://"), LocalEpoch)
    assert isinstance(epoch_for("sqlite:///:memory:"), LocalEpoch)
    # Another host may write to PostgreSQL: no counter, so no cache.
    assert epoch_for("postgresql+psycopg://u@127.0.0.1:5432/db") is None


def _row(key_id: str) -> CredentialRow:
    return CredentialRow(key_id, "hash", "tn", "us", None, None, "e@x.test", "member", "t")


def test_an_entry_expires_after_max_age_and_the_cache_is_bounded() -> None:
    clock = [100.0]
    epoch = LocalEpoch()
    cache = CredentialCache(epoch, max_entries=2, max_age=10.0, clock=lambda: clock[0])
    loads: list[str] = []

    def load(key_id: str) -> CredentialRow:
        loads.append(key_id)
        return _row(key_id)

    assert cache.lookup("h1", lambda: load("k1")).id == "k1"
    clock[0] += 9.9
    assert cache.lookup("h1", lambda: load("k1")).id == "k1"
    assert loads == ["k1"]
    clock[0] += 0.2  # older than max_age: read again (covers edits made around the Store)
    cache.lookup("h1", lambda: load("k1"))
    assert loads == ["k1", "k1"]
    epoch.bump()
    cache.lookup("h1", lambda: load("k1"))
    assert loads == ["k1", "k1", "k1"]
    cache.lookup("h2", lambda: load("k2"))
    cache.lookup("h3", lambda: load("k3"))  # full: starts over with h3 alone
    cache.lookup("h1", lambda: load("k1"))
    cache.lookup("h3", lambda: load("k3"))
    assert loads == ["k1", "k1", "k1", "k2", "k3", "k1"]
    assert cache.lookup("h4", lambda: None) is None


def test_an_edit_around_the_store_is_seen_within_max_age(tmp_path: Path) -> None:
    store = _store(tmp_path)
    member = actor(store, "acme", "m@acme.test", "member")
    clock = [0.0]
    auth = _authenticator(store)
    assert store.credential_epoch is not None
    auth._cache = CredentialCache(store.credential_epoch, clock=lambda: clock[0])
    assert auth.authenticate(member.key) is not None
    with sqlite3.connect(tmp_path / "gw.db") as raw:  # an operator's sqlite3 shell
        raw.execute("UPDATE api_keys SET revoked_at = 1 WHERE id = ?", (member.key_id,))
    clock[0] += 10.0
    assert auth.authenticate(member.key) is None


def test_without_its_counter_a_store_reads_every_time_and_refuses_credential_writes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    member = actor(_store(tmp_path), "acme", "m@acme.test", "member")
    (tmp_path / "gw.db-epoch").unlink()
    (tmp_path / "gw.db-epoch").mkdir()  # cannot be opened as the counter
    store = CountingStore(f"sqlite:///{tmp_path}/gw.db")
    auth = _authenticator(store)
    assert auth.authenticate(member.key) is not None
    assert auth.authenticate(member.key) is not None
    assert store.reads == 2
    assert "credential change counter" in caplog.text
    with pytest.raises(RuntimeError, match="credential change counter"):
        store.tenant(member.tenant_id).revoke_api_key(member.key_id)
    assert auth.authenticate(member.key) is not None  # the revocation was not made
    store.touch_api_keys({member.key_id: now()})  # writes that change no credential go on
