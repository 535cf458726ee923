"""Server-rendered pages (no JavaScript): sign-in, signed-out, not-allowed, device approval."""

from __future__ import annotations

from flask import Flask

from gateway.auth.oidc import OidcClient
from gateway.services import Services
from gateway.web import device, login
from gateway.web.blueprint import bp


def init_app(app: Flask, services: Services) -> None:
    app.extensions["workjet.oidc"] = OidcClient(services.settings)
    app.register_blueprint(bp)


__all__ = ["bp", "device", "init_app", "login"]
