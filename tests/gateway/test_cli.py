"""``workjet-gateway`` administration commands, run as an operator would."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.gateway.server import installed_command

pytestmark = pytest.mark.integration


def cli(tmp_path: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    exe = installed_command("workjet-gateway")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKJET_")}
    env["WORKJET_DATABASE_URL"] = f"sqlite:///{tmp_path / 'gateway.db'}"
    result = subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=60)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_admin_flow_stores_only_the_key_hash(tmp_path: Path) -> None:
    assert "schema version" in cli(tmp_path, "init").stdout
    assert "already at schema version" in cli(tmp_path, "init").stdout
    tenant_id = cli(tmp_path, "tenant", "create", "acme").stdout.strip()
    assert tenant_id.startswith("tn_") and len(tenant_id) > 12
    cli(tmp_path, "user", "create", "--tenant", "acme", "ann@acme.test", "--role", "admin")
    out = cli(tmp_path, "key", "create", "--tenant", "acme", "--user", "ann@acme.test",
              "--name", "laptop").stdout
    key = out.strip().splitlines()[-1]
    assert key.startswith("wj_live_") and len(key) == 51
    raw = (tmp_path / "gateway.db").read_bytes()
    assert key.encode() not in raw
    assert key[8:].encode() not in raw
    with sqlite3.connect(tmp_path / "gateway.db") as db:
        (name, prefix, key_hash), = db.execute(
            "SELECT name, display_prefix, key_hash FROM api_keys"
        ).fetchall()
    assert name == "laptop" and prefix == key[:12] and len(key_hash) == 64


def test_errors_are_clear(tmp_path: Path) -> None:
    empty = cli(tmp_path, "tenant", "create", "x", check=False)
    assert empty.returncode != 0 and "workjet-gateway init" in empty.stderr
    cli(tmp_path, "init")
    cli(tmp_path, "tenant", "create", "acme")
    duplicate = cli(tmp_path, "tenant", "create", "acme", check=False)
    assert duplicate.returncode == 1 and "exists already" in duplicate.stderr
    no_tenant = cli(tmp_path, "user", "create", "--tenant", "nope", "a@b.c", check=False)
    assert no_tenant.returncode == 1 and "no tenant named 'nope'" in no_tenant.stderr
    no_user = cli(tmp_path, "key", "create", "--tenant", "acme", "--user", "x@y.z", check=False)
    assert no_user.returncode == 1 and "no user" in no_user.stderr


def test_serve_refuses_in_process_limits_with_several_workers(tmp_path: Path) -> None:
    result = cli(tmp_path, "serve", "--workers", "2", check=False)
    assert result.returncode == 2
    assert "WORKJET_RATELIMIT_STORAGE_URI=redis://" in result.stderr
