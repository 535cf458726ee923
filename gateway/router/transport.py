"""Outbound HTTP to providers: one pooled ``requests.Session`` per provider endpoint.

Security contract: certificate verification is always on (a custom CA bundle may be
configured, never switched off); HTTPS uses TLS 1.3 at least; plain HTTP is refused
unless the endpoint's host is one the operator listed (loopback by default, for Ollama
and tests). Sessions ignore proxy variables and ``.netrc`` (``trust_env=False``): the
gateway's environment must not redirect provider traffic, and the per-request lookups
cost CPU.
"""

from __future__ import annotations

import ssl
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

import certifi
import requests
from requests.adapters import HTTPAdapter

from gateway.config import ConfigError


class TransportConfigError(ConfigError):
    """An endpoint URL the transport will not use; the message says what to set."""


class TLS13Adapter(HTTPAdapter):
    """An adapter whose TLS context verifies certificates and refuses anything below 1.3."""

    def __init__(self, cafile: str, **kw: Any) -> None:
        self._ctx = ssl.create_default_context(cafile=cafile)  # CERT_REQUIRED + hostnames
        self._ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        super().__init__(**kw)

    def init_poolmanager(self, *args: Any, **kw: Any) -> None:
        kw["ssl_context"] = self._ctx
        super().init_poolmanager(*args, **kw)

    def proxy_manager_for(self, *args: Any, **kw: Any) -> Any:
        kw["ssl_context"] = self._ctx
        return super().proxy_manager_for(*args, **kw)


def check_endpoint(name: str, base_url: str, plain_http_hosts: frozenset[str]) -> str:
    """The base URL without a trailing slash, or ``TransportConfigError``."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise TransportConfigError(f"{name}={base_url!r}: give an https:// URL")
    if parts.scheme == "http" and parts.hostname not in plain_http_hosts:
        raise TransportConfigError(
            f"{name}={base_url!r}: plain http is only allowed to the hosts in "
            "WORKJET_ROUTER_PLAIN_HTTP_HOSTS; use https:// or add the host there")
    return base_url.rstrip("/")


def new_session(base_url: str, ca_bundle: str, pool_size: int) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = ca_bundle or certifi.where()
    session.headers.clear()
    session.headers["User-Agent"] = "workjet-gateway"
    # No cookies: a provider's cookie must not follow one tenant's request into another's.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    session.adapters.clear()
    if base_url.startswith("https://"):
        session.mount("https://", TLS13Adapter(ca_bundle or certifi.where(),
                                               pool_connections=1, pool_maxsize=pool_size))
    else:
        session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=pool_size))
    return session
