"""DLP: find secrets and personal data in what leaves for a provider; redact or block.

The pipeline calls ``DlpEngine.from_policy(policy)`` once per tenant policy, then
``scan_request``, ``response_filter`` and ``scan_text`` (see ``gateway.dlp.engine``).
"""

from gateway.dlp.engine import DlpEngine, DlpOutcome, TextFinding, TextScan
from gateway.dlp.policy import DlpPolicy, PolicyError, PolicyFile, load_policy_file
from gateway.dlp.redact import Redactor
from gateway.dlp.stream import StreamFilter

__all__ = [
    "DlpEngine",
    "DlpOutcome",
    "DlpPolicy",
    "PolicyError",
    "PolicyFile",
    "Redactor",
    "StreamFilter",
    "TextFinding",
    "TextScan",
    "load_policy_file",
]
