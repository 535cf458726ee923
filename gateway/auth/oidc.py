"""OpenID Connect sign-in (Google by default): authorization code flow with PKCE S256.

Endpoints come from the issuer's discovery document, so the issuer is configurable.
Authlib's ``OAuth2Session`` builds the authorization URL (``state``, ``nonce``, S256
``code_challenge``) and redeems the code with the ``code_verifier``; the ID token's
signature is checked against the issuer's JWKS (joserfc, Authlib's JOSE library) along
with ``iss``, ``aud``, ``exp``, ``nonce`` and ``email_verified``. The redirect URI is
built from ``WORKJET_PUBLIC_URL`` alone, never from the request, so it matches exactly
what is registered with the provider.
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2 import OAuth2Error
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from gateway.config import Settings

CALLBACK_PATH = "/auth/callback"
SCOPE = "openid email profile"
METADATA_TTL = 3600.0  # seconds the discovery document and keys are reused
HTTP_TIMEOUT = 10.0
CLOCK_LEEWAY = 60  # seconds of clock difference tolerated on exp/iat
# Google documents both spellings of its issuer in ID tokens.
_ISSUER_ALIASES = {"https://accounts.google.com": ("accounts.google.com",)}


class OidcError(Exception):
    """Sign-in failed; the message is safe to show and to log (no tokens in it)."""


@dataclass(frozen=True)
class Identity:
    subject: str
    email: str
    hosted_domain: str  # Google's ``hd`` claim, "" when absent


class OidcClient:
    """One per app; holds the issuer's metadata and keys for ``METADATA_TTL`` seconds."""

    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        self.client_secret = settings.oidc_client_secret
        self.redirect_uri = settings.public_url.rstrip("/") + CALLBACK_PATH
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._fetched_at = 0.0

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.issuer and self.redirect_uri.startswith("http"))

    def _session(self) -> OAuth2Session:
        return OAuth2Session(
            self.client_id, self.client_secret, scope=SCOPE, redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
        )

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = requests.get(url, timeout=HTTP_TIMEOUT)
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise OidcError(f"the sign-in provider did not answer ({type(exc).__name__})") from exc
        if not isinstance(data, dict):
            raise OidcError("the sign-in provider answered something unexpected")
        return data

    def metadata(self, refresh: bool = False) -> dict[str, Any]:
        with self._lock:
            fresh = time.monotonic() - self._fetched_at < METADATA_TTL
            if self._metadata is not None and fresh and not refresh:
                return self._metadata
            meta = self._get_json(self.issuer + "/.well-known/openid-configuration")
            if str(meta.get("issuer", "")).rstrip("/") != self.issuer:
                raise OidcError("the discovery document names another issuer")
            for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(meta.get(field), str):
                    raise OidcError(f"the discovery document lacks {field}")
            self._keys = KeySet.import_key_set(self._get_json(meta["jwks_uri"]))  # type: ignore[arg-type]
            self._metadata, self._fetched_at = meta, time.monotonic()
            return meta

    def authorization_url(self, *, state: str, nonce: str, code_verifier: str) -> str:
        meta = self.metadata()
        url, _ = self._session().create_authorization_url(
            meta["authorization_endpoint"], state=state, code_verifier=code_verifier,
            nonce=nonce, prompt="select_account",
        )
        return str(url)

    def exchange(self, *, code: str, code_verifier: str, nonce: str) -> Identity:
        """Redeem the code (with the PKCE verifier) and verify the ID token."""
        meta = self.metadata()
        try:
            token = self._session().fetch_token(
                meta["token_endpoint"], grant_type="authorization_code", code=code,
                code_verifier=code_verifier, timeout=HTTP_TIMEOUT,
            )
        except (OAuthError, OAuth2Error, requests.RequestException, ValueError) as exc:
            raise OidcError("the sign-in provider refused the authorization code") from exc
        id_token = token.get("id_token") if isinstance(token, dict) else None
        if not isinstance(id_token, str):
            raise OidcError("the sign-in provider sent no ID token")
        return self.verify_id_token(id_token, nonce)

    def verify_id_token(self, id_token: str, nonce: str) -> Identity:
        claims = self._decode(id_token)
        issuers = [self.issuer, *(_ISSUER_ALIASES.get(self.issuer, ()))]
        registry = jwt.JWTClaimsRegistry(
            leeway=CLOCK_LEEWAY,
            iss={"essential": True, "values": issuers},
            aud={"essential": True, "value": self.client_id},
            exp={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise OidcError(f"the ID token is not valid ({exc.error})") from exc
        aud = claims["aud"]
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != self.client_id:
            raise OidcError("the ID token was issued to another client")
        presented = claims.get("nonce")
        if not isinstance(presented, str) or not hmac.compare_digest(presented, nonce):
            raise OidcError("the ID token does not belong to this sign-in (nonce)")
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise OidcError("the sign-in provider gave no email address")
        if claims.get("email_verified") not in (True, "true"):
            raise OidcError("the email address is not verified by the sign-in provider")
        hd = claims.get("hd")
        return Identity(
            subject=str(claims["sub"]), email=email.lower(),
            hosted_domain=hd.lower() if isinstance(hd, str) else "",
        )

    def _decode(self, id_token: str) -> dict[str, Any]:
        for attempt in range(2):
            self.metadata(refresh=attempt > 0)  # an unknown key id: the keys were rotated
            keys = self._keys
            assert keys is not None
            try:
                return jwt.decode(id_token, keys, algorithms=["RS256", "ES256"]).claims
            except JoseError as exc:
                if attempt or exc.error not in ("invalid_key_id", "missing_key"):
                    raise OidcError(f"the ID token's signature is not valid ({exc.error})") from exc
            except ValueError as exc:
                raise OidcError("the ID token is malformed") from exc
        raise OidcError("the ID token's key is unknown")
