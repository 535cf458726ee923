"""Audit objects: names, the hash chain of their records, and their bytes.

An object holds one stream's records for one tenant and one hour as gzip'd JSON lines::

    <tenant>/<yyyy>/<mm>/<dd>/<hh>/<host>-<worker>-<sequence>

A stream is ``(tenant, host, worker)``; ``sequence`` counts its objects from 1 with no
gaps. Every record line carries ``seq`` (its place in the stream, from 1) and
``prev_hash`` (SHA-256 of the previous line of the stream, ``GENESIS`` for the first),
so removing, changing or moving a record or an object breaks the chain. Names and
bytes are deterministic (sorted keys, gzip mtime 0) so that a retried upload writes the
same object again instead of a second one.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shared.audit import AuditRecord
from shared.codec import from_wire, to_wire

GENESIS = "0" * 64
TENANT_SAFE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")  # one key segment
NO_TENANT = "_gateway"  # records of requests that had no tenant (failed sign-ins)
DIGEST_DIR = "digests"
SEQ_DIGITS = 12
MAX_OBJECT_BYTES = 256 * 1024 * 1024  # refuse to inflate anything bigger when reading

_STREAM_SEQ = r"(?P<stream>[A-Za-z0-9.]+-w\d+)-(?P<seq>\d{12})$"
_DATA_KEY = re.compile(r"^(?P<tenant>[^/]+)/(?P<hour>\d{4}/\d{2}/\d{2}/\d{2})/" + _STREAM_SEQ)
_DIGEST_KEY = re.compile(r"^(?P<tenant>[^/]+)/digests/" + _STREAM_SEQ)


@dataclass(frozen=True, slots=True)
class DataKey:
    tenant: str
    hour: str  # yyyy/mm/dd/hh
    stream: str  # host-worker
    seq: int


@dataclass(frozen=True, slots=True)
class DigestKey:
    tenant: str
    stream: str
    seq: int


def hour_of(time: str) -> str:
    """``2026-12-03T09:41:07.123Z`` → ``2026/12/03/09``."""
    return f"{time[0:4]}/{time[5:7]}/{time[8:10]}/{time[11:13]}"


def data_key(tenant: str, hour: str, stream: str, seq: int) -> str:
    return f"{tenant}/{hour}/{stream}-{seq:0{SEQ_DIGITS}d}"


def digest_key(tenant: str, stream: str, seq: int) -> str:
    return f"{tenant}/{DIGEST_DIR}/{stream}-{seq:0{SEQ_DIGITS}d}"


def parse_data_key(key: str) -> DataKey | None:
    m = _DATA_KEY.match(key)
    if m is None:
        return None
    return DataKey(m["tenant"], m["hour"], m["stream"], int(m["seq"]))


def parse_digest_key(key: str) -> DigestKey | None:
    m = _DIGEST_KEY.match(key)
    if m is None:
        return None
    return DigestKey(m["tenant"], m["stream"], int(m["seq"]))


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class Chained:
    """An object's bytes with what the chain and the digest need to know about it."""

    body: bytes
    records: int
    first_seq: int
    last_seq: int
    last_hash: str


def chain_records(wire_records: Iterable[dict[str, Any]], seq: int, prev: str) -> Chained:
    """Number and link ``wire_records`` after ``(seq, prev)``; returns the gzip'd object."""
    lines: list[bytes] = []
    first = seq + 1
    for wire in wire_records:
        seq += 1
        line = canonical({**wire, "seq": seq, "prev_hash": prev})
        prev = sha256(line)
        lines.append(line)
    body = gzip.compress(b"\n".join(lines) + b"\n", compresslevel=6, mtime=0)
    return Chained(body, len(lines), first, seq, prev)


def object_lines(body: bytes) -> list[bytes]:
    """The record lines of an object's bytes (raises ``ValueError`` if not gzip'd lines)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as f:
            data = f.read(MAX_OBJECT_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise ValueError(f"not a gzip object: {exc}") from exc
    if len(data) > MAX_OBJECT_BYTES:
        raise ValueError("object inflates past the size limit")
    return [line for line in data.split(b"\n") if line]


def line_record(line: bytes) -> AuditRecord:
    return from_wire(AuditRecord, json.loads(line))


def record_wire(rec: AuditRecord) -> dict[str, Any]:
    wire: dict[str, Any] = to_wire(rec)
    return wire


def strip_chain(rec: AuditRecord) -> AuditRecord:
    return dataclasses.replace(rec, seq=0, prev_hash="")

