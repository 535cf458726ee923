"""Decoding of base64, hex and URL-encoded blobs, so what they hide can be scanned too.

Each decoder returns the decoded text and a function mapping a span of the decoded text
back to a span of the blob, or None when the blob does not decode to readable text.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

SpanMap = Callable[[int, int], tuple[int, int]]
_HEX = frozenset("0123456789abcdefABCDEF")
_MIN_TEXT = 8


def _readable(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(text) < _MIN_TEXT:
        return None
    probe = text.replace("\n", " ").replace("\r", " ").replace("\t", " ")
    return text if probe.isprintable() else None


def decode_base64_or_hex(blob: str) -> tuple[str, SpanMap] | None:
    core = blob.rstrip("=")
    if len(core) % 2 == 0 and set(core) <= _HEX:
        try:
            text = _readable(bytes.fromhex(core))
        except ValueError:
            text = None
        if text is not None:
            return text, lambda s, e: (2 * s, 2 * e)
    urlsafe = "-" in core or "_" in core
    if urlsafe and ("+" in core or "/" in core):
        return None
    usable = len(core) - (len(core) % 4 == 1)
    padded = core[:usable] + "=" * (-usable % 4)
    try:
        raw = base64.urlsafe_b64decode(padded) if urlsafe else base64.b64decode(padded)
    except (binascii.Error, ValueError):
        return None
    text = _readable(raw)
    if text is None or not text.isascii():
        # multi-byte characters would break the byte arithmetic of the span map
        return None if text is None else (text, lambda s, e: (0, len(blob)))
    size = len(blob)
    return text, lambda s, e: (4 * s // 3, min(size, -(-4 * e // 3)))


def decode_url(blob: str) -> tuple[str, SpanMap] | None:
    """Percent-decoding, one output character per byte, so the offset map is exact."""
    out: list[str] = []
    origin: list[int] = []
    i, n = 0, len(blob)
    while i < n:
        c = blob[i]
        if c == "%" and i + 2 < n and set(blob[i + 1 : i + 3]) <= _HEX:
            out.append(chr(int(blob[i + 1 : i + 3], 16)))
            origin.append(i)
            i += 3
            continue
        out.append(" " if c == "+" else c)
        origin.append(i)
        i += 1
    text = "".join(out)
    if len(text) < _MIN_TEXT or text == blob:
        return None
    try:
        # re-read as UTF-8 when it is (keeps the map: only then are lengths equal)
        utf8 = text.encode("latin-1").decode("utf-8")
        if len(utf8) == len(text):
            text = utf8
    except (UnicodeDecodeError, UnicodeEncodeError):
        pass

    def span(s: int, e: int) -> tuple[int, int]:
        end = origin[e - 1] + (3 if blob[origin[e - 1]] == "%" else 1)
        return origin[s], end

    return text, span
