"""Apps with chosen limits: ``limited_app(**settings)`` builds one on a fresh database;
the router's provider emulators (``upstreams``, ``catalog_path``) for the chat tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from gateway import create_app
from gateway.config import Settings
from gateway.services import Services
from tests.gateway.router.conftest import (  # noqa: F401 - the router's emulator fixtures
    _emulators,
    catalog_path,
    upstreams,
)


@pytest.fixture
def limited_app(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    made: list[Flask] = []

    def make(**changes: Any) -> Flask:
        settings = Settings(
            database_url=f"sqlite:///{tmp_path / f'gateway{len(made)}.db'}",
            audit_url=(tmp_path / "audit").as_uri(),
        ).replace(**changes)
        app = create_app({"settings": settings, "TESTING": True})
        app.extensions["workjet"].store.migrate()
        made.append(app)
        return app

    yield make
    for app in made:
        services: Services = app.extensions["workjet"]
        services.close()
