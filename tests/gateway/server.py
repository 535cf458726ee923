"""The real gateway under gunicorn, as a test service, plus provisioning of principals.

``GatewayServer`` runs ``workjet-gateway serve`` (so the project's gunicorn.conf.py,
TLS hook and worker settings are what is tested) with its own database and audit folder.
``provision`` creates a tenant, a user and an API key straight through the store.
"""

from __future__ import annotations

import os
import shutil
import ssl
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from gateway.auth.keys import display_prefix, generate_api_key, hash_secret
from gateway.store import Store
from tests.services.process import ServiceError, ServiceProcess


def installed_command(name: str) -> str:
    """A console script of this project: beside the running interpreter, else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise ServiceError(f"{name} missing: pip install -e . (tox does it)")
    return found


@dataclass(frozen=True)
class Provisioned:
    tenant_id: str
    tenant_name: str
    user_id: str
    email: str
    key: str
    key_id: str


def provision(
    store: Store, tenant: str, email: str, role: str = "owner", pepper: str = ""
) -> Provisioned:
    """A tenant (made if missing), a user and a fresh API key for it."""
    row = store.tenant_by_name(tenant)
    tenant_id = store.create_tenant(tenant) if row is None else row.id
    scope = store.tenant(tenant_id)
    user = scope.user_by_email(email)
    user_id = scope.create_user(email, role) if user is None else user.id
    key = generate_api_key()
    key_id = scope.create_api_key(
        user_id=user_id, name="test", display_prefix=display_prefix(key),
        key_hash=hash_secret(key, pepper), created_by="test",
    )
    return Provisioned(tenant_id, tenant, user_id, email, key, key_id)


class GatewayServer(ServiceProcess):
    """``workjet-gateway serve`` on a free port, with settings from ``env`` (WORKJET_*)."""

    name = "gateway"

    def __init__(
        self,
        workdir: Path,
        env: dict[str, str] | None = None,
        workers: int = 1,
        cafile: str | None = None,
    ) -> None:
        super().__init__(workdir)
        self.workers = workers
        self.cafile = cafile
        self.database_url = f"sqlite:///{self.workdir / 'gateway.db'}"
        self.env = {
            "WORKJET_DATABASE_URL": self.database_url,
            "WORKJET_AUDIT_URL": (self.workdir / "audit").as_uri(),
            "WORKJET_BIND": f"127.0.0.1:{self.port}",
            **(env or {}),
        }
        self.tls = bool(self.env.get("WORKJET_TLS_CERT"))
        self.store = Store(self.env["WORKJET_DATABASE_URL"])
        self.store.migrate()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [installed_command("workjet-gateway"), "serve", "--workers", str(self.workers)]

    def environment(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("WORKJET_")}
        return {**base, **self.env}

    def is_ready(self) -> bool:
        context = None
        if self.tls:
            context = ssl.create_default_context(cafile=self.cafile)
        try:
            with urllib.request.urlopen(  # noqa: S310 - our own loopback URL
                f"{self.url}/healthz", timeout=0.5, context=context
            ) as response:
                return bool(response.status == 200)
        except OSError:
            return False
