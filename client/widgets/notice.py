"""An inline notice in the conversation: what DLP did, an error and what to do."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from textual.widgets import Static

from shared.dlp import DlpFinding

NoticeKind = Literal["dlp", "error", "info"]


def dlp_text(findings: Iterable[DlpFinding], direction: str = "request") -> str:
    """"2 items redacted: EMAIL, AWS_KEY" (and what was blocked or flagged)."""
    by_action: dict[str, list[DlpFinding]] = {}
    for finding in findings:
        by_action.setdefault(finding.action, []).append(finding)
    where = "in your message" if direction == "request" else "in the answer"
    verbs = {"redact": "redacted", "block": "blocked", "alert": "flagged", "allow": "allowed"}
    parts = []
    for action in ("block", "redact", "alert", "allow"):
        items = by_action.get(action)
        if not items:
            continue
        count = sum(f.count for f in items)
        names = ", ".join(dict.fromkeys(f.type for f in items))
        noun = "item" if count == 1 else "items"
        parts.append(f"{count} {noun} {verbs[action]}: {names}")
    if not parts:
        return ""
    text = "; ".join(parts) + f" ({where})"
    if "block" in by_action:
        text += ". Remove the sensitive data and send again."
    return text


class Notice(Static):
    """A one- or two-line note between messages."""

    def __init__(self, text: str, kind: NoticeKind = "info") -> None:
        prefix = {"dlp": "DLP · ", "error": "Error · ", "info": ""}[kind]
        super().__init__(prefix + text, classes=f"notice -{kind}", markup=False)
        self.kind = kind
        self.text = text
