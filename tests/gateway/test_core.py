"""The gateway core as a client sees it: error bodies, request ids, limits, health."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from flask import Blueprint, Flask, Response, jsonify
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway import create_app
from gateway.api.body import parse_json
from gateway.config import Settings
from shared import ChatRequest, to_wire
from tests.gateway.server import Provisioned
from tests.services import free_port


@pytest.fixture
def echo_app(app: Flask) -> Flask:
    """The app plus a JSON endpoint that parses a ChatRequest, to exercise body parsing."""
    bp = Blueprint("echo", __name__)

    @bp.post("/test/echo")
    def echo() -> Response:
        return jsonify(to_wire(parse_json(ChatRequest)))

    app.register_blueprint(bp)
    return app


def assert_error_body(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]
    assert len(body["error"]["request_id"]) == 24
    return body


def test_healthz_is_alive(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["X-Request-Id"]


def test_request_ids_differ(client: FlaskClient) -> None:
    ids = {client.get("/healthz").headers["X-Request-Id"] for _ in range(5)}
    assert len(ids) == 5


def test_unknown_path_is_404_body(client: FlaskClient) -> None:
    assert_error_body(client.get("/no/such/thing"), 404, "not_found")


def test_wrong_method_is_405_body_with_allow(client: FlaskClient) -> None:
    response = client.post("/healthz")
    assert_error_body(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_missing_key_is_401(client: FlaskClient) -> None:
    response = client.get("/api/v1/me")
    assert_error_body(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer wj_live_" + "A" * 43,  # well-formed, unknown
        "Bearer wj_live_short",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
    ],
)
def test_bad_credentials_are_401(client: FlaskClient, header: str) -> None:
    assert_error_body(client.get("/api/v1/me", headers={"Authorization": header}), 401,
                      "unauthenticated")


def test_valid_key_resolves_tenant_and_user(
    client: FlaskClient, principal: Provisioned, auth_headers: dict[str, str]
) -> None:
    response = client.get("/api/v1/me", headers=auth_headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["tenant"] == {"id": principal.tenant_id, "name": "acme"}
    assert body["user"]["email"] == "owner@acme.test"
    assert body["user"]["role"] == "owner"
    assert body["credential"] == {"id": principal.key_id, "kind": "api_key"}


def test_revoked_key_is_refused_on_next_request(
    app: Flask, client: FlaskClient, principal: Provisioned, auth_headers: dict[str, str]
) -> None:
    assert client.get("/api/v1/me", headers=auth_headers).status_code == 200
    store = app.extensions["workjet"].store
    assert store.tenant(principal.tenant_id).revoke_api_key(principal.key_id)
    assert_error_body(client.get("/api/v1/me", headers=auth_headers), 401, "unauthenticated")


def test_key_of_another_tenant_cannot_revoke(app: Flask, principal: Provisioned) -> None:
    store = app.extensions["workjet"].store
    other = store.create_tenant("other")
    assert not store.tenant(other).revoke_api_key(principal.key_id)


def test_malformed_json_is_400(echo_app: Flask) -> None:
    response = echo_app.test_client().post(
        "/test/echo", data=b'{"model": "m", "messages": [', content_type="application/json"
    )
    body = assert_error_body(response, 400, "invalid_json")
    assert "JSON" in body["error"]["message"]


def test_invalid_shape_names_the_field(echo_app: Flask) -> None:
    response = echo_app.test_client().post(
        "/test/echo",
        json={"model": "m", "messages": [{"role": "robot", "content": []}]},
    )
    body = assert_error_body(response, 400, "validation_failed")
    assert "messages[0].role" in body["error"]["message"]


def test_deep_json_is_400(echo_app: Flask) -> None:
    deep = "[" * 5000 + "]" * 5000
    response = echo_app.test_client().post(
        "/test/echo", data=deep, content_type="application/json"
    )
    assert_error_body(response, 400, "invalid_json")


def test_non_json_is_415(echo_app: Flask) -> None:
    response = echo_app.test_client().post("/test/echo", data="hello", content_type="text/plain")
    assert_error_body(response, 415, "unsupported_media_type")


def test_body_over_limit_is_413(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'g.db'}",
        audit_url=(tmp_path / "audit").as_uri(),
        max_body_bytes=1000,
    )
    app = create_app({"settings": settings})
    bp = Blueprint("echo", __name__)

    @bp.post("/test/echo")
    def echo() -> Response:
        return jsonify(to_wire(parse_json(ChatRequest)))

    app.register_blueprint(bp)
    response = app.test_client().post(
        "/test/echo", json={"model": "m", "messages": [], "pad": "x" * 5000}
    )
    assert_error_body(response, 413, "payload_too_large")


def test_unexpected_error_is_500_without_details(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    bp = Blueprint("boom", __name__)

    @bp.get("/test/boom")
    def boom() -> Response:
        raise RuntimeError("secret internal detail")

    app.register_blueprint(bp)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.testing = False
    response = app.test_client().get("/test/boom")
    body = assert_error_body(response, 500, "internal_error")
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert body["error"]["request_id"] in caplog.text


def test_access_log_has_no_query_or_credentials(
    client: FlaskClient, auth_headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="workjet")
    client.get("/api/v1/me?code=SECRETCODE123", headers=auth_headers)
    lines = [r.getMessage() for r in caplog.records if r.name == "workjet.access"]
    assert len(lines) == 1
    assert lines[0].startswith("GET /api/v1/me 200 ")
    assert "request_id=" in lines[0]
    assert "SECRETCODE123" not in caplog.text
    assert auth_headers["Authorization"].split()[1] not in caplog.text


def test_readyz_ready(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["ratelimit_storage"] == "ok"


def test_readyz_names_the_failed_database(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "g.db"
    settings = Settings(database_url=f"sqlite:///{missing}", audit_url=(tmp_path / "a").as_uri())
    app = create_app({"settings": settings})
    response = app.test_client().get("/readyz")
    body = assert_error_body_503(response)
    assert body["checks"]["database"].startswith("failed")
    assert "database" in body["error"]["message"]


def test_readyz_unmigrated_database_is_not_ready(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'g.db'}", audit_url=(tmp_path / "a").as_uri()
    )
    app = create_app({"settings": settings})
    body = assert_error_body_503(app.test_client().get("/readyz"))
    assert body["checks"]["database"].startswith("failed")


def test_readyz_names_the_failed_ratelimit_storage(settings: Settings) -> None:
    dead = f"redis://127.0.0.1:{free_port()}"
    app = create_app({"settings": settings.replace(ratelimit_storage_uri=dead)})
    app.extensions["workjet"].store.migrate()
    body = assert_error_body_503(app.test_client().get("/readyz"))
    assert body["checks"]["ratelimit_storage"].startswith("failed")
    assert body["checks"]["database"] == "ok"


def assert_error_body_503(response: TestResponse) -> dict[str, Any]:
    assert response.status_code == 503
    body: dict[str, Any] = response.get_json()
    assert body["status"] == "unavailable"
    assert body["error"]["code"] == "service_unavailable"
    return body


def test_anthropic_style_x_api_key_header_authenticates(
    client: FlaskClient, principal: Provisioned
) -> None:
    response = client.get("/api/v1/me", headers={"x-api-key": principal.key})
    assert response.status_code == 200
    assert response.get_json()["user"]["email"] == "owner@acme.test"
    wrong = client.get("/api/v1/me", headers={"x-api-key": principal.key[:-2] + "zz"})
    assert_error_body(wrong, 401, "unauthenticated")
