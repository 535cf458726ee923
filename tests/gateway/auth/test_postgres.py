"""The auth store and the authenticator on a real PostgreSQL: migrations, credential
look-ups (the hot path runs in autocommit), revocation, tenant scoping, device codes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from gateway.auth.device import issue_device_code
from gateway.auth.keys import hash_secret
from gateway.auth.last_used import LastUsedRecorder
from gateway.auth.principal import Authenticator
from gateway.auth.sessions import start_session
from gateway.store import Store, now
from tests.gateway.auth.postgres import PostgresServer
from tests.gateway.server import provision
from tests.services.process import ServiceError

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pg_store() -> Iterator[Store]:
    try:
        server = PostgresServer()
        server.start()
    except ServiceError as exc:
        pytest.fail(str(exc), pytrace=False)
    store = Store(server.url)
    store.migrate()
    yield store
    store.dispose()
    server.remove()


def test_credentials_authenticate_and_revocation_is_immediate(pg_store: Store) -> None:
    recorder = LastUsedRecorder(pg_store.touch_api_keys)
    auth = Authenticator(pg_store, "", recorder)
    a = provision(pg_store, "pg-a", "a@pg.test", "owner")
    token, session_id = start_session(
        pg_store.tenant(a.tenant_id), a.user_id, kind="device", client_name="t", pepper=""
    )
    for _ in range(3):  # the pooled connection is reused in a clean state
        key_principal = auth.authenticate(a.key)
        session_principal = auth.authenticate(token)
        assert key_principal is not None and key_principal.role == "owner"
        assert session_principal is not None and session_principal.credential_id == session_id
    assert pg_store.tenant(a.tenant_id).revoke_api_key(a.key_id)
    assert pg_store.tenant(a.tenant_id).revoke_session(session_id)
    assert auth.authenticate(a.key) is None
    assert auth.authenticate(token) is None
    # The connection went back to the pool usable for ordinary transactions.
    assert pg_store.tenant(a.tenant_id).create_invite("x@pg.test", "member", "t")
    recorder.close()


def test_tenant_scope_hides_other_tenants_rows(pg_store: Store) -> None:
    a = provision(pg_store, "pg-b", "a@pgb.test", "owner")
    b = provision(pg_store, "pg-c", "b@pgc.test", "owner")
    _, session_id = start_session(
        pg_store.tenant(a.tenant_id), a.user_id, kind="browser", client_name="t", pepper=""
    )
    other = pg_store.tenant(b.tenant_id)
    assert other.session_by_id(session_id) is None
    assert other.api_key_by_id(a.key_id) is None
    assert not other.revoke_session(session_id)
    assert not other.remove_user(a.user_id)
    assert pg_store.tenant(a.tenant_id).session_by_id(session_id) is not None


def test_device_codes_and_login_flows(pg_store: Store) -> None:
    a = provision(pg_store, "pg-d", "a@pgd.test", "owner")
    code = issue_device_code(pg_store, "term", ttl=60, interval=1, pepper="")
    poll = pg_store.poll_device(hash_secret(code.device_code), int(time.time() * 1000))
    assert poll.state == "authorization_pending"
    fast = pg_store.poll_device(hash_secret(code.device_code), int(time.time() * 1000))
    assert fast.state == "slow_down"
    pending = pg_store.pending_device(hash_secret(code.user_code))
    assert pending is not None
    assert pg_store.decide_device(pending.id, approve=True, tenant_id=a.tenant_id,
                                  user_id=a.user_id)
    later = int(time.time() * 1000) + 10_000
    assert pg_store.poll_device(hash_secret(code.device_code), later).state == "approved"
    assert pg_store.poll_device(hash_secret(code.device_code), later + 10_000).state == (
        "expired_token"
    )
    pg_store.create_login_flow(state_hash="s" * 64, binding_hash="b" * 64, nonce="n",
                               code_verifier="v", return_to="/", expires_at=now() + 60)
    assert pg_store.take_login_flow("s" * 64) is not None
    assert pg_store.take_login_flow("s" * 64) is None
