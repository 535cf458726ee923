"""The ``web`` blueprint and what every page shares: security headers, rendering, CSRF.

Pages are server-rendered and need no JavaScript, so the Content-Security-Policy allows
no scripts at all, only our one inline stylesheet (by hash), forms posting to ourselves,
and no framing. Pages are never cached and send no Referer (device codes are in URLs).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from flask import Blueprint, Response, render_template, request

from gateway.auth.sessions import COOKIE_NAME, csrf_token
from gateway.errors import ApiError
from gateway.services import services

bp = Blueprint("web", __name__, template_folder="templates")

CSS = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;"
    "line-height:1.5}button,.button{font:inherit;padding:.4rem 1rem;margin-right:.5rem}"
    "input{font:inherit;padding:.3rem;text-transform:uppercase}.notice{color:#8a1f11}"
)
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


@bp.after_request
def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    if services().settings.public_url.startswith("https://"):
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    return response


@bp.errorhandler(ApiError)
def _error_page(exc: ApiError) -> Response:
    """People on these pages get an HTML page (same status and headers), not JSON."""
    heading = {403: "Not allowed", 429: "Too many attempts"}.get(exc.status, "Request refused")
    response = page("error.html", exc.status, heading=heading, message=exc.message)
    for name, value in exc.headers.items():
        response.headers[name] = value
    return response


def page(template: str, status: int = 200, **context: Any) -> Response:
    html = render_template(template, css=CSS, **context)
    return Response(html, status=status, mimetype="text/html")


def page_csrf() -> str:
    """The CSRF token of the browser's session cookie, for a form on the page."""
    return csrf_token(request.cookies.get(COOKIE_NAME, ""), services().settings.api_key_pepper)


def safe_return_path(candidate: str | None, default: str = "/auth/login") -> str:
    """Only a local absolute path: never another host (``//evil``, ``/\\evil``)."""
    if (
        not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\"))
        or len(candidate) > 300 or any(ord(ch) < 0x21 for ch in candidate)
    ):
        return default
    return candidate
