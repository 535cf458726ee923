"""How fast one worker spools audit records, what a record adds to a request, and how
fast the uploader ships to a real S3 server (versitygw on loopback).

Run: ``.venv/bin/python tests/benchmarks/bench_audit.py [--records N]``. Prints numbers;
the machine is shared, so compare rows of one run, not runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gateway.audit import AuditConfig, AuditLog
from gateway.audit.config import S3Target
from tests.gateway.audit.support import record
from tests.services import S3Server


def spool_rate(root: Path, threads: int, total: int) -> tuple[float, float, float, float]:
    """records/s, records per fsync, p50 and p99 latency of record() in ms."""
    cfg = AuditConfig(sink=root / "sink", spool_dir=root / f"spool-{threads}",
                      upload_interval=3600, host="bench")
    log = AuditLog(cfg)
    log.start()
    recs = [record(f"t-{i % 10}") for i in range(total)]
    per = total // threads
    latencies: list[list[float]] = [[] for _ in range(threads)]
    barrier = threading.Barrier(threads + 1)

    def work(n: int) -> None:
        mine = latencies[n]
        barrier.wait()
        for rec in recs[n * per:(n + 1) * per]:
            t0 = time.perf_counter()
            log.record(rec)
            mine.append(time.perf_counter() - t0)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - t0
    syncs = log._current().spool.syncs
    log.close()
    flat = sorted(x for xs in latencies for x in xs)
    p99 = flat[int(len(flat) * 0.99)]
    return per * threads / elapsed, per * threads / max(syncs, 1), \
        statistics.median(flat) * 1000, p99 * 1000


def upload_rate(root: Path, total: int) -> tuple[float, float, int]:
    """records/s and MB/s (compressed) the uploader ships to versitygw, objects written."""
    server = S3Server(root / "s3")
    server.start()
    try:
        target = S3Target(server.endpoint, "bench", server.access_key, server.secret_key,
                          secure=False, region=server.region, create_bucket=True)
        cfg = AuditConfig(sink=target, spool_dir=root / "spool-up", upload_interval=3600,
                          host="bench")
        log = AuditLog(cfg)
        log.start()
        assert log.flush()
        recs = [record(f"t-{i % 10}") for i in range(total)]
        for rec in recs:
            log.record(rec)
        t0 = time.perf_counter()
        assert log.flush()
        elapsed = time.perf_counter() - t0
        status = log.status()
        log.close()
        return (status.records_uploaded / elapsed, status.bytes_uploaded / elapsed / 1e6,
                status.objects_uploaded)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        root = Path(tmp)
        print(f"spooling {args.records} records (fdatasync, group commit), 10 tenants")
        print(f"{'threads':>8} {'records/s':>10} {'rec/fsync':>10} {'p50 ms':>8} {'p99 ms':>8}")
        for threads in (1, 4, 16, 64):
            rate, per_sync, p50, p99 = spool_rate(root, threads, args.records)
            print(f"{threads:>8} {rate:>10.0f} {per_sync:>10.1f} {p50:>8.3f} {p99:>8.3f}")
        rate, mbps, objects = upload_rate(root, args.records)
        print(f"upload to versitygw: {rate:.0f} records/s, {mbps:.2f} MB/s gzip'd "
              f"({objects} objects, 10 tenants)")


if __name__ == "__main__":
    main()
