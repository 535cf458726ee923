"""The keychain accepts only a secure backend and never falls back to a file."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import keyring
import keyring.backends.SecretService
import pytest

from client.keychain import (
    SERVICE,
    KeychainError,
    MemoryKeychain,
    SystemKeychain,
    account_for,
    open_keychain,
)

PROBE = textwrap.dedent(
    """
    import sys
    from client.keychain import SystemKeychain, KeychainError
    try:
        SystemKeychain().set("gateway:http://127.0.0.1:1", "wj_live_secret")
    except KeychainError as exc:
        print("REFUSED", exc)
        sys.exit(3)
    print("STORED")
    """
)


def _run_probe(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60,
        cwd=os.getcwd(),
    )


def _clean_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND")}
    env["HOME"] = str(tmp_path)
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    return env


def test_null_backend_is_refused_with_what_to_do(tmp_path) -> None:
    env = _clean_env(tmp_path)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    result = _run_probe(env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "keyring.backends.null.Keyring" in result.stdout
    assert "gnome-keyring" in result.stdout and "--memory-only" in result.stdout
    assert not any(p.is_file() for p in tmp_path.rglob("*")), "nothing may be written"


def test_fail_backend_without_dbus_is_refused(tmp_path) -> None:
    env = _clean_env(tmp_path)
    result = _run_probe(env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "REFUSED No secure keychain" in result.stdout
    assert "keyring.backends.fail.Keyring" in result.stdout


def test_plaintext_backend_is_refused(tmp_path) -> None:
    """A keyrings.alt-style plaintext backend (simulated by a class of that module name)."""
    module = tmp_path / "keyrings_alt_sim"
    module.mkdir()
    (module / "__init__.py").write_text("")
    (module / "file.py").write_text(textwrap.dedent("""
        from keyring.backend import KeyringBackend
        class PlaintextKeyring(KeyringBackend):
            priority = 5
            def get_password(self, s, u): return None
            def set_password(self, s, u, p): open("LEAK", "w").write(p)
            def delete_password(self, s, u): pass
    """))
    env = _clean_env(tmp_path)
    env["PYTHONPATH"] = f"{tmp_path}{os.pathsep}{os.getcwd()}"
    env["PYTHON_KEYRING_BACKEND"] = "keyrings_alt_sim.file.PlaintextKeyring"
    result = _run_probe(env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "PlaintextKeyring" in result.stdout
    assert not (tmp_path / "LEAK").exists()


def test_keyring_errors_become_one_clear_error() -> None:
    from keyring.backend import KeyringBackend
    from keyring.errors import InitError

    class Broken(KeyringBackend):
        priority = 5  # type: ignore[assignment]

        def get_password(self, service, username):
            raise InitError("Failed to create the collection: Prompt dismissed..")

        def set_password(self, service, username, password):
            raise InitError("Prompt dismissed")

        def delete_password(self, service, username):
            raise InitError("Prompt dismissed")

    chain = SystemKeychain(Broken())
    with pytest.raises(KeychainError, match=r"InitError.*Prompt dismissed.*memory-only"):
        chain.get("gateway:x")


def test_memory_keychain_is_explicit_and_forgets() -> None:
    store = open_keychain(memory_only=True)
    assert isinstance(store, MemoryKeychain)
    store.set("gateway:a", "wj_live_x")
    assert store.get("gateway:a") == "wj_live_x"
    assert store.delete("gateway:a") is True
    assert store.get("gateway:a") is None
    assert isinstance(open_keychain(), SystemKeychain)


@pytest.mark.integration
def test_secret_service_round_trip_visible_to_another_process(secret_service) -> None:
    chain = SystemKeychain()
    account = account_for("https://gw.example.org/")
    chain.set(account, "wj_live_roundtrip")
    assert isinstance(chain._resolve(), keyring.backends.SecretService.Keyring)
    other = subprocess.run(
        [sys.executable, "-c",
         f"import keyring; print(keyring.get_password({SERVICE!r}, {account!r}))"],
        capture_output=True, text=True, timeout=60, env={**os.environ, **secret_service},
    )
    assert other.stdout.strip() == "wj_live_roundtrip"
    assert chain.delete(account) is True
    assert chain.get(account) is None
    assert chain.delete(account) is False
