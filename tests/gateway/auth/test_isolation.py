"""Isolation by construction: every endpoint with an id answers 404 to another tenant,
exactly as for an id that does not exist; and a member cannot act as an admin.

The endpoints come from ``app.url_map``, so a new endpoint with an id is covered (or
fails ``test_every_id_endpoint_is_covered`` until its kind of id is added here).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway.config import Settings
from gateway.services import Services
from tests.gateway.auth.helpers import Actor, actor


@dataclass(frozen=True)
class Target:
    """How to exercise one kind of id: make tenant A's resource (returns the path value),
    a value naming nothing, and whether A's resource is still intact afterwards.

    ``upserts`` lists methods that write in the caller's own namespace under a name (PUT
    of a provider key): for those, B's request must leave A's resource untouched, and
    whatever B gets back is its own.
    """

    make: Callable[[Services, Actor], str]
    missing: str
    intact: Callable[[Services, Actor, str], bool]
    upserts: frozenset[str] = frozenset()


def _invite(services: Services, a: Actor) -> str:
    return services.store.tenant(a.tenant_id).create_invite("guest@a.test", "member", a.user_id)


def _provider_key(services: Services, a: Actor) -> str:
    services.router.key_store.set(a.tenant_id, "openai", "sk-tenant-a", a.user_id)
    return "openai"


def _provider_key_intact(services: Services, a: Actor, provider: str) -> bool:
    rows = services.router.key_store.list(a.tenant_id)
    return [(r["provider"], r["updated_by"]) for r in rows] == [(provider, a.user_id)]


TARGETS: dict[str, Target] = {
    "user_id": Target(
        lambda s, a: a.user_id, "us_doesnotexist0000",
        lambda s, a, v: s.store.tenant(a.tenant_id).user_by_id(v).role == "owner",
    ),
    "key_id": Target(
        lambda s, a: a.key_id, "key_doesnotexist000",
        lambda s, a, v: s.store.tenant(a.tenant_id).api_key_by_id(v).revoked_at is None,
    ),
    "session_id": Target(
        lambda s, a: a.session_id, "ss_doesnotexist0000",
        lambda s, a, v: s.store.tenant(a.tenant_id).session_by_id(v) is not None,
    ),
    "invite_id": Target(
        _invite, "inv_doesnotexist000",
        lambda s, a, v: s.store.tenant(a.tenant_id).invite_by_id(v) is not None,
    ),
    "provider": Target(
        _provider_key, "anthropic", _provider_key_intact, upserts=frozenset({"PUT"})
    ),
}
IGNORED_ENDPOINTS = {"static"}
_ARG = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def id_routes(app: Flask) -> list[tuple[str, str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in IGNORED_ENDPOINTS or not rule.arguments:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method, rule.endpoint))
    return found


def _routes() -> list[tuple[str, str, str]]:
    from gateway import create_app

    return id_routes(create_app({"settings": Settings(database_url="sqlite://")}))


ROUTES = _routes()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Tenants' provider keys enabled, so that their endpoints hold something to protect."""
    return settings.replace(provider_key_secret=base64.b64encode(b"k" * 32).decode())


def test_every_id_endpoint_is_covered() -> None:
    missing = []
    for rule, method, _endpoint in ROUTES:
        missing += [f"{method} {rule} ({n})" for n in _ARG.findall(rule) if n not in TARGETS]
    assert ROUTES, "no endpoint with an id found: is the url_map empty?"
    assert missing == [], f"add a Target for these ids in {__file__}: {missing}"


def _path(rule: str, values: dict[str, str]) -> str:
    return _ARG.sub(lambda m: values[m.group(1)], rule)


def _message(response: TestResponse, values: dict[str, str]) -> str:
    message = str(response.get_json()["error"]["message"])
    for value in values.values():
        message = message.replace(value, "<id>")
    return message


@pytest.mark.parametrize(
    ("rule", "method", "endpoint"), ROUTES, ids=[f"{m} {r}" for r, m, _ in ROUTES]
)
def test_other_tenant_gets_404_like_a_missing_id(
    app: Flask, client: FlaskClient, rule: str, method: str, endpoint: str
) -> None:
    services: Services = app.extensions["workjet"]
    a = actor(services.store, "tenant-a", "owner@a.test", "owner")
    b = actor(services.store, "tenant-b", "owner@b.test", "owner")
    names = _ARG.findall(rule)
    foreign = {name: TARGETS[name].make(services, a) for name in names}
    missing = {name: TARGETS[name].missing for name in names}
    upsert = any(method in TARGETS[name].upserts for name in names)
    body = {"api_key": "sk-tenant-b"} if upsert else {"role": "member"}

    for headers in (b.bearer, b.session_bearer):
        as_b = client.open(_path(rule, foreign), method=method, headers=headers, json=body)
        if not upsert:
            nothing = client.open(_path(rule, missing), method=method, headers=headers, json=body)
            assert as_b.status_code == 404, as_b.get_data(as_text=True)
            assert nothing.status_code == 404
            assert as_b.get_json()["error"]["code"] == nothing.get_json()["error"]["code"]
            assert _message(as_b, foreign) == _message(nothing, missing)
        # Whatever B did, tenant A's resource is untouched and A's credentials still work.
        for name, value in foreign.items():
            assert TARGETS[name].intact(services, a, value), f"{method} {rule} touched A's {name}"
    assert client.get("/api/v1/me", headers=a.bearer).status_code == 200
    assert client.get("/api/v1/me", headers=a.session_bearer).status_code == 200


def test_foreign_user_id_in_a_body_is_404(app: Flask, client: FlaskClient) -> None:
    store = app.extensions["workjet"].store
    a = actor(store, "tenant-a", "owner@a.test", "owner")
    b = actor(store, "tenant-b", "owner@b.test", "owner")
    response = client.post("/api/v1/keys", headers=b.bearer, json={"user_id": a.user_id})
    assert response.status_code == 404
    assert store.tenant(a.tenant_id).list_api_keys(a.user_id)[-1].id == a.key_id


def test_lists_show_only_the_own_tenant(app: Flask, client: FlaskClient) -> None:
    services: Services = app.extensions["workjet"]
    a = actor(services.store, "tenant-a", "owner@a.test", "owner")
    b = actor(services.store, "tenant-b", "owner@b.test", "owner")
    for path, field in (("/api/v1/users", "users"), ("/api/v1/keys", "keys"),
                        ("/api/v1/sessions", "sessions")):
        ids = {item["id"] for item in client.get(path, headers=b.bearer).get_json()[field]}
        assert ids and not ids & {a.user_id, a.key_id, a.session_id}


ADMIN_ONLY = [
    ("GET", "/api/v1/users", None),
    ("POST", "/api/v1/users", {"email": "new@a.test", "role": "member"}),
    ("GET", "/api/v1/invites", None),
    ("POST", "/api/v1/invites", {"email": "new@a.test"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ONLY)
def test_member_cannot_act_as_admin(
    app: Flask, client: FlaskClient, method: str, path: str, body: dict[str, str] | None
) -> None:
    store = app.extensions["workjet"].store
    actor(store, "tenant-a", "owner@a.test", "owner")
    member = actor(store, "tenant-a", "member@a.test", "member")
    response = client.open(path, method=method, headers=member.bearer, json=body)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert store.tenant(member.tenant_id).user_by_email("new@a.test") is None


def test_member_manages_only_own_keys_and_sessions(app: Flask, client: FlaskClient) -> None:
    store = app.extensions["workjet"].store
    owner = actor(store, "tenant-a", "owner@a.test", "owner")
    member = actor(store, "tenant-a", "member@a.test", "member")
    h = member.bearer
    assert client.delete(f"/api/v1/keys/{owner.key_id}", headers=h).status_code == 404
    assert client.delete(f"/api/v1/sessions/{owner.session_id}", headers=h).status_code == 404
    assert client.get(f"/api/v1/users/{owner.user_id}", headers=h).status_code == 404
    foreign_key = client.post("/api/v1/keys", headers=h, json={"user_id": owner.user_id})
    assert foreign_key.status_code == 404
    keys = client.get("/api/v1/keys", headers=h).get_json()["keys"]
    assert {k["user_id"] for k in keys} == {member.user_id}
    assert client.get("/api/v1/me", headers=owner.bearer).status_code == 200  # untouched
    # Their own: allowed.
    created = client.post("/api/v1/keys", headers=h, json={"name": "mine"})
    assert created.status_code == 201
    assert client.delete(f"/api/v1/keys/{created.get_json()['id']}", headers=h).status_code == 204


def test_admin_cannot_make_an_owner(app: Flask, client: FlaskClient) -> None:
    store = app.extensions["workjet"].store
    admin = actor(store, "tenant-a", "admin@a.test", "admin")
    response = client.post(
        "/api/v1/users", headers=admin.bearer, json={"email": "boss@a.test", "role": "owner"}
    )
    assert response.status_code == 403
    ok = client.post("/api/v1/users", headers=admin.bearer, json={"email": "m@a.test"})
    assert ok.status_code == 201 and ok.get_json()["role"] == "member"
