"""A small gateway on loopback that speaks the native API contract, for client tests.

It is a test double of Workjet's own API (not of a model provider): a real HTTP/1.1
server with chunked server-sent events, so the client's real ``requests`` stack,
SSE parser and cancellation are exercised. End-to-end tests use the real gateway.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "wj_live_" + "A" * 43
SESSION = "wj_sess_" + "B" * 43

MODELS = {
    "models": [
        {
            "id": "claude-emulated",
            "provider": "anthropic",
            "context_window": 200000,
            "input_price_per_mtok": 3.0,
            "output_price_per_mtok": 15.0,
            "capabilities": ["streaming", "tools"],
        },
        {
            "id": "gpt-emulated",
            "provider": "openai",
            "context_window": 128000,
            "input_price_per_mtok": 2.5,
            "output_price_per_mtok": 10.0,
            "capabilities": ["streaming"],
        },
    ]
}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_AWS = re.compile(r"AKIA[0-9A-Z]{16}")


def default_answer(prompt: str, model: str) -> str:
    return (
        f"**{model}** heard: {prompt}\n\nHere is code:\n\n```python\nprint('hello')\n```\n\nDone."
    )


@dataclass
class Recorded:
    method: str
    path: str
    authorization: str
    body: Any


@dataclass
class FakeGateway:
    host: str = "127.0.0.1"
    port: int = 0
    token_delay: float = 0.002
    tokens: set[str] = field(default_factory=lambda: {API_KEY})
    requests: list[Recorded] = field(default_factory=list)
    fail_next: list[tuple[int, str, str, dict[str, str]]] = field(default_factory=list)
    answer: Any = default_answer
    device_approved: bool = False
    logged_out: list[str] = field(default_factory=list)
    cancelled: threading.Event = field(default_factory=threading.Event)
    stream_started: threading.Event = field(default_factory=threading.Event)
    # When set, and the request offers this tool, the model asks for it with these
    # arguments (stop_reason tool_use); after the tool's result it answers with the result.
    # The call's id is the same in every round, as providers that number calls anew give.
    tool_call: tuple[str, dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        gateway = self

        class Handler(_Handler):
            fake = gateway

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> FakeGateway:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def chats(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/api/v1/chat"]


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGateway
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keep test output clean
        return

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else None

    def _send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("X-Request-Id", "req-test")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def _error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        body = {"error": {"code": code, "message": message, "request_id": "req-test"}}
        self._send_json(status, body, headers)

    def _authorised(self) -> bool:
        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        if token in self.fake.tokens:
            return True
        self._error(401, "unauthenticated", "the API key or session is not valid")
        return False

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        body = self._body() if method == "POST" else None
        fake = self.fake
        fake.requests.append(
            Recorded(method, self.path, self.headers.get("Authorization", ""), body)
        )
        if self.path == "/api/v1/auth/device" and method == "POST":
            return self._send_json(200, {
                "device_code": "dev-code-1", "user_code": "WXYZ-1234",
                "verification_uri": f"{fake.url}/device",
                "verification_uri_complete": f"{fake.url}/device?code=WXYZ-1234",
                "expires_in": 600, "interval": 1,
            })
        if self.path == "/api/v1/auth/device/token" and method == "POST":
            if not fake.device_approved:
                return self._error(400, "authorization_pending", "waiting")  # type: ignore[arg-type]
            fake.tokens.add(SESSION)
            return self._send_json(
                200, {"access_token": SESSION, "token_type": "Bearer", "expires_in": 3600}
            )
        if fake.fail_next:
            status, code, message, headers = fake.fail_next.pop(0)
            return self._error(status, code, message, headers)
        if not self._authorised():
            return None
        if self.path == "/api/v1/me":
            return self._send_json(200, {
                "tenant": {"id": "t1", "name": "local"},
                "user": {"id": "u1", "email": "admin@localhost", "role": "owner"},
            })
        if self.path == "/api/v1/models":
            return self._send_json(200, MODELS)
        if self.path == "/api/v1/auth/logout" and method == "POST":
            token = self.headers["Authorization"].removeprefix("Bearer ")
            fake.logged_out.append(token)
            fake.tokens.discard(token)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if self.path == "/api/v1/chat" and method == "POST":
            return self._chat(body)
        return self._error(404, "not_found", "no such endpoint")

    def _chat(self, body: dict[str, Any]) -> None:
        if self._tool_round(body):
            return None
        prompt = ""
        for part in body["messages"][-1]["content"]:
            if part.get("type") == "text":
                prompt = part["text"]
        if "BLOCKME" in prompt:
            return self._error(422, "dlp_blocked", "the message holds a private key")
        findings = []
        redacted = prompt
        for kind, pattern in (("EMAIL", _EMAIL), ("AWS_KEY", _AWS)):
            n = len(pattern.findall(redacted))
            if n:
                findings.append({"type": kind, "count": n, "action": "redact"})
                redacted = pattern.sub(f"[{kind}]", redacted)
        answer = self.fake.answer(redacted, body["model"])
        if not body.get("stream"):
            return self._send_json(200, {
                "id": "msg_1", "model": body["model"], "provider": "anthropic",
                "content": [{"type": "text", "text": answer}], "stop_reason": "end_turn",
                "usage": {"input_tokens": 10, "output_tokens": 20, "cost": 0.0003},
                "dlp": findings,
            })
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        events: list[dict[str, Any]] = [
            {"type": "message_start", "id": "msg_1", "model": body["model"],
             "provider": "anthropic"}
        ]
        if findings:
            events.append({"type": "dlp_notice", "findings": findings, "direction": "request"})
        pieces = re.findall(r"\S+\s*|\s+", answer)
        self.fake.stream_started.set()
        try:
            self._chunk(b": keep-alive\n\n")
            for event in events:
                self._event(event)
            for piece in pieces:
                self._event({"type": "text_delta", "text": piece})
                if self.fake.token_delay:
                    time.sleep(self.fake.token_delay)
            self._event({"type": "usage", "input_tokens": 12, "output_tokens": len(pieces),
                         "cost": 0.000123})
            self._event({"type": "message_end", "stop_reason": "end_turn"})
            self._chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            self.fake.cancelled.set()
            self.close_connection = True

    def _tool_round(self, body: dict[str, Any]) -> bool:
        """Play the model's side of a tool call (see ``FakeGateway.tool_call``)."""
        call = self.fake.tool_call
        offered = {t["name"] for t in body.get("tools") or ()}
        if call is None or call[0] not in offered or not body.get("stream"):
            return False
        last = body["messages"][-1]
        if last["role"] == "user":
            events: list[dict[str, Any]] = [
                {"type": "text_delta", "text": "Let me check."},
                {"type": "tool_call_start", "index": 0, "id": "call_1", "name": call[0]},
                {"type": "tool_call_delta", "index": 0, "arguments_delta": json.dumps(call[1])},
                {"type": "tool_call_end", "index": 0},
            ]
            stop = "tool_use"
        else:
            said = [p.get("content", "") for p in last["content"]]
            events = [{"type": "text_delta", "text": f"The tool said: {' '.join(said)}"}]
            stop = "end_turn"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._event({"type": "message_start", "id": "msg_t", "model": body["model"],
                     "provider": "anthropic"})
        for event in events:
            self._event(event)
        self._event({"type": "usage", "input_tokens": 5, "output_tokens": 5, "cost": 0.00001})
        self._event({"type": "message_end", "stop_reason": stop})
        self._chunk(b"")
        return True

    def _event(self, event: dict[str, Any]) -> None:
        self._chunk(b"data: " + json.dumps(event).encode() + b"\n\n")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()
