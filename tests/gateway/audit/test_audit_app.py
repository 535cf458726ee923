"""The audit log inside the app: 503 audit_unavailable when the spool is full (refuse),
serving on with a loud log under alarm, and /readyz telling which."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gateway import create_app
from gateway.config import Settings
from gateway.services import Services
from tests.gateway.audit.support import record


def full_app(tmp_path: Path, policy: str):  # type: ignore[no-untyped-def]
    sink = tmp_path / "audit"
    sink.write_text("not a directory")  # the audit store refuses every upload (even root's)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'gw.db'}",
        audit_url=sink.as_uri(),
        audit_spool_max_bytes=65536,
        audit_full_policy=policy,  # type: ignore[arg-type]
        audit_upload_interval=0.05,
    )
    app = create_app({"settings": settings, "TESTING": True})
    services: Services = app.extensions["workjet"]
    services.store.migrate()
    while not services.audit.status().spool_full:
        services.audit.record(record())
    return app, services, sink


def test_refuse_policy_answers_503_audit_unavailable_and_readyz_fails(tmp_path: Path) -> None:
    app, services, sink = full_app(tmp_path, "refuse")
    try:
        client = app.test_client()
        resp = client.post("/api/v1/keys", json={"name": "x"})
        assert resp.status_code == 503
        body = resp.get_json()["error"]
        assert body["code"] == "audit_unavailable" and body["request_id"]
        for path in ("/api/v1/chat", "/v1/chat/completions", "/v1/messages"):
            resp = client.post(path, json={})  # refused before auth, parsing or a provider
            assert resp.status_code == 503, path
            assert resp.get_json()["error"]["code"] == "audit_unavailable"
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.get_json()["checks"]["audit"] != "ok"
        assert client.get("/healthz").status_code == 200  # alive, just not ready
        # The store stays away: refusing holds, however long.
        assert not services.audit.flush()
        assert client.post("/api/v1/keys", json={"name": "x"}).status_code == 503
        sink.unlink()  # the store is back: the spool drains and requests pass again
        assert services.audit.flush()
        assert client.get("/readyz").get_json()["checks"]["audit"] == "ok"
        assert client.post("/api/v1/keys", json={"name": "x"}).status_code == 401
    finally:
        services.close()


def test_alarm_policy_keeps_serving_and_logs_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="gateway.audit.spool"):
        app, services, _sink = full_app(tmp_path, "alarm")
    try:
        client = app.test_client()
        assert client.post("/api/v1/keys", json={"name": "x"}).status_code == 401
        services.audit.record(record())  # still recorded, never dropped
        assert services.audit.status().alarms > 0
        assert any("AUDIT SPOOL FULL" in r.getMessage() for r in caplog.records)
        assert client.get("/readyz").get_json()["checks"]["audit"] == "ok"
    finally:
        services.close()


def test_record_event_takes_who_and_where_from_the_request(tmp_path: Path) -> None:
    from flask import g

    from gateway.audit.ext import record_event
    from gateway.audit.sinks import FileSink
    from gateway.auth.principal import Principal
    from tests.gateway.audit.support import stored_lines

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'gw.db'}",
                        audit_url=(tmp_path / "audit").as_uri())
    app = create_app({"settings": settings, "TESTING": True})
    services: Services = app.extensions["workjet"]
    try:
        with app.test_request_context("/api/v1/keys", method="POST",
                                      environ_base={"REMOTE_ADDR": "203.0.113.9"}):
            g.request_id = "req-1"
            g.principal = Principal("tn_1", "acme", "us_1", "a@acme.test", "admin", "key_1",
                                    "api_key")
            record_event("key_created", status=201)
            with pytest.raises(ValueError, match="unknown audit event"):
                record_event("said something")
        assert services.audit.flush()
        [line] = stored_lines(FileSink(tmp_path / "audit"), "tn_1")
        assert (line["kind"], line["event"], line["user_id"], line["principal_id"],
                line["client_address"], line["endpoint"], line["request_id"],
                line["status"]) == ("admin", "key_created", "us_1", "key_1", "203.0.113.9",
                                    "/api/v1/keys", "req-1", 201)
    finally:
        services.close()
