"""Request limits as deployed: gunicorn with 4 workers plus a second gateway process on
the same Redis count exactly, and Redis going away fails closed or open as configured."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.gateway.limits.test_budgets_redis import wait_clear_of_minute_boundary
from tests.gateway.server import GatewayServer, provision
from tests.services import RedisServer, free_port
from tests.services.process import REPO_ROOT

pytestmark = pytest.mark.integration


def fire(urls: list[str], key: str, n: int) -> list[requests.Response]:
    """``n`` requests at once, spread over ``urls``, each on its own connection."""
    barrier = threading.Barrier(n)
    responses: list[requests.Response] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        barrier.wait()
        response = requests.get(
            f"{urls[i % len(urls)]}/api/v1/me", timeout=30,
            headers={"Authorization": f"Bearer {key}", "Connection": "close"},
        )
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return responses


def test_exactly_the_limit_succeeds_across_workers_and_hosts(
    gateway_server: Any, redis_server: RedisServer,
) -> None:
    limit, n = 10, 40
    env = {"WORKJET_RATELIMIT_STORAGE_URI": redis_server.url,
           "WORKJET_RATELIMIT_KEY_PER_MINUTE": str(limit)}
    first: GatewayServer = gateway_server(env=env, workers=4)
    second: GatewayServer = gateway_server(
        env={**env, "WORKJET_DATABASE_URL": first.database_url}, workers=2)
    for attempt in range(3):
        who = provision(first.store, "acme", "ann@acme.test")  # a fresh key: a fresh count
        # a sliding window weighs the previous minute by float, floored: keep the burst
        # inside one clock minute so "exactly" means exactly
        wait_clear_of_minute_boundary(margin=5)
        responses = fire([first.url, second.url], who.key, n)
        statuses = Counter(r.status_code for r in responses)
        assert statuses == {200: limit, 429: n - limit}, (attempt, statuses)
        for r in responses:
            assert r.headers["RateLimit-Limit"] == str(limit)
            assert 0 <= int(r.headers["RateLimit-Remaining"]) < limit
            assert 1 <= int(r.headers["RateLimit-Reset"]) <= 60
            if r.status_code == 429:
                assert r.headers["RateLimit-Remaining"] == "0"
                error = r.json()["error"]
                assert error["code"] == "rate_limited"
                assert "credential's limit of 10 requests per minute" in error["message"]
                assert f"resets in {r.headers['Retry-After']} s" in error["message"]


def test_served_refuses_in_process_limits_with_several_workers(gateway_server: Any) -> None:
    """gunicorn started on the project's config with -w 2 and memory:// never serves."""
    with pytest.raises(Exception, match="cannot be shared by 2 workers"):
        gateway_server(workers=2)


def test_redis_down_fails_closed_with_503_then_recovers(
    gateway_server: Any, redis_factory: Any,
) -> None:
    redis: RedisServer = redis_factory()
    server: GatewayServer = gateway_server(
        env={"WORKJET_RATELIMIT_STORAGE_URI": redis.url}, workers=2)
    who = provision(server.store, "acme", "ann@acme.test")
    auth = {"Authorization": f"Bearer {who.key}"}
    assert requests.get(f"{server.url}/api/v1/me", headers=auth, timeout=10).status_code == 200
    redis.stop()
    down = requests.get(f"{server.url}/api/v1/me", headers=auth, timeout=10)
    assert down.status_code == 503
    assert down.json()["error"]["code"] == "service_unavailable"
    assert "rate-limit storage (Redis)" in down.json()["error"]["message"]
    assert down.headers["Retry-After"]
    ready = requests.get(f"{server.url}/readyz", timeout=10)
    assert ready.status_code == 503
    assert ready.json()["checks"]["ratelimit_storage"] == "failed: LimitStorageUnreachable"
    assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
    redis.start()
    back = requests.get(f"{server.url}/api/v1/me", headers=auth, timeout=10)
    assert back.status_code == 200
    assert back.headers["RateLimit-Remaining"]
    assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200
    log = server.log_tail(20_000)
    assert "limit storage unreachable" in log and "WORKJET_RATELIMIT_FAIL_MODE=closed" in log


def test_redis_down_fails_open_counting_in_process_then_recovers(
    gateway_server: Any, redis_factory: Any,
) -> None:
    redis: RedisServer = redis_factory()
    server: GatewayServer = gateway_server(
        env={"WORKJET_RATELIMIT_STORAGE_URI": redis.url, "WORKJET_RATELIMIT_FAIL_MODE": "open",
             "WORKJET_RATELIMIT_KEY_PER_MINUTE": "3"}, workers=1)
    who = provision(server.store, "acme", "ann@acme.test")
    auth = {"Authorization": f"Bearer {who.key}"}

    def me() -> requests.Response:
        return requests.get(f"{server.url}/api/v1/me", headers=auth, timeout=10)

    assert me().status_code == 200
    redis.stop()
    # Redis is gone: the worker counts on its own, from zero, and still limits
    assert [me().status_code for _ in range(4)] == [200, 200, 200, 429]
    assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 503
    redis.start()
    deadline = time.monotonic() + 40  # the limiter re-checks Redis with backoff 2, 4, 8... s
    while not redis.client().keys("*LIMITER*"):
        assert time.monotonic() < deadline, "the gateway never went back to Redis"
        me()
        time.sleep(0.5)
    assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200
    log = server.log_tail(20_000)
    assert "WORKJET_RATELIMIT_FAIL_MODE=open" in log


@pytest.mark.parametrize(
    "how", [["-w", "2"], ["env:WORKJET_WORKERS=3"], ["env:GUNICORN_CMD_ARGS=--workers 2"]]
)
def test_gunicorn_started_directly_refuses_in_process_limits_with_several_workers(
    tmp_path: Path, how: list[str],
) -> None:
    """Not only ``workjet-gateway serve``: gunicorn on the project's config refuses too."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKJET_")}
    env["WORKJET_DATABASE_URL"] = f"sqlite:///{tmp_path / 'gateway.db'}"
    env["WORKJET_BIND"] = f"127.0.0.1:{free_port()}"
    args = []
    for item in how:
        if item.startswith("env:"):
            name, _, value = item[4:].partition("=")
            env[name] = value
        else:
            args.append(item)
    config = str(REPO_ROOT / "gateway" / "gunicorn.conf.py")
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", config, *args, "gateway.wsgi:app"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "cannot be shared by" in result.stderr
    assert "WORKJET_RATELIMIT_STORAGE_URI=redis://" in result.stderr
    assert "Booting worker" not in result.stderr
