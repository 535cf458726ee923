"""Tenants' own provider keys: encrypted at rest, decrypted only in memory, never returned.

Each key is sealed with AES-GCM under ``WORKJET_PROVIDER_KEY_SECRET`` (32 random bytes,
base64), with ``tenant_id:provider`` as associated data, so a ciphertext copied to
another tenant's row or provider does not decrypt. Every query filters by tenant.
The router asks ``lookup`` on each request: decrypted keys are cached per process for
``cache_seconds`` (a changed key reaches every worker within that time).
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
import time
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import BigInteger, Column, MetaData, String, Table, delete, insert, select, update
from sqlalchemy.engine import Engine

from gateway.config import ConfigError

NONCE_BYTES = 12
MAX_KEY_CHARS = 512

_md = MetaData()
provider_keys = Table(
    "tenant_provider_keys", _md,
    Column("tenant_id", String(40), primary_key=True),
    Column("provider", String(16), primary_key=True),
    Column("ciphertext", String(2048), nullable=False),
    Column("updated_by", String(40), nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)


class KeysDisabledError(RuntimeError):
    """No encryption secret is configured, so tenants cannot store keys."""


class KeyCipher:
    def __init__(self, secret_b64: str) -> None:
        try:
            secret = base64.b64decode(secret_b64, validate=True)
        except (binascii.Error, ValueError):
            secret = b""
        if len(secret) != 32:
            raise ConfigError("WORKJET_PROVIDER_KEY_SECRET must be base64 of 32 random bytes; "
                              "make one with: python -c 'import os,base64;"
                              "print(base64.b64encode(os.urandom(32)).decode())'")
        self._aead = AESGCM(secret)

    def seal(self, tenant_id: str, provider: str, key: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, key.encode(), f"{tenant_id}:{provider}".encode())
        return base64.b64encode(nonce + sealed).decode()

    def open(self, tenant_id: str, provider: str, ciphertext: str) -> str | None:
        try:
            raw = base64.b64decode(ciphertext)
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                       f"{tenant_id}:{provider}".encode())
        except (InvalidTag, binascii.Error, ValueError):
            return None  # wrong secret or a row moved between tenants: unusable, not fatal
        return plain.decode()


class TenantKeys:
    def __init__(self, engine: Engine, secret_b64: str, cache_seconds: float = 30.0) -> None:
        self.engine = engine
        self.cipher = KeyCipher(secret_b64) if secret_b64 else None
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def _require(self) -> KeyCipher:
        if self.cipher is None:
            raise KeysDisabledError("tenant provider keys are disabled: the operator must set "
                                    "WORKJET_PROVIDER_KEY_SECRET")
        return self.cipher

    def set(self, tenant_id: str, provider: str, key: str, user_id: str) -> None:
        sealed = self._require().seal(tenant_id, provider, key)
        t = provider_keys
        values: dict[str, Any] = {"ciphertext": sealed, "updated_by": user_id,
                                  "updated_at": int(time.time())}
        with self.engine.begin() as conn:
            changed = conn.execute(update(t).where(
                t.c.tenant_id == tenant_id, t.c.provider == provider).values(**values))
            if not changed.rowcount:
                conn.execute(insert(t).values(tenant_id=tenant_id, provider=provider, **values))
        self._forget(tenant_id)

    def remove(self, tenant_id: str, provider: str) -> bool:
        t = provider_keys
        with self.engine.begin() as conn:
            gone = conn.execute(delete(t).where(t.c.tenant_id == tenant_id,
                                                t.c.provider == provider)).rowcount
        self._forget(tenant_id)
        return bool(gone)

    def list(self, tenant_id: str) -> list[dict[str, Any]]:
        """Which providers have a key, and when it changed: never the key."""
        t = provider_keys
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.provider, t.c.updated_at, t.c.updated_by)
                                .where(t.c.tenant_id == tenant_id).order_by(t.c.provider))
            return [{"provider": r.provider, "updated_at": r.updated_at,
                     "updated_by": r.updated_by} for r in rows]

    def lookup(self, tenant_id: str, provider: str) -> str | None:
        """The tenant's own key for ``provider``, if it stored one (the router's hot path)."""
        if self.cipher is None:
            return None
        cached = self._cache.get(tenant_id)
        now = time.monotonic()
        if cached is None or cached[0] < now:
            cached = (now + self.cache_seconds, self._load(tenant_id))
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[tenant_id] = cached
        return cached[1].get(provider)

    def _load(self, tenant_id: str) -> dict[str, str]:
        assert self.cipher is not None
        t = provider_keys
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.provider, t.c.ciphertext)
                                .where(t.c.tenant_id == tenant_id)).all()
        keys = {}
        for row in rows:
            key = self.cipher.open(tenant_id, row.provider, row.ciphertext)
            if key is not None:
                keys[row.provider] = key
        return keys

    def _forget(self, tenant_id: str) -> None:
        with self._lock:
            self._cache.pop(tenant_id, None)
