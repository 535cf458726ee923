"""Turning one stream's sealed spool segments into audit objects and digests.

A segment is cut into one object per (tenant, hour), in that order, each chained to
the tenant's previous object of this stream. The chain state is saved after every
upload, so a crash anywhere repeats at most the one upload in flight, with the same
name and bytes. A segment is deleted only after all its objects and the digests that
name them are stored.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit.digests import ChainState, build_digest, mark_digested
from gateway.audit.objects import TENANT_SAFE, chain_records, data_key, hour_of, sha256
from gateway.audit.sinks import Sink
from gateway.audit.spool import frame, read_segment, segment_seq

log = logging.getLogger(__name__)


QUARANTINE = "quarantine.log"
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:")


def _parse(payload: bytes) -> dict[str, Any] | None:
    try:
        wire = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(wire, dict):
        return None
    tenant, time = wire.get("tenant_id"), wire.get("time")
    if not isinstance(tenant, str) or not TENANT_SAFE.match(tenant):
        return None
    if not isinstance(time, str) or not _TIME.match(time):
        return None
    return wire


class Shipper:
    """Ships the segments of one slot directory as the stream ``<host>-<slot>``."""

    def __init__(
        self,
        sink: Sink,
        directory: Path,
        *,
        host: str,
        worker: str,
        signer: Ed25519PrivateKey,
    ) -> None:
        self.sink = sink
        self.directory = directory
        self.host = host
        self.worker = worker
        self.stream = f"{host}-{worker}"
        self.signer = signer
        self.state = ChainState(directory, self.stream)
        self.objects_written = 0
        self.records_written = 0
        self.bytes_written = 0

    def ship(self, path: Path, remove: Callable[[Path], None]) -> None:
        """Upload everything in segment ``path`` then ``remove`` it; raises ``SinkError``."""
        seg = segment_seq(path)
        payloads, bad = read_segment(path)
        if bad:
            log.warning("audit segment %s: skipped %d torn or corrupt lines", path, bad)
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for payload in payloads:
            wire = _parse(payload)
            if wire is None:
                self._quarantine(path, payload)
                continue
            wire["host"] = wire.get("host") or self.host
            wire["worker"] = wire.get("worker") or self.worker
            groups.setdefault((wire["tenant_id"], hour_of(wire["time"])), []).append(wire)
        touched: set[str] = set()
        for (tenant_id, hour), records in sorted(groups.items()):
            chain = self.state.tenant(tenant_id)
            touched.add(tenant_id)
            if (chain.done_seg, chain.done_hour) >= (seg, hour):
                continue  # stored before a crash; the state already counts it
            built = chain_records(records, chain.record_seq, chain.last_hash)
            key = data_key(tenant_id, hour, self.stream, chain.object_seq + 1)
            self.sink.put(key, built.body)
            chain.object_seq += 1
            chain.record_seq = built.last_seq
            chain.last_hash = built.last_hash
            chain.done_seg, chain.done_hour = seg, hour
            chain.undigested.append(
                {
                    "key": key,
                    "sha256": sha256(built.body),
                    "records": built.records,
                    "first_seq": built.first_seq,
                    "last_seq": built.last_seq,
                    "last_hash": built.last_hash,
                }
            )
            self.state.save()
            self.objects_written += 1
            self.records_written += built.records
            self.bytes_written += len(built.body)
        self.write_digests(touched)
        remove(path)

    def _quarantine(self, path: Path, payload: bytes) -> None:
        """Keep a line that cannot become part of an object, rather than block or drop it."""
        log.error("audit segment %s: a record without a valid tenant or time was moved to %s",
                  path, self.directory / QUARANTINE)
        fd = os.open(self.directory / QUARANTINE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, frame(payload))
            os.fsync(fd)
        finally:
            os.close(fd)

    def write_digests(self, tenants: set[str] | None = None) -> None:
        """Sign and store a digest for every tenant with objects not yet in one."""
        names = sorted(self.state.tenants if tenants is None else tenants)
        for tenant_id in names:
            chain = self.state.tenant(tenant_id)
            if not chain.undigested:
                continue
            key, body = build_digest(tenant_id, self.stream, chain, self.signer)
            self.sink.put(key, body)
            mark_digested(chain, key, body)
            self.state.save()
