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
from requests.utils import select_proxy
from urllib3.connectionpool import ConnectionPool

from gateway.config import ConfigError


class TransportConfigError(ConfigError):
    """An endpoint URL the transport will not use; the message says what to set."""


MAX_CACHED_POOLS = 256  # URLs come from the catalog: few


class PoolCachingAdapter(HTTPAdapter):
    """``HTTPAdapter`` that finds a URL's connection pool once, not on every request.

    Finding it parses the URL, selects proxies and builds the pool key each time (about a
    tenth of the adapter's CPU per request). A cached pool is used until it or the adapter
    is closed, then looked up afresh; anything sent through a proxy is looked up each time.
    """

    def __init__(self, *args: Any, **kw: Any) -> None:
        self._pools: dict[tuple[str, Any, Any], ConnectionPool] = {}
        super().__init__(*args, **kw)

    def get_connection_with_tls_context(
        self, request: requests.PreparedRequest, verify: Any, proxies: Any = None,
        cert: Any = None,
    ) -> ConnectionPool:
        url = request.url or ""
        if (proxies and select_proxy(url, proxies)) or isinstance(cert, list):
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        key = (url, verify, cert)
        pool = self._pools.get(key)
        if pool is None or getattr(pool, "pool", None) is None:  # urllib3 closed it
            pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
            if len(self._pools) < MAX_CACHED_POOLS:
                self._pools[key] = pool
        return pool

    def close(self) -> None:
        # urllib3 2 drops (does not close) the manager's pools; close the ones we hold.
        pools, self._pools = list(self._pools.values()), {}
        super().close()
        for pool in pools:
            pool.close()


class TLS13Adapter(PoolCachingAdapter):
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
        session.mount("http://", PoolCachingAdapter(pool_connections=1, pool_maxsize=pool_size))
    return session
