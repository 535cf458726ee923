"""The spool: durable appends shared by one fsync, torn tails, the size bound."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest

from gateway.audit.spool import (
    PREALLOCATE_STEP,
    AuditUnavailableError,
    Spool,
    frame,
    list_segments,
    read_segment,
)


def make(tmp_path: Path, **kw: object) -> Spool:
    opts: dict = {"max_bytes": 1 << 20, "segment_bytes": 1 << 16, "policy": "refuse"}
    opts.update(kw)
    return Spool(tmp_path, **opts)


def test_concurrent_appends_share_fsyncs_and_all_land(tmp_path: Path) -> None:
    spool = make(tmp_path, segment_bytes=1 << 30)
    barrier = threading.Barrier(16)

    def work(n: int) -> None:
        barrier.wait()
        for i in range(100):
            spool.append(b'{"n":%d,"i":%d}' % (n, i))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spool.close()
    lines = [p for seg in list_segments(tmp_path) for p in read_segment(seg)[0]]
    assert len(lines) == 1600 and len(set(lines)) == 1600
    assert spool.syncs < 1600  # group commit: one fsync carried several records


def test_torn_last_line_is_skipped(tmp_path: Path) -> None:
    spool = make(tmp_path)
    spool.append(b'{"ok":1}')
    spool.close()
    seg = list_segments(tmp_path)[0]
    with seg.open("ab") as f:
        f.write(frame(b'{"torn":2}')[:-4])  # crash mid-write
    good, bad = read_segment(seg)
    assert good == [b'{"ok":1}'] and bad == 1


def test_segments_rotate_and_seal(tmp_path: Path) -> None:
    spool = make(tmp_path, segment_bytes=4096)
    for i in range(200):
        spool.append(b'{"i":%d,"pad":"%s"}' % (i, b"x" * 40))
    assert len(list(spool.sealed())) >= 2
    spool.seal()
    sealed = list(spool.sealed())
    assert sum(len(read_segment(p)[0]) for p in sealed) == 200
    for p in sealed:
        spool.remove(p)
    assert spool.bytes == 0


def test_leftovers_are_sealed_on_reopen(tmp_path: Path) -> None:
    first = make(tmp_path)
    first.append(b'{"a":1}')
    # no close: as after a crash
    second = make(tmp_path)
    assert [read_segment(p)[0] for p in second.sealed()] == [[b'{"a":1}']]
    second.append(b'{"b":2}')
    assert len(list_segments(tmp_path)) == 2


def test_refuse_policy_raises_when_full_and_keeps_what_it_has(tmp_path: Path) -> None:
    spool = make(tmp_path, max_bytes=1000)
    while not spool.full:
        spool.append(b'{"x":"' + b"y" * 100 + b'"}')
    before = spool.bytes
    with pytest.raises(AuditUnavailableError, match="full"):
        spool.append(b'{"x":1}')
    assert spool.bytes == before


def test_alarm_policy_keeps_writing_and_logs_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = make(tmp_path, max_bytes=1000, policy="alarm")
    with caplog.at_level(logging.ERROR):
        for _ in range(30):
            spool.append(b'{"x":"' + b"y" * 100 + b'"}')
    spool.close()
    assert spool.alarms > 0
    assert any("AUDIT SPOOL FULL" in r.getMessage() for r in caplog.records)
    assert sum(len(read_segment(p)[0]) for p in list_segments(tmp_path)) == 30


def test_write_failure_refuses_and_leaves_no_partial_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = make(tmp_path)
    spool.append(b'{"ok":1}')
    real_pwrite = os.pwrite
    calls = []

    def no_space(fd: int, data: bytes, offset: int) -> int:
        calls.append(len(data))
        if len(calls) == 1:  # the disk takes a few bytes, then is full
            return real_pwrite(fd, bytes(data[:5]), offset)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("gateway.audit.spool.os.pwrite", no_space)
    with pytest.raises(AuditUnavailableError, match="No space"):
        spool.append(b'{"lost":1}')
    assert spool.write_error and len(calls) == 2
    monkeypatch.undo()
    spool.append(b'{"ok":2}')  # recovers once the disk does
    assert not spool.write_error
    spool.close()
    lines = [p for seg in list_segments(tmp_path) for p in read_segment(seg)[0]]
    assert lines == [b'{"ok":1}', b'{"ok":2}']


def test_segments_are_reserved_ahead_and_sealed_to_their_records(tmp_path: Path) -> None:
    spool = make(tmp_path, segment_bytes=1 << 30)
    payloads = [b'{"n":%d}' % i for i in range(50)]
    for payload in payloads:
        spool.append(payload)
    active = list_segments(tmp_path)[0]
    records = sum(len(frame(p)) for p in payloads)
    # The blocks ahead are reserved (a sync then writes data only), not yet used.
    assert active.stat().st_size == PREALLOCATE_STEP and spool.bytes == records
    assert read_segment(active) == (payloads, 0)
    spool.seal()
    assert active.stat().st_size == records  # sealed: exactly its records
    spool.close()


def test_a_crashed_writers_reserved_tail_is_trimmed_and_read_as_nothing(tmp_path: Path) -> None:
    crashed = make(tmp_path)
    for i in range(3):
        crashed.append(b'{"before":%d}' % i)  # acknowledged, then the process dies
    leftover = list_segments(tmp_path)[0]
    assert leftover.stat().st_size > 3 * len(frame(b'{"before":0}'))
    assert read_segment(leftover) == ([b'{"before":%d}' % i for i in range(3)], 0)
    restarted = make(tmp_path)
    assert restarted.bytes == leftover.stat().st_size == 3 * len(frame(b'{"before":0}'))
    assert read_segment(leftover) == ([b'{"before":%d}' % i for i in range(3)], 0)
    assert [p.name for p in restarted.sealed()] == [leftover.name]
