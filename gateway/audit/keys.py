"""The Ed25519 key that signs audit digests, and the public key that verifies them.

The private key is a PKCS#8 PEM file (mode 0600) named by
``WORKJET_AUDIT_SIGNING_KEY_FILE``. Without one, the gateway makes a key beside the
spool on first start (``signing-key.pem`` / ``signing-key.pub``) so the embedded set-up
is tamper-evident too; give the ``.pub`` to whoever verifies. A public key is written
and read as base64 of its 32 raw bytes, or as a PEM file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

AUTO_KEY_NAME = "signing-key.pem"
AUTO_PUB_NAME = "signing-key.pub"


class AuditKeyError(ValueError):
    """A key file or value is missing or not an Ed25519 key."""


def public_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def key_id(key: Ed25519PublicKey) -> str:
    """A short name for a public key, written into each digest so rotation is visible."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def write_private_key(path: Path) -> Ed25519PrivateKey:
    """Create a new key at ``path`` (never overwrites; mode 0600) and its ``.pub`` beside."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    path.with_suffix(".pub").write_text(public_text(key.public_key()) + "\n")
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise AuditKeyError(f"cannot read the audit signing key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(f"{path} is not an Ed25519 private key")
    return key


def signing_key(configured: Path | None, spool_root: Path) -> Ed25519PrivateKey:
    """The configured key, or the one generated beside the spool (made on first use)."""
    if configured is not None:
        return load_private_key(configured)
    path = spool_root / AUTO_KEY_NAME
    try:
        return write_private_key(path)
    except FileExistsError:
        return load_private_key(path)


def load_public_key(text_or_path: str) -> Ed25519PublicKey:
    """A public key from base64 raw bytes, or from a file holding that or a PEM."""
    value = text_or_path.strip()
    path = Path(value)
    if len(value) != 44 or path.exists():
        try:
            value = path.read_text().strip()
        except OSError as exc:
            raise AuditKeyError(f"cannot read the public key {text_or_path}: {exc}") from exc
    if value.startswith("-----BEGIN"):
        try:
            loaded = serialization.load_pem_public_key(value.encode())
        except ValueError as exc:
            raise AuditKeyError(f"not a PEM public key: {exc}") from exc
        if not isinstance(loaded, Ed25519PublicKey):
            raise AuditKeyError("the public key is not an Ed25519 key")
        return loaded
    try:
        raw = base64.b64decode(value, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise AuditKeyError("the public key must be base64 of 32 bytes, or a PEM file") from exc


def verify_signature(key: Ed25519PublicKey, signature: str, message: bytes) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
