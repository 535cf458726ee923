"""Run the provider emulators as a real HTTP(S) server on a free loopback port.

One Flask app speaks all four wire protocols (their paths do not collide); start one
server per upstream endpoint a test needs, each with its own ``EmulatorState``.
"""

from __future__ import annotations

import ssl
import threading
import time
from types import TracebackType
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

from tests.emulators import anthropic_wire, google_wire, ollama_wire, openai_wire
from tests.emulators.behaviour import Behaviour, EmulatorState


def create_emulator_app(state: EmulatorState) -> Flask:
    app = Flask("provider_emulator")
    app.config["EMULATOR_STATE"] = state
    openai_wire.register(app, state)
    anthropic_wire.register(app, state)
    google_wire.register(app, state)
    ollama_wire.register(app, state)
    return app


def begin(state: EmulatorState, protocol: str, body: dict[str, Any]) -> Behaviour:
    """Record the request, pick the behaviour and wait out its latency."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    behaviour = state.take({"protocol": protocol, "path": request.path, "headers": headers,
                            "body": body, "query": dict(request.args),
                            "client_port": request.environ.get("REMOTE_PORT")})
    if behaviour.latency:
        time.sleep(behaviour.latency)
    return behaviour


def error_response(body: dict[str, Any], status: int, behaviour: Behaviour) -> Response:
    response = jsonify(body)
    response.status_code = status
    if behaviour.retry_after is not None:
        response.headers["Retry-After"] = behaviour.retry_after
    return response


def sse_response(chunks: Any) -> Response:
    return Response(chunks, mimetype="text/event-stream", headers={"Cache-Control": "no-cache"})


class Emulator:
    """Context manager: ``with Emulator() as emu: emu.url, emu.state``.

    ``tls`` is an ``ssl.SSLContext`` for HTTPS (the tests build it from trustme).
    """

    def __init__(self, tls: ssl.SSLContext | None = None, api_key: str = "test-provider-key"):
        self.state = EmulatorState(api_key)
        self._tls = tls
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "emulator not started"
        scheme = "https" if self._tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_port}"

    def start(self) -> Emulator:
        app = create_emulator_app(self.state)
        self._server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=self._tls)
        self._server.daemon_threads = True  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
