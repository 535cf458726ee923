"""Budgets through real Redis: 50 concurrent reservations from two processes never
overshoot, settle to the real counts, and the fail modes hold while Redis is down."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from gateway.budgets import BudgetExceeded, Budgets, LimitStorageDown
from gateway.budgets.redis_counters import RedisCounters
from gateway.store.limits_schema import MICROS
from shared.chat import Usage
from tests.gateway.limits.support import principal_of
from tests.gateway.server import provision
from tests.services import RedisServer
from tests.services.process import REPO_ROOT

pytestmark = pytest.mark.integration


def wait_clear_of_minute_boundary(margin: float = 8.0) -> None:
    """Token budgets count per clock minute; a burst that straddles two minutes would
    rightly get two minutes' budget, so start well inside one."""
    if 60 - time.time() % 60 < margin:
        time.sleep(60 - time.time() % 60 + 0.5)


def burst(tmp_path: Path, redis_url: str, app: Flask, principal: Any, budget: dict[str, Any],
          tokens: int, cost: float, usage: Usage) -> list[dict[str, int]]:
    """Two processes x 25 threads reserve at the same instant, hold what they got while
    the others try, then settle it."""
    spec = {
        "redis": redis_url,
        "database": app.extensions["workjet"].settings.database_url,
        "settings": budget,
        "principal": dataclasses.asdict(principal),
        "threads": 25,
        "tokens": tokens,
        "cost": cost,
        "usage": dataclasses.asdict(usage),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.gateway.limits.reserve_worker", json.dumps(spec)],
            cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    start_at = time.time() + 0.5
    go = f"{start_at} {start_at + 2.0}\n"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(go)
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out
        results.append(json.loads(out))
    return results


def test_tokens_per_minute_exact_under_50_concurrent_reservations(
    tmp_path: Path, limited_app: Callable[..., Flask], redis_server: RedisServer,
) -> None:
    budget = {"budget_tenant_tokens_per_minute": 10_000}
    app = limited_app(ratelimit_storage_uri=redis_server.url, **budget)
    who = principal_of(provision(app.extensions["workjet"].store, "acme", "ann@acme.test"))
    budgets: Budgets = app.extensions["workjet"].budgets
    for attempt in range(3):
        wait_clear_of_minute_boundary()
        redis_server.client().flushall()
        results = burst(tmp_path, redis_server.url, app, who, budget,
                        tokens=1000, cost=0.0, usage=Usage(300, 100, 0.0))
        admitted = sum(r["admitted"] for r in results)
        assert admitted == 10, (attempt, results)  # 10 x 1000 = the whole budget, no more
        assert sum(r["refused"] for r in results) == 40
        # every admitted request settled to its real 400 tokens
        probe = budgets.reserve(who, 1, 0.0)
        counters = budgets.shared
        assert isinstance(counters, RedisCounters)
        assert counters.value(probe.charges[0].key) == 10 * 400 + 1
        probe.release()
        for _ in range(6):  # 6000 of the 10000 are free again: six more worst cases fit
            budgets.reserve(who, 1000, 0.0)
        with pytest.raises(BudgetExceeded):
            budgets.reserve(who, 1, 0.0)


def test_daily_spend_exact_under_50_concurrent_reservations(
    tmp_path: Path, limited_app: Callable[..., Flask], redis_server: RedisServer,
) -> None:
    budget = {"budget_user_daily": 1.0}
    app = limited_app(ratelimit_storage_uri=redis_server.url, **budget)
    who = principal_of(provision(app.extensions["workjet"].store, "acme", "ann@acme.test"))
    redis_server.client().flushall()
    results = burst(tmp_path, redis_server.url, app, who, budget,
                    tokens=10, cost=0.1, usage=Usage(5, 5, 0.0375))
    assert sum(r["admitted"] for r in results) == 10
    budgets: Budgets = app.extensions["workjet"].budgets
    probe = budgets.reserve(who, 0, 0.000001)
    assert isinstance(budgets.shared, RedisCounters)
    assert budgets.shared.value(probe.charges[0].key) == 10 * 37_500 + 1
    probe.release()
    # the usage aggregates of both processes reached the database
    day = time.strftime("%Y-%m-%d", time.gmtime())
    rows = app.extensions["workjet"].store.tenant(who.tenant_id).usage(day, day)
    assert [(r.user_id, r.model, r.requests, r.input_tokens, r.output_tokens, r.cost_micros)
            for r in rows] == [(who.user_id, "m", 10, 50, 50, round(10 * 0.0375 * MICROS))]


@pytest.mark.parametrize("mode", ["closed", "open"])
def test_redis_down_fails_as_configured_and_recovers(
    limited_app: Callable[..., Flask], redis_factory: Callable[[], RedisServer], mode: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    redis = redis_factory()
    app = limited_app(ratelimit_storage_uri=redis.url, ratelimit_fail_mode=mode,
                      budget_key_tokens_per_minute=100)
    who = principal_of(provision(app.extensions["workjet"].store, "acme", "ann@acme.test"))
    budgets: Budgets = app.extensions["workjet"].budgets
    budgets.reserve(who, 60, 0.0)
    redis.stop()
    if mode == "closed":
        with pytest.raises(LimitStorageDown) as down:
            budgets.reserve(who, 10, 0.0)
        assert down.value.status == 503
        assert "Redis" in down.value.message
    else:
        budgets.reserve(who, 100, 0.0)  # counted in this process, from zero
        with pytest.raises(BudgetExceeded):
            budgets.reserve(who, 1, 0.0)
    assert "limit storage unreachable for budgets" in caplog.text
    redis.start()
    time.sleep(1.1)  # fail-open retries Redis after a second
    budgets.reserve(who, 40, 0.0)  # Redis counts again: it was emptied by the restart
    assert isinstance(budgets.shared, RedisCounters)
    assert redis.client().keys("wj:budget:*")
    assert "reachable again" in caplog.text


def test_settling_while_redis_is_down_answers_and_logs(
    limited_app: Callable[..., Flask], redis_factory: Callable[[], RedisServer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The answer has been given: a lost settlement is logged, never raised, and the
    usage aggregates still count it."""
    redis = redis_factory()
    app = limited_app(ratelimit_storage_uri=redis.url, budget_key_tokens_per_minute=100)
    who = principal_of(provision(app.extensions["workjet"].store, "acme", "ann@acme.test"))
    budgets: Budgets = app.extensions["workjet"].budgets
    reservation = budgets.reserve(who, 100, 0.0, model="m")
    redis.stop()
    reservation.settle(Usage(3, 4, 0.0))
    assert "could not settle a budget reservation" in caplog.text
    budgets.usage.flush()
    day = time.strftime("%Y-%m-%d", time.gmtime())
    [row] = app.extensions["workjet"].store.tenant(who.tenant_id).usage(day, day)
    assert (row.requests, row.input_tokens, row.output_tokens) == (1, 3, 4)
