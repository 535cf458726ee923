"""Request limits as a client sees them (in-process storage): 429 bodies and headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from gateway.config import ConfigError
from gateway.limits.policy import TenantOverrides
from gateway.services import Services
from tests.gateway.server import Provisioned, provision
from tests.services import RedisServer


def bearer(who: Provisioned) -> dict[str, str]:
    return {"Authorization": f"Bearer {who.key}"}


def assert_limit_headers(response: TestResponse, limit: int, remaining: int) -> None:
    assert response.headers["RateLimit-Limit"] == str(limit)
    assert response.headers["RateLimit-Remaining"] == str(remaining)
    assert 1 <= int(response.headers["RateLimit-Reset"]) <= 60


def assert_429(response: TestResponse, *words: str) -> dict[str, Any]:
    assert response.status_code == 429
    body: dict[str, Any] = response.get_json()
    assert body["error"]["code"] == "rate_limited"
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]
    for word in words:
        assert word in body["error"]["message"]
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert f"resets in {response.headers['Retry-After']} s" in body["error"]["message"]
    return body


def test_key_limit_counts_down_then_429(limited_app: Callable[..., Flask]) -> None:
    app = limited_app(ratelimit_key_per_minute=3)
    who = provision(app.extensions["workjet"].store, "acme", "ann@acme.test")
    client = app.test_client()
    for remaining in (2, 1, 0):
        ok = client.get("/api/v1/me", headers=bearer(who))
        assert ok.status_code == 200
        assert_limit_headers(ok, 3, remaining)
    refused = client.get("/api/v1/me", headers=bearer(who))
    assert_429(refused, "credential", "3 requests per minute")
    assert_limit_headers(refused, 3, 0)


def test_each_key_has_its_own_count_but_the_user_limit_is_shared(
    limited_app: Callable[..., Flask],
) -> None:
    app = limited_app(ratelimit_key_per_minute=2, ratelimit_user_per_minute=3)
    store = app.extensions["workjet"].store
    first = provision(store, "acme", "ann@acme.test")
    second = provision(store, "acme", "ann@acme.test")  # a second key of the same user
    client = app.test_client()
    assert [client.get("/api/v1/me", headers=bearer(first)).status_code for _ in range(2)] \
        == [200, 200]
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200
    assert_429(client.get("/api/v1/me", headers=bearer(second)), "user", "3 requests")


def test_tenant_override_replaces_the_default(limited_app: Callable[..., Flask]) -> None:
    app = limited_app(ratelimit_tenant_per_minute=100)
    services: Services = app.extensions["workjet"]
    ann = provision(services.store, "acme", "ann@acme.test")
    bob = provision(services.store, "acme", "bob@acme.test")
    other = provision(services.store, "globex", "eve@globex.test")
    services.store.tenant(ann.tenant_id).set_limit_overrides(TenantOverrides(requests_per_minute=2))
    client = app.test_client()
    assert client.get("/api/v1/me", headers=bearer(ann)).status_code == 200
    assert client.get("/api/v1/me", headers=bearer(bob)).status_code == 200
    assert_429(client.get("/api/v1/me", headers=bearer(bob)), "tenant", "2 requests per minute")
    other_tenant = client.get("/api/v1/me", headers=bearer(other))
    assert other_tenant.status_code == 200
    assert other_tenant.headers["RateLimit-Remaining"] == "99"


def test_health_and_spec_are_never_limited(limited_app: Callable[..., Flask]) -> None:
    app = limited_app(ratelimit_anonymous_per_minute=1)
    client = app.test_client()
    for _ in range(3):
        for path in ("/healthz", "/readyz", "/openapi.json"):
            response = client.get(path)
            assert response.status_code == 200
            assert "RateLimit-Limit" not in response.headers


def test_requests_without_a_valid_credential_count_per_address(
    limited_app: Callable[..., Flask],
) -> None:
    app = limited_app(ratelimit_anonymous_per_minute=2)
    client = app.test_client()
    wrong = {"Authorization": "Bearer wj_live_" + "x" * 43}
    assert client.get("/api/v1/me").status_code == 401
    unknown = client.get("/api/v1/me", headers=wrong)
    assert unknown.status_code == 401
    assert_limit_headers(unknown, 2, 0)
    assert_429(client.get("/api/v1/me", headers=wrong), "client address")


def test_zero_means_no_limit(limited_app: Callable[..., Flask]) -> None:
    app = limited_app(ratelimit_key_per_minute=0, ratelimit_user_per_minute=0,
                      ratelimit_tenant_per_minute=0)
    who = provision(app.extensions["workjet"].store, "acme", "ann@acme.test")
    client = app.test_client()
    for _ in range(5):
        response = client.get("/api/v1/me", headers=bearer(who))
        assert response.status_code == 200
        assert "RateLimit-Limit" not in response.headers


def test_chat_endpoints_are_limited_with_headers(limited_app: Callable[..., Flask]) -> None:
    """Every front door counts against the same per-key limit, whatever it answers."""
    app = limited_app(ratelimit_key_per_minute=4)
    who = provision(app.extensions["workjet"].store, "acme", "ann@acme.test")
    client = app.test_client()
    answers = [
        client.post(path, headers=bearer(who), json={})
        for path in ("/api/v1/chat", "/v1/chat/completions", "/v1/messages", "/api/v1/chat")
    ]
    assert [a.status_code for a in answers] == [400, 400, 400, 400]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["3", "2", "1", "0"]
    refused = client.post("/v1/chat/completions", headers=bearer(who), json={})
    assert refused.status_code == 429
    assert refused.headers["RateLimit-Limit"] == "4"


def test_headers_report_the_limit_closest_to_exhaustion(
    limited_app: Callable[..., Flask],
) -> None:
    app = limited_app(ratelimit_key_per_minute=100, ratelimit_user_per_minute=50,
                      ratelimit_tenant_per_minute=1000)
    services: Services = app.extensions["workjet"]
    ann = provision(services.store, "acme", "ann@acme.test")
    bob = provision(services.store, "acme", "bob@acme.test")
    services.store.tenant(ann.tenant_id).set_limit_overrides(TenantOverrides(requests_per_minute=60))
    client = app.test_client()
    for _ in range(40):
        client.get("/api/v1/me", headers=bearer(bob))
    # ann's own key (100) and user (50) are fresh; the tenant (60) has 40 used already
    assert_limit_headers(client.get("/api/v1/me", headers=bearer(ann)), 60, 19)


@pytest.mark.integration
def test_redis_headers_come_from_each_request_own_hit(
    limited_app: Callable[..., Flask], redis_server: RedisServer,
) -> None:
    app = limited_app(ratelimit_storage_uri=redis_server.url, ratelimit_key_per_minute=5,
                      ratelimit_user_per_minute=7)
    store = app.extensions["workjet"].store
    first = provision(store, "acme", "ann@acme.test")
    second = provision(store, "acme", "ann@acme.test")
    client = app.test_client()
    seen = [client.get("/api/v1/me", headers=bearer(first)).headers["RateLimit-Remaining"]
            for _ in range(3)]
    assert seen == ["4", "3", "2"]  # the key's 5 is tightest
    # the same user's other key: its key has 5 left, the user 7 - 4 = 3
    other = client.get("/api/v1/me", headers=bearer(second))
    assert_limit_headers(other, 7, 3)
    assert_limit_headers(client.get("/api/v1/me", headers=bearer(first)), 5, 1)
    for _ in range(2):
        client.get("/api/v1/me", headers=bearer(second))
    refused = client.get("/api/v1/me", headers=bearer(first))
    assert_429(refused)
    assert_limit_headers(refused, 7, 0)


def test_unsupported_storage_is_refused_with_what_to_set(
    limited_app: Callable[..., Flask],
) -> None:
    with pytest.raises(ConfigError, match=r"use memory:// or a single Redis \(redis://"):
        limited_app(ratelimit_storage_uri="memcached://127.0.0.1:11211")
