"""A real gunicorn gateway writing to the real S3 server: a worker SIGKILLed mid-load."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway.audit.config import S3Target
from gateway.audit.keys import load_public_key
from gateway.audit.objects import object_lines, parse_data_key
from gateway.audit.sinks import S3Sink
from gateway.audit.verify import verify_tenant
from tests.gateway.server import provision

pytestmark = pytest.mark.integration


def worker_pids(master: int) -> list[int]:
    text = Path(f"/proc/{master}/task/{master}/children").read_text()
    return [int(pid) for pid in text.split()]


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_worker_killed_mid_load_loses_no_acknowledged_record(
    gateway_server: Callable[..., Any], s3_server: Any, tmp_path: Path
) -> None:
    env = {
        "WORKJET_AUDIT_URL": f"s3://{s3_server.endpoint}/audit-gunicorn",
        "WORKJET_AUDIT_S3_ACCESS_KEY": s3_server.access_key,
        "WORKJET_AUDIT_S3_SECRET_KEY": s3_server.secret_key,
        "WORKJET_AUDIT_S3_REGION": s3_server.region,
        "WORKJET_AUDIT_S3_ALLOW_HTTP": "true",
        "WORKJET_AUDIT_S3_CREATE_BUCKET": "true",
        "WORKJET_AUDIT_SPOOL_DIR": str(tmp_path / "spool"),
        "WORKJET_AUDIT_UPLOAD_INTERVAL": "0.2",
        "WORKJET_HOST_NAME": "gw1",
        "WORKJET_RATELIMIT_KEY_PER_MINUTE": "0",
        "WORKJET_RATELIMIT_USER_PER_MINUTE": "0",
        "WORKJET_RATELIMIT_TENANT_PER_MINUTE": "0",
    }
    server = gateway_server(env=env, workers=1)
    admin = provision(server.store, "acme", "admin@acme.test", "admin")
    url = f"{server.url}/api/v1/audit?from=2099-01-01T00:00:00Z"
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def load() -> None:
        session = requests.Session()
        session.trust_env = False
        while not stop.is_set():
            try:
                resp = session.get(url, headers={"Authorization": f"Bearer {admin.key}"},
                                   timeout=10)
            except requests.RequestException:
                continue  # the killed worker's connections; nothing was acknowledged
            if resp.status_code == 200:
                with lock:
                    acked.append(resp.headers["X-Request-Id"])

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: len(acked) >= 150)
        (victim,) = worker_pids(server.pid)
        os.kill(victim, signal.SIGKILL)
        # gunicorn starts a new worker; it takes over the slot and ships the leftovers
        wait_for(lambda: [p for p in worker_pids(server.pid) if p != victim])
        before = len(acked)
        wait_for(lambda: len(acked) >= before + 100)
    finally:
        stop.set()
        for t in threads:
            t.join()
    server.stop()  # graceful: worker_exit flushes the spool
    target = S3Target(s3_server.endpoint, "audit-gunicorn", s3_server.access_key,
                      s3_server.secret_key, secure=False, region=s3_server.region)
    sink = S3Sink(target)
    seen: list[str] = []
    for key in sink.list(f"{admin.tenant_id}/"):
        if parse_data_key(key):
            seen += [json.loads(x)["request_id"] for x in object_lines(sink.get(key))]
    missing = set(acked) - set(seen)
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged requests have no record"
    assert len(seen) == len(set(seen)), "a record arrived twice"
    key = load_public_key(str(tmp_path / "spool" / "signing-key.pub"))
    report = verify_tenant(sink, admin.tenant_id, [key])
    assert report.ok, report.problems[:5]
