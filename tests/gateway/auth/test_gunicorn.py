"""Sign-in and device login across several gunicorn workers (HTTPS, Redis-backed limits):
nothing lives in one worker's memory, and revocation holds on every worker at once."""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

import pytest
import requests
import trustme

from gateway.auth.sessions import COOKIE_NAME
from tests.gateway.auth.oidc_provider import run_provider
from tests.gateway.server import GatewayServer
from tests.services import RedisServer

pytestmark = pytest.mark.integration


def test_device_login_across_two_workers(
    tmp_path: Path, test_ca: tuple[trustme.CA, str], redis_server: RedisServer
) -> None:
    ca, ca_path = test_ca
    leaf = ca.issue_cert("127.0.0.1")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    server = GatewayServer(tmp_path / "gw", workers=2, cafile=ca_path)
    public = f"https://127.0.0.1:{server.port}"
    with run_provider(public + "/auth/callback") as provider:
        server.env.update({
            "WORKJET_TLS_CERT": str(cert), "WORKJET_TLS_KEY": str(key),
            "WORKJET_PUBLIC_URL": public, "WORKJET_OIDC_ISSUER": provider.url,
            "WORKJET_OIDC_CLIENT_ID": provider.client_id,
            "WORKJET_OIDC_CLIENT_SECRET": provider.client_secret,
            "WORKJET_RATELIMIT_STORAGE_URI": redis_server.url,
            "WORKJET_DEVICE_POLL_INTERVAL": "1",
        })
        server.tls = True
        tenant_id = server.store.create_tenant("acme")
        server.store.tenant(tenant_id).add_domain("acme.test")
        provider.set_user("uma", email="uma@acme.test", email_verified=True)
        server.start()
        try:
            def browser() -> requests.Session:
                s = requests.Session()
                s.trust_env, s.verify = False, ca_path
                return s

            terminal = browser()
            code = terminal.post(f"{public}/api/v1/auth/device",
                                 json={"client_name": "uma's terminal"}).json()
            web = browser()
            start = web.get(code["verification_uri_complete"], allow_redirects=False)
            assert start.status_code == 303
            login = web.get(public + start.headers["Location"], allow_redirects=False)
            href = re.search(r'href="(/auth/login/start[^"]*)"', login.text)
            assert href, login.text
            to_provider = web.get(public + html.unescape(href.group(1)), allow_redirects=False)
            page = web.post(to_provider.headers["Location"], data={"sub": "uma"})
            assert page.status_code == 200 and "uma&#39;s terminal" in page.text, page.text
            assert web.cookies.get(COOKIE_NAME)
            csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
            assert csrf
            done = web.post(f"{public}/device", data={
                "csrf_token": csrf.group(1), "user_code": code["user_code"], "decision": "approve",
            })
            assert "now signed in" in done.text

            token = terminal.post(f"{public}/api/v1/auth/device/token",
                                  json={"device_code": code["device_code"]}).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            fresh = [browser() for _ in range(8)]  # new connections: both workers answer
            assert all(s.get(f"{public}/api/v1/me", headers=headers).status_code == 200
                       for s in fresh)
            assert terminal.post(f"{public}/api/v1/auth/logout", headers=headers).status_code == 204
            time.sleep(0.05)
            assert all(s.get(f"{public}/api/v1/me", headers=headers).status_code == 401
                       for s in [browser() for _ in range(8)])
        finally:
            server.stop()
