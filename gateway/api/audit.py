"""``GET /api/v1/audit``: a tenant's audit records for its admins, as JSON lines.

The tenant always comes from the caller's credential, never from the query, so an
admin reads their own tenant's records only. Records stream as they are read from the
store (one object at a time); those still in a worker's spool appear within one upload
interval.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, g, request, stream_with_context

from gateway.audit.reader import Query, TimeFormatError, parse_time, read_records
from gateway.audit.records import admin_record
from gateway.audit.sinks import SinkError
from gateway.auth.principal import current_principal, require_role
from gateway.errors import BadRequest, ServiceUnavailable
from gateway.services import services
from shared.codec import encode

bp = Blueprint("audit", __name__, url_prefix="/api/v1")

MAX_PARAM = 200
PARAMS = ("from", "to", "user", "model")


def _query(tenant_id: str) -> Query:
    unknown = sorted(set(request.args) - set(PARAMS))
    if unknown:
        raise BadRequest(f"Unknown query parameter {unknown[0]!r}; use {', '.join(PARAMS)}.")
    args = {name: request.args.get(name, "") for name in PARAMS}
    for name, value in args.items():
        if len(value) > MAX_PARAM:
            raise BadRequest(f"The {name!r} parameter is longer than {MAX_PARAM} characters.")
    try:
        start = parse_time(args["from"]) if args["from"] else None
        end = parse_time(args["to"]) if args["to"] else None
    except TimeFormatError as exc:
        raise BadRequest(str(exc)) from exc
    if start and end and start > end:
        raise BadRequest("'from' is after 'to'.")
    return Query(tenant_id, start=start, end=end, user=args["user"], model=args["model"])


@bp.get("/audit")
@require_role("admin")
def audit_records() -> Response:
    principal = current_principal()
    query = _query(principal.tenant_id)
    audit = services().audit
    # Reading the audit log is itself on record, before anything is answered.
    audit.record(admin_record(
        event="audit_read", tenant_id=principal.tenant_id, request_id=g.get("request_id", ""),
        user_id=principal.user_id, principal_id=principal.credential_id,
        client_address=request.remote_addr or "", endpoint=request.path,
    ))
    sink = audit.sink
    records = read_records(sink, query)
    try:
        first = next(records, None)  # fail with a proper error body before streaming
    except SinkError as exc:
        raise ServiceUnavailable("The audit store cannot be read now; try again shortly.") \
            from exc

    def lines() -> Iterator[str]:
        if first is None:
            return
        yield encode(first) + "\n"
        for rec in records:
            yield encode(rec) + "\n"

    return Response(stream_with_context(lines()), mimetype="application/x-ndjson")
