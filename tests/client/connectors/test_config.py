"""Connector configuration: what is accepted, what is refused, and that no value is stored."""

from __future__ import annotations

import pytest

from client.connectors.config import (
    ConnectorConfig,
    ConnectorConfigError,
    dump_connectors,
    load_connectors,
)
from client.connectors.environment import SDK_INHERITED, build_environment


def test_round_trip_keeps_only_references():
    cfg = ConnectorConfig("gh", command="npx", args=("-y", "server"), secrets=("GITHUB_TOKEN",))
    data = cfg.to_dict()
    assert data["secrets"] == ["GITHUB_TOKEN"]
    assert load_connectors(dump_connectors([cfg])) == [cfg]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "bad name", "command": "x"}, "connector name"),
        ({"name": "a" * 33, "command": "x"}, "connector name"),
        ({"name": "a", "command": ""}, "command is required"),
        ({"name": "a", "transport": "http", "url": "ftp://x"}, "http:// or https://"),
        ({"name": "a", "transport": "http", "url": "https://u:p@x/mcp"}, "not in the URL"),
        ({"name": "a", "transport": "http", "url": "https://x", "secrets": ("A", "B")}, "one"),
        ({"name": "a", "command": "x", "secrets": ("not-a-var",)}, "environment variable"),
        ({"name": "a", "command": "x", "secrets": ("A", "A")}, "twice"),
        ({"name": "a", "command": "x", "call_timeout": 0}, "timeouts"),
    ],
)
def test_invalid_configs_are_refused(kwargs, message):
    with pytest.raises(ConnectorConfigError, match=message):
        ConnectorConfig(**kwargs)


def test_duplicate_names_and_unknown_fields_are_refused():
    one = {"name": "a", "command": "x"}
    with pytest.raises(ConnectorConfigError, match="used twice"):
        load_connectors([one, one])
    with pytest.raises(ConnectorConfigError, match="unknown connector field"):
        load_connectors([{**one, "env": {"TOKEN": "value"}}])


def test_environment_is_base_plus_own_secrets_only():
    parent = {
        "PATH": "/bin",
        "HOME": "/home/p",
        "LANG": "C.UTF-8",
        "TERM": "xterm",
        "OPENAI_API_KEY": "sk-parent",
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/x",
        "BASH_FUNC_x%%": "() { :; }",
        "SHELL": "() { evil; }",
    }
    env = build_environment(parent, {"TOKEN": "mine"})
    assert env == {
        "PATH": "/bin",
        "HOME": "/home/p",
        "LANG": "C.UTF-8",
        "TERM": "xterm",
        "TOKEN": "mine",
    }
    # Every name the SDK would add on its own is one we decide about ourselves.
    from client.connectors.environment import BASE_VARS

    assert set(BASE_VARS) >= SDK_INHERITED
