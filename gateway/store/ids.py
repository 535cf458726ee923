"""Identifiers, timestamps and the duplicate error shared by the store's modules."""

from __future__ import annotations

import secrets
import time


class DuplicateError(ValueError):
    """A row with the same unique value exists already."""


def new_id(prefix: str) -> str:
    """A random, non-sequential identifier such as ``tn_3kq...`` (96 bits)."""
    return f"{prefix}_{secrets.token_urlsafe(12)}"


def now() -> int:
    """Seconds since the epoch, as every time column stores it."""
    return int(time.time())
