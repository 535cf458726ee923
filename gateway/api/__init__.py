"""HTTP API: one blueprint per resource (parse → call → serialise)."""

from __future__ import annotations

from flask import Flask

from gateway.api import admin, audit, auth, health, me, openapi


def register_blueprints(app: Flask) -> None:
    for module in (health, me, openapi, auth, admin, audit):
        app.register_blueprint(module.bp)
