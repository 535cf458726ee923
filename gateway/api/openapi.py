"""``GET /openapi.json``: the API description, kept true to the routes by a test."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from flask import Blueprint, Response, jsonify

bp = Blueprint("openapi", __name__)


@cache
def load_spec() -> dict[str, Any]:
    text = resources.files("gateway.api").joinpath("openapi.json").read_text("utf-8")
    spec: dict[str, Any] = json.loads(text)
    return spec


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(load_spec())
