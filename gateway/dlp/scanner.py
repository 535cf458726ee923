"""Finding candidates in one text: normalise, match, validate, decode blobs, resolve overlaps.

Everything here is linear in the input: RE2 (no backtracking) does the matching, each
validator sees one bounded candidate, and blob decoding is bounded in depth and in the
total number of decoded characters.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import re2

from gateway.dlp.decode import decode_base64_or_hex, decode_url
from gateway.dlp.detector import Detector, Probe
from gateway.dlp.normalize import Normalized, normalize
from gateway.dlp.ruleset import RuleSet

MAX_DECODE_DEPTH = 3


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What the policy decides about detection (not about actions)."""

    skip_types: frozenset[str] = frozenset()  # types whose action is "allow"
    countries: frozenset[str] = frozenset()  # national identifiers switched on
    phone_regions: tuple[str, ...] = ("US", "GB")
    ignore_test_values: bool = True
    normalize: bool = True
    decode_depth: int = 2


@dataclass(slots=True, order=True)
class Hit:
    """A validated finding: ``[start, end)`` in the scanned text's own coordinates."""

    start: int
    end: int
    type: str = field(compare=False)
    priority: int = field(compare=False)
    key: str = field(compare=False)  # the normalised value, for consistent placeholders
    context: int = field(default=-1, compare=False)  # where the whole match starts (<= start)


@dataclass(slots=True)
class _Budget:
    decoded: int  # characters we may still decode (all levels together)


class Scanner:
    def __init__(self, rules: RuleSet, options: ScanOptions) -> None:
        self.rules = rules
        self.options = options
        enabled = []
        for index, det in enumerate(rules.detectors):
            if det.type in options.skip_types:
                continue
            if det.category == "national_id" and det.country not in options.countries:
                continue
            if det.category == "blob" and options.decode_depth <= 0:
                continue
            enabled.append(index)
        self._enabled = frozenset(enabled)

    def scan(self, text: str) -> list[Hit]:
        """Validated, non-overlapping hits in ``text`` coordinates, ordered by start."""
        budget = _Budget(decoded=2 * len(text) + 65536)
        return self._scan(text, 0, budget)

    def _scan(self, text: str, depth: int, budget: _Budget) -> list[Hit]:
        if self.options.normalize:
            view = normalize(text, self.rules.fold)
        else:
            view = Normalized(text, None)
        hits = self._detect(view.text, depth, budget)
        if view.origin is not None:
            origin = view.origin
            for hit in hits:
                hit.context = origin[hit.context] if hit.context < len(origin) else hit.start
                hit.start, hit.end = view.span(hit.start, hit.end)
                hit.context = min(hit.context, hit.start)
        return hits

    def _detect(self, vtext: str, depth: int, budget: _Budget) -> list[Hit]:
        data = vtext.encode("utf-8", "surrogatepass")  # lone surrogates can come from JSON
        ascii_only = len(data) == len(vtext)
        rules = self.rules
        opts = self.options
        raw: list[Hit] = []
        blobs: list[tuple[Detector, int, int]] = []
        seen: set[int] = set()
        for index in rules.candidates(data):
            if index in seen or index not in self._enabled:
                continue
            seen.add(index)
            det = rules.detectors[index]
            for spans in _matches(rules.regexes[index], data, det):
                start, end = spans[det.group]
                if start < 0 or start == end:
                    continue
                if det.category == "blob":
                    if depth < opts.decode_depth:
                        blobs.append((det, start, end))
                    continue
                value = data[start:end].decode("utf-8", "surrogatepass")
                if det.check is not None:
                    probe = Probe(
                        data[max(0, start - 2) : start].decode("latin-1"),
                        data[end : end + 2].decode("latin-1"),
                        opts.ignore_test_values,
                        opts.phone_regions,
                        data,
                        spans[0],
                    )
                    verdict = det.check(value, probe)
                    if verdict is False:
                        continue
                    if verdict is not True:
                        subs = verdict if isinstance(verdict, list) else [verdict]
                        for a, b in subs:  # character offsets in an ASCII value
                            raw.append(Hit(start + a, start + b, det.type, det.priority,
                                           value[a:b], spans[0][0]))
                        continue
                raw.append(Hit(start, end, det.type, det.priority, value, spans[0][0]))
        if not ascii_only and (raw or blobs):
            _bytes_to_chars(data, raw, blobs)
        for det, start, end in blobs:
            raw.extend(self._decoded_hits(det, vtext, start, end, depth, budget))
        return _resolve(raw)

    def _decoded_hits(
        self, det: Detector, vtext: str, start: int, end: int, depth: int, budget: _Budget
    ) -> list[Hit]:
        blob = vtext[start:end]
        if budget.decoded < len(blob):
            return []
        budget.decoded -= len(blob)
        decoded = decode_url(blob) if det.type == "URLENC" else decode_base64_or_hex(blob)
        if decoded is None:
            return []
        text, span = decoded
        inner = self._scan(text, depth + 1, budget)
        for hit in inner:
            s, e = span(hit.start, hit.end)
            hit.start, hit.end, hit.context = start + s, start + e, start
        return inner


_UNANCHORED = re2._Anchor.UNANCHORED


def _matches(regex: Any, data: bytes, det: Detector) -> Iterator[list[tuple[int, int]]]:
    """All non-overlapping matches, searched in bounded windows.

    RE2's search costs grow with the searched range even when the match is near its
    start, so searching to the end of a large text once per match would be quadratic.
    A detector's matches are at most ``max_len`` long (its ``reach`` with context); a
    window of twice that is searched, and a match is taken only when it starts early
    enough to end well inside the window, otherwise the window slides on. Longer
    matches of unbounded patterns (blobs) are cut into pieces of that size.
    """
    raw = regex._regexp
    n = len(data)
    reach = 2 * det.max_len + 64
    width = max(16384, 2 * reach)  # searching 16 KB costs ~1 us more than 1 KB
    pos = 0
    while pos < n:
        end = min(n, pos + width)
        spans = raw.Match(_UNANCHORED, data, pos, end)
        start, stop = spans[0]
        if start >= 0 and (end == n or start < end - reach):
            yield spans
            pos = stop if stop > start else stop + 1
        elif end == n:
            return
        else:
            pos = end - reach  # matches starting later are found in the next window


def _bytes_to_chars(
    data: bytes, hits: list[Hit], blobs: list[tuple[Detector, int, int]]
) -> None:
    """Convert UTF-8 byte offsets to character offsets, in one pass over ``data``."""
    offsets = sorted({h.start for h in hits} | {h.end for h in hits}
                     | {h.context for h in hits} | {b[1] for b in blobs} | {b[2] for b in blobs})
    table: dict[int, int] = {}
    prev_b = prev_c = 0
    for off in offsets:
        prev_c += len(data[prev_b:off].decode("utf-8", "surrogatepass"))
        prev_b = off
        table[off] = prev_c
    for hit in hits:
        hit.start, hit.end, hit.context = table[hit.start], table[hit.end], table[hit.context]
    blobs[:] = [(d, table[s], table[e]) for d, s, e in blobs]


def _resolve(hits: list[Hit]) -> list[Hit]:
    """Keep one hit per overlapping group: the most specific (priority), then the longest."""
    if len(hits) < 2:
        return hits
    hits.sort(key=lambda h: (h.start, -h.priority, h.start - h.end))
    kept: list[Hit] = []
    for hit in hits:
        if kept and hit.start < kept[-1].end:
            last = kept[-1]
            if (hit.priority, hit.end - hit.start) > (last.priority, last.end - last.start):
                kept[-1] = hit
            continue
        kept.append(hit)
    return kept
