"""Browser sign-in with OpenID Connect + PKCE against a real provider, through real redirects."""

from __future__ import annotations

import pytest

from gateway.auth.keys import hash_secret
from tests.gateway.auth.conftest import LiveGateway, query, session_cookie_header, signed_in
from tests.gateway.auth.oidc_provider import s256

pytestmark = pytest.mark.integration


def test_full_flow_signs_in_with_pkce_s256_and_sets_the_session_cookie(
    live: LiveGateway, acme: str
) -> None:
    live.provider.set_user("alice", email="alice@acme.test", email_verified=True)
    browser = live.browser()
    response = live.sign_in(browser, "alice")

    assert response.status_code == 200
    assert "alice@acme.test" in response.text and "acme" in response.text
    # PKCE S256: the challenge sent to the provider is the hash of the verifier redeemed.
    sent = live.provider.recorder.authorize_params[-1]
    redeemed = live.provider.recorder.token_params[-1]
    assert sent["code_challenge_method"] == "S256"
    assert sent["code_challenge"] == s256(redeemed["code_verifier"])
    assert sent["nonce"] and sent["state"] and sent["nonce"] != sent["state"]
    assert sent["redirect_uri"] == live.url + "/auth/callback"  # exact, from the settings
    # The cookie, exactly as the contract says.
    header = session_cookie_header(response)
    name_value, *attributes = [part.strip() for part in header.split(";")]
    assert name_value.startswith("__Host-workjet_session=wj_sess_")
    assert sorted(attributes) == sorted(
        ["Secure", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=604800"]
        + [a for a in attributes if a.startswith("Expires=")]
    )
    assert not any(a.lower().startswith("domain") for a in attributes)
    # The browser is now signed in: the API sees the person through the cookie.
    me = browser.get(f"{live.url}/api/v1/me").json()
    assert me["user"]["email"] == "alice@acme.test"
    assert me["user"]["role"] == "member"
    assert me["tenant"]["id"] == acme
    assert me["credential"]["kind"] == "session"
    token = name_value.split("=", 1)[1]
    assert live.store.session_by_hash(hash_secret(token)) is not None


def test_pages_carry_a_strict_policy_and_security_headers(live: LiveGateway) -> None:
    response = live.browser().get(f"{live.url}/auth/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "<script" not in response.text


def test_each_sign_in_issues_a_new_session_and_ends_the_old_one(
    live: LiveGateway, acme: str
) -> None:
    browser = signed_in(live, "bob", "bob@acme.test")
    first = browser.cookies.get("__Host-workjet_session")
    live.sign_in(browser, "bob")
    second = browser.cookies.get("__Host-workjet_session")
    assert first and second and first != second
    stale = live.browser()
    stale.cookies.set("__Host-workjet_session", first, domain="127.0.0.1", secure=True)
    assert stale.get(f"{live.url}/api/v1/me").status_code == 401


def test_a_preset_cookie_is_never_adopted_as_the_session(live: LiveGateway, acme: str) -> None:
    live.provider.set_user("fix", email="fix@acme.test", email_verified=True)
    browser = live.browser()
    planted = "wj_sess_" + "A" * 43
    browser.cookies.set("__Host-workjet_session", planted, domain="127.0.0.1", secure=True)
    live.sign_in(browser, "fix")
    assert browser.cookies.get("__Host-workjet_session") != planted


def test_tampered_state_is_refused(live: LiveGateway, acme: str) -> None:
    live.provider.set_user("carol", email="carol@acme.test", email_verified=True)
    browser = live.browser()
    callback = live.authorize(browser, live.begin(browser), "carol")
    state = query(callback)["state"]
    tampered = callback.replace(f"state={state}", f"state={state[:-2]}xy")
    response = browser.get(tampered)
    assert response.status_code == 400
    assert "unknown, expired or already used" in response.text
    assert "__Host-workjet_session" not in browser.cookies


def test_wrong_nonce_is_refused(live: LiveGateway, acme: str) -> None:
    live.provider.set_user("dave", email="dave@acme.test", email_verified=True)
    browser = live.browser()
    authorize_url = live.begin(browser)
    nonce = query(authorize_url)["nonce"]
    callback = live.authorize(browser, authorize_url.replace(nonce, "attacker-nonce"), "dave")
    response = browser.get(callback)
    assert response.status_code == 400
    assert "nonce" in response.text
    assert "__Host-workjet_session" not in browser.cookies


def test_replayed_code_is_refused(live: LiveGateway, acme: str) -> None:
    live.provider.set_user("erin", email="erin@acme.test", email_verified=True)
    browser = live.browser()
    callback = live.authorize(browser, live.begin(browser), "erin")
    assert browser.get(callback).status_code == 200  # signed in once
    # The same callback again: the transaction was used.
    replay = live.browser()
    assert replay.get(callback).status_code == 400
    # The old code under a fresh transaction of this browser: the provider refuses it.
    fresh_state = query(live.begin(replay))["state"]
    code = query(callback)["code"]
    response = replay.get(f"{live.url}/auth/callback?code={code}&state={fresh_state}")
    assert response.status_code == 400
    assert "refused the authorization code" in response.text
    assert "__Host-workjet_session" not in replay.cookies


def test_callback_without_the_verifier_holding_transaction_is_refused(
    live: LiveGateway, acme: str
) -> None:
    """The verifier lives server-side with the transaction bound to the browser that
    started it; a callback delivered to another browser has none and gets no session."""
    live.provider.set_user("fred", email="fred@acme.test", email_verified=True)
    victim = live.browser()
    callback = live.authorize(victim, live.begin(victim), "fred")
    attacker = live.browser()
    response = attacker.get(callback)
    assert response.status_code == 400
    assert "another browser" in response.text
    assert "__Host-workjet_session" not in attacker.cookies


def test_code_redeemed_without_the_verifier_is_refused_by_the_provider(
    live: LiveGateway, acme: str
) -> None:
    """A stolen code alone is useless: redeeming it without the PKCE verifier fails."""
    import requests

    live.provider.set_user("gina", email="gina@acme.test", email_verified=True)
    browser = live.browser()
    code = query(live.authorize(browser, live.begin(browser), "gina"))["code"]
    stolen = requests.post(
        f"{live.provider.url}/oauth2/token",
        data={"grant_type": "authorization_code", "code": code,
              "redirect_uri": live.url + "/auth/callback"},
        auth=(live.provider.client_id, live.provider.client_secret), timeout=5,
    )
    assert stolen.status_code == 400
    assert "PKCE" in stolen.text


def test_unverified_email_is_refused(live: LiveGateway, acme: str) -> None:
    live.provider.set_user("hank", email="hank@acme.test", email_verified=False)
    browser = live.browser()
    response = live.sign_in(browser, "hank")
    assert response.status_code == 400
    assert "not verified" in response.text
    assert "__Host-workjet_session" not in browser.cookies
    assert live.store.tenant(acme).user_by_email("hank@acme.test") is None


def test_foreign_domain_gets_the_not_allowed_page_and_no_session(
    live: LiveGateway, acme: str
) -> None:
    live.provider.set_user("ivan", email="ivan@elsewhere.test", email_verified=True)
    browser = live.browser()
    response = live.sign_in(browser, "ivan")
    assert response.status_code == 403
    assert "is not allowed" in response.text and "ivan@elsewhere.test" in response.text
    assert "__Host-workjet_session" not in browser.cookies
    assert live.store.memberships("ivan@elsewhere.test") == []


def test_hosted_domain_claim_admits(live: LiveGateway, acme: str) -> None:
    browser = signed_in(live, "jo", "jo@alias.example", hd="acme.test")
    assert browser.get(f"{live.url}/api/v1/me").json()["tenant"]["id"] == acme


def test_an_invite_admits_with_its_role(live: LiveGateway) -> None:
    tenant_id = live.store.create_tenant("globex")
    live.store.tenant(tenant_id).create_invite("kim@gmail.test", "admin", "test")
    browser = signed_in(live, "kim", "kim@gmail.test")
    me = browser.get(f"{live.url}/api/v1/me").json()
    assert me["tenant"]["name"] == "globex" and me["user"]["role"] == "admin"
    assert live.store.tenant(tenant_id).list_invites() == []  # used up


def test_redirect_uri_ignores_the_request_host(live: LiveGateway, acme: str) -> None:
    browser = live.browser()
    response = browser.get(
        f"{live.url}/auth/login/start", headers={"Host": "evil.test"}, allow_redirects=False
    )
    assert query(response.headers["Location"])["redirect_uri"] == live.url + "/auth/callback"


def test_open_redirects_are_not_followed(live: LiveGateway, acme: str) -> None:
    live.provider.set_user("lea", email="lea@acme.test", email_verified=True)
    browser = live.browser()
    response = live.sign_in(browser, "lea", next_path="//evil.test/x")
    assert response.url.startswith(live.url + "/auth/login")


def test_sign_ins_are_audited_including_refusals(
    live: LiveGateway, acme: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit = live.app.extensions["workjet"].audit
    seen: list[tuple[str, str, int]] = []
    original = audit.record

    def record(rec: object) -> None:
        seen.append((rec.event, rec.tenant_id, rec.status))  # type: ignore[attr-defined]
        original(rec)

    monkeypatch.setattr(audit, "record", record)
    signed_in(live, "tom", "tom@acme.test")
    live.provider.set_user("una", email="una@elsewhere.test", email_verified=True)
    live.sign_in(live.browser(), "una")
    assert seen == [("user_created", acme, 200), ("sign_in", acme, 200), ("sign_in", "", 403)]
    seen.clear()
    signed_in(live, "tom", "tom@acme.test")  # the second time, only a sign-in
    assert seen == [("sign_in", acme, 200)]
