"""The native chat API: ``POST /api/v1/chat`` and ``GET /api/v1/models``."""

from __future__ import annotations

from flask import Blueprint, Response

from gateway import pipeline
from gateway.api.body import parse_json
from gateway.api.sse import native_frames, sse_response
from gateway.auth.principal import current_principal, require_auth
from gateway.services import services
from shared.chat import ChatRequest
from shared.codec import encode
from shared.models import ModelList

bp = Blueprint("chat", __name__, url_prefix="/api/v1")


@bp.post("/chat")
@require_auth
def chat() -> Response:
    req = parse_json(ChatRequest)
    prepared = pipeline.prepare(req, "/api/v1/chat")
    if req.stream:
        return sse_response(native_frames(pipeline.stream(prepared)))
    answer = pipeline.complete(prepared)
    return Response(encode(answer), mimetype="application/json")


@bp.get("/models")
@require_auth
def models() -> Response:
    p = current_principal()
    visible = services().router.catalog.visible(p.tenant_id, p.tenant_name)
    return Response(encode(ModelList(tuple(m.descriptor() for m in visible))),
                    mimetype="application/json")
