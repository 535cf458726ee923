"""Fixtures of the client tests: a fake gateway of our own API, and an app built on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from client.app import AppConfig, WorkjetApp, create_app
from client.history import History
from client.keychain import MemoryKeychain, account_for
from client.settings import Settings
from tests.client.fake_gateway import API_KEY, FakeGateway


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    with FakeGateway() as gw:
        yield gw


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., WorkjetApp]:
    """Build the app as `workjet` does, with files under tmp_path and a memory keychain."""

    def make(gateway_url: str = "", *, signed_in: bool = True, **settings: object) -> WorkjetApp:
        keychain = MemoryKeychain()
        if signed_in and gateway_url:
            keychain.set(account_for(gateway_url), API_KEY)
        config = AppConfig(
            settings=Settings(gateway_url=gateway_url, **settings),  # type: ignore[arg-type]
            history=History(tmp_path / "data" / "conversations").open(),
            keychain=keychain,
            settings_file=tmp_path / "config" / "settings.json",
        )
        return create_app(config)

    return make
