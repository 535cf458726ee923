"""Queries on one tenant's rows; every statement here filters by ``tenant_id``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import IntegrityError

from gateway.store import schema
from gateway.store.auth_scope import AuthScope
from gateway.store.ids import DuplicateError, new_id, now
from gateway.store.limits_scope import LimitsScope

ROLES = ("owner", "admin", "member")


class TenantScope(AuthScope, LimitsScope):
    def __init__(self, engine: Engine, tenant_id: str) -> None:
        self.engine = engine
        self.tenant_id = tenant_id

    # --- users ------------------------------------------------------------------------

    def create_user(self, email: str, role: str) -> str:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        user_id = new_id("us")
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(schema.users).values(
                        id=user_id, tenant_id=self.tenant_id, email=email.lower(), role=role,
                        created_at=now(),
                    )
                )
        except IntegrityError as exc:
            raise DuplicateError(f"{email} is already a user of this tenant") from exc
        return user_id

    def user_by_email(self, email: str) -> Row[Any] | None:
        u = schema.users
        with self.engine.connect() as conn:
            return conn.execute(
                select(u).where(u.c.tenant_id == self.tenant_id, u.c.email == email.lower())
            ).first()

    def user_by_id(self, user_id: str) -> Row[Any] | None:
        u = schema.users
        with self.engine.connect() as conn:
            return conn.execute(
                select(u).where(u.c.tenant_id == self.tenant_id, u.c.id == user_id)
            ).first()

    def list_users(self) -> list[Row[Any]]:
        u = schema.users
        with self.engine.connect() as conn:
            return list(
                conn.execute(select(u).where(u.c.tenant_id == self.tenant_id).order_by(u.c.email))
            )

    # --- API keys ---------------------------------------------------------------------

    def create_api_key(
        self,
        *,
        user_id: str,
        name: str,
        display_prefix: str,
        key_hash: str,
        created_by: str,
        expires_at: int | None = None,
    ) -> str:
        if self.user_by_id(user_id) is None:
            raise LookupError("no such user in this tenant")
        key_id = new_id("key")
        with self.engine.begin() as conn:
            conn.execute(
                insert(schema.api_keys).values(
                    id=key_id, tenant_id=self.tenant_id, user_id=user_id, name=name,
                    display_prefix=display_prefix, key_hash=key_hash, created_by=created_by,
                    created_at=now(), expires_at=expires_at,
                )
            )
        return key_id

    def list_api_keys(self, user_id: str | None = None) -> list[Row[Any]]:
        k = schema.api_keys
        query = select(
            k.c.id, k.c.user_id, k.c.name, k.c.display_prefix, k.c.created_by, k.c.created_at,
            k.c.last_used_at, k.c.expires_at, k.c.revoked_at,
        ).where(k.c.tenant_id == self.tenant_id)
        if user_id is not None:
            query = query.where(k.c.user_id == user_id)
        with self.engine.connect() as conn:
            return list(conn.execute(query.order_by(k.c.created_at)))

    def revoke_api_key(self, key_id: str) -> bool:
        """True when a live key of this tenant was revoked; False when none matched."""
        k = schema.api_keys
        with self.engine.begin() as conn:
            result = conn.execute(
                update(k)
                .where(k.c.tenant_id == self.tenant_id, k.c.id == key_id, k.c.revoked_at.is_(None))
                .values(revoked_at=now())
            )
        return bool(result.rowcount)

