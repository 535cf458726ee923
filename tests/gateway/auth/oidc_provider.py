"""The real OpenID Connect provider ``oidc-provider-mock`` on a loopback port, for tests.

It runs in a werkzeug server thread (a real HTTP server: the gateway and the test's
browser reach it over TCP). ``PkceEnforcer`` wraps it the way Google behaves: an
authorization code issued for a ``code_challenge`` is only redeemed with the matching
``code_verifier`` (the mock itself does not check PKCE). It also records what the
gateway sent, so tests can check the S256 challenge and the verifier.
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import oidc_provider_mock
import requests
from werkzeug.serving import make_server

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class PkceEnforcer:
    app: Callable[[Environ, StartResponse], Iterable[bytes]]
    authorize_params: list[dict[str, str]] = field(default_factory=list)
    token_params: list[dict[str, str]] = field(default_factory=list)
    challenges: dict[str, str] = field(default_factory=dict)  # code -> challenge
    _pending: dict[str, str] = field(default_factory=dict)  # state -> challenge

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/oauth2/authorize":
            query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            self.authorize_params.append(query)
            if "code_challenge" in query:
                self._pending[query.get("state", "")] = query["code_challenge"]

            def capture(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
                for name, value in headers:
                    if name.lower() == "location":
                        params = parse_qs(urlsplit(value).query)
                        if "code" in params:
                            state = params.get("state", [""])[0]
                            if state in self._pending:
                                self.challenges[params["code"][0]] = self._pending[state]
                return start_response(status, headers, *rest)

            return self.app(environ, capture)
        if path == "/oauth2/token":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            self.token_params.append(form)
            challenge = self.challenges.get(form.get("code", ""))
            verifier = form.get("code_verifier")
            if challenge is not None and (verifier is None or s256(verifier) != challenge):
                start_response("400 Bad Request", [("Content-Type", "application/json")])
                return [b'{"error": "invalid_grant", '
                        b'"error_description": "PKCE verification failed"}']
        return self.app(environ, start_response)


@dataclass
class OidcProvider:
    url: str
    client_id: str
    client_secret: str
    recorder: PkceEnforcer

    def set_user(self, sub: str, **claims: Any) -> None:
        response = requests.put(f"{self.url}/users/{sub}", json=claims, timeout=5)
        response.raise_for_status()


@contextmanager
def run_provider(redirect_uri: str) -> Iterator[OidcProvider]:
    app = oidc_provider_mock.app(require_client_registration=True, require_nonce=True)
    recorder = PkceEnforcer(app)
    server = make_server("127.0.0.1", 0, recorder, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        registered = requests.post(
            f"{url}/oauth2/clients",
            json={"redirect_uris": [redirect_uri],
                  "token_endpoint_auth_method": "client_secret_basic"},
            timeout=5,
        )
        registered.raise_for_status()
        data = registered.json()
        yield OidcProvider(url, data["client_id"], data["client_secret"], recorder)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
