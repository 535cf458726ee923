"""Gateway settings: the only module that reads ``WORKJET_*`` environment variables.

``Settings.from_env()`` is called by ``create_app`` and the CLI, never at import time.
Each field's environment name is ``WORKJET_`` + the field name in upper case; the
README's configuration table lists them all (a test keeps it true).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_type_hints

DEFAULT_DATABASE_URL = "sqlite:///workjet-gateway.db"
DEFAULT_AUDIT_URL = "file://./workjet-audit"
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024


class ConfigError(ValueError):
    """A setting has a value the gateway cannot use; the message says what to set."""


@dataclass(frozen=True)
class Settings:
    # --- core ---
    database_url: str = DEFAULT_DATABASE_URL  # SQLAlchemy URL; postgresql+psycopg://... at scale
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # larger request bodies get 413
    max_json_depth: int = 64  # deeper JSON bodies get 400
    log_level: str = "INFO"
    host_name: str = ""  # names this host in audit records; defaults to the machine's name
    # --- serving (read by gateway/gunicorn.conf.py) ---
    bind: str = "127.0.0.1:8400"
    workers: int = 1
    threads: int = 16  # gthread threads per worker; long provider waits need many
    timeout: int = 300  # seconds a worker may stay silent (long streams send keep-alives)
    tls_cert: str = ""  # PEM certificate chain; with tls_key serves HTTPS, TLS 1.3 minimum
    tls_key: str = ""
    # --- authentication ---
    api_key_pepper: str = ""  # when set, API keys are hashed with HMAC-SHA256 keyed by it
    public_url: str = ""  # https://gateway.example.com: builds exact redirect/verification URLs
    oidc_issuer: str = "https://accounts.google.com"  # its discovery document gives endpoints
    oidc_client_id: str = ""  # the OAuth client registered with the issuer
    oidc_client_secret: str = ""
    device_code_ttl: int = 600  # seconds a device login code stays usable
    device_poll_interval: int = 5  # seconds the terminal waits between polls
    device_verify_limit: str = "10 per 5 minutes"  # user-code entries per address and session
    # --- rate limits ---
    ratelimit_storage_uri: str = "memory://"  # redis://host:port for several workers/hosts
    ratelimit_fail_mode: Literal["closed", "open"] = "closed"  # Redis down: 503 or local counts
    ratelimit_key_per_minute: int = 120  # requests per minute per API key or session; 0 = none
    ratelimit_user_per_minute: int = 240  # per user, all their credentials together; 0 = none
    ratelimit_tenant_per_minute: int = 1200  # per tenant (a tenant may override it); 0 = none
    ratelimit_anonymous_per_minute: int = 300  # per client address, requests without credential
    budget_key_tokens_per_minute: int = 0  # worst-case tokens reserved per minute; 0 = none
    budget_user_tokens_per_minute: int = 0
    budget_tenant_tokens_per_minute: int = 0  # a tenant may override it
    budget_key_daily: float = 0.0  # spend per UTC day in the catalog's currency; 0 = none
    budget_user_daily: float = 0.0
    budget_tenant_daily: float = 0.0  # a tenant may override it
    budget_key_monthly: float = 0.0  # spend per UTC calendar month; 0 = none
    budget_user_monthly: float = 0.0
    budget_tenant_monthly: float = 0.0  # a tenant may override it
    limits_cache_seconds: float = 10.0  # a tenant's changed limits reach every worker within this
    usage_flush_seconds: float = 5.0  # usage aggregates are written in batches this often
    # --- model router ---
    openai_base_url: str = "https://api.openai.com/v1"  # OpenAI or a compatible server
    openai_api_key: str = ""  # the deployment's key (a tenant may bring its own)
    anthropic_base_url: str = "https://api.anthropic.com"
    anthropic_api_key: str = ""
    google_base_url: str = "https://generativelanguage.googleapis.com"
    google_api_key: str = ""
    ollama_base_url: str = "http://localhost:11434"  # plain http: loopback is allowed below
    ollama_api_key: str = ""  # only when Ollama sits behind an authenticating proxy
    router_catalog: str = ""  # model catalog JSON file; empty: the packaged gateway/catalog.json
    router_ca_bundle: str = ""  # PEM CAs trusted for providers; empty: certifi's bundle
    router_plain_http_hosts: str = "localhost,127.0.0.1,::1"  # hosts allowed without TLS
    router_connect_timeout: float = 5.0  # seconds to connect to a provider
    router_read_timeout: float = 120.0  # longest silence from a provider, in seconds
    router_total_timeout: float = 600.0  # one request, retries and stream included
    router_retry_rounds: int = 2  # passes over a model's fallback list
    router_retry_backoff: float = 0.25  # first pause between passes (doubles, with jitter)
    router_retry_budget: float = 10.0  # seconds of retrying one request may spend
    router_breaker_threshold: int = 5  # consecutive failures that open an endpoint's circuit
    router_breaker_reset: float = 30.0  # seconds an open circuit waits before one probe
    router_keepalive: float = 15.0  # seconds of silence before an SSE keep-alive comment
    router_pool_size: int = 32  # pooled connections per provider endpoint and worker
    provider_key_secret: str = ""  # base64 of 32 bytes: encrypts tenants' own provider keys
    # --- audit ---
    audit_url: str = DEFAULT_AUDIT_URL  # file:///path or s3://host:port/bucket
    audit_s3_access_key: str = ""  # credentials for an s3:// audit sink
    audit_s3_secret_key: str = ""
    audit_s3_allow_http: bool = False  # plain http to the S3 store (tests only; TLS otherwise)
    audit_s3_ca_file: str = ""  # PEM bundle of a private CA that signed the S3 store's cert
    audit_s3_region: str = ""  # S3 region when the store needs one
    audit_s3_create_bucket: bool = False  # create the bucket at start if it is missing
    audit_s3_object_lock: Literal["", "governance", "compliance"] = ""  # for a new bucket
    audit_s3_retention_days: int = 0  # default retention of a new object-locked bucket
    audit_spool_dir: str = ""  # local spool (one slot per worker); default <file sink>-spool
    audit_spool_max_bytes: int = 512 * 1024 * 1024  # per worker; then the full policy applies
    audit_full_policy: Literal["refuse", "alarm"] = "refuse"  # spool full: 503 or log+serve
    audit_upload_interval: float = 2.0  # seconds between uploads of the spool
    audit_signing_key_file: str = ""  # Ed25519 PEM signing digests; default: made in spool dir
    audit_verify_key: str = ""  # public key (base64 or file) for `audit verify`

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults overridden by ``WORKJET_<FIELD>`` variables, each parsed to its type."""
        env = os.environ if environ is None else environ
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            name = f"WORKJET_{f.name.upper()}"
            if name in env:
                values[f.name] = _parse(name, env[name], hints[f.name])
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @staticmethod
    def env_names() -> list[str]:
        return [f"WORKJET_{f.name.upper()}" for f in dataclasses.fields(Settings)]


def _parse(name: str, raw: str, kind: Any) -> Any:
    if kind is str:
        return raw
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{name}={raw!r}: set it to true or false")
    if kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r}: set it to a number") from None
    if getattr(kind, "__origin__", None) is Literal:
        choices = get_args(kind)
        if raw not in choices:
            raise ConfigError(f"{name}={raw!r}: set it to one of {', '.join(choices)}")
        return raw
    raise ConfigError(f"{name}: unsupported setting type {kind!r}")

