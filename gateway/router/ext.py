"""Wiring the router into the Flask app (called once from ``create_app``)."""

from __future__ import annotations

from flask import Flask

from gateway.router import build_router
from gateway.router.tenant_keys import TenantKeys
from gateway.services import Services


def init_app(app: Flask, services: Services) -> None:
    keys = TenantKeys(services.store.engine, services.settings.provider_key_secret)
    router = build_router(services.settings, keys.lookup)
    router.key_store = keys
    services.router = router
    services.closers.append(router.close)
