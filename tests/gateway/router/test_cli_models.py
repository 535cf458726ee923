"""``workjet-gateway models``: the catalog per tenant; config errors that say what to fix."""

from __future__ import annotations

import pytest

from gateway.cli import main


def test_lists_a_tenants_models_and_aliases(catalog_path: str, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WORKJET_ROUTER_CATALOG", catalog_path)
    assert main(["models"]) == 0
    everything = capsys.readouterr().out
    assert "gpt-test" in everything and "alias resilient: gpt-test -> claude-test" in everything
    assert main(["models", "--tenant", "restricted"]) == 0
    restricted = capsys.readouterr().out
    assert "llama-test" in restricted and "gpt-test" not in restricted
    assert "alias mine: llama-test" in restricted


def test_bad_configuration_is_exit_2_with_advice(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WORKJET_ROUTER_CATALOG", "/nonexistent/catalog.json")
    assert main(["models"]) == 2
    assert "WORKJET_ROUTER_CATALOG" in capsys.readouterr().err
    monkeypatch.delenv("WORKJET_ROUTER_CATALOG")
    monkeypatch.setenv("WORKJET_ANTHROPIC_BASE_URL", "http://api.example.com")
    assert main(["models"]) == 2
    assert "use https://" in capsys.readouterr().err
