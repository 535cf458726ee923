"""DLP findings as they cross the wire: what was found and what was done, never the value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DlpAction = Literal["allow", "redact", "block", "alert"]


@dataclass(frozen=True, slots=True)
class DlpFinding:
    """``type`` is a detector name such as ``EMAIL`` or ``AWS_ACCESS_KEY_ID``."""

    type: str
    count: int
    action: DlpAction
