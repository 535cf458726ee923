"""Versioned schema migrations, applied in order by ``workjet-gateway init``.

Each migration defines the tables it creates with its own ``MetaData`` so that later
changes to ``schema.py`` never alter what an old migration does. Version numbers are
assigned per area: 1 foundation, 2 auth, 3 limits and usage, 4 router, 5 DLP policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _v1_foundation(conn: Connection) -> None:
    md = MetaData()
    Table("schema_version", md, Column("version", Integer, nullable=False))
    Table(
        "tenants", md,
        Column("id", String(40), primary_key=True),
        Column("name", String(100), nullable=False, unique=True),
        Column("created_at", BigInteger, nullable=False),
    )
    Table(
        "users", md,
        Column("id", String(40), primary_key=True),
        Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False, index=True),
        Column("email", String(320), nullable=False),
        Column("role", String(16), nullable=False),
        Column("created_at", BigInteger, nullable=False),
        UniqueConstraint("tenant_id", "email", name="uq_users_tenant_email"),
    )
    Table(
        "api_keys", md,
        Column("id", String(40), primary_key=True),
        Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False, index=True),
        Column("user_id", String(40), ForeignKey("users.id"), nullable=False),
        Column("name", String(100), nullable=False),
        Column("display_prefix", String(24), nullable=False),
        Column("key_hash", String(64), nullable=False, unique=True),
        Column("created_by", String(40), nullable=False),
        Column("created_at", BigInteger, nullable=False),
        Column("last_used_at", BigInteger),
        Column("expires_at", BigInteger),
        Column("revoked_at", BigInteger),
    )
    md.create_all(conn)


def _v2_auth(conn: Connection) -> None:
    md = MetaData()
    Table("tenants", md, Column("id", String(40), primary_key=True))
    Table("users", md, Column("id", String(40), primary_key=True))
    Table(
        "sessions", md,
        Column("id", String(40), primary_key=True),
        Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False, index=True),
        Column("user_id", String(40), ForeignKey("users.id"), nullable=False, index=True),
        Column("token_hash", String(64), nullable=False, unique=True),
        Column("kind", String(16), nullable=False),  # browser | device
        Column("client_name", String(100), nullable=False),
        Column("created_at", BigInteger, nullable=False),
        Column("expires_at", BigInteger, nullable=False),
        Column("revoked_at", BigInteger),
    )
    Table(
        "device_codes", md,
        Column("id", String(40), primary_key=True),
        Column("device_code_hash", String(64), nullable=False, unique=True),
        Column("user_code_hash", String(64), nullable=False, unique=True),
        Column("client_name", String(100), nullable=False),
        Column("status", String(16), nullable=False),  # pending approved denied consumed
        Column("created_at", BigInteger, nullable=False),
        Column("expires_at", BigInteger, nullable=False, index=True),
        Column("interval_ms", Integer, nullable=False),
        Column("last_poll_ms", BigInteger),
        Column("tenant_id", String(40), ForeignKey("tenants.id")),
        Column("user_id", String(40), ForeignKey("users.id")),
    )
    Table(
        "login_flows", md,
        Column("state_hash", String(64), primary_key=True),
        Column("binding_hash", String(64), nullable=False),
        Column("nonce", String(64), nullable=False),
        Column("code_verifier", String(128), nullable=False),
        Column("return_to", String(300), nullable=False),
        Column("expires_at", BigInteger, nullable=False, index=True),
    )
    Table(
        "tenant_domains", md,
        Column("domain", String(253), primary_key=True),  # one tenant per domain
        Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False, index=True),
        Column("created_at", BigInteger, nullable=False),
    )
    Table(
        "invites", md,
        Column("id", String(40), primary_key=True),
        Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False, index=True),
        Column("email", String(320), nullable=False, index=True),
        Column("role", String(16), nullable=False),
        Column("created_by", String(40), nullable=False),
        Column("created_at", BigInteger, nullable=False),
        UniqueConstraint("tenant_id", "email", name="uq_invites_tenant_email"),
    )
    md.create_all(conn, tables=[t for t in md.sorted_tables if t.name not in ("tenants", "users")])


def _v3_limits(conn: Connection) -> None:
    md = MetaData()
    Table("tenants", md, Column("id", String(40), primary_key=True))
    Table(
        "tenant_limits", md,
        Column("tenant_id", String(40), ForeignKey("tenants.id"), primary_key=True),
        Column("requests_per_minute", Integer),
        Column("tokens_per_minute", BigInteger),
        Column("daily_budget_micros", BigInteger),
        Column("monthly_budget_micros", BigInteger),
        Column("updated_at", BigInteger, nullable=False),
    )
    Table(
        "usage_daily", md,
        Column("tenant_id", String(40), ForeignKey("tenants.id"), primary_key=True),
        Column("day", String(10), primary_key=True),
        Column("user_id", String(40), primary_key=True),
        Column("model", String(200), primary_key=True),
        Column("requests", BigInteger, nullable=False),
        Column("input_tokens", BigInteger, nullable=False),
        Column("output_tokens", BigInteger, nullable=False),
        Column("cost_micros", BigInteger, nullable=False),
    )
    md.create_all(conn, tables=[md.tables["tenant_limits"], md.tables["usage_daily"]])


def _v4_router(conn: Connection) -> None:
    md = MetaData()
    Table("tenants", md, Column("id", String(40), primary_key=True))
    Table(
        "tenant_provider_keys", md,
        Column("tenant_id", String(40), ForeignKey("tenants.id"), primary_key=True),
        Column("provider", String(16), primary_key=True),
        # AES-GCM (key from WORKJET_PROVIDER_KEY_SECRET), bound to tenant and provider
        Column("ciphertext", String(2048), nullable=False),
        Column("updated_by", String(40), nullable=False),
        Column("updated_at", BigInteger, nullable=False),
    )
    md.create_all(conn, tables=[md.tables["tenant_provider_keys"]])


def _v5_dlp(conn: Connection) -> None:
    md = MetaData()
    Table("tenants", md, Column("id", String(40), primary_key=True))
    Table(
        "dlp_policies", md,
        Column("tenant_id", String(40), ForeignKey("tenants.id"), primary_key=True),
        Column("document", String(65536), nullable=False),  # the policy as JSON
        Column("updated_at", BigInteger, nullable=False),
    )
    md.create_all(conn, tables=[md.tables["dlp_policies"]])


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "tenants, users, API keys", _v1_foundation),
    Migration(2, "sessions, device codes, login flows, tenant domains and invites", _v2_auth),
    Migration(3, "tenant limit overrides and daily usage aggregates", _v3_limits),
    Migration(4, "tenants' own provider keys, encrypted", _v4_router),
    Migration(5, "tenants' DLP policies", _v5_dlp),
)
