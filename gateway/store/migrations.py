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


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "tenants, users, API keys", _v1_foundation),
    Migration(3, "tenant limit overrides and daily usage aggregates", _v3_limits),
)
