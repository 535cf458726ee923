"""A tenant's limit overrides and usage aggregates (mixed into ``TenantScope``).

Every statement filters by ``self.tenant_id``. Usage rows hold metadata only: day, user,
model, counts and cost, never content.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from gateway.store import schema
from gateway.store.ids import now
from gateway.store.limits_schema import MICROS, tenant_limits, usage_daily

if TYPE_CHECKING:
    from gateway.limits.policy import TenantOverrides

_MONEY = {"daily_budget": "daily_budget_micros", "monthly_budget": "monthly_budget_micros"}


@dataclass(frozen=True, slots=True)
class UsageDelta:
    """Usage to add to one (day, user, model) aggregate."""

    day: str
    user_id: str
    model: str
    requests: int
    input_tokens: int
    output_tokens: int
    cost_micros: int


class LimitsScope:
    engine: Engine
    tenant_id: str

    # --- limit overrides ------------------------------------------------------------

    def limit_overrides(self) -> TenantOverrides:
        from gateway.limits.policy import TenantOverrides

        t = tenant_limits
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.tenant_id == self.tenant_id)).first()
        if row is None:
            return TenantOverrides()
        return TenantOverrides(
            requests_per_minute=row.requests_per_minute,
            tokens_per_minute=row.tokens_per_minute,
            daily_budget=_money(row.daily_budget_micros),
            monthly_budget=_money(row.monthly_budget_micros),
        )

    def set_limit_overrides(self, overrides: TenantOverrides) -> None:
        """Store the tenant's overrides (``None`` fields fall back to the defaults)."""
        values: dict[str, Any] = {
            "requests_per_minute": overrides.requests_per_minute,
            "tokens_per_minute": overrides.tokens_per_minute,
            "updated_at": now(),
        }
        for name, column in _MONEY.items():
            amount = getattr(overrides, name)
            values[column] = None if amount is None else round(amount * MICROS)
        with self.engine.begin() as conn:
            _upsert(conn, tenant_limits, {"tenant_id": self.tenant_id, **values},
                    ["tenant_id"], values)

    # --- usage aggregates -----------------------------------------------------------

    def add_usage(self, deltas: Iterable[UsageDelta]) -> None:
        """Add many aggregates' deltas in one transaction (called in batches)."""
        u = usage_daily
        with self.engine.begin() as conn:
            for d in deltas:
                row = {
                    "tenant_id": self.tenant_id, "day": d.day, "user_id": d.user_id,
                    "model": d.model, "requests": d.requests, "input_tokens": d.input_tokens,
                    "output_tokens": d.output_tokens, "cost_micros": d.cost_micros,
                }
                increments = {
                    name: getattr(u.c, name) + row[name]
                    for name in ("requests", "input_tokens", "output_tokens", "cost_micros")
                }
                _upsert(conn, u, row, ["tenant_id", "day", "user_id", "model"], increments)

    def usage(self, first_day: str, last_day: str, limit: int = 10_000) -> list[Any]:
        """Aggregates from ``first_day`` to ``last_day`` (inclusive, YYYY-MM-DD) with emails."""
        u, users = usage_daily, schema.users
        query = (
            select(
                u.c.day, u.c.user_id, users.c.email, u.c.model, u.c.requests,
                u.c.input_tokens, u.c.output_tokens, u.c.cost_micros,
            )
            .join(users, (users.c.id == u.c.user_id) & (users.c.tenant_id == u.c.tenant_id),
                  isouter=True)
            .where(u.c.tenant_id == self.tenant_id, u.c.day >= first_day, u.c.day <= last_day)
            .order_by(u.c.day, users.c.email, u.c.model)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def usage_totals(self, first_day: str, last_day: str) -> Any:
        u = usage_daily
        query = select(
            func.coalesce(func.sum(u.c.requests), 0).label("requests"),
            func.coalesce(func.sum(u.c.input_tokens), 0).label("input_tokens"),
            func.coalesce(func.sum(u.c.output_tokens), 0).label("output_tokens"),
            func.coalesce(func.sum(u.c.cost_micros), 0).label("cost_micros"),
        ).where(u.c.tenant_id == self.tenant_id, u.c.day >= first_day, u.c.day <= last_day)
        with self.engine.connect() as conn:
            return conn.execute(query).one()


def _money(micros: int | None) -> float | None:
    return None if micros is None else micros / MICROS


def _upsert(
    conn: Connection, table: Any, row: dict[str, Any], keys: list[str], update: dict[str, Any]
) -> None:
    """INSERT ... ON CONFLICT DO UPDATE on SQLite and PostgreSQL alike."""
    dialect = conn.engine.dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).values(**row)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(**row)
    else:
        raise RuntimeError(f"usage aggregates need SQLite or PostgreSQL, not {dialect}")
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=update))
