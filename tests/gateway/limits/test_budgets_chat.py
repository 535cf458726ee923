"""Budgets on the real chat path: gunicorn (4 workers) on Redis, the OpenAI emulator as
the provider, 50 concurrent chat requests against a tenant's tokens-per-minute budget."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
import requests

from gateway.budgets.counters import window_id
from tests.emulators import Behaviour
from tests.gateway.limits.test_budgets_redis import wait_clear_of_minute_boundary
from tests.gateway.router.conftest import Upstreams, emulator_env
from tests.gateway.server import GatewayServer, provision
from tests.services import RedisServer

pytestmark = pytest.mark.integration

TEXT = "hello budget"  # 12 characters: the pipeline estimates 12 // 4 + 1 = 4 input tokens
MAX_TOKENS = 96  # so each request's worst case is 100 tokens
BUDGET = 1000  # ten worst cases


def test_fifty_concurrent_chats_never_overshoot_and_settle_to_real_usage(
    gateway_server: Any, redis_server: RedisServer, upstreams: Upstreams, catalog_path: str,
) -> None:
    upstreams.openai.state.default = Behaviour(latency=3.0)  # all 50 are in flight at once
    wait_clear_of_minute_boundary(margin=20)
    server: GatewayServer = gateway_server(env={
        **emulator_env(upstreams, catalog_path),
        "WORKJET_RATELIMIT_STORAGE_URI": redis_server.url,
        "WORKJET_BUDGET_TENANT_TOKENS_PER_MINUTE": str(BUDGET),
        "WORKJET_USAGE_FLUSH_SECONDS": "0.5",
    }, workers=4)
    who = provision(server.store, "acme", "ann@acme.test", "admin")
    auth = {"Authorization": f"Bearer {who.key}"}
    body = {"model": "gpt-test", "max_tokens": MAX_TOKENS,
            "messages": [{"role": "user", "content": [{"type": "text", "text": TEXT}]}]}
    barrier = threading.Barrier(50)
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def chat() -> None:
        barrier.wait()
        r = requests.post(f"{server.url}/api/v1/chat", json=body, timeout=60,
                          headers={**auth, "Connection": "close"})
        with lock:
            answers.append(r)

    started = time.time()
    threads = [threading.Thread(target=chat) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(r.status_code for r in answers) == {200: 10, 429: 40}
    for refused in (r for r in answers if r.status_code == 429):
        error = refused.json()["error"]
        assert error["code"] == "budget_exceeded"
        assert "tenant's tokens-per-minute budget of 1000 tokens is used up" in error["message"]
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.headers["RateLimit-Limit"]  # request-limit headers on every answer
    real = [r.json()["usage"] for r in answers if r.status_code == 200]
    real_tokens = sum(u["input_tokens"] + u["output_tokens"] for u in real)
    assert 0 < real_tokens < BUDGET
    # the tenant's counter for this minute now holds exactly the real usage
    wid, _ = window_id("minute", started)
    counter = redis_server.client().get(f"wj:budget:tenant:{who.tenant_id}:minute:{wid}")
    assert int(counter) == real_tokens
    # and the usage aggregates, written by the workers in batches, add up the same
    deadline = time.monotonic() + 10
    while True:
        usage = requests.get(f"{server.url}/api/v1/usage", headers=auth, timeout=10).json()
        if usage["totals"]["requests"] == 10 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert usage["totals"]["requests"] == 10
    assert usage["totals"]["input_tokens"] + usage["totals"]["output_tokens"] == real_tokens
    assert usage["totals"]["cost"] == pytest.approx(sum(u["cost"] for u in real), abs=1e-5)
    [row] = usage["rows"]
    assert (row["user"]["email"], row["model"]) == ("ann@acme.test", "gpt-test")
