"""The admin API for limits, ``GET /api/v1/usage``, and ``workjet-gateway tenant limits``."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from gateway.budgets import Budgets
from shared.chat import Usage
from tests.gateway.limits.support import principal_of
from tests.gateway.server import Provisioned, installed_command, provision


def bearer(who: Provisioned) -> dict[str, str]:
    return {"Authorization": f"Bearer {who.key}"}


def test_owner_changes_limits_and_they_apply_at_once(limited_app: Callable[..., Flask]) -> None:
    app = limited_app(ratelimit_tenant_per_minute=100)
    store = app.extensions["workjet"].store
    owner = provision(store, "acme", "own@acme.test", "owner")
    client = app.test_client()
    shown = client.get("/api/v1/limits", headers=bearer(owner)).get_json()
    assert shown["tenant"]["name"] == "acme"
    assert shown["overrides"]["requests_per_minute"] is None
    assert shown["effective"]["tenant"]["requests_per_minute"] == 100
    changed = client.patch("/api/v1/limits", headers=bearer(owner),
                           json={"requests_per_minute": 2, "daily_budget": 7.5})
    assert changed.status_code == 200
    body = changed.get_json()
    assert body["overrides"]["requests_per_minute"] == 2
    assert body["effective"]["tenant"]["daily_budget"] == 7.5
    # a new limit value counts afresh (a window is keyed by its limit)
    assert [client.get("/api/v1/me", headers=bearer(owner)).status_code for _ in range(2)] \
        == [200, 200]
    refused = client.get("/api/v1/me", headers=bearer(owner))
    assert refused.status_code == 429
    assert "tenant's limit of 2 requests per minute" in refused.get_json()["error"]["message"]


def test_cleared_override_returns_to_the_default(limited_app: Callable[..., Flask]) -> None:
    app = limited_app(budget_tenant_monthly=50.0)
    owner = provision(app.extensions["workjet"].store, "acme", "own@acme.test", "owner")
    client = app.test_client()
    client.patch("/api/v1/limits", headers=bearer(owner), json={"monthly_budget": 5})
    body = client.patch("/api/v1/limits", headers=bearer(owner),
                        json={"monthly_budget": None}).get_json()
    assert body["overrides"]["monthly_budget"] is None
    assert body["effective"]["tenant"]["monthly_budget"] == 50.0


@pytest.mark.parametrize("payload", [
    {"requests_per_minute": -1},
    {"requests_per_minute": 1.5},
    {"daily_budget": "10"},
    {"daily_budget": True},
    {"tokens_per_minute": 10**13},
    {"weekly_budget": 1},
    {},
    [1],
])
def test_bad_limits_are_400_and_change_nothing(
    limited_app: Callable[..., Flask], payload: Any
) -> None:
    app = limited_app()
    owner = provision(app.extensions["workjet"].store, "acme", "own@acme.test", "owner")
    client = app.test_client()
    response = client.patch("/api/v1/limits", headers=bearer(owner), json=payload)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "validation_failed"
    shown = client.get("/api/v1/limits", headers=bearer(owner)).get_json()
    assert set(shown["overrides"].values()) == {None}


def test_roles(limited_app: Callable[..., Flask]) -> None:
    app = limited_app()
    store = app.extensions["workjet"].store
    admin = provision(store, "acme", "adm@acme.test", "admin")
    member = provision(store, "acme", "mem@acme.test", "member")
    client = app.test_client()
    assert client.get("/api/v1/limits", headers=bearer(admin)).status_code == 200
    assert client.patch("/api/v1/limits", headers=bearer(admin),
                        json={"requests_per_minute": 1}).status_code == 403
    assert client.get("/api/v1/limits", headers=bearer(member)).status_code == 403
    assert client.get("/api/v1/usage", headers=bearer(member)).status_code == 403
    assert client.get("/api/v1/usage").status_code == 401


def test_usage_by_day_user_and_model_within_the_tenant(limited_app: Callable[..., Flask]) -> None:
    app = limited_app()
    store = app.extensions["workjet"].store
    ann = provision(store, "acme", "ann@acme.test", "admin")
    bob = provision(store, "acme", "bob@acme.test", "member")
    eve = provision(store, "globex", "eve@globex.test", "owner")
    budgets: Budgets = app.extensions["workjet"].budgets
    for who, model, usage in [
        (ann, "gpt-x", Usage(100, 20, 0.5)),
        (ann, "gpt-x", Usage(50, 10, 0.25)),
        (bob, "claude-y", Usage(7, 3, 0.01)),
        (eve, "gpt-x", Usage(1000, 1000, 9.0)),
    ]:
        budgets.reserve(principal_of(who), 10, 1.0, model=model).settle(usage)
    budgets.usage.flush()
    client = app.test_client()
    body = client.get("/api/v1/usage", headers=bearer(ann)).get_json()
    today = dt.datetime.now(dt.UTC).date()
    assert body["to"] == today.isoformat()
    assert body["from"] == (today - dt.timedelta(days=29)).isoformat()
    rows = [(r["day"], r["user"]["email"], r["model"], r["requests"], r["input_tokens"],
             r["output_tokens"], r["cost"]) for r in body["rows"]]
    day = today.isoformat()
    assert rows == [
        (day, "ann@acme.test", "gpt-x", 2, 150, 30, 0.75),
        (day, "bob@acme.test", "claude-y", 1, 7, 3, 0.01),
    ]
    assert body["totals"] == {"requests": 3, "input_tokens": 157, "output_tokens": 33,
                              "cost": 0.76}
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    empty = client.get(f"/api/v1/usage?from={yesterday}&to={yesterday}", headers=bearer(ann))
    assert empty.get_json()["rows"] == []


@pytest.mark.parametrize("query", [
    "from=2026-13-01", "to=yesterday", "from=2026-1-1", "from=2026-02-01&to=2026-01-01",
    "from=2024-01-01&to=2026-01-01",
])
def test_bad_usage_ranges_are_400(limited_app: Callable[..., Flask], query: str) -> None:
    app = limited_app()
    admin = provision(app.extensions["workjet"].store, "acme", "adm@acme.test", "admin")
    response = app.test_client().get(f"/api/v1/usage?{query}", headers=bearer(admin))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


@pytest.mark.integration
def test_cli_tenant_limits(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKJET_")}
    env["WORKJET_DATABASE_URL"] = f"sqlite:///{tmp_path / 'gateway.db'}"
    env["WORKJET_RATELIMIT_TENANT_PER_MINUTE"] = "300"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([installed_command("workjet-gateway"), *args], env=env,
                              capture_output=True, text=True, timeout=60)

    assert cli("init").returncode == 0
    created = cli("tenant", "create", "acme")
    assert created.returncode == 0 and created.stdout.strip().startswith("tn_")
    shown = cli("tenant", "limits", "acme").stdout
    assert "requests-per-minute  300" in shown and "(default)" in shown
    changed = cli("tenant", "limits", "acme", "--requests-per-minute", "5",
                  "--tokens-per-minute", "20000", "--daily-budget", "12.50",
                  "--monthly-budget", "200")
    assert changed.returncode == 0, changed.stderr
    for line in ("requests-per-minute  5 ", "tokens-per-minute    20000 ",
                 "daily-budget         12.5 ", "monthly-budget       200 "):
        assert line in changed.stdout
    assert changed.stdout.count("(set for this tenant)") == 4
    reset = cli("tenant", "limits", "acme", "--requests-per-minute", "default").stdout
    assert "requests-per-minute  300" in reset
    bad = cli("tenant", "limits", "acme", "--daily-budget", "lots")
    assert bad.returncode == 1 and "--daily-budget takes an amount" in bad.stderr
    missing = cli("tenant", "limits", "nope")
    assert missing.returncode == 1 and "no tenant named 'nope'" in missing.stderr


def test_changing_limits_is_an_audited_admin_event(
    limited_app: Callable[..., Flask], tmp_path: Path
) -> None:
    from gateway.audit.sinks import FileSink
    from tests.gateway.audit.support import stored_lines

    app = limited_app()
    owner = provision(app.extensions["workjet"].store, "acme", "own@acme.test", "owner")
    response = app.test_client().patch("/api/v1/limits", headers=bearer(owner),
                                       json={"tokens_per_minute": 5000})
    assert response.status_code == 200
    assert app.extensions["workjet"].audit.flush()
    events = [line for line in stored_lines(FileSink(tmp_path / "audit"), owner.tenant_id)
              if line["kind"] == "admin"]
    assert [(e["event"], e["user_id"], e["principal_id"]) for e in events] == [
        ("limits_changed", owner.user_id, owner.key_id)
    ]
