"""create_app wires DLP: a tenant's stored policy applies at the chat endpoints."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient

from gateway.dlp import DlpPolicy
from gateway.dlp.service import DlpService, PolicyStore
from gateway.services import Services
from tests.gateway.dlp.dlp_samples import Gen
from tests.gateway.router import conftest as router_fixtures
from tests.gateway.router.conftest import Upstreams
from tests.gateway.server import Provisioned

# the router's provider emulators, and settings that point the app at them
_emulators = router_fixtures._emulators
upstreams = router_fixtures.upstreams
catalog_path = router_fixtures.catalog_path
settings = router_fixtures.settings

PEM = Gen(61).pem()
TOKEN = Gen(62).github("ghp_")


def _chat(client: FlaskClient, key: str, text: str) -> tuple[int, str]:
    r = client.post(
        "/api/v1/chat",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "model": "gpt-test",
            "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}],
        },
    )
    return r.status_code, r.get_data(as_text=True)


def test_default_policy_blocks_keys_and_redacts_tokens_before_the_provider(
    app: Flask, client: FlaskClient, principal: Provisioned, upstreams: Upstreams
) -> None:
    assert isinstance(app.extensions["workjet"].dlp, DlpService)
    status, body = _chat(client, principal.key, f"fix my key\n{PEM}")
    assert status == 422 and json.loads(body)["error"]["code"] == "dlp_blocked"
    assert PEM.splitlines()[1] not in body and upstreams.openai.state.requests == []
    status, body = _chat(client, principal.key, f"is {TOKEN} valid?")
    assert status == 200
    sent = json.dumps(upstreams.openai.state.requests[-1]["body"])
    assert TOKEN not in sent and "[GITHUB_PAT_1]" in sent


def test_stored_tenant_policy_applies(
    app: Flask, client: FlaskClient, principal: Provisioned, upstreams: Upstreams
) -> None:
    services: Services = app.extensions["workjet"]
    PolicyStore(services.store.engine).save(
        principal.tenant_id, DlpPolicy.from_dict({"actions": {"GITHUB_PAT": "block"}})
    )
    services.dlp.invalidate(principal.tenant_id)
    status, body = _chat(client, principal.key, f"is {TOKEN} valid?")
    assert status == 422 and "GitHub PAT" in json.loads(body)["error"]["message"]
    assert TOKEN not in body
