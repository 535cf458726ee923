"""The DLP engine the request pipeline calls.

    engine = DlpEngine.from_policy(policy)          # once per tenant policy; cheap
    outcome = engine.scan_request(chat_request)     # -> DlpOutcome
    if outcome.blocked: raise outcome.error()       # 422 dlp_blocked, types only
    send(outcome.request)                           # redacted copy
    flt = engine.response_filter(outcome)           # .feed(text) / .flush() / .findings
    text = engine.scan_text("...")                  # -> TextScan(findings, text)

Security contract: findings carry the type, offsets and action only. The matched values
exist in memory for the duration of one call (and, with ``restore_placeholders``, in the
outcome's placeholder map for one request); they are never logged, hashed or stored.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.dlp.policy import DlpPolicy
from gateway.dlp.redact import Redactor
from gateway.dlp.ruleset import RuleSet, default_rules
from gateway.dlp.scanner import Hit, Scanner, ScanOptions
from shared.chat import ChatRequest, Message, TextPart, ToolCallPart, ToolResultPart
from shared.dlp import DlpAction, DlpFinding

if TYPE_CHECKING:
    from gateway.dlp.errors import DlpBlockedError
    from gateway.dlp.stream import StreamFilter

_MAX_ARG_DEPTH = 32


@dataclass(frozen=True, slots=True)
class TextFinding:
    """One finding in a text: offsets are into the ORIGINAL text, ``[start, end)``."""

    type: str
    start: int
    end: int
    action: DlpAction


@dataclass(frozen=True, slots=True)
class TextScan:
    findings: tuple[TextFinding, ...]
    text: str  # the text with redact/block findings replaced by placeholders

    @property
    def blocked(self) -> bool:
        return any(f.action == "block" for f in self.findings)


@dataclass(frozen=True, slots=True)
class DlpOutcome:
    request: ChatRequest  # the redacted request (what may go to the provider)
    findings: tuple[DlpFinding, ...]
    blocked: bool
    restore: Callable[[str], str] | None  # placeholders -> originals, this request only
    redactor: Redactor | None = field(default=None, repr=False, compare=False)

    def error(self) -> DlpBlockedError:
        """The 4xx error to raise when ``blocked`` (names the types, never the values)."""
        from gateway.dlp.errors import DlpBlockedError

        return DlpBlockedError.from_findings(self.findings)


def summarize(findings: Iterable[TextFinding]) -> tuple[DlpFinding, ...]:
    counts = Counter((f.type, f.action) for f in findings)
    return tuple(DlpFinding(t, n, a) for (t, a), n in sorted(counts.items()))


class DlpEngine:
    def __init__(self, policy: DlpPolicy, rules: RuleSet) -> None:
        self.policy = policy
        self.rules = rules
        categories = {d.type: d.category for d in rules.detectors if d.category != "blob"}
        self._actions: dict[str, DlpAction] = {
            t: policy.action_for(t, c) for t, c in categories.items()
        }
        countries = {c.upper() for c in policy.national_ids}
        if "ALL" in countries:
            countries = {d.country for d in rules.detectors if d.country}
        self._scanner = Scanner(
            rules,
            ScanOptions(
                skip_types=frozenset(t for t, a in self._actions.items() if a == "allow"),
                countries=frozenset(countries),
                phone_regions=tuple(policy.phone_regions),
                ignore_test_values=policy.ignore_test_values,
                normalize=policy.normalize,
                decode_depth=policy.decode_depth,
            ),
        )

    @classmethod
    def from_policy(
        cls, policy: DlpPolicy | None = None, rules: RuleSet | None = None
    ) -> DlpEngine:
        """An engine for one tenant's policy (the compiled rules are shared process-wide)."""
        return cls(policy or DlpPolicy(), rules or default_rules())

    @property
    def window(self) -> int:
        return self.rules.window

    def action(self, type_: str) -> DlpAction:
        return self._actions.get(type_, "redact")

    def hits(self, text: str) -> list[Hit]:
        """Validated, non-overlapping hits (with values: for this package's use only)."""
        return self._scanner.scan(text)

    # -- plain text

    def scan_text(self, text: str) -> TextScan:
        redacted, findings = self.apply(text, Redactor())
        return TextScan(tuple(findings), redacted)

    def apply(self, text: str, redactor: Redactor) -> tuple[str, list[TextFinding]]:
        """Scan ``text`` and replace redact/block findings with ``redactor``'s placeholders."""
        if not text:
            return text, []
        hits = self.hits(text)
        if not hits:
            return text, []
        findings: list[TextFinding] = []
        parts: list[str] = []
        last = 0
        for hit in hits:
            action = self._actions.get(hit.type, "redact")
            findings.append(TextFinding(hit.type, hit.start, hit.end, action))
            if action == "alert":
                continue
            parts.append(text[last : hit.start])
            parts.append(redactor.placeholder(hit.type, hit.key, text[hit.start : hit.end]))
            last = hit.end
        if not parts:
            return text, findings
        parts.append(text[last:])
        return "".join(parts), findings

    # -- chat requests

    def scan_request(self, req: ChatRequest) -> DlpOutcome:
        """Scan every text that would leave for the provider; redact per policy."""
        redactor = Redactor()
        found: list[TextFinding] = []
        messages = tuple(self._message(m, redactor, found) for m in req.messages)
        tools = tuple(
            dataclasses.replace(t, description=self._text(t.description, redactor, found))
            if t.description else t
            for t in req.tools
        )
        request = req
        if found:
            request = dataclasses.replace(req, messages=messages, tools=tools)
        restore = None
        if self.policy.restore_placeholders and redactor:
            restore = redactor.restore
        return DlpOutcome(
            request=request,
            findings=summarize(found),
            blocked=any(f.action == "block" for f in found),
            restore=restore,
            redactor=redactor,
        )

    def response_filter(self, outcome: DlpOutcome | None = None) -> StreamFilter:
        """A streaming filter for the answer: scans (if the policy says so) and restores
        this request's placeholders (if ``restore_placeholders``)."""
        from gateway.dlp.stream import StreamFilter

        return StreamFilter(self, outcome)

    def _text(self, text: str, redactor: Redactor, found: list[TextFinding]) -> str:
        redacted, findings = self.apply(text, redactor)
        found.extend(findings)
        return redacted

    def _message(self, msg: Message, redactor: Redactor, found: list[TextFinding]) -> Message:
        parts = []
        changed = False
        for part in msg.content:
            new: Any = part
            if isinstance(part, TextPart):
                text = self._text(part.text, redactor, found)
                if text is not part.text:
                    new = dataclasses.replace(part, text=text)
            elif isinstance(part, ToolResultPart):
                text = self._text(part.content, redactor, found)
                if text is not part.content:
                    new = dataclasses.replace(part, content=text)
            elif isinstance(part, ToolCallPart):
                args = self._value(part.arguments, redactor, found, 0)
                if args is not part.arguments:
                    new = dataclasses.replace(part, arguments=args)
            changed = changed or new is not part
            parts.append(new)
        return dataclasses.replace(msg, content=tuple(parts)) if changed else msg

    def _value(self, value: Any, redactor: Redactor, found: list[TextFinding], depth: int) -> Any:
        """Scan the strings inside a tool call's JSON arguments (keys and values)."""
        if depth > _MAX_ARG_DEPTH:
            return value
        if isinstance(value, str):
            return self._text(value, redactor, found)
        if isinstance(value, dict):
            out = {
                self._text(k, redactor, found) if isinstance(k, str) else k:
                self._value(v, redactor, found, depth + 1)
                for k, v in value.items()
            }
            same = all(a is b for a, b in zip(out.values(), value.values(), strict=True))
            return value if same and list(out) == list(value) else out
        if isinstance(value, list):
            items = [self._value(v, redactor, found, depth + 1) for v in value]
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        return value
