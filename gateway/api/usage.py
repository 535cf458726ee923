"""``GET /api/v1/usage`` (tenant admin): tokens and cost by day, user and model.

Read from the usage aggregates in the database (metadata only). Workers write their
aggregates in batches every ``WORKJET_USAGE_FLUSH_SECONDS``, so the newest requests may
take that long to appear. ``from`` and ``to`` are UTC days (YYYY-MM-DD, inclusive); the
default is the last 30 days, the longest range 366 days.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, jsonify, request

from gateway.auth.principal import current_principal, require_role
from gateway.errors import BadRequest
from gateway.services import services
from gateway.store.limits_schema import MICROS

bp = Blueprint("usage", __name__, url_prefix="/api/v1")

DEFAULT_DAYS = 30
MAX_DAYS = 366
MAX_ROWS = 10_000


def _day(name: str, default: dt.date) -> dt.date:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        if len(raw) != 10:
            raise ValueError
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a day as YYYY-MM-DD.") from None


def _numbers(row: Any) -> dict[str, Any]:
    return {
        "requests": int(row.requests),
        "input_tokens": int(row.input_tokens),
        "output_tokens": int(row.output_tokens),
        "cost": int(row.cost_micros) / MICROS,
    }


@bp.get("/usage")
@require_role("admin")
def usage() -> Response:
    p = current_principal()
    today = dt.datetime.now(dt.UTC).date()
    last = _day("to", today)
    first = _day("from", last - dt.timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise BadRequest("from must not be after to.")
    if (last - first).days + 1 > MAX_DAYS:
        raise BadRequest(f"Ask for at most {MAX_DAYS} days at a time.")
    scope = services().store.tenant(p.tenant_id)
    rows = scope.usage(first.isoformat(), last.isoformat(), limit=MAX_ROWS + 1)
    return jsonify(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "rows": [
                {"day": r.day, "user": {"id": r.user_id, "email": r.email}, "model": r.model,
                 **_numbers(r)}
                for r in rows[:MAX_ROWS]
            ],
            "truncated": len(rows) > MAX_ROWS,
            "totals": _numbers(scope.usage_totals(first.isoformat(), last.isoformat())),
        }
    )
