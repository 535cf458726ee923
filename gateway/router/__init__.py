"""The model router: catalog, provider adapters, transport, fallbacks, streaming relay.

``build_router(settings)`` makes everything a request needs once, at start-up: the
catalog, one pooled session and circuit breaker per provider endpoint, the adapters.
"""

from __future__ import annotations

from gateway.config import Settings
from gateway.router.breaker import CircuitBreaker
from gateway.router.catalog import Catalog
from gateway.router.providers import adapters
from gateway.router.router import Endpoint, KeyLookup, RetryPolicy, Router, Timeouts
from gateway.router.transport import check_endpoint, new_session


def build_router(settings: Settings, tenant_keys: KeyLookup | None = None) -> Router:
    plain_hosts = frozenset(h.strip().strip("[]") for h in
                            settings.router_plain_http_hosts.split(",") if h.strip())
    configured = {
        "openai": ("WORKJET_OPENAI_BASE_URL", settings.openai_base_url, settings.openai_api_key),
        "anthropic": ("WORKJET_ANTHROPIC_BASE_URL", settings.anthropic_base_url,
                      settings.anthropic_api_key),
        "google": ("WORKJET_GOOGLE_BASE_URL", settings.google_base_url, settings.google_api_key),
        "ollama": ("WORKJET_OLLAMA_BASE_URL", settings.ollama_base_url, settings.ollama_api_key),
    }
    by_provider = adapters()
    endpoints = {}
    for provider, (name, url, key) in configured.items():
        base = check_endpoint(name, url, plain_hosts)
        endpoints[provider] = Endpoint(
            provider=provider, base_url=base,
            session=new_session(base, settings.router_ca_bundle, settings.router_pool_size),
            adapter=by_provider[provider],
            breaker=CircuitBreaker(settings.router_breaker_threshold,
                                   settings.router_breaker_reset),
            api_key=key,
        )
    return Router(
        Catalog.load(settings.router_catalog),
        endpoints,
        Timeouts(settings.router_connect_timeout, settings.router_read_timeout,
                 settings.router_total_timeout),
        RetryPolicy(settings.router_retry_rounds, settings.router_retry_backoff,
                    budget=settings.router_retry_budget),
        tenant_keys,
        reader_threads=max(16, settings.threads * 2),  # one per streaming gunicorn thread
    )


__all__ = ["Router", "build_router"]
