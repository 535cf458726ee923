"""Request rate limiting with Flask-Limiter (the limits work adds per-key limits and budgets).

Storage is ``memory://`` for one process, ``redis://`` for several workers or hosts;
the storage's health is part of ``/readyz``.
"""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from gateway.services import Services


def init_app(app: Flask, services: Services) -> None:
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=services.settings.ratelimit_storage_uri,
        strategy="fixed-window",
        headers_enabled=True,
    )
    services.limiter = limiter
    services.readiness["ratelimit_storage"] = lambda: _check_storage(limiter)


def _check_storage(limiter: Limiter) -> None:
    if not limiter.storage.check():
        raise RuntimeError("the rate-limit storage does not answer")


def is_in_process(storage_uri: str) -> bool:
    return storage_uri.startswith("memory://")
