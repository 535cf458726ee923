"""What a connector is: its name, how to reach it, and the names of its secrets.

A connector lives in the settings file as a plain dict (see ``to_dict``). It holds secret
*references* only: the names of variables whose values are in the OS keychain under
``mcp:<connector>:<VAR>`` (see ``secrets.item_name``). A value never appears here.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

Transport = Literal["stdio", "http"]

MAX_CONNECTORS = 64
MAX_ARGS = 256
MAX_ARG_CHARS = 4096
MAX_SECRETS = 32

# Letters, digits, '-' and '_': safe in a keychain item name and in a model's tool name.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
# An environment variable name; for remote connectors the one secret is the bearer token.
_VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class ConnectorConfigError(ValueError):
    """A connector's configuration is invalid; the message says what to change."""


@dataclass(frozen=True, slots=True)
class ConnectorConfig:
    """One MCP connector.

    ``transport="stdio"``: ``command`` runs as a child process with ``args`` in ``cwd``;
    each of ``secrets`` is set as an environment variable of that child only.
    ``transport="http"``: streamable HTTP at ``url``; ``secrets`` holds at most one name,
    whose value is sent as ``Authorization: Bearer`` in this connector's requests only.
    """

    name: str
    transport: Transport = "stdio"
    command: str = ""
    args: tuple[str, ...] = ()
    cwd: str | None = None
    url: str = ""
    secrets: tuple[str, ...] = ()
    enabled: bool = True
    autostart: bool = False
    start_timeout: float | None = None
    call_timeout: float | None = None

    def __post_init__(self) -> None:
        validate(self)

    @property
    def target(self) -> str:
        """What the person sees as 'what runs': the command line or the URL."""
        if self.transport == "http":
            return self.url
        return " ".join([self.command, *self.args])

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "transport": self.transport}
        if self.transport == "stdio":
            out["command"] = self.command
            out["args"] = list(self.args)
            if self.cwd:
                out["cwd"] = self.cwd
        else:
            out["url"] = self.url
        out["secrets"] = list(self.secrets)
        out["enabled"] = self.enabled
        out["autostart"] = self.autostart
        if self.start_timeout is not None:
            out["start_timeout"] = self.start_timeout
        if self.call_timeout is not None:
            out["call_timeout"] = self.call_timeout
        return out

    @classmethod
    def from_dict(cls, data: Any) -> ConnectorConfig:
        if not isinstance(data, dict):
            raise ConnectorConfigError("a connector must be a JSON object")
        known = {
            "name",
            "transport",
            "command",
            "args",
            "cwd",
            "url",
            "secrets",
            "enabled",
            "autostart",
            "start_timeout",
            "call_timeout",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConnectorConfigError(f"unknown connector field(s): {', '.join(unknown)}")
        return cls(
            name=_str(data, "name"),
            transport=_transport(data.get("transport", "stdio")),
            command=_str(data, "command", ""),
            args=tuple(_str_list(data, "args")),
            cwd=data.get("cwd") if isinstance(data.get("cwd"), str) else None,
            url=_str(data, "url", ""),
            secrets=tuple(_str_list(data, "secrets")),
            enabled=bool(data.get("enabled", True)),
            autostart=bool(data.get("autostart", False)),
            start_timeout=_opt_float(data, "start_timeout"),
            call_timeout=_opt_float(data, "call_timeout"),
        )


def validate(cfg: ConnectorConfig) -> None:
    if not _NAME_RE.match(cfg.name):
        raise ConnectorConfigError(
            f"connector name {cfg.name!r}: use 1-32 letters, digits, '-' or '_'"
        )
    if cfg.transport == "stdio":
        if not cfg.command or "\x00" in cfg.command:
            raise ConnectorConfigError(f"connector {cfg.name}: a command is required")
        if cfg.url:
            raise ConnectorConfigError(f"connector {cfg.name}: give a command or a URL, not both")
        if len(cfg.args) > MAX_ARGS or any(len(a) > MAX_ARG_CHARS or "\x00" in a for a in cfg.args):
            raise ConnectorConfigError(f"connector {cfg.name}: too many or too long arguments")
    elif cfg.transport == "http":
        parts = urlsplit(cfg.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConnectorConfigError(
                f"connector {cfg.name}: URL must be http:// or https://, got {cfg.url!r}"
            )
        if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
            raise ConnectorConfigError(
                f"connector {cfg.name}: plain http is allowed only on this machine; use https://"
            )
        if parts.username or parts.password:
            raise ConnectorConfigError(
                f"connector {cfg.name}: put credentials in a --secret, not in the URL"
            )
        if cfg.command:
            raise ConnectorConfigError(f"connector {cfg.name}: give a command or a URL, not both")
        if len(cfg.secrets) > 1:
            raise ConnectorConfigError(
                f"connector {cfg.name}: a remote connector takes one secret (its bearer token)"
            )
    else:
        raise ConnectorConfigError(f"connector {cfg.name}: unknown transport {cfg.transport!r}")
    if len(cfg.secrets) > MAX_SECRETS:
        raise ConnectorConfigError(f"connector {cfg.name}: at most {MAX_SECRETS} secrets")
    for var in cfg.secrets:
        if not _VAR_RE.match(var):
            raise ConnectorConfigError(
                f"connector {cfg.name}: secret name {var!r} must look like an environment variable"
            )
    if len(set(cfg.secrets)) != len(cfg.secrets):
        raise ConnectorConfigError(f"connector {cfg.name}: a secret is listed twice")
    for t in (cfg.start_timeout, cfg.call_timeout):
        if t is not None and not 0 < t <= 3600:
            raise ConnectorConfigError(f"connector {cfg.name}: timeouts are 0-3600 seconds")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_valid_name(name: str) -> bool:
    return bool(_NAME_RE.match(name))


def load_connectors(raw: Any) -> list[ConnectorConfig]:
    """Parse the settings file's ``connectors`` list; names must be unique."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConnectorConfigError("'connectors' must be a list")
    if len(raw) > MAX_CONNECTORS:
        raise ConnectorConfigError(f"at most {MAX_CONNECTORS} connectors")
    out = [ConnectorConfig.from_dict(item) for item in raw]
    names = [c.name for c in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConnectorConfigError(f"connector name(s) used twice: {', '.join(dupes)}")
    return out


def dump_connectors(configs: list[ConnectorConfig]) -> list[dict[str, Any]]:
    return [c.to_dict() for c in configs]


def _str(data: dict[str, Any], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise ConnectorConfigError(f"connector field {key!r} must be a string")
    return value


def _str_list(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConnectorConfigError(f"connector field {key!r} must be a list of strings")
    return value


def _transport(value: Any) -> Transport:
    if value == "stdio":
        return "stdio"
    if value == "http":
        return "http"
    raise ConnectorConfigError(f"unknown transport {value!r}: use 'stdio' or 'http'")


def _opt_float(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConnectorConfigError(f"connector field {key!r} must be a number")
    return float(value)
