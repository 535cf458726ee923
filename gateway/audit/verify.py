"""Checking a tenant's audit objects against the signed digests, with the public key only.

For each stream the digests must run 1, 2, 3, ... each signed by a trusted key, each
naming the key and SHA-256 of the one before. Every object a digest names must be
there with that SHA-256. What is wrong is reported per object:

- ``missing``: named by a digest (or a digest in the sequence) but not in the store;
- ``altered``: there, but its bytes are not the bytes that were signed;
- ``reordered``: there, but holding the bytes signed for another object's name;
- ``extra``: in the store but named by no digest (added, or written after the last
  digest: run verify after the gateway has flushed);
- ``bad-digest``: a digest whose signature, name or link does not hold.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.audit.digests import signed_body
from gateway.audit.keys import key_id, verify_signature
from gateway.audit.objects import (
    digest_key,
    parse_data_key,
    parse_digest_key,
    sha256,
)
from gateway.audit.sinks import Sink

ProblemKind = Literal["missing", "altered", "reordered", "extra", "bad-digest"]


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    key: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind.upper()} {self.key}: {self.detail}"


@dataclass
class VerifyReport:
    tenant_id: str
    objects_checked: int = 0
    digests_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class _Named:
    key: str
    sha: str
    digest: str


def _in_range(hour: str, start: str | None, end: str | None) -> bool:
    return (start is None or hour >= start) and (end is None or hour <= end)


def verify_tenant(
    sink: Sink,
    tenant_id: str,
    public_keys: Iterable[Ed25519PublicKey],
    *,
    start_hour: str | None = None,
    end_hour: str | None = None,
) -> VerifyReport:
    """Check ``tenant_id``'s objects (those whose hour is within the bounds, inclusive)."""
    trusted = {key_id(k): k for k in public_keys}
    report = VerifyReport(tenant_id)
    data: dict[str, str] = {}  # key -> hour
    streams: dict[str, dict[int, str]] = {}
    for key in sink.list(f"{tenant_id}/"):
        dk = parse_data_key(key)
        if dk is not None and dk.tenant == tenant_id:
            data[key] = dk.hour
            continue
        gk = parse_digest_key(key)
        if gk is not None and gk.tenant == tenant_id:
            streams.setdefault(gk.stream, {})[gk.seq] = key
            continue
        report.problems.append(Problem("extra", key, "not an audit object name"))

    named: dict[str, _Named] = {}
    for stream in sorted(streams):
        _check_stream(sink, tenant_id, stream, streams[stream], trusted, named, report)

    by_sha = {n.sha: n.key for n in named.values()}
    for key, info in sorted(named.items()):
        if not _in_range("/".join(key.split("/")[1:5]), start_hour, end_hour):
            continue
        if key not in data:
            report.problems.append(Problem("missing", key, f"named by {info.digest}"))
            continue
        report.objects_checked += 1
        actual = sha256(sink.get(key))
        if actual == info.sha:
            continue
        other = by_sha.get(actual)
        if other is not None:
            report.problems.append(
                Problem("reordered", key, f"holds the object signed as {other}")
            )
        else:
            report.problems.append(
                Problem("altered", key, f"SHA-256 {actual[:16]}… is not the one signed in "
                        f"{info.digest}")
            )
    for key, hour in sorted(data.items()):
        if key not in named and _in_range(hour, start_hour, end_hour):
            report.objects_checked += 1
            other = by_sha.get(sha256(sink.get(key)))
            if other is not None and other not in data:
                report.problems.append(
                    Problem("reordered", key, f"holds the object signed as {other}")
                )
            elif other is not None:
                report.problems.append(Problem("extra", key, f"a copy of {other}"))
            else:
                report.problems.append(Problem("extra", key, "named by no signed digest"))
    report.problems.sort(key=lambda p: (p.key, p.kind))
    return report


def _check_stream(
    sink: Sink,
    tenant_id: str,
    stream: str,
    digests: dict[int, str],
    trusted: dict[str, Ed25519PublicKey],
    named: dict[str, _Named],
    report: VerifyReport,
) -> None:
    prev_key: str | None = None
    prev_sha: str | None = None
    for seq in range(1, max(digests) + 1):
        key = digests.get(seq)
        if key is None:
            missing = digest_key(tenant_id, stream, seq)
            report.problems.append(Problem("missing", missing, "digest absent from the sequence"))
            prev_key, prev_sha = missing, None
            continue
        report.digests_checked += 1
        body = sink.get(key)
        problem = _digest_problem(body, tenant_id, stream, seq, trusted, prev_key, prev_sha)
        if problem:
            report.problems.append(Problem("bad-digest", key, problem))
        else:
            doc = json.loads(body)
            for obj in doc["objects"]:
                named[obj["key"]] = _Named(obj["key"], obj["sha256"], key)
        prev_key, prev_sha = key, sha256(body)


def _digest_problem(
    body: bytes,
    tenant_id: str,
    stream: str,
    seq: int,
    trusted: dict[str, Ed25519PublicKey],
    prev_key: str | None,
    prev_sha: str | None,
) -> str:
    try:
        doc: dict[str, Any] = json.loads(body)
        signer = trusted.get(str(doc.get("key_id")))
        if signer is None:
            return f"signed by key {doc.get('key_id')!r}, which is not a trusted public key"
        if not verify_signature(signer, str(doc.get("signature", "")), signed_body(doc)):
            return "the signature does not match its contents (altered)"
        if (doc.get("tenant"), doc.get("stream"), doc.get("seq")) != (tenant_id, stream, seq):
            return (f"signed as {doc.get('tenant')}/{doc.get('stream')} #{doc.get('seq')}, "
                    f"stored under another name (reordered)")
        previous = doc.get("previous")
        if seq == 1:
            if previous is not None:
                return "the first digest of the stream names a previous digest"
        elif not isinstance(previous, dict) or previous.get("key") != prev_key:
            return f"does not link to the previous digest {prev_key}"
        elif prev_sha is not None and previous.get("sha256") != prev_sha:
            return f"the previous digest {prev_key} is not the one it signed"
        if not isinstance(doc.get("objects"), list):
            return "names no objects"
    except (ValueError, TypeError, AttributeError) as exc:
        return f"unreadable: {exc}"
    return ""
