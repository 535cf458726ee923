"""Parsing request bodies into wire types at the edge, with size, depth and shape checks."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request

from gateway.errors import InvalidJson, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from gateway.services import services
from shared.codec import decode_json, from_wire
from shared.errors import DecodeError, ValidationError

T = TypeVar("T")


def json_body() -> Any:
    """The body as plain JSON values; 415 unless JSON, 413 over the size limit, 400 if bad."""
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON with Content-Type: application/json.")
    settings = services().settings
    length = request.content_length
    if length is not None and length > settings.max_body_bytes:
        raise PayloadTooLarge(f"The body is larger than {settings.max_body_bytes} bytes.")
    data = request.get_data(cache=False)  # MAX_CONTENT_LENGTH bounds chunked bodies too
    try:
        return decode_json(
            data, max_bytes=settings.max_body_bytes, max_depth=settings.max_json_depth
        )
    except DecodeError as exc:
        raise InvalidJson(f"The body is not acceptable JSON: {exc}") from None


def parse_json(cls: type[T]) -> T:
    """The body validated into the wire type ``cls``; 400 naming the field that is wrong."""
    try:
        return from_wire(cls, json_body())
    except ValidationError as exc:
        raise ValidationFailed(f"Invalid request: {exc}") from None
