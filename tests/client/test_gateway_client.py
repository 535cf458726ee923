"""The gateway client against a loopback gateway speaking the native API."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme

from client.errors import (
    GatewayError,
    GatewayUnreachableError,
    RateLimitedError,
    SignedOutError,
)
from client.gateway_client import DevicePending, GatewayClient
from client.settings import SettingsError
from client.sse import SseParser
from shared.chat import ChatRequest, Message, TextPart
from shared.events import DlpNotice, MessageEnd, TextDelta, UsageEvent
from tests.client.fake_gateway import API_KEY, SESSION, FakeGateway


def _request(text: str, model: str = "claude-emulated") -> ChatRequest:
    return ChatRequest(model=model, messages=(Message("user", (TextPart(text),)),))


@pytest.fixture
def gateway():
    with FakeGateway() as gw:
        yield gw


def test_models_me_and_bearer_header(gateway) -> None:
    client = GatewayClient(gateway.url, lambda: API_KEY)
    assert [m.id for m in client.models().models] == ["claude-emulated", "gpt-emulated"]
    assert client.me()["user"]["email"] == "admin@localhost"
    assert {r.authorization for r in gateway.requests} == {f"Bearer {API_KEY}"}


def test_stream_yields_shared_events_with_dlp_notice(gateway) -> None:
    client = GatewayClient(gateway.url, lambda: API_KEY)
    with client.stream_chat(_request("mail bob@example.org please")) as stream:
        events = list(stream)
    notice = next(e for e in events if isinstance(e, DlpNotice))
    assert [(f.type, f.count) for f in notice.findings] == [("EMAIL", 1)]
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert "heard: mail [EMAIL] please" in text
    assert isinstance(events[-1], MessageEnd)
    assert any(isinstance(e, UsageEvent) for e in events)
    assert gateway.chats()[0].body["stream"] is True


def test_closing_a_stream_from_another_thread_closes_the_connection(gateway) -> None:
    gateway.token_delay = 0.05
    gateway.answer = lambda prompt, model: "word " * 400
    client = GatewayClient(gateway.url, lambda: API_KEY)
    stream = client.stream_chat(_request("long"))
    seen: list[object] = []
    done = threading.Event()

    def read() -> None:
        for event in stream:
            seen.append(event)
        done.set()

    threading.Thread(target=read, daemon=True).start()
    time.sleep(0.3)
    stream.close()
    assert done.wait(2), "the reader must stop at once when the stream is closed"
    assert gateway.cancelled.wait(5), "the gateway must see the connection closed"
    assert 1 < len(seen) < 100


def test_error_messages_say_what_to_do(gateway) -> None:
    client = GatewayClient(gateway.url, lambda: "wj_live_" + "Z" * 43)
    with pytest.raises(SignedOutError, match="Sign in again"):
        client.models()
    client = GatewayClient(gateway.url, lambda: API_KEY)
    gateway.fail_next.append((429, "rate_limited", "Too many requests", {"Retry-After": "42"}))
    with pytest.raises(RateLimitedError, match=r"Try again in 42 s \(at \d\d:\d\d:\d\d\)") as err:
        client.stream_chat(_request("hi"))
    assert err.value.retry_after == 42
    with pytest.raises(GatewayError, match="data-protection policy"):
        client.stream_chat(_request("BLOCKME"))
    with pytest.raises(SignedOutError, match="not signed in"):
        GatewayClient(gateway.url, lambda: None).models()


def test_connection_refused_names_the_url() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = GatewayClient(f"http://127.0.0.1:{port}", lambda: API_KEY)
    with pytest.raises(GatewayUnreachableError, match=rf"http://127.0.0.1:{port}/api/v1/models.*"
                       r"connection refused"):
        client.models()


def test_plain_http_is_refused_off_loopback() -> None:
    with pytest.raises(SettingsError, match="plain http"):
        GatewayClient("http://gw.example.org", lambda: API_KEY)


def test_device_login_and_logout(gateway) -> None:
    client = GatewayClient(gateway.url, lambda: None)
    login = client.start_device_login()
    assert login.user_code == "WXYZ-1234" and login.interval == 1
    with pytest.raises(DevicePending):
        client.poll_device_token(login.device_code)
    gateway.device_approved = True
    token = client.poll_device_token(login.device_code)
    assert token == SESSION
    GatewayClient(gateway.url, lambda: token).logout()
    assert gateway.logged_out == [SESSION]


def test_sse_parser_handles_split_lines_comments_and_crlf() -> None:
    parser = SseParser()
    out = []
    for piece in (b": keep-alive\r\n\r\nda", b"ta: {\"a\":", b"1}\r", b"\n\r\n", b"data: x\n\n"):
        out += parser.feed(piece)
    assert out == [b'{"a":1}', b"x"]


# --- TLS -------------------------------------------------------------------------------


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"models": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a: object) -> None:
        return


def _tls_server(ca: trustme.CA, max_version: ssl.TLSVersion):
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    ctx.maximum_version = max_version
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_tls13_required_and_ca_bundle_used(tmp_path) -> None:
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    modern = _tls_server(ca, ssl.TLSVersion.TLSv1_3)
    old = _tls_server(ca, ssl.TLSVersion.TLSv1_2)
    try:
        ok = GatewayClient(f"https://localhost:{modern.server_address[1]}", lambda: API_KEY,
                           ca_bundle=str(ca_file))
        assert ok.models().models == ()
        untrusted = GatewayClient(f"https://localhost:{modern.server_address[1]}",
                                  lambda: API_KEY)
        with pytest.raises(GatewayUnreachableError, match=r"TLS 1\.3.*CERTIFICATE_VERIFY_FAILED"):
            untrusted.models()
        legacy = GatewayClient(f"https://localhost:{old.server_address[1]}", lambda: API_KEY,
                               ca_bundle=str(ca_file))
        with pytest.raises(GatewayUnreachableError, match=r"TLS 1\.3"):
            legacy.models()
    finally:
        modern.shutdown()
        old.shutdown()
