"""Importing ``shared`` pulls in neither zone's framework: the client (Textual) and the
gateway (Flask/Werkzeug) both import it, so it must stay framework-free."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("flask", "werkzeug", "textual", "rich", "sqlalchemy", "requests")

PROBE = """
import json, sys
import shared
import shared.audit, shared.chat, shared.codec, shared.dlp, shared.errors
import shared.events, shared.models, shared.validate
shared.decode(shared.ChatRequest, b'{"model": "m", "messages": []}')
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after_importing_shared() -> set[str]:
    # A fresh interpreter: this test process may already have imported Flask or Textual.
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    return set(json.loads(result.stdout))


def test_importing_shared_loads_neither_flask_nor_textual() -> None:
    modules = _modules_after_importing_shared()
    assert "shared.codec" in modules  # the probe really imported the package
    loaded = sorted(name for name in modules if name.split(".")[0] in FORBIDDEN)
    assert loaded == []


def test_shared_needs_only_the_standard_library() -> None:
    modules = _modules_after_importing_shared()
    third_party = sorted(
        name
        for name in modules
        if name.split(".")[0] not in sys.stdlib_module_names
        and name.split(".")[0] not in {"shared", "__main__", "_distutils_hack", "sitecustomize"}
        and not name.startswith("__editable__")  # pip's finder for an editable install
    )
    assert third_party == []
