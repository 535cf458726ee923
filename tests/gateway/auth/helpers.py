"""Provisioning for the auth unit tests: principals with API keys or session tokens."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.auth.sessions import start_session
from gateway.store import Store
from tests.gateway.server import provision


@dataclass(frozen=True)
class Actor:
    tenant_id: str
    user_id: str
    key: str
    key_id: str
    session: str
    session_id: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    @property
    def session_bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.session}"}


def actor(store: Store, tenant: str, email: str, role: str) -> Actor:
    p = provision(store, tenant, email, role)
    token, session_id = start_session(
        store.tenant(p.tenant_id), p.user_id, kind="device", client_name="test", pepper=""
    )
    return Actor(p.tenant_id, p.user_id, p.key, p.key_id, token, session_id)
