"""Outbound TLS: 1.3 minimum with verification always on; plain http only where allowed."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from gateway.config import Settings
from gateway.errors import ApiError
from gateway.router import build_router
from gateway.router.transport import TransportConfigError
from shared.chat import ChatRequest, Message, TextPart
from tests.emulators import Emulator
from tests.gateway.router.conftest import KEY

ASK = ChatRequest(model="gpt-test", messages=(Message("user", (TextPart("hi"),)),))


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA, version: ssl.TLSVersion) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = version
    return ctx


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def tls12(ca: trustme.CA) -> Iterator[Emulator]:
    with Emulator(tls=server_context(ca, ssl.TLSVersion.TLSv1_2), api_key=KEY) as emu:
        yield emu


@pytest.fixture
def tls13(ca: trustme.CA) -> Iterator[Emulator]:
    with Emulator(tls=server_context(ca, ssl.TLSVersion.TLSv1_3), api_key=KEY) as emu:
        yield emu


def router_for(url: str, catalog_path: str, **changes: Any) -> Any:
    return build_router(Settings(openai_base_url=url + "/v1", openai_api_key=KEY,
                                 router_catalog=catalog_path, router_retry_rounds=1,
                                 **changes))


def test_tls13_upstream_is_served(tls13: Emulator, ca_file: str, catalog_path: str) -> None:
    router = router_for(tls13.url, catalog_path, router_ca_bundle=ca_file)
    answer = router.complete(ASK, router.plan("gpt-test", "t", "acme"))
    assert answer.content == (TextPart("Hello from gpt-up. You said: hi"),)
    router.close()


def test_tls12_only_upstream_is_refused(tls12: Emulator, ca_file: str,
                                        catalog_path: str) -> None:
    import requests
    assert requests.post(tls12.url + "/v1/chat/completions", verify=ca_file, timeout=5,
                         json={}).status_code == 401  # the server works, over TLS 1.2
    router = router_for(tls12.url, catalog_path, router_ca_bundle=ca_file)
    with pytest.raises(ApiError) as caught:
        router.complete(ASK, router.plan("gpt-test", "t", "acme"))
    assert caught.value.status == 503 and "TLS" in caught.value.message
    assert len(tls12.state.requests) == 1  # only the control request above reached it
    router.close()


def test_untrusted_certificate_is_refused(tls13: Emulator, catalog_path: str) -> None:
    router = router_for(tls13.url, catalog_path)  # certifi's CAs do not include the test CA
    with pytest.raises(ApiError) as caught:
        router.complete(ASK, router.plan("gpt-test", "t", "acme"))
    assert "TLS" in caught.value.message and tls13.state.requests == []
    router.close()


def test_plain_http_only_to_listed_hosts(catalog_path: str) -> None:
    with pytest.raises(TransportConfigError, match="WORKJET_OPENAI_BASE_URL"):
        router_for("http://api.example.com", catalog_path)
    with pytest.raises(TransportConfigError, match="WORKJET_ROUTER_PLAIN_HTTP_HOSTS"):
        router_for("http://127.0.0.1:9", catalog_path, router_plain_http_hosts="localhost,::1")
    allowed = router_for("http://10.0.0.5:11434", catalog_path,
                         router_plain_http_hosts="10.0.0.5,localhost")
    assert allowed.endpoints["openai"].base_url == "http://10.0.0.5:11434/v1"
    allowed.close()


def test_sessions_ignore_the_environment(catalog_path: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    router = router_for("https://api.example.com", catalog_path)
    session = router.endpoints["openai"].session
    assert session.trust_env is False and session.verify
    router.close()


def test_redirects_are_not_followed_and_cookies_not_kept(catalog_path: str) -> None:
    import threading

    from flask import Flask, request
    from werkzeug.serving import make_server

    upstream = Flask("redirecting")
    seen: list[dict[str, str]] = []

    @upstream.post("/v1/chat/completions")
    def redirect() -> Any:
        seen.append(dict(request.headers))
        return "", 307, {"Location": "http://127.0.0.1:9/steal", "Set-Cookie": "lb=tenant-a"}

    server = make_server("127.0.0.1", 0, upstream, threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        router = router_for(f"http://127.0.0.1:{server.server_port}", catalog_path)
        for _ in range(2):
            with pytest.raises(ApiError):
                router.complete(ASK, router.plan("gpt-test", "t", "acme"))
        assert len(seen) == 2 and "Cookie" not in seen[1]  # no cookie carried over
        assert len(router.endpoints["openai"].session.cookies) == 0
        router.close()
    finally:
        server.shutdown()


def test_a_closed_connection_pool_is_replaced(tls13: Emulator, ca_file: str,
                                               catalog_path: str) -> None:
    # The adapters remember each URL's pool; one closed under them must not be reused.
    router = router_for(tls13.url, catalog_path, router_ca_bundle=ca_file)
    targets = router.plan("gpt-test", "t", "acme")
    for _ in range(2):
        assert router.complete(ASK, targets).content == (
            TextPart("Hello from gpt-up. You said: hi"),)
    router.endpoints["openai"].session.close()  # closes every pool of its adapters
    assert router.complete(ASK, targets).content == (TextPart("Hello from gpt-up. You said: hi"),)
    assert len(tls13.state.requests) == 3
    router.close()
