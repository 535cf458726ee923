"""Identifiers that name things but guard nothing: request, message, tool-call and audit
record ids.

They must be unique, not secret, so they come from the process's Mersenne Twister (the
``random`` module reseeds it from the OS in every forked worker) instead of
``os.urandom``, whose system call releases the GIL: three of them per request were three
thread switches under load. Keys, tokens, nonces and anything else that guards access
keep using ``secrets``.
"""

from __future__ import annotations

import random

_bits = random.getrandbits


def hex_id(nbytes: int) -> str:
    """``nbytes`` random bytes as ``2 * nbytes`` lowercase hex digits."""
    return f"{_bits(nbytes * 8):0{nbytes * 2}x}"
