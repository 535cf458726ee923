"""What a detector is: a type, a cheap RE2 candidate pattern, and a validator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Category = Literal["secret", "pii", "national_id", "blob"]


@dataclass(frozen=True, slots=True)
class Probe:
    """What a validator may know besides the value: neighbours and the scan options."""

    before: str  # up to 2 characters before the value in the view
    after: str  # up to 2 characters after it
    ignore_test_values: bool
    phone_regions: tuple[str, ...]
    data: bytes = b""  # the scanned view, and the span of the whole candidate match in it
    span: tuple[int, int] = (0, 0)

    @property
    def whole(self) -> str:
        """The whole candidate match (the ``key=value`` of an assignment), decoded on demand."""
        return self.data[self.span[0] : self.span[1]].decode("utf-8", "replace")

    def isolated(self) -> bool:
        """Not one group of a longer digit sequence (``1234 5678 9012 3456``, a UUID)."""
        a, b = self.after, self.before
        glued_after = len(a) == 2 and (
            (a[0] in " -./" and a[1].isdigit()) or (a[0] in "-." and a[1].isalnum())
        )
        glued_before = len(b) == 2 and (
            (b[1] in " -./" and b[0].isdigit()) or (b[1] in "-." and b[0].isalnum())
        )
        return not (glued_after or glued_before)


# A validator answers True (keep the whole value), False (drop it), a sub-span
# ``(start, end)`` of the value that is the real thing (a card followed by an expiry date),
# or a list of such sub-spans (two cards in one run of digits).
Check = Callable[[str, Probe], "bool | tuple[int, int] | list[tuple[int, int]]"]


@dataclass(frozen=True, slots=True)
class Detector:
    """One candidate pattern. Several detectors may report the same ``type``.

    ``pattern`` is RE2 syntax matched against the normalised view; ``group`` is the
    capture group that holds the value (0 for the whole match). ``max_len`` bounds the
    value's length, which sizes the streaming hold-back window. ``hint`` is what goes into
    the shared RE2 set: a necessary condition made of literals and short counters, because
    many long counted repetitions in one DFA multiply its states on hostile input.
    """

    type: str
    category: Category
    pattern: str
    check: Check | None = None
    group: int = 1
    priority: int = 50
    max_len: int = 256
    country: str = ""
    hint: str = ""  # a looser pattern for the multi-pattern set ('' = derived)
