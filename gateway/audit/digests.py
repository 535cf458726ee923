"""Signed digests and the per-stream chain state that produces them.

A digest object ``<tenant>/digests/<host>-<worker>-<sequence>`` names the objects a
stream wrote since its previous digest, each with its SHA-256, and the key and SHA-256
of that previous digest; it is signed with Ed25519 over its canonical JSON (without the
``signature`` field). With the public key alone a verifier can then tell missing,
altered, moved and extra objects apart.

The chain state (``chain-<stream>.json`` in the slot directory) is what the uploader must
remember across restarts: per tenant, the stream's last object and record sequence,
the last record hash, how far the current segment got, and the objects not yet named
in a digest. It is replaced atomically after each upload; an upload repeated after a
crash rebuilds the very same object from the same state.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit.keys import key_id
from gateway.audit.objects import GENESIS, canonical, digest_key, sha256
from gateway.audit.spool import fsync_dir

DIGEST_VERSION = 1


@dataclass
class TenantChain:
    object_seq: int = 0
    record_seq: int = 0
    last_hash: str = GENESIS
    done_seg: int = 0
    done_hour: str = ""
    digest_seq: int = 0
    digest_prev_key: str = ""
    digest_prev_sha: str = ""
    undigested: list[dict[str, Any]] = field(default_factory=list)


class ChainState:
    """The chain state of one stream, saved atomically in its slot directory.

    The file is named after the stream, so a slot taken over under another host name
    starts that stream's own chain instead of continuing the old one's numbers.
    """

    def __init__(self, directory: Path, stream: str) -> None:
        self.path = directory / f"chain-{stream}.json"
        self.tenants: dict[str, TenantChain] = {}
        if self.path.exists():
            raw = json.loads(self.path.read_text())
            self.tenants = {t: TenantChain(**v) for t, v in raw["tenants"].items()}

    def tenant(self, tenant_id: str) -> TenantChain:
        chain = self.tenants.get(tenant_id)
        if chain is None:
            chain = self.tenants[tenant_id] = TenantChain()
        return chain

    def save(self) -> None:
        data = json.dumps(
            {"version": 1, "tenants": {t: asdict(c) for t, c in sorted(self.tenants.items())}},
            separators=(",", ":"),
        ).encode()
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".chain-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        fsync_dir(self.path.parent)


def signed_body(doc: dict[str, Any]) -> bytes:
    """The bytes a digest's signature covers: its canonical JSON without ``signature``."""
    return canonical({k: v for k, v in doc.items() if k != "signature"})


def build_digest(
    tenant_id: str, stream: str, chain: TenantChain, key: Ed25519PrivateKey
) -> tuple[str, bytes]:
    """The next digest of ``chain``'s undigested objects: its key and signed bytes."""
    seq = chain.digest_seq + 1
    doc: dict[str, Any] = {
        "version": DIGEST_VERSION,
        "tenant": tenant_id,
        "stream": stream,
        "seq": seq,
        "previous": (
            {"key": chain.digest_prev_key, "sha256": chain.digest_prev_sha}
            if chain.digest_prev_key
            else None
        ),
        "objects": list(chain.undigested),
        "key_id": key_id(key.public_key()),
    }
    doc["signature"] = base64.b64encode(key.sign(signed_body(doc))).decode()
    return digest_key(tenant_id, stream, seq), canonical(doc)


def mark_digested(chain: TenantChain, key: str, body: bytes) -> None:
    chain.digest_seq += 1
    chain.digest_prev_key = key
    chain.digest_prev_sha = sha256(body)
    chain.undigested = []
