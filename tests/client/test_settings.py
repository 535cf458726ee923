"""The settings file holds known, non-sensitive values only."""

from __future__ import annotations

import json
import stat

import pytest

from client.settings import (
    Settings,
    SettingsError,
    load_settings,
    looks_like_credential,
    save_settings,
    settings_from_dict,
)
from tests.client.fake_gateway import API_KEY, SESSION

SECRETS = [
    API_KEY,
    SESSION,
    "sk-ant-api03-abcdefghijklmnop",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "Bearer abc",
    "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MEFCQ0RFRkdI",  # 40 random-looking base64 chars
]


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("key", ["default_model", "theme", "ca_bundle", "gateway_url"])
def test_no_secret_can_be_saved_in_any_setting(tmp_path, key, secret) -> None:
    path = tmp_path / "settings.json"
    value = f"https://{secret}.example.org" if key == "gateway_url" else secret
    with pytest.raises(SettingsError):
        save_settings(path, Settings(**{key: value}))
    assert not path.exists()


def test_url_with_password_and_unknown_keys_are_refused(tmp_path) -> None:
    with pytest.raises(SettingsError, match="user name or password"):
        Settings().replace(gateway_url="https://me:pw@gw.example.org")
    with pytest.raises(SettingsError, match="unknown setting"):
        settings_from_dict({"api_key": "x"})
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"token": "whatever"}))
    with pytest.raises(SettingsError, match="token"):
        load_settings(path)


def test_plain_http_only_on_loopback() -> None:
    Settings().replace(gateway_url="http://127.0.0.1:8080")
    Settings().replace(gateway_url="http://localhost:8080")
    with pytest.raises(SettingsError, match=r"https://gw\.example\.org"):
        Settings().replace(gateway_url="http://gw.example.org")


def test_round_trip_and_private_mode(tmp_path) -> None:
    path = tmp_path / "cfg" / "settings.json"
    settings = Settings(
        gateway_url="https://gw.example.org", default_model="claude-3-5-sonnet-20241022",
        theme="nord", ca_bundle="/etc/ssl/certs/workjet-ca.pem",
        key_bindings={"send": "ctrl+s"},
    )
    save_settings(path, settings)
    assert load_settings(path) == settings
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with pytest.raises(SettingsError, match="unknown action"):
        settings.replace(key_bindings={"steal": "x"})


def test_ordinary_values_are_not_mistaken_for_credentials() -> None:
    for value in ("gpt-4o-mini-2024-07-18", "claude-3-5-sonnet-20241022", "textual-dark",
                  "/home/alice/.config/workjet/corporate-root-ca.pem", "gemini-1.5-pro"):
        assert not looks_like_credential(value), value


def test_connector_tables_cannot_carry_secrets(tmp_path) -> None:
    ok = {"name": "files", "command": "python", "args": ["-m", "server"], "secrets": ["TOKEN"]}
    assert Settings().replace(connectors=[ok]).connectors == [ok]
    for bad in ({**ok, "args": ["--token", API_KEY]},
                {**ok, "transport": "http", "command": "", "args": [],
                 "url": f"https://mcp.example.org/{SESSION}"}):
        with pytest.raises(SettingsError, match="credential"):
            save_settings(tmp_path / "s.json", Settings(connectors=[bad]))
    assert not (tmp_path / "s.json").exists()
