"""After real sign-ins, device logins and key creation, no API key, session token or device
code appears in the database files or in any captured log line."""

from __future__ import annotations

import time

import pytest

from tests.gateway.auth.conftest import LiveGateway, csrf_from, signed_in

pytestmark = pytest.mark.integration


def test_no_secret_in_database_or_logs(
    live: LiveGateway, acme: str, caplog: pytest.LogCaptureFixture
) -> None:
    secrets: list[str] = []
    browser = signed_in(live, "sam", "sam@acme.test")
    cookie = browser.cookies.get("__Host-workjet_session")
    assert cookie
    secrets.append(cookie)

    # A terminal signs in with a device code, approved by the browser.
    b = live.browser()
    code = b.post(f"{live.url}/api/v1/auth/device", json={"client_name": "term"}).json()
    secrets.append(code["device_code"])
    page = browser.get(code["verification_uri_complete"])
    browser.post(f"{live.url}/device", data={
        "csrf_token": csrf_from(page.text), "user_code": code["user_code"], "decision": "approve",
    })
    token = b.post(f"{live.url}/api/v1/auth/device/token",
                   json={"device_code": code["device_code"]}).json()["access_token"]
    secrets.append(token)

    # The terminal's session makes an API key, which is then used.
    bearer = {"Authorization": f"Bearer {token}"}
    key = b.post(f"{live.url}/api/v1/keys", headers=bearer, json={"name": "ci"}).json()["key"]
    secrets.append(key)
    assert b.get(f"{live.url}/api/v1/me", headers={"Authorization": f"Bearer {key}"}).ok
    b.post(f"{live.url}/api/v1/auth/logout", headers=bearer)
    time.sleep(0.1)
    live.app.extensions["workjet"].close()  # flush last-used times, checkpoint nothing more

    files = [p for p in live.db_path.parent.iterdir() if p.name.startswith("gateway.db")]
    assert files
    blobs = {str(p): p.read_bytes() for p in files}
    logs = caplog.text
    assert "POST /api/v1/auth/device/token 200" in logs  # the access log was captured
    for secret in secrets:
        random_part = secret[-20:]  # also catches a truncated copy
        for name, blob in blobs.items():
            assert secret.encode() not in blob, f"a secret is in {name}"
            assert random_part.encode() not in blob, f"part of a secret is in {name}"
        assert random_part not in logs, "a secret is in the logs"
