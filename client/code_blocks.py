"""Fenced code blocks of an answer, for copying them (a helper, no widget)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[^\n`]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class CodeBlock:
    language: str
    code: str

    @property
    def lines(self) -> int:
        return self.code.count("\n") + (0 if self.code.endswith("\n") else 1)


def code_blocks(markdown: str) -> list[CodeBlock]:
    return [
        CodeBlock(m.group("lang").strip().split(" ")[0], m.group("body"))
        for m in _FENCE.finditer(markdown)
    ]
