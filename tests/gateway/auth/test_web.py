"""Pages without a configured sign-in provider say what the operator must set, and every
page carries the security headers."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from gateway.web.blueprint import SECURITY_HEADERS, safe_return_path


def test_unconfigured_sign_in_says_what_to_set(client: FlaskClient) -> None:
    page = client.get("/auth/login")
    assert page.status_code == 200
    assert "WORKJET_OIDC_CLIENT_ID" in page.get_data(as_text=True)
    assert client.get("/auth/login/start").status_code == 503
    device = client.post("/api/v1/auth/device", json={"client_name": "t"})
    assert device.status_code == 503
    assert "WORKJET_PUBLIC_URL" in device.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/auth/login"), ("GET", "/auth/login/start"), ("GET", "/auth/callback"),
     ("POST", "/auth/logout"), ("GET", "/device"), ("GET", "/device?code=BCDF-GHJK")],
)
def test_every_page_sends_the_security_headers(
    client: FlaskClient, method: str, path: str
) -> None:
    response = client.open(path, method=method)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name
    assert "script-src" not in response.headers["Content-Security-Policy"]


def test_callback_without_state_is_refused(client: FlaskClient) -> None:
    response = client.get("/auth/callback?code=abc")
    assert response.status_code == 400
    assert "Sign-in did not complete" in response.get_data(as_text=True)


def test_signed_out_page_clears_the_cookie(client: FlaskClient) -> None:
    response = client.post("/auth/logout")
    assert response.status_code == 200 and "signed out" in response.get_data(as_text=True)
    assert response.headers["Set-Cookie"].startswith("__Host-workjet_session=;")


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [("/device?code=X", "/device?code=X"), ("//evil.test", "/auth/login"),
     ("/\\evil.test", "/auth/login"), ("https://evil.test", "/auth/login"),
     ("/a\nb", "/auth/login"), (None, "/auth/login"), ("", "/auth/login")],
)
def test_return_paths_stay_local(candidate: str | None, expected: str) -> None:
    assert safe_return_path(candidate) == expected
