"""gunicorn configuration for the gateway (``workjet-gateway serve`` passes it with -c).

Workers and threads come from the gateway's settings; logs go to stdout; with a
certificate and key the gateway serves HTTPS and refuses anything older than TLS 1.3.
"""

from __future__ import annotations

import ssl
from typing import Any

from gateway.config import Settings

_settings = Settings.from_env()

bind = _settings.bind
workers = _settings.workers
worker_class = "gthread"
threads = _settings.threads
timeout = _settings.timeout
graceful_timeout = 30
keepalive = 5
accesslog = None  # the app writes its own access lines, without query strings
errorlog = "-"
loglevel = _settings.log_level.lower()
control_socket_disable = True  # several gateways (and tests) may run on one host
if _settings.tls_cert or _settings.tls_key:
    certfile = _settings.tls_cert
    keyfile = _settings.tls_key


def ssl_context(conf: Any, default_ssl_context_factory: Any) -> ssl.SSLContext:
    """TLS 1.3 minimum: gunicorn's ``--ssl-version`` is ignored, this hook is the way."""
    context: ssl.SSLContext = default_ssl_context_factory()
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    return context


def on_starting(server: Any) -> None:
    """Refuse several workers with in-process rate limits (each would count on its own),
    however the worker count was given (``-w``, GUNICORN_CMD_ARGS, WORKJET_WORKERS)."""
    from gateway.config import ConfigError
    from gateway.limits import check_workers

    try:
        check_workers(_settings, server.cfg.workers)
    except ConfigError as exc:
        raise SystemExit(f"workjet-gateway: {exc}") from None


def worker_exit(server: Any, worker: Any) -> None:
    """Flush what each worker holds (audit spool, last-used times) before it goes."""
    app = getattr(worker, "wsgi", None)
    services = getattr(app, "extensions", {}).get("workjet") if app is not None else None
    if services is not None:
        services.close()


def post_worker_init(worker: Any) -> None:
    """Open the worker's audit spool now, so a crashed worker's leftovers ship at once."""
    app = getattr(worker, "wsgi", None)
    services = getattr(app, "extensions", {}).get("workjet") if app is not None else None
    if services is not None and services.audit is not None:
        services.audit.start()
