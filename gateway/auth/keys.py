"""API key material: generation, hashing and the recognisable format.

A key is ``wj_live_`` followed by 43 base64url characters (256 random bits). The prefix
lets secret scanners, our own DLP included, spot a leaked key. The gateway stores only
the key's SHA-256 hash — keyed with HMAC by the server-side pepper when one is set — and
looks keys up by that hash, so the database never holds anything that can be used.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

API_KEY_PREFIX = "wj_live_"
KEY_RANDOM_BYTES = 32  # 256 bits
DISPLAY_PREFIX_LENGTH = 12  # "wj_live_" and four characters: enough to tell keys apart
API_KEY_LENGTH = len(API_KEY_PREFIX) + 43


def generate_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)


def display_prefix(key: str) -> str:
    return key[:DISPLAY_PREFIX_LENGTH]


def hash_secret(secret: str, pepper: str = "") -> str:
    """Hex SHA-256 of a key or token; HMAC-SHA256 keyed by ``pepper`` when one is set."""
    data = secret.encode()
    if pepper:
        return hmac.new(pepper.encode(), data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()


def looks_like_api_key(value: str) -> bool:
    return len(value) == API_KEY_LENGTH and value.startswith(API_KEY_PREFIX)
