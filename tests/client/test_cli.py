"""The `workjet` command: login/logout with the keychain, refusal without one, dispatch."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.client.fake_gateway import API_KEY


def _env(tmp_path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND")}
    env.update(HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"))
    env.update(extra)
    return env


def workjet(args, env, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "client", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=60, cwd=os.getcwd())


def test_login_without_a_secure_keychain_is_refused_and_writes_nothing(gateway, tmp_path):
    result = workjet(["login", gateway.url, "--api-key-stdin"], _env(tmp_path), API_KEY)
    assert result.returncode == 2
    assert "No secure keychain" in result.stderr and "gnome-keyring" in result.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == []


def test_login_refuses_the_null_backend(gateway, tmp_path):
    env = _env(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    result = workjet(["login", gateway.url, "--api-key-stdin"], env, API_KEY)
    assert result.returncode == 2 and "null.Keyring" in result.stderr


def test_mcp_is_dispatched_to_the_connector_cli(tmp_path):
    result = workjet(["mcp", "--help"], _env(tmp_path))
    assert result.returncode == 0
    assert "usage: workjet mcp" in result.stdout


@pytest.mark.integration
def test_login_and_logout_with_the_secret_service(gateway, tmp_path, secret_service):
    env = {**_env(tmp_path), **{k: v for k, v in secret_service.items()
                                if k in ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR")}}
    result = workjet(["login", gateway.url, "--api-key-stdin"], env, API_KEY + "\n")
    assert result.returncode == 0, result.stderr
    assert "as admin@localhost (tenant local)" in result.stdout
    settings = tmp_path / "config" / "workjet" / "settings.json"
    assert json.loads(settings.read_text())["gateway_url"] == gateway.url
    for path in tmp_path.rglob("*"):
        if path.is_file() and "keyrings" not in path.parts:
            assert API_KEY not in path.read_text(errors="replace"), path
    lookup = subprocess.run(["secret-tool", "lookup", "service", "workjet", "username",
                             f"gateway:{gateway.url}"], env=env, capture_output=True, text=True)
    assert lookup.stdout == API_KEY
    result = workjet(["logout"], env)
    assert result.returncode == 0 and "Signed out" in result.stdout
    lookup = subprocess.run(["secret-tool", "lookup", "service", "workjet", "username",
                             f"gateway:{gateway.url}"], env=env, capture_output=True, text=True)
    assert lookup.stdout == ""
