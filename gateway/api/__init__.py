"""HTTP API: one blueprint per resource (parse → call → serialise)."""

from __future__ import annotations

from flask import Flask

from gateway.api import (
    admin,
    anthropic_compat,
    audit,
    auth,
    chat,
    health,
    limits_admin,
    me,
    openai_compat,
    openapi,
    provider_keys,
    usage,
)


def register_blueprints(app: Flask) -> None:
    for module in (health, me, openapi, auth, admin, audit, chat, openai_compat,
                   anthropic_compat, limits_admin, usage, provider_keys):
        app.register_blueprint(module.bp)
