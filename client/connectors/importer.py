"""Read the common ``mcpServers`` JSON (Claude Desktop, Cursor, VS Code...) into connectors.

Literal values found in ``env`` and in an ``Authorization`` header are secrets: they are
returned separately so the caller stores them in the keychain, and listed so the person is
told to delete them from the file. ``${VAR}`` placeholders become secret references with
no value yet.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from client.connectors.config import ConnectorConfig, ConnectorConfigError

MAX_IMPORT_BYTES = 1024 * 1024
BEARER_VAR = "BEARER_TOKEN"
_PLACEHOLDER = re.compile(r"^\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)\}$")
_BAD_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass
class Imported:
    config: ConnectorConfig
    values: dict[str, str] = field(default_factory=dict)  # VAR -> literal secret from the file
    unset: list[str] = field(default_factory=list)  # VARs named by a placeholder only
    warnings: list[str] = field(default_factory=list)


def read_mcp_servers(path: Path) -> list[Imported]:
    raw = path.read_bytes()
    if len(raw) > MAX_IMPORT_BYTES:
        raise ConnectorConfigError(f"{path} is larger than {MAX_IMPORT_BYTES} bytes")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConnectorConfigError(f"{path} is not valid JSON: {exc}") from exc
    return parse_mcp_servers(data)


def parse_mcp_servers(data: Any) -> list[Imported]:
    servers = data.get("mcpServers", data.get("servers")) if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise ConnectorConfigError('no "mcpServers" object found')
    return [_one(str(name), spec) for name, spec in servers.items()]


def connector_name(raw: str) -> str:
    name = _BAD_NAME_CHARS.sub("-", raw).strip("-_")[:32]
    return name or "connector"


def _one(raw_name: str, spec: Any) -> Imported:
    name = connector_name(raw_name)
    if not isinstance(spec, dict):
        raise ConnectorConfigError(f"server {raw_name!r} must be an object")
    values: dict[str, str] = {}
    unset: list[str] = []
    warnings: list[str] = []
    if name != raw_name:
        warnings.append(f"{raw_name!r} is imported as {name!r}")
    if "url" in spec:
        kind = spec.get("type", "http")
        if kind not in ("http", "streamable-http", "streamableHttp"):
            raise ConnectorConfigError(f"server {raw_name!r}: transport {kind!r} is not supported")
        secrets: tuple[str, ...] = ()
        headers = spec.get("headers") or {}
        if not isinstance(headers, dict):
            raise ConnectorConfigError(f"server {raw_name!r}: headers must be an object")
        for key, value in headers.items():
            if key.lower() == "authorization" and isinstance(value, str):
                token = value[7:].strip() if value.lower().startswith("bearer ") else value
                secrets = (BEARER_VAR,)
                _take(BEARER_VAR, token, values, unset)
            else:
                warnings.append(f"{name}: header {key} is not supported and was skipped")
        cfg = ConnectorConfig(name, transport="http", url=str(spec["url"]), secrets=secrets)
        return Imported(cfg, values, unset, warnings)
    env = spec.get("env") or {}
    if not isinstance(env, dict):
        raise ConnectorConfigError(f"server {raw_name!r}: env must be an object")
    for var, value in env.items():
        _take(str(var), str(value), values, unset)
    args = spec.get("args") or []
    if not isinstance(args, list):
        raise ConnectorConfigError(f"server {raw_name!r}: args must be a list")
    cfg = ConnectorConfig(
        name,
        command=str(spec.get("command", "")),
        args=tuple(str(a) for a in args),
        cwd=str(spec["cwd"]) if spec.get("cwd") else None,
        secrets=tuple(env),
    )
    return Imported(cfg, values, unset, warnings)


def _take(var: str, value: str, values: dict[str, str], unset: list[str]) -> None:
    match = _PLACEHOLDER.match(value.strip())
    if match or not value:
        unset.append(var)
    else:
        values[var] = value
