"""The pipeline with the real DLP engine: redaction before the provider, notices, blocking.

``services.dlp`` (``DlpService``) serves each tenant's stored policy; here it is replaced by
the engine for a given policy, through the same ``engine_for(tenant_id, name)`` call.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.dlp import DlpEngine, DlpPolicy
from tests.gateway.router.conftest import Upstreams

EMAIL = "jane.doe@example.org"


class PolicyEngines:
    def __init__(self, policy: DlpPolicy) -> None:
        self.engine = DlpEngine.from_policy(policy)

    def engine_for(self, tenant_id: str, tenant_name: str) -> DlpEngine:
        return self.engine


@pytest.fixture
def with_dlp(app: Flask) -> Any:
    def use(**policy: Any) -> None:
        app.extensions["workjet"].dlp = PolicyEngines(DlpPolicy(**policy))
    return use


def ask(model: str, text: str, stream: bool = False) -> dict[str, Any]:
    return {"model": model, "stream": stream, "messages": [{"role": "user", "content": text}]}


def test_redacted_before_the_provider_and_reported(
        client: FlaskClient, auth_headers: dict[str, str], upstreams: Upstreams,
        with_dlp: Any) -> None:
    with_dlp()
    r = client.post("/v1/chat/completions", json=ask("claude-test", f"mail {EMAIL} now"),
                    headers=auth_headers)
    assert r.status_code == 200
    assert r.headers["X-Workjet-DLP"] == "EMAIL=1:redact"
    sent = json.dumps(upstreams.anthropic.state.requests[-1]["body"])
    assert EMAIL not in sent and "[EMAIL_1]" in sent


def test_stream_carries_a_dlp_notice_and_restores_placeholders(
        client: FlaskClient, auth_headers: dict[str, str], upstreams: Upstreams,
        with_dlp: Any) -> None:
    with_dlp(restore_placeholders=True, scan_responses=False)
    r = client.post("/api/v1/chat", headers=auth_headers, json={
        "model": "gpt-test", "stream": True, "messages": [{"role": "user", "content": [
            {"type": "text", "text": f"mail {EMAIL} now"}]}]})
    events = [json.loads(line[6:]) for line in r.get_data(as_text=True).splitlines()
              if line.startswith("data: ")]
    notice = next(e for e in events if e["type"] == "dlp_notice")
    assert notice["findings"] == [{"type": "EMAIL", "count": 1, "action": "redact"}]
    text = "".join(e["text"] for e in events if e["type"] == "text_delta")
    assert text.endswith(f"mail {EMAIL} now")  # the echo came back with the original
    assert EMAIL not in json.dumps(upstreams.openai.state.requests[-1]["body"])


def test_blocked_request_never_reaches_a_provider(
        client: FlaskClient, auth_headers: dict[str, str], upstreams: Upstreams,
        with_dlp: Any) -> None:
    with_dlp(actions={"EMAIL": "block"})
    r = client.post("/v1/messages", headers=auth_headers, json={
        "model": "gemini-test", "max_tokens": 10,
        "messages": [{"role": "user", "content": f"mail {EMAIL}"}]})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "dlp_blocked"
    assert EMAIL not in r.get_data(as_text=True)
    assert upstreams.google.state.requests == []


def test_native_answer_reports_the_request_findings_without_answer_scanning(
        client: FlaskClient, auth_headers: dict[str, str], upstreams: Upstreams,
        with_dlp: Any) -> None:
    with_dlp()  # the default: answers are not scanned, placeholders not restored
    whole = client.post("/api/v1/chat", headers=auth_headers, json={
        "model": "gemini-test", "messages": [{"role": "user", "content": [
            {"type": "text", "text": f"mail {EMAIL} now"}]}]}).get_json()
    assert whole["dlp"] == [{"type": "EMAIL", "count": 1, "action": "redact"}]
    assert EMAIL not in str(upstreams.google.state.requests[-1]["body"])


def test_answers_are_filtered(client: FlaskClient, auth_headers: dict[str, str],
                              upstreams: Upstreams, with_dlp: Any) -> None:
    with_dlp(scan_responses=True)
    upstreams.ollama.state.default = upstreams.ollama.state.default.with_(
        text=f"write to {EMAIL} please")
    whole = client.post("/api/v1/chat", headers=auth_headers, json={
        "model": "llama-test", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "contact?"}]}]}).get_json()
    assert whole["content"][0]["text"] == "write to [EMAIL_1] please"
    assert whole["dlp"] == [{"type": "EMAIL", "count": 1, "action": "redact"}]
    r = client.post("/v1/chat/completions", json=ask("llama-test", "contact?", stream=True),
                    headers=auth_headers)
    body = r.get_data(as_text=True)
    assert EMAIL not in body and "[EMAIL_1]" in body and body.endswith("data: [DONE]\n\n")
