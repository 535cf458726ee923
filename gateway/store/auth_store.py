"""Cross-tenant authentication reads and writes, each keyed by a secret's hash.

A mixin of ``Store``. Authentication must find the tenant from the credential itself,
so these are the only reads not scoped to a tenant: each needs the full hash of a
256-bit token (session, device code, OAuth state) or the verified email/domain of a
person signing in, and returns nothing otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, cast

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Select

from gateway.store import schema
from gateway.store.ids import DuplicateError, new_id, now

PollState = Literal[
    "authorization_pending", "slow_down", "expired_token", "access_denied", "approved"
]


@dataclass(frozen=True)
class PollResult:
    state: PollState
    device_id: str = ""
    tenant_id: str = ""
    user_id: str = ""
    client_name: str = ""
    interval_ms: int = 0


class CredentialRow(NamedTuple):
    """An API key or session with its user and tenant, as authentication needs it."""

    id: str
    token_hash: str
    tenant_id: str
    user_id: str
    expires_at: int | None
    revoked_at: int | None
    email: str
    role: str
    tenant_name: str


def _credential_query(table: Any, hash_column: str) -> Select[Any]:
    u, t = schema.users, schema.tenants
    return (
        select(
            table.c.id, table.c[hash_column], table.c.tenant_id, table.c.user_id,
            table.c.expires_at, table.c.revoked_at, u.c.email, u.c.role, t.c.name,
        )
        .join(u, u.c.id == table.c.user_id)
        .join(t, t.c.id == table.c.tenant_id)
        .where(table.c[hash_column] == bindparam("token_hash"))
    )


class AuthStore:
    engine: Engine

    # --- authentication: the hot path ------------------------------------------------------

    def _compiled_lookup(self, kind: str) -> tuple[str, bool]:
        """The credential query compiled once for this database (SQL text, positional?)."""
        cache: dict[str, tuple[str, bool]] = self.__dict__.setdefault("_auth_sql", {})
        found = cache.get(kind)
        if found is None:
            table, column = (
                (schema.api_keys, "key_hash") if kind == "api_key"
                else (schema.sessions, "token_hash")
            )
            compiled = _credential_query(table, column).compile(dialect=self.engine.dialect)
            found = cache[kind] = (str(compiled), bool(compiled.positional))
        return found

    def credential_by_hash(self, kind: Literal["api_key", "session"], token_hash: str
                           ) -> CredentialRow | None:
        """One indexed read per request, on a pooled DBAPI connection with SQL compiled once.

        Building and compiling a SQLAlchemy statement per request costs several times the
        query itself; nothing here is cached across requests except the SQL text, so a
        revocation is seen by the very next request.
        """
        sql, positional = self._compiled_lookup(kind)
        params: Any = (token_hash,) if positional else {"token_hash": token_hash}
        connection = self.engine.raw_connection()
        # On PostgreSQL a single read needs no transaction: autocommit saves the BEGIN and
        # ROLLBACK round trips (psycopg switches it on the client side, while idle).
        driver = connection.driver_connection
        autocommit = self.engine.dialect.name == "postgresql" and hasattr(driver, "autocommit")
        try:
            if autocommit:
                driver.autocommit = True  # type: ignore[union-attr]
            cursor = connection.cursor()
            try:
                cursor.execute(sql, params)
                row = cursor.fetchone()
            finally:
                cursor.close()
        finally:
            try:
                if autocommit:
                    driver.autocommit = False  # type: ignore[union-attr]
            except Exception:  # a broken connection must not go back to the pool
                connection.invalidate()
                raise
            finally:
                connection.close()  # back to the pool
        return None if row is None else CredentialRow(*row)

    # --- sessions -----------------------------------------------------------------------------

    def session_by_hash(self, token_hash: str) -> Row[Any] | None:
        """The session row with its user and tenant, by the token's hash (authentication)."""
        s, u, t = schema.sessions, schema.users, schema.tenants
        query = (
            select(
                s.c.id, s.c.token_hash, s.c.tenant_id, s.c.user_id, s.c.expires_at,
                s.c.revoked_at, u.c.email, u.c.role, t.c.name.label("tenant_name"),
            )
            .join(u, u.c.id == s.c.user_id)
            .join(t, t.c.id == s.c.tenant_id)
            .where(s.c.token_hash == token_hash)
        )
        with self.engine.connect() as conn:
            return cast("Row[Any] | None", conn.execute(query).first())

    # --- OAuth login transactions ---------------------------------------------------------------

    def create_login_flow(
        self, *, state_hash: str, binding_hash: str, nonce: str, code_verifier: str,
        return_to: str, expires_at: int,
    ) -> None:
        f = schema.login_flows
        with self.engine.begin() as conn:
            conn.execute(delete(f).where(f.c.expires_at <= now()))  # keep the table small
            conn.execute(
                insert(f).values(
                    state_hash=state_hash, binding_hash=binding_hash, nonce=nonce,
                    code_verifier=code_verifier, return_to=return_to, expires_at=expires_at,
                )
            )

    def take_login_flow(self, state_hash: str) -> Row[Any] | None:
        """The live transaction for this state, deleted in the same step (single use)."""
        f = schema.login_flows
        with self.engine.begin() as conn:
            row = conn.execute(select(f).where(f.c.state_hash == state_hash)).first()
            if row is None:
                return None
            gone = conn.execute(delete(f).where(f.c.state_hash == state_hash)).rowcount
            if not gone or row.expires_at <= now():
                return None
            return row

    # --- admission ------------------------------------------------------------------------------

    def tenant_for_domain(self, domain: str) -> str | None:
        d = schema.tenant_domains
        with self.engine.connect() as conn:
            row = conn.execute(select(d.c.tenant_id).where(d.c.domain == domain.lower())).first()
        return None if row is None else str(row.tenant_id)

    def tenants_inviting(self, email: str) -> list[str]:
        i = schema.invites
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(i.c.tenant_id).where(i.c.email == email.lower()).order_by(i.c.created_at)
            )
            return [str(row.tenant_id) for row in rows]

    def memberships(self, email: str) -> list[Row[Any]]:
        """Users with this email in any tenant, oldest first (the first one signs in)."""
        u = schema.users
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(u.c.id, u.c.tenant_id)
                    .where(u.c.email == email.lower())
                    .order_by(u.c.created_at, u.c.id)
                )
            )

    # --- device codes -------------------------------------------------------------------------

    def create_device_code(
        self, *, device_code_hash: str, user_code_hash: str, client_name: str,
        expires_at: int, interval_ms: int,
    ) -> str:
        d = schema.device_codes
        device_id = new_id("dev")
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(d).where(d.c.expires_at <= now() - 3600))
                conn.execute(
                    insert(d).values(
                        id=device_id, device_code_hash=device_code_hash,
                        user_code_hash=user_code_hash, client_name=client_name[:100],
                        status="pending", created_at=now(), expires_at=expires_at,
                        interval_ms=interval_ms,
                    )
                )
        except IntegrityError as exc:
            raise DuplicateError("user code collision") from exc
        return device_id

    def pending_device(self, user_code_hash: str) -> Row[Any] | None:
        d = schema.device_codes
        with self.engine.connect() as conn:
            row = conn.execute(
                select(d.c.id, d.c.client_name, d.c.created_at, d.c.expires_at).where(
                    d.c.user_code_hash == user_code_hash, d.c.status == "pending",
                    d.c.expires_at > now(),
                )
            ).first()
        return cast("Row[Any] | None", row)

    def decide_device(self, device_id: str, *, approve: bool, tenant_id: str, user_id: str) -> bool:
        """Approve or deny a pending, unexpired code once; False if it is no longer pending."""
        d = schema.device_codes
        with self.engine.begin() as conn:
            result = conn.execute(
                update(d)
                .where(d.c.id == device_id, d.c.status == "pending", d.c.expires_at > now())
                .values(
                    status="approved" if approve else "denied",
                    tenant_id=tenant_id if approve else None,
                    user_id=user_id if approve else None,
                )
            )
        return bool(result.rowcount)

    def poll_device(self, device_code_hash: str, now_ms: int) -> PollResult:
        """One poll: enforces the interval, and hands an approved code out exactly once."""
        d = schema.device_codes
        with self.engine.begin() as conn:
            row = conn.execute(select(d).where(d.c.device_code_hash == device_code_hash)).first()
            if row is None or row.status == "consumed" or row.expires_at <= now_ms // 1000:
                return PollResult("expired_token")
            # Claim this poll slot atomically: several workers may see the same poll burst.
            claimed = conn.execute(
                update(d)
                .where(
                    d.c.id == row.id,
                    (d.c.last_poll_ms.is_(None)) | (d.c.last_poll_ms <= now_ms - row.interval_ms),
                )
                .values(last_poll_ms=now_ms)
            ).rowcount
            if not claimed:
                conn.execute(  # RFC 8628: every slow_down adds 5 seconds to the interval
                    update(d).where(d.c.id == row.id).values(
                        interval_ms=row.interval_ms + 5000, last_poll_ms=now_ms
                    )
                )
                return PollResult("slow_down", interval_ms=row.interval_ms + 5000)
            if row.status == "denied":
                return PollResult("access_denied")
            if row.status == "pending":
                return PollResult("authorization_pending")
            taken = conn.execute(
                update(d).where(d.c.id == row.id, d.c.status == "approved")
                .values(status="consumed")
            ).rowcount
            if not taken:
                return PollResult("expired_token")
            return PollResult(
                "approved", device_id=row.id, tenant_id=row.tenant_id, user_id=row.user_id,
                client_name=row.client_name,
            )
