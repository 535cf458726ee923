"""Errors the gateway answers with, and the one boundary that renders them.

Every error leaves as ``{"error": {"code", "message", "request_id"}}`` with the request
id also in ``X-Request-Id``. Raise an ``ApiError`` subclass anywhere in a request; werkzeug's
own HTTP errors (404, 405, 413, ...) are translated here too, and anything unexpected is a
500 whose details go to the log (never the body, never content).
"""

from __future__ import annotations

import logging
from typing import ClassVar

from flask import Flask, Response, g, json
from werkzeug.exceptions import HTTPException

from shared.errors import ErrorCode

log = logging.getLogger("workjet.errors")


class ApiError(Exception):
    """An error answered to the client; ``message`` is shown to the person as is."""

    status: ClassVar[int] = 400
    code: ClassVar[ErrorCode] = "bad_request"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class InvalidJson(ApiError):
    status, code = 400, "invalid_json"


class ValidationFailed(ApiError):
    status, code = 400, "validation_failed"


class Unauthorized(ApiError):
    status, code = 401, "unauthenticated"

    def __init__(
        self,
        message: str = "Sign in again: the credential is missing, unknown, expired or revoked.",
    ) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="workjet"'})


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "bad_request"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


class TooManyRequests(ApiError):
    status, code = 429, "rate_limited"


class ServiceUnavailable(ApiError):
    status, code = 503, "service_unavailable"


# werkzeug's HTTP errors, mapped to our codes and plain messages.
_HTTP_CODES: dict[int, tuple[ErrorCode, str]] = {
    400: ("bad_request", "The request is malformed."),
    401: ("unauthenticated", "Sign in again: the credential is missing or not valid."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept that method."),
    413: ("payload_too_large", "The request body is larger than the gateway accepts."),
    415: ("unsupported_media_type", "Send the body as application/json."),
    429: ("rate_limited", "Too many requests; wait and try again."),
    500: ("internal_error", "The gateway failed; the request id helps the operator find why."),
    503: ("service_unavailable", "The gateway cannot serve this now; try again shortly."),
}


def error_response(
    status: int, code: ErrorCode, message: str, headers: dict[str, str] | None = None
) -> Response:
    request_id = g.get("request_id", "")
    body = {"error": {"code": code, "message": message, "request_id": request_id}}
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _on_api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.headers)


def _on_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    code, message = _HTTP_CODES.get(status, ("bad_request", exc.name))
    headers = {}
    valid_methods = getattr(exc, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    if exc.response is not None and "Retry-After" in exc.response.headers:
        headers["Retry-After"] = exc.response.headers["Retry-After"]
    return error_response(status, code, message, headers)


def _on_unexpected(exc: Exception) -> Response:
    log.exception("unhandled error request_id=%s", g.get("request_id", ""))
    code, message = _HTTP_CODES[500]
    return error_response(500, code, message)


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, _on_api_error)
    app.register_error_handler(HTTPException, _on_http_exception)
    app.register_error_handler(Exception, _on_unexpected)
