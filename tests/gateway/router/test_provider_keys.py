"""Tenants' own provider keys: write-only, encrypted at rest, used for that tenant only."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.config import Settings
from gateway.router.tenant_keys import KeyCipher, provider_keys
from tests.gateway.router.conftest import KEY, Upstreams
from tests.gateway.server import Provisioned, provision

TENANT_KEY = "sk-tenant-own-0123456789"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(provider_key_secret=base64.b64encode(os.urandom(32)).decode())


@pytest.fixture
def openai_wants_tenant_key(upstreams: Upstreams) -> Iterator[None]:
    upstreams.openai.state.api_key = TENANT_KEY
    yield
    upstreams.openai.state.api_key = KEY


def chat(client: FlaskClient, key: str) -> int:
    r = client.post("/api/v1/chat", headers={"Authorization": f"Bearer {key}"}, json={
        "model": "gpt-test", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "hi"}]}]})
    return r.status_code


def test_tenant_key_is_used_for_that_tenant_only(
        app: Flask, client: FlaskClient, principal: Provisioned, upstreams: Upstreams,
        openai_wants_tenant_key: None) -> None:
    admin = {"Authorization": f"Bearer {principal.key}"}
    assert chat(client, principal.key) == 502  # the deployment's key is refused upstream
    r = client.put("/api/v1/provider-keys/openai", json={"api_key": TENANT_KEY}, headers=admin)
    assert r.status_code == 204
    assert chat(client, principal.key) == 200
    sent = upstreams.openai.state.requests[-1]["headers"]["authorization"]
    assert sent == f"Bearer {TENANT_KEY}"
    other = provision(app.extensions["workjet"].store, "other", "o@other.test", "owner")
    assert chat(client, other.key) == 502  # another tenant never gets acme's key

    listed = client.get("/api/v1/provider-keys", headers=admin)
    assert listed.get_json()["provider_keys"][0]["provider"] == "openai"
    assert TENANT_KEY not in listed.get_data(as_text=True)
    with app.extensions["workjet"].store.engine.connect() as conn:
        stored = conn.execute(select(provider_keys.c.ciphertext)).scalar_one()
    assert TENANT_KEY not in stored and TENANT_KEY.encode() not in base64.b64decode(stored)

    assert client.delete("/api/v1/provider-keys/openai", headers=admin).status_code == 204
    assert chat(client, principal.key) == 502
    assert client.delete("/api/v1/provider-keys/openai", headers=admin).status_code == 404


def test_members_cannot_manage_keys_and_bad_input_is_refused(
        app: Flask, client: FlaskClient, principal: Provisioned) -> None:
    member = provision(app.extensions["workjet"].store, "acme", "m@acme.test", "member")
    r = client.put("/api/v1/provider-keys/openai", json={"api_key": "x"},
                   headers={"Authorization": f"Bearer {member.key}"})
    assert r.status_code == 403
    admin = {"Authorization": f"Bearer {principal.key}"}
    assert client.put("/api/v1/provider-keys/nope", json={"api_key": "x"},
                      headers=admin).status_code == 404
    r = client.put("/api/v1/provider-keys/openai", json={"api_key": "a\r\nX-Evil: 1"},
                   headers=admin)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "validation_failed"


def test_ciphertext_is_bound_to_tenant_and_provider() -> None:
    cipher = KeyCipher(base64.b64encode(os.urandom(32)).decode())
    sealed = cipher.seal("tn_a", "openai", TENANT_KEY)
    assert cipher.open("tn_a", "openai", sealed) == TENANT_KEY
    assert cipher.open("tn_b", "openai", sealed) is None
    assert cipher.open("tn_a", "anthropic", sealed) is None
    assert KeyCipher(base64.b64encode(os.urandom(32)).decode()).open(
        "tn_a", "openai", sealed) is None


def test_without_a_secret_tenants_cannot_store_keys(tmp_path: object, upstreams: Upstreams,
                                                     catalog_path: str) -> None:
    from gateway import create_app
    settings = upstreams.settings(catalog_path, database_url=f"sqlite:///{tmp_path}/k.db",
                                  audit_url=f"file://{tmp_path}/audit")
    app = create_app({"settings": settings, "TESTING": True})
    app.extensions["workjet"].store.migrate()
    who = provision(app.extensions["workjet"].store, "acme", "a@acme.test", "owner")
    r = app.test_client().put("/api/v1/provider-keys/openai", json={"api_key": "k"},
                              headers={"Authorization": f"Bearer {who.key}"})
    assert r.status_code == 409 and "WORKJET_PROVIDER_KEY_SECRET" in r.get_json()["error"][
        "message"]
    app.extensions["workjet"].close()
