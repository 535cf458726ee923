"""Device login for the terminal, end to end over HTTPS: code, browser approval, polling,
token, authenticated calls; and expiry, reuse, denial, slow_down and guessing limits."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from gateway.auth.device import USER_CODE_ALPHABET
from tests.gateway.auth.conftest import LiveGateway, csrf_from, signed_in

pytestmark = pytest.mark.integration


def start(live: LiveGateway, name: str = "laptop (ssh)") -> dict[str, Any]:
    response = live.browser().post(f"{live.url}/api/v1/auth/device", json={"client_name": name})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def poll(live: LiveGateway, device_code: str) -> requests.Response:
    return live.browser().post(
        f"{live.url}/api/v1/auth/device/token", json={"device_code": device_code}
    )


def approve(live: LiveGateway, browser: requests.Session, url: str, decision: str) -> str:
    page = browser.get(url)
    assert page.status_code == 200, page.text
    done = browser.post(
        f"{live.url}/device",
        data={"csrf_token": csrf_from(page.text), "user_code": _code(page.text),
              "decision": decision},
    )
    assert done.status_code == 200, done.text
    return done.text


def _code(html: str) -> str:
    import re

    match = re.search(r'name="user_code" value="([A-Z-]+)"', html)
    assert match
    return match.group(1)


def test_device_login_end_to_end(live: LiveGateway, acme: str) -> None:
    code = start(live, "mia's laptop")
    assert code["verification_uri"] == f"{live.url}/device"
    assert code["verification_uri_complete"] == f"{live.url}/device?code={code['user_code']}"
    assert code["interval"] == 1 and code["expires_in"] == 60
    user_code = code["user_code"]
    assert len(user_code) == 9 and user_code[4] == "-"
    assert set(user_code.replace("-", "")) <= set(USER_CODE_ALPHABET)

    pending = poll(live, code["device_code"])
    assert pending.status_code == 400
    assert pending.json()["error"]["code"] == "authorization_pending"

    browser = signed_in(live, "mia", "mia@acme.test")
    page = browser.get(code["verification_uri_complete"])
    assert "mia&#39;s laptop" in page.text and "mia@acme.test" in page.text  # who asks, as whom
    assert "Approved" not in page.text
    done = approve(live, browser, code["verification_uri_complete"], "approve")
    assert "now signed in" in done

    time.sleep(1.05)  # respect the interval
    token = poll(live, code["device_code"])
    assert token.status_code == 200, token.text
    assert token.headers["Cache-Control"] == "no-store"
    body = token.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 604800
    assert body["access_token"].startswith("wj_sess_") and len(body["access_token"]) == 51

    headers = {"Authorization": f"Bearer {body['access_token']}"}
    me = live.browser().get(f"{live.url}/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["user"]["email"] == "mia@acme.test"
    assert me.json()["credential"]["kind"] == "session"
    chat = live.browser().post(f"{live.url}/api/v1/chat", headers=headers, json={
        "model": "gpt-test",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hello device"}]}],
    })
    assert chat.status_code == 200, chat.text
    assert chat.json()["content"][0]["text"].endswith("hello device")  # the emulator echoes
    sessions = live.browser().get(f"{live.url}/api/v1/sessions", headers=headers).json()
    assert any(s["kind"] == "device" and s["client_name"] == "mia's laptop"
               for s in sessions["sessions"])

    # Single use: the approved code cannot be redeemed twice.
    time.sleep(1.05)
    again = poll(live, code["device_code"])
    assert again.status_code == 400 and again.json()["error"]["code"] == "expired_token"

    # Logout ends the terminal's session at once.
    assert live.browser().post(f"{live.url}/api/v1/auth/logout", headers=headers).status_code == 204
    assert live.browser().get(f"{live.url}/api/v1/me", headers=headers).status_code == 401


def test_polling_too_fast_gets_slow_down(live: LiveGateway) -> None:
    code = start(live)
    assert poll(live, code["device_code"]).json()["error"]["code"] == "authorization_pending"
    fast = poll(live, code["device_code"])
    assert fast.status_code == 400 and fast.json()["error"]["code"] == "slow_down"


def test_denied_device_gets_access_denied(live: LiveGateway, acme: str) -> None:
    code = start(live)
    browser = signed_in(live, "ned", "ned@acme.test")
    assert "denied" in approve(live, browser, code["verification_uri_complete"], "deny")
    assert poll(live, code["device_code"]).json()["error"]["code"] == "access_denied"


def test_expired_code_cannot_be_approved_or_redeemed(live: LiveGateway, acme: str) -> None:
    code = start(live)
    from gateway.store import schema

    with live.store.engine.begin() as conn:  # age the code past its expiry
        conn.execute(schema.device_codes.update().values(expires_at=int(time.time()) - 1))
    browser = signed_in(live, "ola", "ola@acme.test")
    page = browser.get(code["verification_uri_complete"])
    assert page.status_code == 404 and "unknown or has expired" in page.text
    assert poll(live, code["device_code"]).json()["error"]["code"] == "expired_token"


def test_user_code_entry_is_typo_tolerant(live: LiveGateway, acme: str) -> None:
    code = start(live)
    browser = signed_in(live, "pia", "pia@acme.test")
    sloppy = " " + code["user_code"].lower().replace("-", " ") + " "
    page = browser.get(f"{live.url}/device", params={"code": sloppy})
    assert page.status_code == 200 and code["user_code"] in page.text


def test_guessing_user_codes_is_throttled(live: LiveGateway, acme: str) -> None:
    browser = signed_in(live, "quinn", "quinn@acme.test")
    statuses = [
        browser.get(f"{live.url}/device", params={"code": "BBBB-BBBB"}).status_code
        for _ in range(9)
    ]
    assert statuses[:8] == [404] * 8
    assert statuses[8] == 429
    # Even the right code is refused while throttled.
    code = start(live)
    blocked = browser.get(code["verification_uri_complete"])
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert "Too many attempts" in blocked.text


def test_approval_needs_a_signed_in_browser(live: LiveGateway) -> None:
    code = start(live)
    response = live.browser().get(code["verification_uri_complete"], allow_redirects=False)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/auth/login?next=")


def test_approval_without_csrf_token_is_refused(live: LiveGateway, acme: str) -> None:
    code = start(live)
    browser = signed_in(live, "ray", "ray@acme.test")
    response = browser.post(
        f"{live.url}/device", data={"user_code": code["user_code"], "decision": "approve"}
    )
    assert response.status_code == 403
    assert response.headers["Content-Type"].startswith("text/html")  # a page, for a person
    assert "CSRF token" in response.text
    assert poll(live, code["device_code"]).json()["error"]["code"] == "authorization_pending"


def test_bad_device_requests_get_4xx(live: LiveGateway) -> None:
    b = live.browser()
    assert b.post(f"{live.url}/api/v1/auth/device", json={}).status_code == 400
    too_long = {"client_name": "x" * 101}
    assert b.post(f"{live.url}/api/v1/auth/device", json=too_long).status_code == 400
    assert b.post(f"{live.url}/api/v1/auth/device", data="client_name=x").status_code == 415
    unknown = poll(live, "wj_dev_" + "A" * 43)
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "expired_token"
