"""Gateway fixtures: ``app`` → ``client`` → ``runner`` on a fresh SQLite database, a
provisioned ``principal`` (tenant, owner, API key) and a real ``gateway_server`` factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from gateway import create_app
from gateway.config import Settings
from gateway.services import Services
from tests.gateway.server import GatewayServer, Provisioned, provision


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'gateway.db'}",
        audit_url=(tmp_path / "audit").as_uri(),
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app({"settings": settings, "TESTING": True})
    services: Services = app.extensions["workjet"]
    services.store.migrate()
    yield app
    services.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def principal(app: Flask) -> Provisioned:
    """Tenant ``acme`` with owner ``owner@acme.test`` and an API key."""
    services: Services = app.extensions["workjet"]
    return provision(services.store, "acme", "owner@acme.test", "owner")


@pytest.fixture
def auth_headers(principal: Provisioned) -> dict[str, str]:
    return {"Authorization": f"Bearer {principal.key}"}


@pytest.fixture
def gateway_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    """Factory: ``gateway_server(env={...}, workers=N)`` starts a real gunicorn gateway."""
    started: list[GatewayServer] = []

    def make(env: dict[str, str] | None = None, workers: int = 1, **kw: Any) -> GatewayServer:
        server = GatewayServer(tmp_path_factory.mktemp("gateway"), env, workers, **kw)
        server.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
