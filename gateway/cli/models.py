"""``workjet-gateway models``: the catalog as this configuration sees it.

Loads the catalog and checks every provider URL exactly as the gateway does at start,
so a bad ``WORKJET_ROUTER_CATALOG`` or base URL shows up here with what to fix.
"""

from __future__ import annotations

import argparse
from typing import Any

from gateway.config import Settings
from gateway.router import build_router

Subparsers = Any


def register(subparsers: Subparsers) -> None:
    models = subparsers.add_parser("models", help="list the model catalog and aliases")
    models.add_argument("--tenant", metavar="NAME",
                        help="only what this tenant may use (its allow-list and aliases)")
    models.set_defaults(handler=cmd_models)


def cmd_models(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    router = build_router(settings)
    try:
        catalog = router.catalog
        tenant = args.tenant or ""
        policy = catalog.policy(tenant, tenant)
        print(f"{'model':<28} {'provider':<10} {'upstream':<28} {'context':>9} "
              f"{'in $/Mtok':>9} {'out $/Mtok':>10} key")
        for m in catalog.visible(tenant, tenant):
            endpoint = router.endpoints[m.provider]
            has_key = "yes" if endpoint.api_key or m.provider == "ollama" else "NO"
            print(f"{m.id:<28} {m.provider:<10} {m.upstream:<28} {m.context_window:>9} "
                  f"{m.input_price_per_mtok:>9.2f} {m.output_price_per_mtok:>10.2f} {has_key}")
        aliases = {**catalog.aliases, **policy.aliases}
        for name, targets in sorted(aliases.items()):
            open_ = [t for t in targets if policy.allow is None or t in policy.allow]
            if open_:
                print(f"alias {name}: {' -> '.join(open_)}")
        for provider, endpoint in sorted(router.endpoints.items()):
            print(f"endpoint {provider}: {endpoint.base_url}")
    finally:
        router.close()
    return 0
