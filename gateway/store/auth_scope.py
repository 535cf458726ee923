"""One tenant's authentication rows: sessions, allowed domains, invites, key look-ups.

A mixin of ``TenantScope``: every statement here filters by ``self.tenant_id``, so a
session, key or invite id of another tenant matches nothing (404 for the caller).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import IntegrityError

from gateway.store import schema
from gateway.store.ids import DuplicateError, new_id, now


class AuthScope:
    engine: Engine
    tenant_id: str

    # --- API keys (the creation and listing live in TenantScope) -------------------------

    def api_key_by_id(self, key_id: str) -> Row[Any] | None:
        k = schema.api_keys
        query = select(
            k.c.id, k.c.user_id, k.c.name, k.c.display_prefix, k.c.created_by, k.c.created_at,
            k.c.last_used_at, k.c.expires_at, k.c.revoked_at,
        ).where(k.c.tenant_id == self.tenant_id, k.c.id == key_id)
        with self.engine.connect() as conn:
            return cast("Row[Any] | None", conn.execute(query).first())

    # --- sessions ---------------------------------------------------------------------------

    def create_session(
        self, *, user_id: str, token_hash: str, kind: str, client_name: str, expires_at: int
    ) -> str:
        session_id = new_id("ss")
        with self.engine.begin() as conn:
            conn.execute(
                insert(schema.sessions).values(
                    id=session_id, tenant_id=self.tenant_id, user_id=user_id,
                    token_hash=token_hash, kind=kind, client_name=client_name[:100],
                    created_at=now(), expires_at=expires_at,
                )
            )
        return session_id

    def list_sessions(self, user_id: str | None = None) -> list[Row[Any]]:
        """Live sessions (neither revoked nor expired), oldest first."""
        s = schema.sessions
        query = select(
            s.c.id, s.c.user_id, s.c.kind, s.c.client_name, s.c.created_at, s.c.expires_at
        ).where(s.c.tenant_id == self.tenant_id, s.c.revoked_at.is_(None), s.c.expires_at > now())
        if user_id is not None:
            query = query.where(s.c.user_id == user_id)
        with self.engine.connect() as conn:
            return list(conn.execute(query.order_by(s.c.created_at, s.c.id)))

    def session_by_id(self, session_id: str) -> Row[Any] | None:
        """A live session of this tenant, or None."""
        s = schema.sessions
        query = select(
            s.c.id, s.c.user_id, s.c.kind, s.c.client_name, s.c.created_at, s.c.expires_at
        ).where(
            s.c.tenant_id == self.tenant_id, s.c.id == session_id, s.c.revoked_at.is_(None),
            s.c.expires_at > now(),
        )
        with self.engine.connect() as conn:
            return cast("Row[Any] | None", conn.execute(query).first())

    def revoke_session(self, session_id: str) -> bool:
        s = schema.sessions
        with self.engine.begin() as conn:
            result = conn.execute(
                update(s)
                .where(s.c.tenant_id == self.tenant_id, s.c.id == session_id,
                       s.c.revoked_at.is_(None))
                .values(revoked_at=now())
            )
        return bool(result.rowcount)

    # --- users -----------------------------------------------------------------------------

    def set_role(self, user_id: str, role: str) -> bool:
        u = schema.users
        with self.engine.begin() as conn:
            result = conn.execute(
                update(u).where(u.c.tenant_id == self.tenant_id, u.c.id == user_id)
                .values(role=role)
            )
        return bool(result.rowcount)

    def remove_user(self, user_id: str) -> bool:
        """Remove a user of this tenant with every credential they hold, in one step."""
        u, k, s, d = schema.users, schema.api_keys, schema.sessions, schema.device_codes
        with self.engine.begin() as conn:
            mine = (u.c.tenant_id == self.tenant_id) & (u.c.id == user_id)
            if conn.execute(select(u.c.id).where(mine)).first() is None:
                return False
            conn.execute(delete(s).where(s.c.tenant_id == self.tenant_id, s.c.user_id == user_id))
            conn.execute(delete(k).where(k.c.tenant_id == self.tenant_id, k.c.user_id == user_id))
            conn.execute(delete(d).where(d.c.tenant_id == self.tenant_id, d.c.user_id == user_id))
            conn.execute(delete(u).where(mine))
        return True

    # --- admission: allowed domains and invites --------------------------------------------

    def add_domain(self, domain: str) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(schema.tenant_domains).values(
                        domain=domain.lower(), tenant_id=self.tenant_id, created_at=now()
                    )
                )
        except IntegrityError as exc:
            raise DuplicateError(f"the domain {domain} is already allowed for a tenant") from exc

    def list_domains(self) -> list[str]:
        d = schema.tenant_domains
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(d.c.domain).where(d.c.tenant_id == self.tenant_id).order_by(d.c.domain)
            )
            return [str(row.domain) for row in rows]

    def remove_domain(self, domain: str) -> bool:
        d = schema.tenant_domains
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(d).where(d.c.tenant_id == self.tenant_id, d.c.domain == domain.lower())
            )
        return bool(result.rowcount)

    def create_invite(self, email: str, role: str, created_by: str) -> str:
        invite_id = new_id("inv")
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(schema.invites).values(
                        id=invite_id, tenant_id=self.tenant_id, email=email.lower(), role=role,
                        created_by=created_by, created_at=now(),
                    )
                )
        except IntegrityError as exc:
            raise DuplicateError(f"{email} is already invited to this tenant") from exc
        return invite_id

    def list_invites(self) -> list[Row[Any]]:
        i = schema.invites
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(i).where(i.c.tenant_id == self.tenant_id).order_by(i.c.email)
                )
            )

    def invite_by_id(self, invite_id: str) -> Row[Any] | None:
        i = schema.invites
        with self.engine.connect() as conn:
            return conn.execute(
                select(i).where(i.c.tenant_id == self.tenant_id, i.c.id == invite_id)
            ).first()

    def delete_invite(self, invite_id: str) -> bool:
        i = schema.invites
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(i).where(i.c.tenant_id == self.tenant_id, i.c.id == invite_id)
            )
        return bool(result.rowcount)

    def accept_invite(self, email: str) -> str | None:
        """Turn this tenant's invite for ``email`` into a user; returns the user id."""
        i, u = schema.invites, schema.users
        email = email.lower()
        with self.engine.begin() as conn:
            invite = conn.execute(
                select(i).where(i.c.tenant_id == self.tenant_id, i.c.email == email)
            ).first()
            if invite is None:
                return None
            conn.execute(delete(i).where(i.c.tenant_id == self.tenant_id, i.c.id == invite.id))
            existing = conn.execute(
                select(u.c.id).where(u.c.tenant_id == self.tenant_id, u.c.email == email)
            ).first()
            if existing is not None:
                return str(existing.id)
            user_id = new_id("us")
            conn.execute(
                insert(u).values(
                    id=user_id, tenant_id=self.tenant_id, email=email, role=invite.role,
                    created_at=now(),
                )
            )
        return user_id
