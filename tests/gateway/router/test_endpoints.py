"""The chat endpoints through the Flask app: native API, compat front doors, errors, audit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.audit import AuditRecord
from tests.emulators import Behaviour
from tests.gateway.router.conftest import Upstreams

CANARY = "canary-7f3a9e1c-content"


def native(model: str, text: str = CANARY, **kw: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": [
        {"type": "text", "text": text}]}], **kw}


def sse_events(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in body.decode().splitlines()
            if line.startswith("data: ")]


def audited(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[AuditRecord]:
    """Records the pipeline hands to the real audit log (which still writes them)."""
    audit = app.extensions["workjet"].audit
    seen: list[AuditRecord] = []
    original = audit.record

    def record(rec: AuditRecord) -> None:
        seen.append(rec)
        original(rec)

    monkeypatch.setattr(audit, "record", record)
    return seen


def test_native_chat_whole_and_audited(app: Flask, client: FlaskClient,
                                       auth_headers: dict[str, str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    records = audited(app, monkeypatch)
    r = client.post("/api/v1/chat", json=native("claude-test"), headers=auth_headers)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["provider"] == "anthropic" and body["model"] == "claude-test"
    assert body["content"][0]["text"].endswith(CANARY)
    assert body["usage"]["cost"] > 0 and body["stop_reason"] == "end_turn"
    [rec] = records
    assert (rec.model, rec.provider, rec.status, rec.endpoint) == (
        "claude-test", "anthropic", 200, "/api/v1/chat")
    assert rec.output_tokens == body["usage"]["output_tokens"] and rec.cost > 0
    assert rec.request_id == r.headers["X-Request-Id"] and rec.latency_ms > 0
    app.extensions["workjet"].audit.close()
    root = Path(str(app.extensions["workjet"].settings.audit_url).removeprefix("file://"))
    written = b"".join(p.read_bytes() for p in root.parent.rglob("*") if p.is_file())
    assert CANARY.encode() not in written  # metadata only, nowhere on disk


def test_native_stream_events_in_order(client: FlaskClient,
                                       auth_headers: dict[str, str]) -> None:
    r = client.post("/api/v1/chat", json=native("gemini-test", stream=True),
                    headers=auth_headers)
    assert r.status_code == 200 and r.mimetype == "text/event-stream"
    events = sse_events(r.data)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["usage", "message_end"]
    assert "".join(e["text"] for e in events if e["type"] == "text_delta").endswith(CANARY)


def test_models_lists_the_tenants_catalog(client: FlaskClient,
                                          auth_headers: dict[str, str]) -> None:
    native_list = client.get("/api/v1/models", headers=auth_headers).get_json()
    assert {m["id"] for m in native_list["models"]} == {
        "gpt-test", "claude-test", "gemini-test", "llama-test"}
    assert all("input_price_per_mtok" in m for m in native_list["models"])
    openai_list = client.get("/v1/models", headers=auth_headers).get_json()
    assert openai_list["object"] == "list" and len(openai_list["data"]) == 4


def test_unknown_model_and_bad_bodies_are_4xx(client: FlaskClient,
                                              auth_headers: dict[str, str]) -> None:
    r = client.post("/api/v1/chat", json=native("nope"), headers=auth_headers)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "model_not_allowed"
    r = client.post("/v1/chat/completions", headers=auth_headers,
                    json={"model": "gpt-test", "messages": [{"role": "wizard"}]})
    assert r.status_code == 400 and "messages[0].role" in r.get_json()["error"]["message"]
    r = client.post("/v1/messages", headers=auth_headers,
                    json={"model": "gpt-test", "max_tokens": 5, "messages": [
                        {"role": "user", "content": [{"type": "image", "source": {}}]}]})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "validation_failed"
    r = client.post("/api/v1/chat", json=native("gpt-test"))
    assert r.status_code == 401


def test_provider_errors_become_the_error_body(client: FlaskClient, upstreams: Upstreams,
                                               auth_headers: dict[str, str]) -> None:
    upstreams.openai.state.default = Behaviour(status=429, retry_after="20")
    r = client.post("/v1/chat/completions", headers=auth_headers,
                    json={"model": "gpt-test", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 429 and r.headers["Retry-After"] == "20"
    assert r.get_json()["error"]["code"] == "rate_limited"
    assert r.get_json()["error"]["request_id"] == r.headers["X-Request-Id"]


def test_stream_error_after_first_byte_is_an_error_event(
        client: FlaskClient, upstreams: Upstreams, auth_headers: dict[str, str]) -> None:
    upstreams.ollama.state.push(Behaviour(break_after=2))
    r = client.post("/api/v1/chat", json=native("llama-test", "a b c d e f", stream=True),
                    headers=auth_headers)
    events = sse_events(r.data)
    assert events[0]["type"] == "message_start" and events[-1]["type"] == "error"
    assert events[-1]["error"]["code"] == "provider_error"
    assert events[-1]["error"]["request_id"] == r.headers["X-Request-Id"]


def test_audit_outage_is_never_silent(app: Flask, client: FlaskClient, upstreams: Upstreams,
                                      auth_headers: dict[str, str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.audit.spool import AuditUnavailableError

    audit = app.extensions["workjet"].audit

    def refuse(*_: Any) -> None:
        raise AuditUnavailableError("spool full")

    monkeypatch.setattr(audit, "admit", refuse)
    r = client.post("/v1/chat/completions", headers=auth_headers,
                    json={"model": "gpt-test", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "audit_unavailable"
    assert upstreams.openai.state.requests == []  # refused before any provider call
    monkeypatch.undo()
    monkeypatch.setattr(audit, "record", refuse)
    r = client.post("/api/v1/chat", json=native("gpt-test", stream=True), headers=auth_headers)
    events = sse_events(r.data)
    assert events[-1]["type"] == "error" and events[-1]["error"]["code"] == "audit_unavailable"


def test_budget_refuses_before_the_provider_and_settles_usage(
        settings: Any, upstreams: Upstreams) -> None:
    from gateway import create_app
    from tests.gateway.server import provision

    app = create_app({"settings": settings.replace(budget_key_tokens_per_minute=500),
                      "TESTING": True})
    app.extensions["workjet"].store.migrate()
    who = provision(app.extensions["workjet"].store, "acme", "a@acme.test", "owner")
    client, headers = app.test_client(), {"Authorization": f"Bearer {who.key}"}
    big = {"model": "gpt-test", "max_tokens": 1000,
           "messages": [{"role": "user", "content": "hi"}]}
    r = client.post("/v1/chat/completions", json=big, headers=headers)
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "budget_exceeded"
    assert upstreams.openai.state.requests == []
    small = {**big, "max_tokens": 100}
    for _ in range(8):  # settled at real usage (a few tokens), not the 100 reserved
        assert client.post("/v1/chat/completions", json=small, headers=headers).status_code \
            == 200
    app.extensions["workjet"].close()
