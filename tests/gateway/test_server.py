"""The gateway served by gunicorn as deployed: plain HTTP flow and TLS 1.3 as the minimum."""

from __future__ import annotations

import http.client
import ssl
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme

from tests.gateway.server import provision

pytestmark = pytest.mark.integration


def test_served_flow(gateway_server: Any) -> None:
    server = gateway_server()
    who = provision(server.store, "acme", "ann@acme.test")
    assert requests.get(f"{server.url}/healthz", timeout=5).json() == {"status": "ok"}
    missing = requests.get(f"{server.url}/nope", timeout=5)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    ok = requests.get(f"{server.url}/api/v1/me",
                      headers={"Authorization": f"Bearer {who.key}"}, timeout=5)
    assert ok.status_code == 200 and ok.json()["tenant"]["name"] == "acme"
    wrong = requests.get(f"{server.url}/api/v1/me",
                         headers={"Authorization": f"Bearer {who.key[:-1]}x"}, timeout=5)
    assert wrong.status_code == 401
    assert wrong.json()["error"]["request_id"] == wrong.headers["X-Request-Id"]
    deadline = time.monotonic() + 2  # access lines are written in batches (0.25 s)
    while "GET /api/v1/me 200" not in (log := server.log_tail()):
        assert time.monotonic() < deadline, log
        time.sleep(0.05)
    assert who.key not in log


@pytest.fixture
def certs(tmp_path: Path) -> dict[str, str]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    paths = {name: str(tmp_path / f"{name}.pem") for name in ("ca", "cert", "key")}
    ca.cert_pem.write_to_path(paths["ca"])
    cert.private_key_pem.write_to_path(paths["key"])
    cert.cert_chain_pems[0].write_to_path(paths["cert"])
    return paths


def _client_context(cafile: str, version: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=cafile)
    context.minimum_version = version
    context.maximum_version = version
    return context


def test_tls13_served_and_tls12_refused(gateway_server: Any, certs: dict[str, str]) -> None:
    server = gateway_server(
        env={"WORKJET_TLS_CERT": certs["cert"], "WORKJET_TLS_KEY": certs["key"]},
        cafile=certs["ca"],
    )
    tls13 = http.client.HTTPSConnection(
        "127.0.0.1", server.port, context=_client_context(certs["ca"], ssl.TLSVersion.TLSv1_3),
        timeout=5,
    )
    tls13.request("GET", "/healthz")
    response = tls13.getresponse()
    assert response.status == 200
    assert tls13.sock.version() == "TLSv1.3"  # type: ignore[union-attr]
    tls13.close()

    tls12 = http.client.HTTPSConnection(
        "127.0.0.1", server.port, context=_client_context(certs["ca"], ssl.TLSVersion.TLSv1_2),
        timeout=5,
    )
    with pytest.raises(ssl.SSLError, match=r"(?i)protocol version|unsupported protocol"):
        tls12.request("GET", "/healthz")
    tls12.close()
