"""``GET /api/v1/audit``: admins read their own tenant's records only, as JSON lines."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from gateway.services import Services
from tests.gateway.audit.support import record
from tests.gateway.server import provision


def lines(resp: Any, kind: str = "request") -> list[dict[str, Any]]:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/x-ndjson"
    found = [json.loads(x) for x in resp.get_data(as_text=True).splitlines()]
    return [x for x in found if x["kind"] == kind]


def test_admins_read_only_their_tenant_and_members_are_refused(
    app: Flask, client: FlaskClient
) -> None:
    services: Services = app.extensions["workjet"]
    a_admin = provision(services.store, "tenant-a", "admin@a.test", "admin")
    a_member = provision(services.store, "tenant-a", "member@a.test", "member")
    b_owner = provision(services.store, "tenant-b", "owner@b.test", "owner")
    audit = services.audit
    for i in range(3):
        audit.record(record(a_admin.tenant_id, user_id=a_member.user_id, model=f"m{i % 2}",
                            time=f"2026-02-01T1{i}:00:00.000Z"))
    audit.record(record(b_owner.tenant_id, user_id=b_owner.user_id, model="m0"))
    assert audit.flush()

    def get(who: Any, query: str = "") -> Any:
        return client.get(f"/api/v1/audit{query}",
                          headers={"Authorization": f"Bearer {who.key}"})

    a_lines = lines(get(a_admin))
    assert len(a_lines) == 3 and {x["tenant_id"] for x in a_lines} == {a_admin.tenant_id}
    b_lines = lines(get(b_owner))
    assert [x["tenant_id"] for x in b_lines] == [b_owner.tenant_id]
    # A query cannot name another tenant: only the credential decides.
    assert get(a_admin, f"?tenant={b_owner.tenant_id}").status_code == 400
    assert lines(get(a_admin, f"?user={b_owner.user_id}")) == []

    refused = get(a_member)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/audit").status_code == 401

    assert [x["model"] for x in lines(get(a_admin, "?model=m1"))] == ["m1"]
    window = lines(get(a_admin, "?from=2026-02-01T10:30:00Z&to=2026-02-01T11:30:00Z"))
    assert [x["time"][:13] for x in window] == ["2026-02-01T11"]

    # Every read is itself on record, in the reader's tenant, with its request id.
    read = get(b_owner)
    assert audit.flush()
    reads = lines(get(b_owner), kind="admin")
    assert read.headers["X-Request-Id"] in {x["request_id"] for x in reads}
    assert {(x["event"], x["user_id"]) for x in reads} == {("audit_read", b_owner.user_id)}


def test_bad_parameters_get_400_with_the_error_body(app: Flask, client: FlaskClient) -> None:
    services: Services = app.extensions["workjet"]
    admin = provision(services.store, "tenant-a", "admin@a.test", "admin")
    headers = {"Authorization": f"Bearer {admin.key}"}
    for query in ("?from=yesterday", "?user=" + "x" * 201,
                  "?from=2026-02-02T00:00:00Z&to=2026-02-01T00:00:00Z"):
        resp = client.get(f"/api/v1/audit{query}", headers=headers)
        assert resp.status_code == 400, query
        assert resp.get_json()["error"]["code"] == "bad_request"
