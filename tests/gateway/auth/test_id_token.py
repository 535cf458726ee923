"""ID token verification: signature against the issuer's JWKS (fetched from its discovery
document over HTTP), then iss, aud, exp, nonce and email_verified. The issuer here is a
small real HTTP server publishing keys; tokens are real RS256 JWS made with joserfc."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, jsonify
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

from gateway.auth.oidc import OidcClient, OidcError
from gateway.config import Settings

CLIENT_ID = "workjet-test-client"
NONCE = "n-0123456789"


@dataclass
class Issuer:
    url: str
    keys: list[RSAKey] = field(default_factory=list)

    def sign(self, key: RSAKey | None = None, alg: str = "RS256", **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url, "aud": CLIENT_ID, "sub": "s-1", "iat": now, "exp": now + 300,
            "nonce": NONCE, "email": "Alice@Acme.Test", "email_verified": True,
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        key = key or self.keys[0]
        return jwt.encode({"alg": alg, "kid": key.kid}, claims, key)


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    app = Flask("issuer")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    found = Issuer(f"http://127.0.0.1:{server.server_port}", [_key("k1")])

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Any:
        return jsonify(issuer=found.url, authorization_endpoint=f"{found.url}/authorize",
                       token_endpoint=f"{found.url}/token", jwks_uri=f"{found.url}/jwks")

    @app.get("/jwks")
    def jwks() -> Any:
        return jsonify(KeySet(list(found.keys)).as_dict(private=False))

    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield found
    server.shutdown()
    thread.join(5)


@functools.cache  # RSA key generation is slow; each distinct key is made once per run
def _key(kid: str, variant: int = 0) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


def client_for(issuer: Issuer) -> OidcClient:
    return OidcClient(Settings(
        oidc_issuer=issuer.url, oidc_client_id=CLIENT_ID, public_url="https://gw.test",
    ))


def test_valid_token_gives_the_identity(issuer: Issuer) -> None:
    identity = client_for(issuer).verify_id_token(issuer.sign(hd="Acme.Test"), NONCE)
    assert identity.email == "alice@acme.test"
    assert identity.hosted_domain == "acme.test"
    assert identity.subject == "s-1"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "another-client"}, "not valid"),
        ({"iss": "https://evil.test"}, "not valid"),
        ({"exp": int(time.time()) - 3600}, "not valid"),
        ({"exp": None}, "not valid"),
        ({"nonce": "other-nonce"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"email_verified": False}, "not verified"),
        ({"email_verified": "false"}, "not verified"),
        ({"email_verified": None}, "not verified"),
        ({"email": None}, "no email"),
        ({"aud": [CLIENT_ID, "other"], "azp": "other"}, "another client"),
    ],
)
def test_bad_claims_are_refused(issuer: Issuer, claims: dict[str, Any], reason: str) -> None:
    with pytest.raises(OidcError, match=reason):
        client_for(issuer).verify_id_token(issuer.sign(**claims), NONCE)


def test_signature_by_a_key_not_in_the_jwks_is_refused(issuer: Issuer) -> None:
    stranger = _key("k1", variant=1)  # same kid, different key
    with pytest.raises(OidcError, match="signature"):
        client_for(issuer).verify_id_token(issuer.sign(key=stranger), NONCE)


def test_tampered_payload_is_refused(issuer: Issuer) -> None:
    header, _payload, signature = issuer.sign().split(".")
    forged_payload = issuer.sign(email="mallory@acme.test").split(".")[1]
    with pytest.raises(OidcError, match="signature"):
        client_for(issuer).verify_id_token(f"{header}.{forged_payload}.{signature}", NONCE)


def test_unsigned_token_is_refused(issuer: Issuer) -> None:
    import base64
    import json

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    unsigned = b64({"alg": "none"}) + "." + b64({
        "iss": issuer.url, "aud": CLIENT_ID, "sub": "s", "exp": now + 60, "nonce": NONCE,
        "email": "a@acme.test", "email_verified": True,
    }) + "."
    with pytest.raises(OidcError):
        client_for(issuer).verify_id_token(unsigned, NONCE)


def test_rotated_keys_are_fetched_again(issuer: Issuer) -> None:
    client = client_for(issuer)
    client.verify_id_token(issuer.sign(), NONCE)  # keys cached now
    rotated = _key("k2")
    issuer.keys.append(rotated)
    identity = client.verify_id_token(issuer.sign(key=rotated), NONCE)
    assert identity.email == "alice@acme.test"


def test_discovery_naming_another_issuer_is_refused(issuer: Issuer) -> None:
    client = OidcClient(Settings(oidc_issuer=issuer.url.replace("127.0.0.1", "localhost"),
                                 oidc_client_id=CLIENT_ID, public_url="https://gw.test"))
    with pytest.raises(OidcError, match="another issuer"):
        client.metadata()
