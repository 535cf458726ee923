"""The application factory: the only place where the gateway's parts are wired together."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any

from flask import Flask

from gateway import errors, limits, requestlog, web
from gateway.api import register_blueprints
from gateway.audit import ext as audit_ext
from gateway.auth.last_used import LastUsedRecorder
from gateway.auth.principal import Authenticator
from gateway.config import Settings
from gateway.dlp import service as dlp_service
from gateway.logbatch import BatchedLineHandler
from gateway.requestlog import ACCESS_LOGGER
from gateway.router import ext as router_ext
from gateway.services import EXTENSION_KEY, Services
from gateway.store import Store


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the gateway: defaults, then ``WORKJET_*`` settings, then ``test_config``.

    ``test_config`` may hold ``settings`` (a ``Settings``) and any Flask config keys.
    """
    app = Flask("gateway")
    overrides = dict(test_config or {})
    settings: Settings = overrides.pop("settings", None) or Settings.from_env()
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        JSON_SORT_KEYS=False,
    )
    app.config.update(overrides)
    _configure_logging(settings.log_level)

    # every request thread may hold one connection; the batched writers one more each
    store = Store(settings.database_url, pool_size=settings.threads + 2)
    last_used = LastUsedRecorder(store.touch_api_keys)
    services = Services(
        settings=settings,
        store=store,
        authenticator=Authenticator(store, settings.api_key_pepper, last_used),
    )
    services.readiness["database"] = store.check
    services.closers.extend([store.dispose, last_used.close])
    app.extensions[EXTENSION_KEY] = services

    requestlog.init_app(app)
    errors.init_app(app)
    limits.init_app(app, services)
    audit_ext.init_app(app, services)
    router_ext.init_app(app, services)
    dlp_service.init_app(services)  # tenants' DLP policies -> services.dlp.engine_for()
    register_blueprints(app)
    web.init_app(app, services)  # sign-in, device approval and their pages
    return app


def _configure_logging(level: str) -> None:
    """Our loggers write to stdout unless someone (gunicorn, pytest) already handles them."""
    logger = logging.getLogger("workjet")
    logger.setLevel(level.upper())
    if not logger.handlers and not logging.getLogger().handlers:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(formatter)
        logger.addHandler(handler)
        # One line per request: written in batches, off the request's path.
        access = logging.getLogger(ACCESS_LOGGER)
        batched = BatchedLineHandler(sys.stdout)
        batched.setFormatter(formatter)
        access.addHandler(batched)
        access.propagate = False
