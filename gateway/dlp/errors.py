"""The error a blocked request answers with: names the types found, never the values."""

from __future__ import annotations

from collections.abc import Iterable

from gateway.errors import ApiError
from shared.dlp import DlpFinding


def describe(type_: str) -> str:
    """``AWS_ACCESS_KEY_ID`` -> ``AWS access key id`` (acronyms stay upper case)."""
    upper = {"AWS", "GCP", "API", "URL", "JWT", "SSN", "IBAN", "IP", "PGP", "RSA", "EC",
             "DSA", "HTTP", "OAUTH", "PAT", "SAS", "AD", "NIR", "DNI", "NIE", "NINO", "UK",
             "US", "DE", "FR", "ES", "IN", "IT", "NL", "BR", "CA", "PL", "SE", "CN", "CH",
             "BE", "FI", "DK", "NO", "MX", "KR", "ZA", "CPF", "SIN", "AHV", "CPR", "CURP",
             "RRN", "ITIN", "BSN", "NPM", "PYPI", "XAI", "ID", "MWS", "CF"}
    proper = {"WORKJET": "Workjet", "GITHUB": "GitHub", "GITLAB": "GitLab", "OPENAI": "OpenAI"}
    words = [w if w in upper else proper.get(w, w.lower()) for w in type_.split("_")]
    return " ".join(words)


def block_message(findings: Iterable[DlpFinding]) -> str:
    blocked = [f for f in findings if f.action == "block"]
    listed = ", ".join(
        f"{describe(f.type)}{f' (x{f.count})' if f.count > 1 else ''}" for f in blocked
    )
    what = listed or "data your policy blocks"
    advice = (
        "Remove or replace these values (for example with a placeholder such as <KEY>) and "
        "try again. If this is a false alarm, ask your Workjet administrator to review "
        "the tenant's DLP policy."
    )
    return f"The request was not sent to the model because it contains {what}. {advice}"


class DlpBlockedError(ApiError):
    """422 ``dlp_blocked``: the policy forbids sending what the request contains."""

    status, code = 422, "dlp_blocked"

    def __init__(self, message: str, findings: tuple[DlpFinding, ...] = ()) -> None:
        super().__init__(message)
        self.findings = findings  # types, counts and actions: for the audit record

    @classmethod
    def from_findings(cls, findings: tuple[DlpFinding, ...]) -> DlpBlockedError:
        return cls(block_message(findings), findings)
