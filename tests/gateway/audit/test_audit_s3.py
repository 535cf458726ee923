"""The audit log against a real S3 server (versitygw): delivery, outages, tampering, lock."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from gateway.audit import AuditConfig, AuditLog
from gateway.audit.keys import load_public_key
from gateway.audit.objects import parse_digest_key
from gateway.audit.sinks import S3Sink
from gateway.audit.verify import verify_tenant
from tests.gateway.audit.support import data_keys, id_counts, record, s3_target

pytestmark = pytest.mark.integration


def s3_config(tmp_path: Path, server: Any, bucket: str, **kw: Any) -> AuditConfig:
    kw.setdefault("upload_interval", 0.1)
    kw.setdefault("max_backoff", 0.4)
    target = s3_target(server, bucket, create_bucket=True,
                       **{k: kw.pop(k) for k in ("lock_mode", "retention_days") if k in kw})
    return AuditConfig(sink=target, spool_dir=tmp_path / "spool", host="s3host", **kw)


def pub(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_public_key(str(tmp_path / "spool" / "signing-key.pub"))


def test_n_records_arrive_exactly_once(tmp_path: Path, s3_server: Any) -> None:
    cfg = s3_config(tmp_path, s3_server, "audit-n")
    log = AuditLog(cfg)
    ids = []
    for i in range(300):
        rec = record("t-acme" if i % 3 else "t-beta")
        log.record(rec)
        ids.append(rec.id)
    log.close()
    sink = S3Sink(cfg.sink)  # type: ignore[arg-type]
    counts = id_counts(sink)
    assert sorted(counts) == sorted(ids) and set(counts.values()) == {1}
    for tenant in ("t-acme", "t-beta"):
        assert verify_tenant(sink, tenant, [pub(tmp_path)]).ok


def test_store_away_under_load_then_back_loses_and_duplicates_nothing(
    tmp_path: Path, s3_server: Any
) -> None:
    cfg = s3_config(tmp_path, s3_server, "audit-outage")
    log = AuditLog(cfg)
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            rec = record()
            log.record(rec)
            with lock:
                acked.append(rec.id)
            time.sleep(0.002)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    s3_server.stop()
    time.sleep(2.0)  # uploads fail and back off; requests keep being recorded
    during = len(acked)
    s3_server.start()
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    log.close()
    assert during > 100
    status_sink = S3Sink(cfg.sink)  # type: ignore[arg-type]
    counts = id_counts(status_sink, "t-acme")
    assert len(counts) == len(acked)
    assert set(counts) == set(acked)
    assert max(counts.values()) == 1
    assert verify_tenant(status_sink, "t-acme", [pub(tmp_path)]).ok


@pytest.fixture
def tampered(tmp_path: Path, s3_server: Any) -> tuple[S3Sink, list[str], Any]:
    """A tenant with 4 objects (and their digests) in a fresh bucket."""
    bucket = f"audit-tamper-{time.monotonic_ns() % 10**9}"
    cfg = s3_config(tmp_path, s3_server, bucket, upload_interval=3600)
    log = AuditLog(cfg)
    for _ in range(4):
        for _ in range(5):
            log.record(record())
        assert log.flush()
    log.close()
    sink = S3Sink(cfg.sink)  # type: ignore[arg-type]
    keys = data_keys(sink, "t-acme")
    assert len(keys) >= 4  # the first round may split a batch
    assert verify_tenant(sink, "t-acme", [pub(tmp_path)]).ok
    return sink, keys, pub(tmp_path)


def _put(sink: S3Sink, key: str, data: bytes) -> None:
    sink.client.put_object(sink.target.bucket, key, io.BytesIO(data), len(data))


def kinds(sink: S3Sink, key: Any) -> dict[str, str]:
    report = verify_tenant(sink, "t-acme", [key])
    assert not report.ok
    return {p.key: p.kind for p in report.problems}


def test_deleted_object_is_named_missing(tampered: tuple[S3Sink, list[str], Any]) -> None:
    sink, keys, key = tampered
    sink.client.remove_object(sink.target.bucket, keys[1])
    assert kinds(sink, key) == {keys[1]: "missing"}


def test_altered_object_is_named_altered(tampered: tuple[S3Sink, list[str], Any]) -> None:
    sink, keys, key = tampered
    import gzip

    body = gzip.decompress(sink.get(keys[2])).replace(b'"status":200', b'"status":201', 1)
    _put(sink, keys[2], gzip.compress(body))
    assert kinds(sink, key) == {keys[2]: "altered"}


def test_swapped_objects_are_named_reordered(tampered: tuple[S3Sink, list[str], Any]) -> None:
    sink, keys, key = tampered
    first, third = sink.get(keys[0]), sink.get(keys[2])
    _put(sink, keys[0], third)
    _put(sink, keys[2], first)
    assert kinds(sink, key) == {keys[0]: "reordered", keys[2]: "reordered"}


def test_added_object_is_named_extra(tampered: tuple[S3Sink, list[str], Any]) -> None:
    sink, keys, key = tampered
    forged = keys[-1][:-12] + "000000000099"
    _put(sink, forged, sink.get(keys[-1]))
    assert kinds(sink, key) == {forged: "extra"}


def test_forged_digest_is_caught(tampered: tuple[S3Sink, list[str], Any]) -> None:
    sink, _keys, key = tampered
    digest = next(k for k in sink.list("t-acme/") if parse_digest_key(k))
    body = sink.get(digest)
    assert b'"records":' in body
    _put(sink, digest, body.replace(b'"records":', b'"records":1', 1))
    found = kinds(sink, key)
    assert found[digest] == "bad-digest"
    assert set(found.values()) == {"bad-digest", "extra"}  # what it named is unsigned now


def test_bucket_created_with_object_lock_and_default_retention(
    tmp_path: Path, s3_server: Any
) -> None:
    cfg = s3_config(tmp_path, s3_server, "audit-locked", lock_mode="governance",
                    retention_days=7)
    log = AuditLog(cfg)
    rec = record()
    log.record(rec)
    log.close()
    sink = S3Sink(cfg.sink)  # type: ignore[arg-type]
    assert id_counts(sink) == {rec.id: 1}
    retention = sink.retention()
    assert retention is not None
    mode, period = retention
    assert mode == "GOVERNANCE" and period.days == 7
