"""All detectors compiled once: one RE2 multi-pattern set plus one regex per detector.

The set answers, in one linear pass, which detectors have a candidate anywhere in the
text; only those detectors' own regexes then run to find positions, and validators run
on their candidates. Clean text costs one pass of RE2's DFA.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import re2

from gateway.dlp.detector import Detector
from gateway.dlp.normalize import FoldTable
from gateway.dlp.rules_pii import BLOB_DETECTORS, PII_DETECTORS
from gateway.dlp.rules_secrets import SECRET_DETECTORS

ALL_DETECTORS: tuple[Detector, ...] = SECRET_DETECTORS + PII_DETECTORS + BLOB_DETECTORS
SET_SIZE = 24  # hints per RE2 set (see RuleSet.matchers)
# Streaming hold-back: the longest stretch a pattern spans across spaces (an assignment's
# key and value, a card with separators, "Authorization: Bearer ..."). Single tokens of
# any length (keys, JWTs) and open key blocks are held until complete (see stream.py).
STREAM_WINDOW_CAP = 192


def _options() -> Any:
    options = re2.Options()
    options.max_mem = 256 << 20  # the set's DFA needs room; RE2 falls back, never backtracks
    options.log_errors = False
    return options


_LITERAL = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-/:=~ @'\"#"
)


def derive_hint(pattern: str) -> str:
    """The literal the pattern starts with (after flags, ``\\b`` and group openers).

    Raises ValueError when there is no literal of 3+ characters: give such detectors
    an explicit ``hint``.
    """
    flags, p = "", pattern
    if p.startswith("(?i)"):
        flags, p = "(?i)", p[4:]
    while p.startswith(("\\b", "(")) and not p.startswith("(?"):
        p = p[2:] if p.startswith("\\b") else p[1:]
    if p.startswith("(?:"):
        end = p.find(")")
        alts = p[3:end].split("|")
        quantified = p[end + 1 : end + 2] in ("?", "*", "{")
        if end > 0 and all(a and set(a) <= _LITERAL for a in alts) and not quantified:
            return flags + p[: end + 1]
        raise ValueError(f"no literal prefix in {pattern!r}")
    out: list[str] = []
    i = 0
    while i < len(p):
        if p[i] == "\\" and p[i + 1 : i + 2] in (".", "$", "+", "/"):
            out.append(p[i : i + 2])
            i += 2
        elif p[i] in _LITERAL:
            out.append(p[i])
            i += 1
        else:
            break
    if i < len(p) and p[i] in "?*{" and out:
        out.pop()  # the last unit is optional or repeated
    if len("".join(out).replace("\\", "")) < 3:
        raise ValueError(f"no literal prefix in {pattern!r}")
    return flags + "".join(out)


@dataclass(frozen=True, slots=True)
class RuleSet:
    detectors: tuple[Detector, ...]
    regexes: tuple[Any, ...]
    # (re2.Set, detector indices per set entry): several small sets, because one RE2
    # set's DFA tracks which of its patterns already matched, and on hostile input the
    # number of such combinations (and so of DFA states) grows with the set's size.
    matchers: tuple[tuple[Any, tuple[tuple[int, ...], ...]], ...]
    fold: FoldTable
    window: int

    def candidates(self, data: bytes) -> list[int]:
        """Indices of the detectors whose hint occurs in ``data``."""
        found: list[int] = []
        for matcher, owners in self.matchers:
            for entry in matcher.Match(data) or ():
                found.extend(owners[entry])
        return found

    @property
    def types(self) -> frozenset[str]:
        return frozenset(d.type for d in self.detectors if d.category != "blob")


def compile_rules(detectors: tuple[Detector, ...] = ALL_DETECTORS) -> RuleSet:
    options = _options()
    regexes = []
    owners: dict[str, list[int]] = {}
    for index, detector in enumerate(detectors):
        hint = detector.hint or derive_hint(detector.pattern)
        owners.setdefault(hint, []).append(index)
        regexes.append(re2.compile(detector.pattern.encode("utf-8"), options))
    hints = list(owners)
    matchers = []
    for start in range(0, len(hints), SET_SIZE):
        group = hints[start : start + SET_SIZE]
        matcher = re2.Set.SearchSet(options)
        for hint in group:
            matcher.Add(hint.encode("utf-8"))  # raises re2.error on a bad pattern
        matcher.Compile()
        matchers.append((matcher, tuple(tuple(owners[h]) for h in group)))
    window = min(
        STREAM_WINDOW_CAP, max(d.max_len for d in detectors if d.category != "blob") + 32
    )
    return RuleSet(detectors, tuple(regexes), tuple(matchers), FoldTable(), window)


@functools.cache
def default_rules() -> RuleSet:
    """The built-in rules, compiled once per process (compiling takes tens of ms)."""
    return compile_rules()
