# ruff: noqa: RUF001, RUF002  (the look-alike table is made of look-alikes)
"""Normalisation against evasion, with an offset map back to the original text.

Detectors run on a *normalised view* of the text: compatibility forms folded (NFKC per
character: full-width letters and digits, mathematical alphanumerics, ligatures), invisible
and format characters removed (zero-width spaces and joiners, soft hyphens, bidi controls,
variation selectors, tag characters, Hangul fillers), combining marks dropped (so ``é`` and
``e`` + U+0301 both read ``e``), look-alike letters folded to ASCII (Cyrillic ``а`` → ``a``,
Greek ``Ο`` → ``O``), every decimal digit of any script read as its ASCII digit, letters
posing as digits inside digit runs read as digits (``4O12`` → ``4012``, ``l`` → ``1``),
and Unicode dashes read as ``-``. Separators inside digit runs are tolerated by the digit detectors
themselves (they accept short runs of spaces, dots, dashes and underscores between digits).

Every character of the view comes from exactly one character of the original, recorded in
``origin``; a span ``[s, e)`` of the view maps back to ``[origin[s], origin[e - 1] + 1)``,
which covers exactly the original characters, including any invisible ones inside it.

Pure-ASCII text (most requests) takes a fast path: the view is the text itself.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import re2

# Characters that are invisible or only steer layout; removed from the view.
_INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f"
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d\u206e\u206f"
    "\u3164\ufeff\uffa0\ufff9\ufffa\ufffb"
)

# Look-alikes that NFKC leaves alone: Cyrillic, Greek and a few others that pass for ASCII.
_LOOKALIKES = {
    # Cyrillic lower / upper
    "а": "a", "в": "b", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x",
    "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "һ": "h", "ԛ": "q", "ԝ": "w", "ӏ": "l",
    "к": "k", "м": "m", "н": "h", "т": "t", "г": "r",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S", "Ԁ": "D",
    "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I", "З": "3", "Ь": "b",
    # Greek lower / upper
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "κ": "k", "τ": "t", "υ": "u",
    "χ": "x", "ε": "e", "ϲ": "c", "ϳ": "j",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C",
    # Latin and others
    "ı": "i", "ȷ": "j", "ɡ": "g", "ɑ": "a", "ʏ": "y", "ᴀ": "A", "ℓ": "l",
    # dashes, minus signs and quotes that pass for ASCII punctuation
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-", "\ufe58": "-", "\ufe63": "-", "\uff0d": "-",
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u2024": ".", "\u3002": ".", "\uff0e": ".", "\u2044": "/", "\u2215": "/",
    "\u2028": "\n", "\u2029": "\n", "\u0085": "\n",
}

_DELETE_CATEGORIES = frozenset({"Cf", "Mn", "Me", "Cs", "Co"})


def _fold_char(ch: str) -> str:
    """What one non-ASCII character reads as in the view ('' when it is dropped)."""
    if ch in _INVISIBLE:
        return ""
    category = unicodedata.category(ch)
    if category in _DELETE_CATEGORIES:
        return ""
    if ch in _LOOKALIKES:
        return _LOOKALIKES[ch]
    if category == "Nd":
        return str(unicodedata.decimal(ch))
    folded = unicodedata.normalize("NFKC", ch)
    out = []
    for c in folded:
        if c.isascii():
            out.append(c)
            continue
        if c in _LOOKALIKES:
            out.append(_LOOKALIKES[c])
            continue
        if unicodedata.category(c) == "Nd":
            out.append(str(unicodedata.decimal(c)))
            continue
        # accented Latin letters read as their base letter
        base = unicodedata.normalize("NFD", c)
        if base[0].isascii() and all(unicodedata.category(m) == "Mn" for m in base[1:]):
            out.append(base[0])
        elif unicodedata.category(c) in _DELETE_CATEGORIES:
            continue
        elif unicodedata.category(c) == "Zs":
            out.append(" ")
        else:
            out.append(c)
    return "".join(out)


_ASCII_IDENTITY = {i: chr(i) for i in range(128)}


_DIGIT_LOOKALIKES = str.maketrans("OolI", "0011")


class FoldTable(dict[int, str]):
    """``str.translate`` table that folds each code point once and remembers it.

    One table lives in each compiled rule set (not a module global); concurrent fills of
    the same key compute the same value, so sharing it between threads is safe. It also
    holds the RE2 pattern that finds letters posing as digits inside digit runs.
    """

    def __init__(self) -> None:
        super().__init__()
        # "4O12 l488": a word made only of digits and O, o, l, I, with at least one of
        # each; words inside longer tokens (ghs_Q73l5Pu...) are not words, so stay as is
        self.digit_lookalikes = re2.compile(
            r"\b[0-9OolI]*(?:[0-9][0-9OolI]*[OolI]|[OolI][0-9OolI]*[0-9])[0-9OolI]*\b"
        )

    def __missing__(self, key: int) -> str:
        value = _fold_char(chr(key))
        if len(self) < 65536:  # bound the memory an adversary can make us spend
            self[key] = value
        return value


@dataclass(frozen=True, slots=True)
class Normalized:
    """The view detectors scan; ``origin`` is None when the view is the text itself."""

    text: str
    origin: list[int] | None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a view span ``[start, end)`` to the original text."""
        if self.origin is None or start >= end:
            return start, end
        return self.origin[start], self.origin[end - 1] + 1


def normalize(text: str, table: FoldTable) -> Normalized:
    """Build the detection view of ``text`` (see the module docstring)."""
    view = _normalize(text, table)
    if table.digit_lookalikes.search(view.text) is None:
        return view
    # fold letters posing as digits; one character for one, so offsets are unchanged
    parts: list[str] = []
    last = 0
    for match in table.digit_lookalikes.finditer(view.text):
        parts.append(view.text[last : match.start()])
        parts.append(match.group(0).translate(_DIGIT_LOOKALIKES))
        last = match.end()
    parts.append(view.text[last:])
    return Normalized("".join(parts), view.origin)


def _normalize(text: str, table: FoldTable) -> Normalized:
    if text.isascii():
        return Normalized(text, None)
    special = [c for c in set(text) if not c.isascii()]
    folded = {ord(c): table[ord(c)] for c in special}
    uneven = {c for c in special if len(folded[ord(c)]) != 1}
    if not uneven:
        # every character maps to exactly one: offsets are unchanged
        if all(folded[ord(c)] == c for c in special):
            return Normalized(text, None)
        # a plain dict that covers every character present: translate never misses
        return Normalized(text.translate(_ASCII_IDENTITY | folded), None)
    # Some characters vanish or expand: build the view piecewise, with C-speed runs
    # between the (usually few) uneven characters.
    positions: list[int] = []
    for c in uneven:
        i = text.find(c)
        while i != -1:
            positions.append(i)
            i = text.find(c, i + 1)
    positions.sort()
    parts: list[str] = []
    origin: list[int] = []
    prev = 0
    full = _ASCII_IDENTITY | folded
    for pos in positions:
        if pos > prev:
            parts.append(text[prev:pos].translate(full))
            origin.extend(range(prev, pos))
        piece = full[ord(text[pos])]
        if piece:
            parts.append(piece)
            origin.extend([pos] * len(piece))
        prev = pos + 1
    if prev < len(text):
        parts.append(text[prev:].translate(full))
        origin.extend(range(prev, len(text)))
    return Normalized("".join(parts), origin)
