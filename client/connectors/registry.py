"""Add, list and remove connectors: the settings file for the shape, the keychain for values.

Used by ``workjet mcp ...`` and the connectors screen. A connector's secrets are written to
the keychain *before* the settings file names them, and deleted from it when the connector
is removed, along with its "always allow" approvals.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from client.connectors.approvals import APPROVALS_FILE, ApprovalStore
from client.connectors.config import ConnectorConfig, ConnectorConfigError, load_connectors
from client.connectors.secrets import SecretStore, delete_secrets, item_name
from client.settings import load_settings, save_settings


class ConnectorRegistry:
    def __init__(self, settings_file: Path, secrets: SecretStore) -> None:
        self.settings_file = settings_file
        self.secrets = secrets

    @property
    def approvals_file(self) -> Path:
        return self.settings_file.with_name(APPROVALS_FILE)

    def approvals(self) -> ApprovalStore:
        return ApprovalStore(self.approvals_file)

    def list(self) -> list[ConnectorConfig]:
        return load_connectors(load_settings(self.settings_file).connectors)

    def get(self, name: str) -> ConnectorConfig:
        for cfg in self.list():
            if cfg.name == name:
                return cfg
        raise ConnectorConfigError(f"no connector named {name!r}; see `workjet mcp list`")

    def add(
        self, cfg: ConnectorConfig, values: Mapping[str, str], *, replace: bool = False
    ) -> None:
        """Store ``values`` (VAR -> secret) in the keychain, then ``cfg`` in the settings."""
        missing = [v for v in cfg.secrets if v not in values]
        if missing:
            raise ConnectorConfigError(f"no value given for {', '.join(missing)}")
        settings = load_settings(self.settings_file)
        configs = load_connectors(settings.connectors)
        old = next((c for c in configs if c.name == cfg.name), None)
        if old is not None and not replace:
            raise ConnectorConfigError(
                f"a connector named {cfg.name!r} exists; remove it first or use --replace"
            )
        configs = [c for c in configs if c.name != cfg.name] + [cfg]
        # Checked (credential-looking arguments refused) before any secret is stored.
        updated = settings.replace(connectors=[c.to_dict() for c in configs])
        for var in cfg.secrets:
            self.secrets.set(item_name(cfg.name, var), values[var])
        save_settings(self.settings_file, updated)
        if old is not None:
            for var in set(old.secrets) - set(cfg.secrets):
                self.secrets.delete(item_name(cfg.name, var))

    def set_enabled(self, name: str, enabled: bool) -> ConnectorConfig:
        settings = load_settings(self.settings_file)
        configs = load_connectors(settings.connectors)
        out = []
        changed = None
        for c in configs:
            if c.name == name:
                data = c.to_dict() | {"enabled": enabled}
                c = changed = ConnectorConfig.from_dict(data)
            out.append(c)
        if changed is None:
            raise ConnectorConfigError(f"no connector named {name!r}")
        save_settings(self.settings_file, settings.replace(connectors=[c.to_dict() for c in out]))
        return changed

    def remove(self, name: str) -> ConnectorConfig:
        """Remove the connector, its keychain items and its approvals."""
        settings = load_settings(self.settings_file)
        configs = load_connectors(settings.connectors)
        cfg = next((c for c in configs if c.name == name), None)
        if cfg is None:
            raise ConnectorConfigError(f"no connector named {name!r}; see `workjet mcp list`")
        save_settings(
            self.settings_file,
            settings.replace(connectors=[c.to_dict() for c in configs if c.name != name]),
        )
        delete_secrets(self.secrets, cfg)
        self.approvals().revoke(name)
        return cfg
