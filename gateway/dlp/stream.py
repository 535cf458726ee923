"""Incremental filtering of a streamed answer, with a hold-back window.

Text is released only once no pattern can still grow across the boundary: the last
``window`` characters (the longest stretch a pattern spans across spaces) are held, and
so is an unfinished token at the end (a JWT or long key still arriving, however long)
and an unfinished private-key block, up to ``MAX_HOLD`` characters. Released text is
scanned, redacted per policy (``block`` cannot stop an answer already under way, so it
redacts), and has this request's placeholders restored when the policy says so.
Scanning happens once per ``STEP`` new characters.
"""

from __future__ import annotations

from gateway.dlp.engine import DlpEngine, DlpOutcome, TextFinding, summarize
from gateway.dlp.redact import PLACEHOLDER_MAX, Redactor
from shared.dlp import DlpFinding

STEP = 32
MAX_HOLD = 65536
_OPEN_BLOCKS = (("-----BEGIN", "-----END"), ("PuTTY-User-Key-File", "Private-MAC"))
# characters a key or token can be made of (a class, not a secret)
_TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.+/=~%:;$@"  # noqa: S105


class StreamFilter:
    def __init__(self, engine: DlpEngine, outcome: DlpOutcome | None = None) -> None:
        self._engine = engine
        self._scan = engine.policy.scan_responses
        self._restore = outcome.restore if outcome is not None else None
        redactor = outcome.redactor if outcome is not None else None
        self._redactor = redactor if redactor is not None else Redactor(label="R")
        self._window = engine.window if self._scan else PLACEHOLDER_MAX
        self._buffer = ""
        self._unscanned = 0
        self._found: list[TextFinding] = []

    @property
    def findings(self) -> tuple[DlpFinding, ...]:
        return summarize(self._found)

    def feed(self, text: str) -> str:
        """Take the next chunk; return the text that is safe to emit now (maybe '')."""
        if not self._scan and self._restore is None:
            return text
        self._buffer += text
        self._unscanned += len(text)
        if self._unscanned < STEP or len(self._buffer) <= self._window:
            return ""
        cut = self._cut_point()
        if cut <= 0:
            return ""
        return self._release(cut)

    def flush(self) -> str:
        """The end of the answer: release everything still held."""
        if not self._buffer:
            return ""
        return self._release(len(self._buffer))

    def _cut_point(self) -> int:
        buf = self._buffer
        cut = len(buf) - self._window
        tail = len(buf) - len(buf.rstrip(_TOKEN_CHARS))  # an unfinished token
        cut = min(cut, len(buf) - tail)
        for opener, closer in _OPEN_BLOCKS:
            start = buf.rfind(opener)
            if start >= 0 and buf.find(closer, start) < 0:
                cut = min(cut, start)
        bracket = buf.rfind("[", max(0, cut - PLACEHOLDER_MAX), cut)
        if bracket >= 0 and "]" not in buf[bracket:cut]:
            cut = bracket  # a placeholder may be cut in two
        return max(cut, len(buf) - MAX_HOLD)

    def _release(self, cut: int) -> str:
        buf = self._buffer
        hits = self._engine.hits(buf) if self._scan else []
        for hit in reversed(hits):  # later hits first: moving the cut back may split earlier ones
            first = min(hit.start, hit.context)
            if first < cut < hit.end:
                cut = first  # never release half a finding, nor the context it needs
        restore = self._restore or (lambda text: text)
        out: list[str] = []
        last = 0
        for hit in hits:
            if hit.end > cut:
                break
            action = self._engine.action(hit.type)
            action = "redact" if action == "block" else action
            self._found.append(TextFinding(hit.type, hit.start, hit.end, action))
            if action == "alert":
                continue
            out.append(restore(buf[last : hit.start]))  # the model's own text only
            original = buf[hit.start : hit.end]
            out.append(self._redactor.placeholder(hit.type, hit.key, original, restorable=False))
            last = hit.end
        out.append(restore(buf[last:cut]))
        self._buffer = buf[cut:]
        self._unscanned = 0
        return "".join(out)
