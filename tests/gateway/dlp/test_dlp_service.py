"""Stored per-tenant policies (migration 5), the engines the pipeline gets, and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from flask import Flask

from gateway.dlp import DlpPolicy
from gateway.dlp.service import DlpService, PolicyStore
from gateway.services import Services
from tests.gateway.server import installed_command, provision


def test_each_tenant_gets_its_own_stored_policy(app: Flask) -> None:
    services: Services = app.extensions["workjet"]
    acme = provision(services.store, "acme", "o@acme.test", "owner")
    globex = provision(services.store, "globex", "o@globex.test", "owner")
    store = PolicyStore(services.store.engine)
    store.save(acme.tenant_id, DlpPolicy.from_dict({"actions": {"EMAIL": "block"}}))
    service = DlpService(store, ttl=0)
    assert service.engine_for(acme.tenant_id, "acme").scan_text("a bob@acme.io").blocked
    assert not service.engine_for(globex.tenant_id, "globex").scan_text("a bob@acme.io").blocked
    assert store.load(globex.tenant_id) is None
    assert store.delete(acme.tenant_id) and not store.delete(acme.tenant_id)
    assert not service.engine_for(acme.tenant_id).scan_text("a bob@acme.io").blocked


def test_cli_stores_shows_and_resets_a_tenant_policy(tmp_path: Path) -> None:
    exe = installed_command("workjet-gateway")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKJET_")}
    env["WORKJET_DATABASE_URL"] = f"sqlite:///{tmp_path / 'gateway.db'}"

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [exe, *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert run("init").returncode == 0
    assert run("tenant", "create", "acme").returncode == 0
    policy = tmp_path / "p.json"
    policy.write_text(json.dumps({"actions": {"EMAIL": "block"}, "national_ids": ["DE"]}))
    assert run("dlp", "policy", "set", str(policy), "--tenant", "acme").returncode == 0
    shown = json.loads(run("dlp", "policy", "show", "--tenant", "acme").stdout)
    assert shown["actions"] == {"EMAIL": "block"} and shown["national_ids"] == ["DE"]
    assert run("dlp", "scan", "--tenant", "acme", stdin="bob@acme.io").returncode == 1
    assert run("dlp", "policy", "reset", "--tenant", "acme").returncode == 0
    assert run("dlp", "scan", "--tenant", "acme", stdin="bob@acme.io").returncode == 0
    missing = run("dlp", "policy", "show", "--tenant", "nobody")
    assert missing.returncode == 2 and "no tenant named" in missing.stderr
