"""A worker killed with SIGKILL mid-load: after restart every acknowledged record arrives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gateway.audit import AuditConfig, AuditLog
from gateway.audit.keys import load_public_key
from gateway.audit.sinks import S3Sink
from gateway.audit.verify import verify_tenant
from tests.gateway.audit.support import id_counts, s3_target

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]


def run_and_kill(opts: dict[str, Any], after: int) -> list[str]:
    """Start a writer, read acknowledged ids until ``after`` of them, SIGKILL it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.gateway.audit.spool_writer", json.dumps(opts)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    acked: list[str] = []
    try:
        for line in proc.stdout:
            acked.append(line.strip())
            if len(acked) >= after:
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    # Lines already written to the pipe were acknowledged before the kill.
    acked.extend(line.strip() for line in proc.stdout.read().splitlines() if line.strip())
    assert proc.returncode == -signal.SIGKILL
    return acked


def test_sigkill_mid_load_then_restart_delivers_every_acknowledged_record(
    tmp_path: Path, s3_server: Any
) -> None:
    opts = {
        "spool_dir": str(tmp_path / "spool"), "endpoint": s3_server.endpoint,
        "bucket": "audit-crash", "access_key": s3_server.access_key,
        "secret_key": s3_server.secret_key, "region": s3_server.region,
    }
    acked = run_and_kill(opts, after=1500)
    acked += run_and_kill(opts, after=500)  # a second crash, after a restart
    # The restarted worker: ships what the dead ones left, then exits cleanly.
    target = s3_target(s3_server, "audit-crash")
    log = AuditLog(AuditConfig(sink=target, spool_dir=tmp_path / "spool",
                               upload_interval=0.05, host="crashhost"))
    log.start()
    assert log.flush()
    log.close()
    sink = S3Sink(target)
    counts = id_counts(sink, "t-acme")
    missing = set(acked) - set(counts)
    assert not missing, f"{len(missing)} acknowledged records never arrived"
    assert max(counts.values()) == 1  # none twice
    assert not list((tmp_path / "spool" / "w0").glob("seg-*"))
    key = load_public_key(str(tmp_path / "spool" / "signing-key.pub"))
    report = verify_tenant(sink, "t-acme", [key])
    assert report.ok, report.problems[:5]
