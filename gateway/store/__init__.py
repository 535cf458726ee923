"""Database access through SQLAlchemy Core: SQLite by default, PostgreSQL at scale.

``Store`` owns the engine and the operator-level operations (tenants, credential
lookup by hash). Everything that belongs to a tenant is reached through
``store.tenant(tenant_id)``, a ``TenantScope`` whose every query filters by that tenant,
so isolation does not depend on each caller remembering the filter.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import create_engine, event, func, insert, select, text, update
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import IntegrityError

from gateway.store import schema
from gateway.store.auth_store import AuthStore
from gateway.store.credential_epoch import UNCHANGED_OPTION, epoch_for, watch_credential_writes
from gateway.store.ids import DuplicateError, new_id, now
from gateway.store.migrations import MIGRATIONS
from gateway.store.tenant_scope import TenantScope

__all__ = ["DuplicateError", "Store", "TenantScope", "new_id", "now"]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA busy_timeout=5000")  # several gunicorn workers share the file
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Store(AuthStore):
    def __init__(self, url: str, pool_size: int = 5) -> None:
        """``pool_size``: connections kept open; the app passes its threads per worker (+2
        for the batched writers), so concurrent requests never open and close an overflow
        connection each. A few overflow connections cover anything else; PostgreSQL sees
        at most ``pool_size + 4`` per worker."""
        self.url = url
        sqlite = url.startswith("sqlite")
        limits: dict[str, int] = {"pool_size": pool_size}
        if not sqlite:  # in-memory SQLite's pool takes no overflow setting
            limits["max_overflow"] = 4
        self.engine: Engine = create_engine(url, pool_pre_ping=not sqlite, **limits)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        # Moves when credentials may have changed; None: authentication must not cache.
        self.credential_epoch = epoch_for(url)
        if self.credential_epoch is not None:
            watch_credential_writes(self.engine, self.credential_epoch)

    # --- schema ---------------------------------------------------------------------

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            if not self.engine.dialect.has_table(conn, "schema_version"):
                return 0
            version = conn.execute(select(func.max(schema.schema_version.c.version))).scalar()
            return int(version or 0)

    def migrate(self) -> list[int]:
        """Apply the migrations not yet applied; returns the versions applied now."""
        applied = []
        current = self.schema_version()
        for migration in MIGRATIONS:
            if migration.version <= current:
                continue
            with self.engine.begin() as conn:
                migration.apply(conn)
                conn.execute(insert(schema.schema_version).values(version=migration.version))
            applied.append(migration.version)
        return applied

    def check(self) -> None:
        """Raises when the database cannot be reached or is not migrated."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        latest = MIGRATIONS[-1].version
        if self.schema_version() < latest:
            raise RuntimeError("the database schema is not current: run `workjet-gateway init`")

    def dispose(self) -> None:
        self.engine.dispose()

    # --- operator-level --------------------------------------------------------------

    def tenant(self, tenant_id: str) -> TenantScope:
        return TenantScope(self.engine, tenant_id)

    def create_tenant(self, name: str) -> str:
        tenant_id = new_id("tn")
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(schema.tenants).values(id=tenant_id, name=name, created_at=now())
                )
        except IntegrityError as exc:
            raise DuplicateError(f"a tenant named {name!r} exists already") from exc
        return tenant_id

    def tenant_by_name(self, name: str) -> Row[Any] | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(schema.tenants).where(schema.tenants.c.name == name)
            ).first()

    def list_tenants(self) -> list[Row[Any]]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(schema.tenants).order_by(schema.tenants.c.name)))

    def api_key_by_hash(self, key_hash: str) -> Row[Any] | None:
        """The key row with its user and tenant, looked up by hash across tenants.

        Authentication must find the tenant from the credential itself; this is the only
        cross-tenant read, and it returns nothing without the full key's hash.
        """
        k, u, t = schema.api_keys, schema.users, schema.tenants
        query = (
            select(
                k.c.id, k.c.key_hash, k.c.tenant_id, k.c.user_id, k.c.expires_at,
                k.c.revoked_at, u.c.email, u.c.role, t.c.name.label("tenant_name"),
            )
            .join(u, u.c.id == k.c.user_id)
            .join(t, t.c.id == k.c.tenant_id)
            .where(k.c.key_hash == key_hash)
        )
        with self.engine.connect() as conn:
            return cast("Row[Any] | None", conn.execute(query).first())

    def touch_api_keys(self, last_used: dict[str, int]) -> None:
        """Record many keys' last use in one transaction (batched off the hot path)."""
        if not last_used:
            return
        with self.engine.begin() as conn:
            for key_id, when in last_used.items():
                conn.execute(
                    update(schema.api_keys)
                    .where(schema.api_keys.c.id == key_id)
                    .values(last_used_at=when)
                    .execution_options(**{UNCHANGED_OPTION: True})
                )
