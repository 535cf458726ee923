"""Fixtures for the auth tests: a real OIDC provider, and the gateway under a real HTTPS
server (werkzeug in a thread, TLS from a test CA) wired to it, plus a browser helper.

The gateway is served over HTTPS because its cookies are ``Secure`` (``__Host-``): a
browser, like ``requests``, never sends them over plain HTTP.
"""

from __future__ import annotations

import json
import logging
import re
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import trustme
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from gateway import create_app
from gateway.config import Settings
from gateway.services import Services
from gateway.store import Store
from tests.emulators import Emulator
from tests.gateway.auth.oidc_provider import OidcProvider, run_provider
from tests.services.process import free_port

PROVIDER_KEY = "test-provider-key"


@dataclass
class LiveGateway:
    url: str
    app: Flask
    store: Store
    settings: Settings
    provider: OidcProvider
    ca_path: str
    db_path: Path

    def browser(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
        session.verify = self.ca_path
        return session

    def sign_in(
        self, browser: requests.Session, sub: str, next_path: str = ""
    ) -> requests.Response:
        """The whole sign-in through real redirects: gateway → provider form → callback."""
        start = f"{self.url}/auth/login/start" + (f"?next={next_path}" if next_path else "")
        authorize = browser.get(start, allow_redirects=False)
        assert authorize.status_code == 302, authorize.text
        return browser.post(authorize.headers["Location"], data={"sub": sub})

    def begin(self, browser: requests.Session) -> str:
        """Start a sign-in and return the provider's authorize URL (not yet visited)."""
        response = browser.get(f"{self.url}/auth/login/start", allow_redirects=False)
        assert response.status_code == 302
        return str(response.headers["Location"])

    def authorize(self, browser: requests.Session, authorize_url: str, sub: str) -> str:
        """Consent at the provider; returns the callback URL it redirects to (not followed)."""
        response = browser.post(authorize_url, data={"sub": sub}, allow_redirects=False)
        assert response.status_code == 302, response.text
        location = str(response.headers["Location"])
        assert location.startswith(self.url + "/auth/callback?")
        return location


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def session_cookie_header(response: requests.Response) -> str:
    for name, value in response.raw.headers.items():
        if name.lower() == "set-cookie" and value.startswith("__Host-workjet_session="):
            return str(value)
    for previous in response.history:
        found = session_cookie_header(previous)
        if found:
            return found
    return ""


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, str]:
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, str(path)


def _serve(app: Flask, port: int, context: ssl.SSLContext) -> BaseWSGIServer:
    server = make_server("127.0.0.1", port, app, threaded=True, ssl_context=context)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server


@pytest.fixture
def live(
    tmp_path: Path, test_ca: tuple[trustme.CA, str], caplog: pytest.LogCaptureFixture
) -> Iterator[LiveGateway]:
    caplog.set_level(logging.DEBUG)  # capture every log line: the no-plaintext test reads them
    ca, ca_path = test_ca
    port = free_port()
    public = f"https://127.0.0.1:{port}"
    catalog = tmp_path / "catalog.json"  # one model, answered by an OpenAI wire emulator
    catalog.write_text(json.dumps({"models": [{
        "id": "gpt-test", "provider": "openai", "upstream": "gpt-up", "context_window": 1000,
        "input_price_per_mtok": 1.0, "output_price_per_mtok": 1.0, "capabilities": [],
    }]}))
    with run_provider(public + "/auth/callback") as provider, \
            Emulator(api_key=PROVIDER_KEY) as upstream:
        db_path = tmp_path / "gateway.db"
        settings = Settings(
            openai_base_url=upstream.url + "/v1", openai_api_key=PROVIDER_KEY,
            router_catalog=str(catalog),
            database_url=f"sqlite:///{db_path}", audit_url=(tmp_path / "audit").as_uri(),
            public_url=public, oidc_issuer=provider.url, oidc_client_id=provider.client_id,
            oidc_client_secret=provider.client_secret, device_poll_interval=1,
            device_code_ttl=60, device_verify_limit="8 per 5 minutes",
        )
        app = create_app({"settings": settings, "TESTING": True})
        services: Services = app.extensions["workjet"]
        services.store.migrate()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        server = _serve(app, port, context)
        try:
            yield LiveGateway(public, app, services.store, settings, provider, ca_path, db_path)
        finally:
            server.shutdown()
            server.server_close()
            services.close()


@pytest.fixture
def acme(live: LiveGateway) -> str:
    """Tenant ``acme`` admitting verified identities of acme.test; returns its id."""
    tenant_id = live.store.create_tenant("acme")
    live.store.tenant(tenant_id).add_domain("acme.test")
    return tenant_id


def signed_in(live: LiveGateway, sub: str, email: str, **claims: Any) -> requests.Session:
    live.provider.set_user(sub, email=email, email_verified=True, **claims)
    browser = live.browser()
    response = live.sign_in(browser, sub)
    assert response.status_code == 200, response.text
    assert "Signed in" in response.text
    return browser


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)
