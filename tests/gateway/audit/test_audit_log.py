"""AuditLog over the local-directory sink: every record once, chained, signed, readable."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.audit import AuditLog, AuditUnavailableError
from gateway.audit.keys import load_public_key
from gateway.audit.objects import GENESIS, canonical, sha256
from gateway.audit.reader import Query, read_records
from gateway.audit.sinks import FileSink
from gateway.audit.verify import verify_tenant
from tests.gateway.audit.support import data_keys, file_config, id_counts, record, stored_lines


def public_key(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_public_key(str(tmp_path / "spool" / "signing-key.pub"))


def test_every_record_arrives_once_in_per_tenant_chained_objects(tmp_path: Path) -> None:
    log = AuditLog(file_config(tmp_path))
    sent: dict[str, list[str]] = {"t-a": [], "t-b": []}

    def work(tenant: str) -> None:
        for _ in range(150):
            rec = record(tenant)
            log.record(rec)
            sent[tenant].append(rec.id)

    threads = [threading.Thread(target=work, args=(t,)) for t in ("t-a", "t-b", "t-a")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    sink = FileSink(tmp_path / "sink")
    for tenant, ids in sent.items():
        counts = id_counts(sink, tenant)
        assert sorted(counts) == sorted(ids)
        assert set(counts.values()) == {1}
        lines = sorted(stored_lines(sink, tenant), key=lambda line: line["seq"])
        assert [line["seq"] for line in lines] == list(range(1, len(ids) + 1))
        prev = GENESIS
        for line in lines:
            assert line["prev_hash"] == prev
            assert line["tenant_id"] == tenant
            assert line["host"] == "testhost" and line["worker"] == "w0"
            prev = sha256(canonical(line))
        assert all(k.split("/")[0] == tenant for k in data_keys(sink, tenant))
        report = verify_tenant(sink, tenant, [public_key(tmp_path)])
        assert report.ok, report.problems
        assert report.objects_checked == len(data_keys(sink, tenant))
    assert list((tmp_path / "spool" / "w0").glob("seg-*")) == []


def test_a_second_process_slot_and_leftovers_shipped_at_next_start(tmp_path: Path) -> None:
    cfg = file_config(tmp_path, upload_interval=3600)
    first = AuditLog(cfg)
    rec = record()
    first.record(rec)
    first._current().uploader.stop = lambda timeout: False  # type: ignore[method-assign]
    first._worker.slot.release()  # type: ignore[union-attr]  # as if the process died
    sink = FileSink(tmp_path / "sink")
    assert id_counts(sink) == {}
    second = AuditLog(cfg)
    second.start()  # ships the leftover at once, without waiting an interval
    second.flush()
    assert id_counts(sink) == {rec.id: 1}
    second.close()


def test_unused_slots_of_gone_workers_are_adopted(tmp_path: Path) -> None:
    cfg = file_config(tmp_path, upload_interval=3600)
    a, b = AuditLog(cfg), AuditLog(cfg)
    a.start()
    b.start()
    rec = record()
    b.record(rec)
    assert b._worker is not None and b._worker.slot.name == "w1"
    b._worker.slot.release()  # worker w1 dies; a restart brings only one worker back
    assert a._worker is not None
    a._worker.uploader._next_adopt = 0.0  # the next look for orphans is due
    a.flush()
    assert id_counts(FileSink(tmp_path / "sink")) == {rec.id: 1}
    report = verify_tenant(FileSink(tmp_path / "sink"), "t-acme", [public_key(tmp_path)])
    assert report.ok, report.problems
    a.close()


def test_reader_filters_by_time_user_and_model_within_the_tenant(tmp_path: Path) -> None:
    log = AuditLog(file_config(tmp_path))
    log.record(record("t-a", time="2026-01-01T10:00:00.000Z", user_id="u-1", model="m1"))
    log.record(record("t-a", time="2026-01-01T11:30:00.000Z", user_id="u-2", model="m1"))
    log.record(record("t-a", time="2026-01-02T09:00:00.000Z", user_id="u-1", model="m2"))
    log.record(record("t-b", time="2026-01-01T10:00:00.000Z", user_id="u-1", model="m1"))
    log.close()
    sink = FileSink(tmp_path / "sink")

    def times(**kw) -> list[str]:  # type: ignore[no-untyped-def]
        return [r.time[:16] for r in read_records(sink, Query("t-a", **kw))]

    assert times() == ["2026-01-01T10:00", "2026-01-01T11:30", "2026-01-02T09:00"]
    assert times(user="u-1") == ["2026-01-01T10:00", "2026-01-02T09:00"]
    assert times(model="m2") == ["2026-01-02T09:00"]
    assert times(start=datetime(2026, 1, 1, 11, tzinfo=UTC),
                 end=datetime(2026, 1, 1, 23, tzinfo=UTC)) == ["2026-01-01T11:30"]


def test_closed_log_refuses_records(tmp_path: Path) -> None:
    log = AuditLog(file_config(tmp_path))
    log.close()
    with pytest.raises(AuditUnavailableError):
        log.record(record())


def test_full_spool_refuses_then_recovers_when_uploads_resume(tmp_path: Path) -> None:
    sink_path = tmp_path / "sink"
    sink_path.write_text("not a directory")  # the store refuses every upload
    log = AuditLog(file_config(tmp_path, spool_max_bytes=65536, upload_interval=0.05))
    accepted = 0
    with pytest.raises(AuditUnavailableError):
        for _ in range(10_000):
            log.record(record())
            accepted += 1
    with pytest.raises(AuditUnavailableError):
        log.check()
    sink_path.unlink()  # the store is back
    assert log.flush()
    log.check()
    log.record(record())
    log.close()
    assert sum(id_counts(FileSink(sink_path)).values()) == accepted + 1


def test_spooled_form_is_the_wire_form(tmp_path: Path) -> None:
    from gateway.audit.log import _wire
    from shared.codec import to_wire

    rec = record(error_code="provider_error", dlp=())
    assert _wire(rec) == to_wire(rec)
    full = record()
    assert _wire(full) == to_wire(full)


def test_records_without_a_usable_tenant_go_to_the_gateway_prefix(tmp_path: Path) -> None:
    log = AuditLog(file_config(tmp_path))
    bad = [record(""), record("../escape"), record("a/b")]
    for rec in bad:
        log.record(rec)
    log.close()
    sink = FileSink(tmp_path / "sink")
    assert sorted(id_counts(sink, "_gateway")) == sorted(r.id for r in bad)
    assert sorted(p.name for p in (tmp_path / "sink").iterdir()) == ["_gateway"]


def test_an_unshippable_line_is_quarantined_not_dropped_nor_blocking(tmp_path: Path) -> None:
    from gateway.audit.spool import Spool, read_segment

    spool_dir = tmp_path / "spool" / "w0"
    spool_dir.mkdir(parents=True)
    legacy = Spool(spool_dir, max_bytes=1 << 20, segment_bytes=1 << 20, policy="refuse")
    legacy.append(b'{"tenant_id":"t-x","time":"yesterday"}')
    legacy.close()
    log = AuditLog(file_config(tmp_path))
    good = record()
    log.record(good)
    log.close()
    assert id_counts(FileSink(tmp_path / "sink")) == {good.id: 1}
    kept, _bad = read_segment(spool_dir / "quarantine.log")
    assert kept == [b'{"tenant_id":"t-x","time":"yesterday"}']


def test_an_upload_whose_answer_was_lost_is_retried_under_the_same_name(tmp_path: Path) -> None:
    class LostAnswer(FileSink):
        """Stores the object, then fails as if the connection dropped before the reply."""

        lost = 0

        def put(self, key: str, data: bytes) -> None:
            super().put(key, data)
            if "/digests/" not in key and self.lost < 2:
                self.lost += 1
                from gateway.audit.sinks import SinkError

                raise SinkError("connection reset")

    sink = LostAnswer(tmp_path / "sink")
    log = AuditLog(file_config(tmp_path, upload_interval=3600), sink=sink)
    log.start()
    uploader = log._current().uploader
    for _ in range(200):  # let the start-up round (nothing to ship) finish first
        if uploader.last_success:
            break
        time.sleep(0.01)
    recs = [record() for _ in range(20)]
    for rec in recs:
        log.record(rec)
    assert not log.flush()  # the object is there, but the uploader could not know
    assert not log.flush()
    assert log.flush()
    log.close()
    assert sink.lost == 2
    counts = id_counts(sink)
    assert sorted(counts) == sorted(r.id for r in recs) and set(counts.values()) == {1}
    assert len(data_keys(sink, "t-acme")) == 1  # one name, written three times
    assert verify_tenant(sink, "t-acme", [public_key(tmp_path)]).ok


def test_an_object_moved_to_another_name_is_named_reordered(tmp_path: Path) -> None:
    log = AuditLog(file_config(tmp_path, upload_interval=3600))
    for _ in range(3):
        log.record(record())
        log.flush()
    log.close()
    sink = FileSink(tmp_path / "sink")
    keys = data_keys(sink, "t-acme")
    moved = keys[0][:-12] + "000000000007"
    (tmp_path / "sink" / keys[0]).rename(tmp_path / "sink" / moved)
    report = verify_tenant(sink, "t-acme", [public_key(tmp_path)])
    assert {p.key: p.kind for p in report.problems} == {keys[0]: "missing",
                                                        moved: "reordered"}


def test_a_host_renamed_between_runs_starts_its_own_verifiable_stream(tmp_path: Path) -> None:
    first = AuditLog(file_config(tmp_path))
    first.record(record())
    first.close()
    renamed = AuditLog(file_config(tmp_path, host="newname"))
    renamed.record(record())
    renamed.close()
    sink = FileSink(tmp_path / "sink")
    keys = data_keys(sink, "t-acme")
    assert [k.rsplit("/", 1)[1] for k in keys] == ["newname-w0-000000000001",
                                                   "testhost-w0-000000000001"]
    assert verify_tenant(sink, "t-acme", [public_key(tmp_path)]).ok
