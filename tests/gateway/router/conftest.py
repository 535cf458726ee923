"""Router fixtures: provider emulators on loopback and a router (or settings) pointing at them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from gateway.config import Settings
from gateway.router import Router, build_router
from tests.emulators import Emulator

KEY = "test-provider-key"

# Two models per provider so that aliases can fall back across endpoints of one kind.
TEST_CATALOG: dict[str, Any] = {
    "models": [
        {"id": "gpt-test", "provider": "openai", "upstream": "gpt-up", "context_window": 1000,
         "input_price_per_mtok": 2.0, "output_price_per_mtok": 8.0,
         "capabilities": ["streaming", "tools"]},
        {"id": "claude-test", "provider": "anthropic", "upstream": "claude-up",
         "context_window": 1000, "input_price_per_mtok": 3.0, "output_price_per_mtok": 15.0,
         "capabilities": ["streaming", "tools"]},
        {"id": "gemini-test", "provider": "google", "upstream": "gemini-up",
         "context_window": 1000, "input_price_per_mtok": 1.0, "output_price_per_mtok": 4.0,
         "capabilities": ["streaming", "tools"]},
        {"id": "llama-test", "provider": "ollama", "upstream": "llama-up",
         "context_window": 1000, "input_price_per_mtok": 0.0, "output_price_per_mtok": 0.0,
         "capabilities": ["streaming", "tools"]},
    ],
    "aliases": {"resilient": ["gpt-test", "claude-test"]},
    "tenants": {"restricted": {"allow": ["llama-test"], "aliases": {"mine": ["llama-test"]}}},
}

MODELS = ("gpt-test", "claude-test", "gemini-test", "llama-test")


@dataclass
class Upstreams:
    openai: Emulator
    anthropic: Emulator
    google: Emulator
    ollama: Emulator

    def of(self, model: str) -> Emulator:
        return {"gpt-test": self.openai, "claude-test": self.anthropic,
                "gemini-test": self.google, "llama-test": self.ollama}[model]

    def settings(self, catalog_path: str, **changes: Any) -> Settings:
        return Settings(
            openai_base_url=self.openai.url + "/v1", openai_api_key=KEY,
            anthropic_base_url=self.anthropic.url, anthropic_api_key=KEY,
            google_base_url=self.google.url, google_api_key=KEY,
            ollama_base_url=self.ollama.url, router_catalog=catalog_path,
            router_retry_backoff=0.01, router_breaker_reset=0.5,
        ).replace(**changes)


@pytest.fixture(scope="session")
def _emulators() -> Iterator[Upstreams]:
    with Emulator(api_key=KEY) as a, Emulator(api_key=KEY) as b, \
            Emulator(api_key=KEY) as c, Emulator(api_key=KEY) as d:
        yield Upstreams(a, b, c, d)


@pytest.fixture
def upstreams(_emulators: Upstreams) -> Upstreams:
    """One emulator per provider, shared by the run, with fresh behaviour and records."""
    for emu in (_emulators.openai, _emulators.anthropic, _emulators.google, _emulators.ollama):
        emu.state.reset()
    return _emulators


@pytest.fixture
def catalog_path(tmp_path: Any) -> str:
    import json
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(TEST_CATALOG))
    return str(path)


@pytest.fixture
def router(upstreams: Upstreams, catalog_path: str) -> Iterator[Router]:
    built = build_router(upstreams.settings(catalog_path))
    yield built
    built.close()


@pytest.fixture
def settings(tmp_path: Any, upstreams: Upstreams, catalog_path: str) -> Settings:
    """The gateway's settings (see tests/gateway/conftest.py) pointed at the emulators."""
    return upstreams.settings(
        catalog_path,
        database_url=f"sqlite:///{tmp_path / 'gateway.db'}",
        audit_url=(tmp_path / "audit").as_uri(),
    )


def emulator_env(upstreams: Upstreams, catalog_path: str) -> dict[str, str]:
    """The same settings as WORKJET_* variables, for a gateway under gunicorn."""
    return {
        "WORKJET_OPENAI_BASE_URL": upstreams.openai.url + "/v1",
        "WORKJET_OPENAI_API_KEY": KEY,
        "WORKJET_ANTHROPIC_BASE_URL": upstreams.anthropic.url,
        "WORKJET_ANTHROPIC_API_KEY": KEY,
        "WORKJET_GOOGLE_BASE_URL": upstreams.google.url,
        "WORKJET_GOOGLE_API_KEY": KEY,
        "WORKJET_OLLAMA_BASE_URL": upstreams.ollama.url,
        "WORKJET_ROUTER_CATALOG": catalog_path,
        "WORKJET_ROUTER_RETRY_BACKOFF": "0.01",
        "WORKJET_ROUTER_KEEPALIVE": "0.2",
    }
