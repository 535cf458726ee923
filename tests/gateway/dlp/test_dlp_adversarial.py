"""Hostile inputs: scan time grows linearly with size (RE2, bounded validators)."""

from __future__ import annotations

import base64
import random
import string
import time
from collections.abc import Callable

import pytest

from gateway.dlp import DlpEngine

SMALL, LARGE = 64_000, 512_000  # 8x the input: linear is ~8x the time, quadratic ~64x


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda n: (unit * (n // len(unit) + 1))[:n]


def _random(n: int) -> str:
    rng = random.Random(4)
    return "".join(rng.choices(string.ascii_letters + string.digits + "_-+/=.:@ %", k=n))


def _nested_base64(n: int) -> str:
    """Blobs encoded four times over (deeper than the policy decodes), side by side."""
    blob = b"token ghp_" + b"A" * 40 + b" mail bob@acme.io"
    for _ in range(4):
        blob = base64.b64encode(blob)
    return _repeat(blob.decode() + " ")(n)


INPUTS: dict[str, Callable[[int], str]] = {
    "digits and separators": _repeat("1 2-3.4_5 "),
    "one long digit run": _repeat("9"),
    "near-miss card numbers": _repeat("4539 1488 0343 6468 "),
    "near-miss GitHub tokens": _repeat("ghp_" + "A" * 36 + " "),
    "at signs": _repeat("a@"),
    "dots and dashes": _repeat("-.-."),
    "random token characters": _random,
    "nested base64": _nested_base64,
    "zero-width runs": _repeat("a\u200b"),
    "unterminated key block": lambda n: "-----BEGIN RSA PRIVATE KEY-----\n" + "A" * n,
    "percent escapes": _repeat("%41"),
    "assignment keywords": _repeat("password=token:secret= "),
    "colons (IPv6-like)": _repeat("a:b:c:"),
}


def _timed(engine: DlpEngine, text: str) -> float:
    best = float("inf")
    for _ in range(3):  # best of three: the machine is shared
        start = time.perf_counter()
        engine.scan_text(text)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("name", list(INPUTS))
def test_scan_time_is_linear_in_input_size(name: str) -> None:
    engine = DlpEngine.from_policy()
    make = INPUTS[name]
    engine.scan_text(make(1000))  # warm the DFA caches
    small, large = _timed(engine, make(SMALL)), _timed(engine, make(LARGE))
    # 8x the input may cost at most 20x the time (linear plus noise), and stays bounded
    assert large < max(20 * small, 0.25), (name, small, large)
    assert large < 15.0, (name, large)
