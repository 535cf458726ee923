"""Wiring the router into the Flask app (called once from ``create_app``)."""

from __future__ import annotations

from flask import Flask

from gateway.router import build_router
from gateway.services import Services


def init_app(app: Flask, services: Services) -> None:
    router = build_router(services.settings)
    services.router = router
    services.closers.append(router.close)
