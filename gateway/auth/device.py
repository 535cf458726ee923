"""Device login codes for the terminal (RFC 8628 style): issue, look up, normalise.

``device_code`` is 256 random bits (the terminal keeps it and polls with it);
``user_code`` is 8 letters from RFC 8628's 20 consonants (no vowels, no digits: nothing
to confuse and no words), shown as ``BCDF-GHJK``. Entry is forgiving: case, spaces and
dashes are ignored. Only hashes are stored; guessing is throttled by the verify page.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from gateway.auth.keys import hash_secret
from gateway.store import DuplicateError, Store, now

USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
DEVICE_CODE_PREFIX = "wj_dev_"
MAX_CLIENT_NAME = 100


@dataclass(frozen=True)
class IssuedCode:
    device_code: str
    user_code: str
    expires_in: int
    interval: int


def generate_user_code() -> str:
    raw = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_user_code(entered: str) -> str | None:
    """The canonical ``XXXX-XXXX`` form of what a person typed, or None if it cannot be one."""
    letters = "".join(ch for ch in entered.upper() if ch.isalnum())
    if len(letters) != USER_CODE_LENGTH or any(ch not in USER_CODE_ALPHABET for ch in letters):
        return None
    return f"{letters[:4]}-{letters[4:]}"


def issue_device_code(
    store: Store, client_name: str, *, ttl: int, interval: int, pepper: str
) -> IssuedCode:
    for _ in range(5):  # a user-code collision among live codes is rare; draw again
        device_code = DEVICE_CODE_PREFIX + secrets.token_urlsafe(32)
        user_code = generate_user_code()
        try:
            store.create_device_code(
                device_code_hash=hash_secret(device_code, pepper),
                user_code_hash=hash_secret(user_code, pepper),
                client_name=client_name[:MAX_CLIENT_NAME], expires_at=now() + ttl,
                interval_ms=interval * 1000,
            )
        except DuplicateError:
            continue
        return IssuedCode(device_code, user_code, ttl, interval)
    raise RuntimeError("could not draw a unique user code")
