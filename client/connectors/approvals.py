"""The person's "always allow this tool" decisions, bound to what was approved.

An approval is stored as a fingerprint: SHA-256 over the connector's target (command, args,
working directory and secret names, or the URL) and the tool's whole definition (name,
title, description, input and output schemas, annotations). If the connector's command or
the tool's definition changes, the fingerprint no longer matches and the person is asked
again. A server's own annotations (``readOnlyHint`` and the like) are part of what is
hashed, never a reason to skip asking.

The file holds only names and hashes (not secrets, not arguments), mode 0600.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mcp import types

from client.atomic import write_atomic
from client.connectors.config import ConnectorConfig

Decision = Literal["once", "always", "deny"]

APPROVALS_FILE = "mcp-approvals.json"
MAX_FILE_BYTES = 1024 * 1024


def target_fingerprint(cfg: ConnectorConfig) -> dict[str, Any]:
    if cfg.transport == "http":
        return {"url": cfg.url, "secrets": list(cfg.secrets)}
    return {
        "command": cfg.command,
        "args": list(cfg.args),
        "cwd": cfg.cwd or "",
        "secrets": list(cfg.secrets),
    }


def tool_fingerprint(cfg: ConnectorConfig, tool: types.Tool) -> str:
    definition = tool.model_dump(mode="json", by_alias=True, exclude_none=True)
    definition.pop("_meta", None)  # transport metadata, not what the tool does
    definition.pop("icons", None)
    blob = json.dumps(
        {"connector": cfg.name, "target": target_fingerprint(cfg), "tool": definition},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """What the approval modal shows: everything the person needs to decide."""

    connector: str
    target: str
    tool: str
    description: str
    arguments: dict[str, Any]
    annotations: dict[str, Any]
    fingerprint: str


class ApprovalStore:
    """``{connector: {tool: fingerprint}}`` in a private JSON file (or in memory)."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._data: dict[str, dict[str, str]] = self._load()

    def is_always_allowed(self, connector: str, tool: str, fingerprint: str) -> bool:
        with self._lock:
            return self._data.get(connector, {}).get(tool) == fingerprint

    def allow_always(self, connector: str, tool: str, fingerprint: str) -> None:
        with self._lock:
            self._data.setdefault(connector, {})[tool] = fingerprint
            self._save()

    def revoke(self, connector: str, tool: str | None = None) -> None:
        with self._lock:
            if tool is None:
                self._data.pop(connector, None)
            else:
                self._data.get(connector, {}).pop(tool, None)
            self._save()

    def allowed_tools(self, connector: str) -> list[str]:
        with self._lock:
            return sorted(self._data.get(connector, {}))

    def _load(self) -> dict[str, dict[str, str]]:
        if self._path is None:
            return {}
        try:
            raw = self._path.read_bytes()
        except FileNotFoundError:
            return {}
        if len(raw) > MAX_FILE_BYTES:
            return {}  # refuse to trust an oversized file: everything is asked again
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {
            str(c): {str(t): str(h) for t, h in tools.items() if isinstance(h, str)}
            for c, tools in data.items()
            if isinstance(tools, dict)
        }

    def _save(self) -> None:
        if self._path is not None:
            text = json.dumps(self._data, indent=2, sort_keys=True) + "\n"
            write_atomic(self._path, text.encode())
