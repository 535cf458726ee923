"""Connector secrets in the OS keychain: item names and the store the manager reads from.

Each secret is one keychain item named ``mcp:<connector>:<VAR>`` (see ``item_name``). The
only code that touches ``keyring`` is ``client.keychain``; ``KeychainSecrets`` adapts it.
Tests and the manager depend on the small ``SecretStore`` protocol instead.
"""

from __future__ import annotations

from typing import Protocol

from client.connectors.config import ConnectorConfig


class SecretStore(Protocol):
    """What ``client.keychain.SystemKeychain`` offers (``account`` is the item name)."""

    def get(self, account: str) -> str | None: ...

    def set(self, account: str, secret: str) -> None: ...

    def delete(self, account: str) -> bool: ...


class MissingSecretError(LookupError):
    """A connector names a secret that is not in the keychain."""


def item_name(connector: str, var: str) -> str:
    return f"mcp:{connector}:{var}"


def read_secrets(store: SecretStore, cfg: ConnectorConfig) -> dict[str, str]:
    """This connector's own secrets, read now (at start), never cached by the caller."""
    out: dict[str, str] = {}
    for var in cfg.secrets:
        value = store.get(item_name(cfg.name, var))
        if value is None:
            raise MissingSecretError(
                f"secret {var} of connector {cfg.name} is not in the keychain: "
                f"run `workjet mcp add {cfg.name} --secret {var} ...` again"
            )
        out[var] = value
    return out


def delete_secrets(store: SecretStore, cfg: ConnectorConfig) -> None:
    for var in cfg.secrets:
        store.delete(item_name(cfg.name, var))
