"""Liveness and readiness."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, g, jsonify

from gateway.services import services

bp = Blueprint("health", __name__)
log = logging.getLogger("workjet.health")


@bp.get("/healthz")
def healthz() -> Response:
    """The process is alive; says nothing about its dependencies."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Every dependency answers: database, rate-limit storage, audit sink (503 names failures)."""
    checks: dict[str, str] = {}
    for name, check in services().readiness.items():
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:  # any failure of a dependency means not ready
            log.warning("readiness check %s failed: %s", name, type(exc).__name__)
            checks[name] = f"failed: {type(exc).__name__}"
    failed = sorted(name for name, state in checks.items() if state != "ok")
    if failed:
        body = {
            "status": "unavailable",
            "checks": checks,
            "error": {
                "code": "service_unavailable",
                "message": f"Not ready: {', '.join(failed)} failed.",
                "request_id": g.get("request_id", ""),
            },
        }
        return jsonify(body), 503
    return jsonify(status="ready", checks=checks), 200

