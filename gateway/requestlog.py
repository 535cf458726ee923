"""Request ids and access log lines.

A line holds method, path (never the query string: it may carry codes or tokens),
status, latency and request id. Never bodies, headers or credentials.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from gateway.ids import hex_id

ACCESS_LOGGER = "workjet.access"
log = logging.getLogger(ACCESS_LOGGER)


def _start() -> None:
    g.request_id = hex_id(12)
    g.started = time.perf_counter()


def _finish(response: Response) -> Response:
    response.headers["X-Request-Id"] = g.get("request_id", "")
    if log.isEnabledFor(logging.INFO):
        elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info(
            "%s %s %d %.1fms request_id=%s",
            request.method, request.path, response.status_code, elapsed_ms, g.request_id,
        )
    return response


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
