"""Sessions: cookie attributes, CSRF on cookie-authenticated changes, immediate logout and
revocation (API and CLI), and API key management through the admin API."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.auth.sessions import COOKIE_NAME, csrf_token, set_session_cookie
from gateway.cli import main as cli_main
from tests.gateway.auth.helpers import actor

HTTPS = "https://localhost"


def _cookie_client(app: Flask, token: str) -> FlaskClient:
    client = app.test_client()
    client.set_cookie(COOKIE_NAME, token, domain="localhost", secure=True, path="/")
    return client


def test_cookie_attributes_are_exact(app: Flask) -> None:
    with app.test_request_context():
        response = app.response_class()
        set_session_cookie(response, "wj_sess_" + "x" * 43)
    header = response.headers["Set-Cookie"]
    parts = [p.strip() for p in header.split(";")]
    assert parts[0] == "__Host-workjet_session=wj_sess_" + "x" * 43
    assert set(parts[1:]) - {p for p in parts if p.startswith("Expires=")} == {
        "Secure", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=604800",
    }


def test_cookie_session_reads_without_csrf_but_changes_need_it(app: Flask) -> None:
    store = app.extensions["workjet"].store
    owner = actor(store, "acme", "owner@acme.test", "owner")
    client = _cookie_client(app, owner.session)
    assert client.get("/api/v1/me", base_url=HTTPS).status_code == 200

    refused = client.post("/api/v1/keys", base_url=HTTPS, json={"name": "x"})
    assert refused.status_code == 403
    assert "CSRF" in refused.get_json()["error"]["message"]
    wrong = client.post(
        "/api/v1/keys", base_url=HTTPS, json={"name": "x"}, headers={"X-CSRF-Token": "0" * 64}
    )
    assert wrong.status_code == 403
    assert len(store.tenant(owner.tenant_id).list_api_keys()) == 1  # nothing was created

    good = client.post(
        "/api/v1/keys", base_url=HTTPS, json={"name": "x"},
        headers={"X-CSRF-Token": csrf_token(owner.session)},
    )
    assert good.status_code == 201


def test_bearer_requests_need_no_csrf_token(app: Flask, client: FlaskClient) -> None:
    owner = actor(app.extensions["workjet"].store, "acme", "owner@acme.test", "owner")
    for headers in (owner.bearer, owner.session_bearer):
        assert client.post("/api/v1/keys", headers=headers, json={"name": "t"}).status_code == 201


def test_csrf_token_of_another_session_is_refused(app: Flask) -> None:
    store = app.extensions["workjet"].store
    owner = actor(store, "acme", "owner@acme.test", "owner")
    other = actor(store, "acme", "other@acme.test", "member")
    client = _cookie_client(app, owner.session)
    response = client.post(
        "/api/v1/auth/logout", base_url=HTTPS, headers={"X-CSRF-Token": csrf_token(other.session)}
    )
    assert response.status_code == 403
    assert client.get("/api/v1/me", base_url=HTTPS).status_code == 200


def test_logout_with_bearer_session_ends_it_at_once(app: Flask, client: FlaskClient) -> None:
    owner = actor(app.extensions["workjet"].store, "acme", "owner@acme.test", "owner")
    assert client.get("/api/v1/me", headers=owner.session_bearer).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=owner.session_bearer).status_code == 204
    assert client.get("/api/v1/me", headers=owner.session_bearer).status_code == 401
    # An API key is not a session: logout refuses it and says what to do.
    response = client.post("/api/v1/auth/logout", headers=owner.bearer)
    assert response.status_code == 400
    assert "DELETE /api/v1/keys" in response.get_json()["error"]["message"]


def test_browser_logout_clears_cookie_and_ends_session(app: Flask) -> None:
    owner = actor(app.extensions["workjet"].store, "acme", "owner@acme.test", "owner")
    client = _cookie_client(app, owner.session)
    form = {"csrf_token": csrf_token(owner.session)}
    page = client.post("/auth/logout", base_url=HTTPS, data=form)
    assert page.status_code == 200 and "signed out" in page.get_data(as_text=True)
    assert "__Host-workjet_session=;" in page.headers["Set-Cookie"]
    assert app.test_client().get("/api/v1/me", headers=owner.session_bearer).status_code == 401


def test_admin_revokes_a_session_and_a_key_with_immediate_effect(
    app: Flask, client: FlaskClient
) -> None:
    store = app.extensions["workjet"].store
    admin = actor(store, "acme", "admin@acme.test", "admin")
    member = actor(store, "acme", "member@acme.test", "member")
    listed = client.get("/api/v1/sessions", headers=admin.bearer).get_json()["sessions"]
    assert member.session_id in {s["id"] for s in listed}
    assert client.get("/api/v1/me", headers=member.session_bearer).status_code == 200
    revoked = client.delete(f"/api/v1/sessions/{member.session_id}", headers=admin.bearer)
    assert revoked.status_code == 204
    assert client.get("/api/v1/me", headers=member.session_bearer).status_code == 401
    gone = client.get(f"/api/v1/sessions/{member.session_id}", headers=admin.bearer)
    assert gone.status_code == 404

    assert client.get("/api/v1/me", headers=member.bearer).status_code == 200
    assert client.delete(f"/api/v1/keys/{member.key_id}", headers=admin.bearer).status_code == 204
    assert client.get("/api/v1/me", headers=member.bearer).status_code == 401
    key = client.get(f"/api/v1/keys/{member.key_id}", headers=admin.bearer).get_json()
    assert key["revoked_at"] is not None


def test_key_created_by_api_is_shown_once_and_works(app: Flask, client: FlaskClient) -> None:
    store = app.extensions["workjet"].store
    owner = actor(store, "acme", "owner@acme.test", "owner")
    created = client.post(
        "/api/v1/keys", headers=owner.bearer, json={"name": "ci", "expires_in": 3600}
    ).get_json()
    assert created["key"].startswith("wj_live_") and len(created["key"]) == 51
    assert created["display_prefix"] == created["key"][:12]
    assert created["expires_at"] is not None and created["created_by"] == owner.user_id
    listed = client.get("/api/v1/keys", headers=owner.bearer).get_json()["keys"]
    assert all("key" not in k for k in listed)
    fetched = client.get(f"/api/v1/keys/{created['id']}", headers=owner.bearer).get_json()
    assert "key" not in fetched
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {created['key']}"})
    assert me.get_json()["credential"]["id"] == created["id"]


def test_bad_admin_input_is_4xx_and_changes_nothing(app: Flask, client: FlaskClient) -> None:
    store = app.extensions["workjet"].store
    owner = actor(store, "acme", "owner@acme.test", "owner")
    h = owner.bearer
    for body in ({"email": "not-an-email"}, {"email": "x@y.test", "role": "god"}, [], {"email": 3}):
        assert client.post("/api/v1/users", headers=h, json=body).status_code == 400
    assert client.post("/api/v1/keys", headers=h, json={"expires_in": 1}).status_code == 400
    assert client.post("/api/v1/keys", headers=h, json={"name": "x" * 101}).status_code == 400
    duplicate = client.post("/api/v1/users", headers=h, json={"email": "owner@acme.test"})
    assert duplicate.status_code == 409
    assert len(store.tenant(owner.tenant_id).list_users()) == 1


def test_cli_lists_and_revokes(
    app: Flask, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    mp, cap = monkeypatch, capsys
    store = app.extensions["workjet"].store
    owner = actor(store, "acme", "owner@acme.test", "owner")
    mp.setenv("WORKJET_DATABASE_URL", store.url)

    assert cli_main(["user", "list", "--tenant", "acme"]) == 0
    assert f"{owner.user_id}\towner@acme.test\towner" in cap.readouterr().out
    assert cli_main(["key", "list", "--tenant", "acme"]) == 0
    out = cap.readouterr().out
    assert owner.key_id in out and owner.key not in out and "active" in out
    assert cli_main(["session", "list", "--tenant", "acme"]) == 0
    assert owner.session_id in cap.readouterr().out

    assert cli_main(["session", "revoke", "--tenant", "acme", owner.session_id]) == 0
    assert cli_main(["key", "revoke", "--tenant", "acme", owner.key_id]) == 0
    client = app.test_client()
    assert client.get("/api/v1/me", headers=owner.session_bearer).status_code == 401
    assert client.get("/api/v1/me", headers=owner.bearer).status_code == 401
    # Another tenant's id through the CLI: nothing happens.
    other = actor(store, "globex", "o@globex.test", "owner")
    assert cli_main(["key", "revoke", "--tenant", "acme", other.key_id]) == 1
    assert client.get("/api/v1/me", headers=other.bearer).status_code == 200


def test_expired_session_is_refused(app: Flask, client: FlaskClient) -> None:
    from gateway.store import schema

    store = app.extensions["workjet"].store
    owner = actor(store, "acme", "owner@acme.test", "owner")
    assert client.get("/api/v1/me", headers=owner.session_bearer).status_code == 200
    with store.engine.begin() as conn:
        conn.execute(schema.sessions.update().values(expires_at=1))
    assert client.get("/api/v1/me", headers=owner.session_bearer).status_code == 401
    assert client.get("/api/v1/sessions", headers=owner.bearer).get_json()["sessions"] == []


def test_malformed_session_tokens_are_401(app: Flask, client: FlaskClient) -> None:
    owner = actor(app.extensions["workjet"].store, "acme", "owner@acme.test", "owner")
    for token in (owner.session[:-1], owner.session + "A", "wj_sess_", owner.session.upper()):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_cli_admission_commands(
    app: Flask, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = app.extensions["workjet"].store
    owner = actor(store, "acme", "owner@acme.test", "owner")
    monkeypatch.setenv("WORKJET_DATABASE_URL", store.url)
    assert cli_main(["tenant", "allow-domain", "acme", "@Acme.Test"]) == 0
    assert store.tenant_for_domain("acme.test") == owner.tenant_id
    assert cli_main(["tenant", "domains", "acme"]) == 0
    assert capsys.readouterr().out.strip().endswith("acme.test")
    actor(store, "globex", "o@globex.test", "owner")
    assert cli_main(["tenant", "allow-domain", "globex", "acme.test"]) == 1  # one tenant per domain
    assert cli_main(["tenant", "allow-domain", "acme", "not a domain"]) == 1
    invite = ["user", "invite", "--tenant", "acme", "guest@gmail.test", "--role", "admin"]
    assert cli_main(invite) == 0
    assert store.tenants_inviting("guest@gmail.test") == [owner.tenant_id]
    assert cli_main(["tenant", "remove-domain", "acme", "acme.test"]) == 0
    assert store.tenant_for_domain("acme.test") is None


def test_removing_a_user_ends_their_credentials_at_once(app: Flask, client: FlaskClient) -> None:
    store = app.extensions["workjet"].store
    admin = actor(store, "acme", "admin@acme.test", "admin")
    member = actor(store, "acme", "member@acme.test", "member")
    owner = actor(store, "acme", "owner@acme.test", "owner")
    assert client.get("/api/v1/me", headers=member.bearer).status_code == 200
    assert client.delete(f"/api/v1/users/{member.user_id}", headers=admin.bearer).status_code == 204
    for headers in (member.bearer, member.session_bearer):
        assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get(f"/api/v1/users/{member.user_id}", headers=admin.bearer).status_code == 404
    # Admins cannot remove owners or themselves; members cannot remove anyone.
    assert client.delete(f"/api/v1/users/{owner.user_id}", headers=admin.bearer).status_code == 403
    assert client.delete(f"/api/v1/users/{admin.user_id}", headers=admin.bearer).status_code == 409
    other = actor(store, "acme", "other@acme.test", "member")
    assert client.delete(f"/api/v1/users/{admin.user_id}", headers=other.bearer).status_code == 403
    assert client.delete(f"/api/v1/users/{admin.user_id}", headers=owner.bearer).status_code == 204


def test_admin_actions_are_audited(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit = app.extensions["workjet"].audit
    seen: list[tuple[str, str, str, int]] = []
    original = audit.record

    def record(rec: Any) -> None:
        seen.append((rec.event, rec.tenant_id, rec.user_id, rec.status))
        original(rec)

    monkeypatch.setattr(audit, "record", record)
    store = app.extensions["workjet"].store
    owner = actor(store, "acme", "owner@acme.test", "owner")
    h = owner.bearer
    user = client.post("/api/v1/users", headers=h, json={"email": "n@acme.test"}).get_json()
    key = client.post("/api/v1/keys", headers=h, json={"user_id": user["id"]}).get_json()
    client.delete(f"/api/v1/keys/{key['id']}", headers=h)
    client.delete(f"/api/v1/keys/{key['id']}", headers=h)  # already revoked: no new event
    client.post("/api/v1/auth/logout", headers=owner.session_bearer)
    client.delete(f"/api/v1/users/{user['id']}", headers=h)
    t = owner.tenant_id
    assert [e for e in seen if e[0] != "audit_read"] == [
        ("user_created", t, user["id"], 200), ("key_created", t, user["id"], 200),
        ("key_revoked", t, user["id"], 200), ("sign_out", t, owner.user_id, 200),
        ("user_removed", t, user["id"], 200),
    ]


def test_role_changes_follow_the_rules(app: Flask, client: FlaskClient) -> None:
    store = app.extensions["workjet"].store
    owner = actor(store, "acme", "owner@acme.test", "owner")
    admin = actor(store, "acme", "admin@acme.test", "admin")
    member = actor(store, "acme", "member@acme.test", "member")

    def patch(who: Any, target: str, role: str) -> int:
        path = f"/api/v1/users/{target}"
        return int(client.patch(path, headers=who.bearer, json={"role": role}).status_code)

    assert patch(member, admin.user_id, "member") == 403  # members are not admins
    assert patch(admin, member.user_id, "owner") == 403  # only owners make owners
    assert patch(admin, owner.user_id, "member") == 403  # only owners touch owners
    assert patch(admin, admin.user_id, "member") == 409  # never one's own role
    assert patch(admin, member.user_id, "wizard") == 400
    assert patch(admin, member.user_id, "admin") == 200
    assert client.get("/api/v1/users", headers=member.bearer).status_code == 200  # at once
    assert patch(owner, admin.user_id, "owner") == 200
    assert store.tenant(owner.tenant_id).user_by_id(admin.user_id).role == "owner"
