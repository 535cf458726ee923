"""Typed, numbered placeholders, consistent within one request, and their restoring.

The map from placeholder to original lives in this object only, in memory, for the
lifetime of one request; it is never logged, persisted or hashed.
"""

from __future__ import annotations

from typing import Any

import re2

_PLACEHOLDER = re2.compile(r"\[([A-Z][A-Z0-9_]{0,60}_\d{1,6})\]")
PLACEHOLDER_MAX = 72  # the longest placeholder, for hold-back when restoring streams


class Redactor:
    def __init__(self, label: str = "") -> None:
        self._label = label  # "R" for answers: [EMAIL_R1] never collides with [EMAIL_1]
        self._by_key: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}
        self._originals: dict[str, str] = {}

    def placeholder(self, type_: str, key: str, original: str, restorable: bool = True) -> str:
        """``[EMAIL_1]``: the same (type, normalised value) always gets the same one.

        Only placeholders made for the request are ``restorable``: a value the model wrote
        in its answer and the filter redacted must never be put back.
        """
        found = self._by_key.get((type_, key))
        if found is None:
            n = self._counts.get(type_, 0) + 1
            self._counts[type_] = n
            found = f"[{type_}_{self._label}{n}]"
            self._by_key[(type_, key)] = found
            if restorable:
                self._originals[found[1:-1]] = original
        return found

    def __bool__(self) -> bool:
        return bool(self._originals)

    def restore(self, text: str) -> str:
        """Put the originals back for every placeholder of this request found in ``text``."""
        if "[" not in text or not self._originals:
            return text
        parts: list[str] = []
        last = 0
        match: Any
        for match in _PLACEHOLDER.finditer(text):
            original = self._originals.get(match.group(1))
            if original is None:
                continue
            parts.append(text[last : match.start()])
            parts.append(original)
            last = match.end()
        if not parts:
            return text
        parts.append(text[last:])
        return "".join(parts)
