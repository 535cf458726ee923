"""Helpers shared by the OpenAI- and Anthropic-compatible front doors: checked field access.

Bodies from outside arrive as plain JSON values; these helpers read them with the path
of the field in every error, so a bad body is a 400 that says what to fix.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.errors import ValidationFailed

MAX_SCHEMA_BYTES = 64 * 1024


def fail(path: str, problem: str) -> ValidationFailed:
    return ValidationFailed(f"Invalid request: {path}: {problem}")


def obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(path, "expected an object")
    return value


def arr(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise fail(path, "expected an array")
    return value


def text(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise fail(path, "expected a string")
    return value


def opt_int(body: dict[str, Any], *names: str) -> int | None:
    for name in names:
        value = body.get(name)
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool):
                raise fail(name, "expected an integer")
            return value
    return None


def opt_float(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise fail(name, "expected a number")
    return float(value)


def stops(value: Any, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(text(v, f"{path}[{i}]") for i, v in enumerate(arr(value, path)))


def schema(value: Any, path: str) -> dict[str, Any]:
    if value is None:
        return {"type": "object", "properties": {}}
    found = obj(value, path)
    if len(json.dumps(found)) > MAX_SCHEMA_BYTES:
        raise fail(path, f"the schema is over {MAX_SCHEMA_BYTES} bytes")
    return found


def arguments(raw: Any, path: str) -> dict[str, Any]:
    """Tool-call arguments given as a JSON string (OpenAI) or an object."""
    if isinstance(raw, dict):
        return raw
    if raw is None or raw == "":
        return {}
    try:
        value = json.loads(text(raw, path))
    except ValueError:
        raise fail(path, "must be a JSON object in a string") from None
    if not isinstance(value, dict):
        raise fail(path, "must be a JSON object")
    return value
