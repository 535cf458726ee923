"""Current definitions of the limits and usage tables (migration 3 keeps its own copy).

Money is stored in micro-units of the catalog's currency (integers), so sums are exact.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Table

from gateway.store.schema import metadata

MICROS = 1_000_000  # micro-units per unit of currency

tenant_limits = Table(
    "tenant_limits",
    metadata,
    Column("tenant_id", String(40), ForeignKey("tenants.id"), primary_key=True),
    Column("requests_per_minute", Integer),  # NULL: the configured default
    Column("tokens_per_minute", BigInteger),
    Column("daily_budget_micros", BigInteger),
    Column("monthly_budget_micros", BigInteger),
    Column("updated_at", BigInteger, nullable=False),
)

usage_daily = Table(
    "usage_daily",
    metadata,
    Column("tenant_id", String(40), ForeignKey("tenants.id"), primary_key=True),
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD, UTC
    Column("user_id", String(40), primary_key=True),
    Column("model", String(200), primary_key=True),
    Column("requests", BigInteger, nullable=False),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("cost_micros", BigInteger, nullable=False),
)
