"""The non-sensitive settings file (``$XDG_CONFIG_HOME/workjet/settings.json``).

Security contract: this file holds only the known, non-sensitive keys below. A value
that looks like a credential (an API key, a session token, a URL with a password, a
long random-looking string) is refused, so no secret can land here even by mistake;
credentials belong to :mod:`client.keychain`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from client.atomic import write_atomic
from client.xdg import config_dir

SETTINGS_FILE = "settings.json"
MAX_FILE_BYTES = 64 * 1024
MAX_VALUE_CHARS = 1_000
MAX_BINDINGS = 64
MAX_CONNECTORS = 64
MAX_CONNECTOR_DEPTH = 6
DEFAULT_THEME = "textual-dark"

# Actions whose keys a person may rebind, with their defaults.
DEFAULT_KEY_BINDINGS: dict[str, str] = {
    "send": "enter",
    "newline": "ctrl+j",
    "stop": "escape",
    "pick_model": "ctrl+o",
    "conversations": "ctrl+l",
    "new_conversation": "ctrl+n",
    "copy_code": "ctrl+y",
    "settings": "ctrl+s",
    "connectors": "ctrl+t",
    "help": "f1",
}

_CREDENTIAL_PATTERNS = re.compile(
    r"wj_(live|sess)_|sk-[A-Za-z0-9]|sk_(live|test)_|AKIA[0-9A-Z]{12}|ASIA[0-9A-Z]{12}"
    r"|gh[pousr]_[A-Za-z0-9]{20}|xox[abprs]-|AIza[0-9A-Za-z_-]{20}|-----BEGIN|bearer\s",
    re.IGNORECASE,
)
_TOKENISH = re.compile(r"[A-Za-z0-9_+/=.-]{32,}")
_KEY_NAME = re.compile(r"^[a-z0-9_+-]{1,40}$")


class SettingsError(ValueError):
    """A setting that cannot be stored; the message says why."""


@dataclass(frozen=True, slots=True)
class Settings:
    gateway_url: str = ""
    default_model: str = ""
    theme: str = DEFAULT_THEME
    ca_bundle: str = ""  # path of a PEM file with the CA that signs the gateway's certificate
    key_bindings: dict[str, str] = field(default_factory=dict)
    # MCP connectors (client.connectors.config): names, commands/URLs and the *names* of
    # their secrets; the values live in the keychain under ``mcp:<connector>:<VAR>``.
    connectors: list[dict[str, Any]] = field(default_factory=list)

    def binding(self, action: str) -> str:
        return self.key_bindings.get(action) or DEFAULT_KEY_BINDINGS[action]

    def replace(self, **changes: Any) -> Settings:
        return check_settings(dataclasses.replace(self, **changes))


KNOWN_KEYS = frozenset(f.name for f in dataclasses.fields(Settings))


def looks_like_credential(value: str) -> bool:
    """True for strings shaped like keys or tokens: known prefixes or long random runs."""
    if _CREDENTIAL_PATTERNS.search(value):
        return True
    for run in _TOKENISH.findall(value):
        classes = sum(
            bool(re.search(p, run)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]")
        )
        if classes >= 3 and "/" not in run.strip("/"):
            return True
        if classes >= 2 and len(run) >= 40 and not run.startswith(("/", ".")):
            return True
    return False


def check_gateway_url(url: str) -> str:
    """A gateway URL without credentials: https anywhere, plain http only on loopback."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise SettingsError(f"{url!r} is not a gateway URL; use https://host[:port]")
    if parts.username or parts.password:
        raise SettingsError("the gateway URL must not carry a user name or password")
    if parts.query or parts.fragment:
        raise SettingsError("the gateway URL must not carry a query or fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise SettingsError(
            f"plain http is allowed only for a gateway on this machine; use https://{parts.netloc}"
        )
    return url


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_settings(settings: Settings) -> Settings:
    """Return ``settings`` if every value is acceptable, else raise ``SettingsError``."""
    for name in ("gateway_url", "default_model", "theme", "ca_bundle"):
        value = getattr(settings, name)
        if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS:
            raise SettingsError(f"{name} must be text of at most {MAX_VALUE_CHARS} characters")
        if looks_like_credential(value):
            raise SettingsError(
                f"{name} looks like a credential; credentials are kept in the keychain only"
            )
    if settings.gateway_url:
        check_gateway_url(settings.gateway_url)
    bindings = settings.key_bindings
    if not isinstance(bindings, dict) or len(bindings) > MAX_BINDINGS:
        raise SettingsError("key_bindings must be a table of at most 64 entries")
    for action, key in bindings.items():
        if action not in DEFAULT_KEY_BINDINGS:
            raise SettingsError(f"key_bindings: unknown action {action!r}")
        if not isinstance(key, str) or not _KEY_NAME.match(key):
            raise SettingsError(f"key_bindings.{action}: {key!r} is not a key name")
    _check_connectors(settings.connectors)
    return settings


def _check_connectors(raw: Any) -> None:
    from client.connectors.config import ConnectorConfigError, load_connectors

    try:
        configs = load_connectors(raw)
    except ConnectorConfigError as exc:
        raise SettingsError(f"connectors: {exc}") from exc
    for cfg in configs:
        for value in (cfg.command, cfg.url, cfg.cwd or "", *cfg.args):
            if looks_like_credential(value):
                raise SettingsError(
                    f"connector {cfg.name}: an argument looks like a credential; store it "
                    f"with `workjet mcp add {cfg.name} --secret VAR ...` instead"
                )
    _check_connector_values(raw)


def _check_connector_values(connectors: Any) -> None:
    """Every string anywhere in the connector tables (env maps too) must not be a secret."""
    if not isinstance(connectors, list) or len(connectors) > MAX_CONNECTORS:
        raise SettingsError(f"connectors must be a list of at most {MAX_CONNECTORS} tables")
    stack: list[tuple[Any, str, int]] = [
        (c, f"connectors[{i}]", 1) for i, c in enumerate(connectors)
    ]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_CONNECTOR_DEPTH:
            raise SettingsError(f"{where} nests too deeply")
        if isinstance(value, dict):
            stack.extend((v, f"{where}.{k}", depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value))
        elif isinstance(value, str) and looks_like_credential(value):
            raise SettingsError(
                f"{where} looks like a credential; connector secrets are kept in the keychain"
            )


def settings_path(directory: Path | None = None) -> Path:
    return (directory or config_dir()) / SETTINGS_FILE


def load_settings(path: Path) -> Settings:
    """Read the settings file; a missing file gives the defaults."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings()
    if len(raw) > MAX_FILE_BYTES:
        raise SettingsError(f"{path} is larger than {MAX_FILE_BYTES} bytes")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SettingsError(f"{path} is not valid JSON: {exc}") from exc
    return settings_from_dict(data, source=str(path))


def settings_from_dict(data: Any, *, source: str = "settings") -> Settings:
    if not isinstance(data, dict):
        raise SettingsError(f"{source} must hold a JSON object")
    unknown = sorted(set(data) - KNOWN_KEYS)
    if unknown:
        raise SettingsError(f"{source}: unknown setting(s) {', '.join(unknown)}")
    try:
        settings = Settings(**data)
    except TypeError as exc:
        raise SettingsError(f"{source}: {exc}") from exc
    return check_settings(settings)


def save_settings(path: Path, settings: Settings) -> None:
    """Write the checked settings atomically with mode 0600."""
    checked = check_settings(settings)
    data = {name: getattr(checked, name) for name in sorted(KNOWN_KEYS)}
    write_atomic(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())
