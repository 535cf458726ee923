"""``workjet-gateway tenant limits NAME [...]``: show or change a tenant's limits.

Without options it shows them. Each option sets an override of the tenant's own limit;
"default" returns it to the configured default and 0 means unlimited. Running gateways
apply a change within WORKJET_LIMITS_CACHE_SECONDS. The admin API's
PATCH /api/v1/limits does the same for a tenant's owner.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gateway.config import Settings
from gateway.limits.policy import Policies, changed_overrides

OPTIONS = (
    ("--requests-per-minute", "requests_per_minute", int, "N"),
    ("--tokens-per-minute", "tokens_per_minute", int, "N"),
    ("--daily-budget", "daily_budget", float, "AMOUNT"),
    ("--monthly-budget", "monthly_budget", float, "AMOUNT"),
)


def add_tenant_action(tenant_sub: Any) -> None:
    limits = tenant_sub.add_parser(
        "limits",
        help="show or change a tenant's request limits and budgets",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    limits.add_argument("name", metavar="NAME")
    for flag, dest, _kind, metavar in OPTIONS:
        limits.add_argument(flag, dest=dest, metavar=f"{metavar}|default")
    limits.set_defaults(handler=cmd_tenant_limits)


def _parse(flag: str, raw: str, kind: type) -> int | float | None:
    if raw == "default":
        return None
    try:
        value: int | float = kind(raw)
    except ValueError:
        noun = "a whole number" if kind is int else "an amount"
        raise ValueError(f"{flag} takes {noun} or 'default', not {raw!r}") from None
    return value


def cmd_tenant_limits(args: argparse.Namespace) -> int:
    from gateway.cli.admin import fail, migrated_store, tenant_id_for

    store = migrated_store()
    tenant_id = tenant_id_for(store, args.name)
    if tenant_id is None:
        return fail(f"no tenant named {args.name!r}")
    scope = store.tenant(tenant_id)
    changes: dict[str, object] = {}
    try:
        for flag, dest, kind, _metavar in OPTIONS:
            raw = getattr(args, dest)
            if raw is not None:
                changes[dest] = _parse(flag, raw, kind)
        if changes:
            scope.set_limit_overrides(changed_overrides(scope.limit_overrides(), changes))
    except ValueError as exc:
        return fail(str(exc))
    overrides = scope.limit_overrides()
    effective = Policies(store, Settings.from_env()).for_tenant(tenant_id).tenant
    print(f"tenant {args.name} ({tenant_id}); 0 means unlimited")
    for flag, dest, _kind, _metavar in OPTIONS:
        own = getattr(overrides, dest)
        source = "default" if own is None else "set for this tenant"
        print(f"  {flag[2:]:<20} {getattr(effective, dest):<14g} ({source})")
    sys.stdout.flush()
    return 0
