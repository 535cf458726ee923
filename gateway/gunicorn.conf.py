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


def worker_exit(server: Any, worker: Any) -> None:
    """Flush what each worker holds (audit spool, last-used times) before it goes."""
    app = getattr(worker, "wsgi", None)
    services = getattr(app, "extensions", {}).get("workjet") if app is not None else None
    if services is not None:
        services.close()
