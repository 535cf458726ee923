"""A worker stand-in for crash tests: records audit records from 4 threads and prints
each record's id on stdout once ``record()`` has returned (i.e. once acknowledged).

Run: ``python -m tests.gateway.audit.spool_writer '<json>'`` with keys spool_dir, and
either sink_dir or endpoint/bucket/access_key/secret_key/region.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

from gateway.audit import AuditConfig, AuditLog, S3Target
from tests.gateway.audit.support import record


def main() -> None:
    opts = json.loads(sys.argv[1])
    sink: S3Target | Path
    if "sink_dir" in opts:
        sink = Path(opts["sink_dir"])
    else:
        sink = S3Target(opts["endpoint"], opts["bucket"], opts["access_key"],
                        opts["secret_key"], secure=False, region=opts["region"],
                        create_bucket=True)
    log = AuditLog(AuditConfig(sink=sink, spool_dir=Path(opts["spool_dir"]),
                               upload_interval=0.05, host="crashhost"))
    out = threading.Lock()

    def work() -> None:
        while True:
            rec = record()
            log.record(rec)
            with out:
                sys.stdout.write(rec.id + "\n")
                sys.stdout.flush()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
