"""Unit tests: tool names offered to the model, approval fingerprints and their file,
the mcpServers importer, and how results become text."""

from __future__ import annotations

import base64
import stat

import pytest
from mcp import types

from client.connectors.approvals import ApprovalStore, tool_fingerprint
from client.connectors.config import ConnectorConfig, ConnectorConfigError
from client.connectors.importer import parse_mcp_servers
from client.connectors.provider import MAX_TOOL_NAME, exposed_name
from client.connectors.results import MAX_RESULT_CHARS, tool_result_text


def test_exposed_names_are_provider_safe_and_unique():
    assert exposed_name("gh", "create_issue", set()) == "gh__create_issue"
    odd = exposed_name("gh", "repo.list/all things", set())
    assert odd.startswith("gh__repo_list_all_things")
    long = exposed_name("connector", "x" * 200, set())
    assert len(long) <= MAX_TOOL_NAME
    taken = {"gh__a_b"}
    other = exposed_name("gh", "a.b", taken)
    assert other != "gh__a_b" and other.startswith("gh__a_b_")


def _tool(**kw: object) -> types.Tool:
    base: dict[str, object] = {
        "name": "echo",
        "description": "Echo.",
        "input_schema": {"type": "object", "properties": {"text": {"type": "string"}}},
    }
    base.update(kw)
    return types.Tool(**base)  # type: ignore[arg-type]


def test_fingerprint_changes_with_definition_and_target_only():
    cfg = ConnectorConfig("c", command="srv", args=("--a",))
    fp = tool_fingerprint(cfg, _tool())
    assert fp == tool_fingerprint(cfg, _tool())
    assert fp != tool_fingerprint(cfg, _tool(description="Echo. And delete."))
    assert fp != tool_fingerprint(cfg, _tool(input_schema={"type": "object"}))
    assert fp != tool_fingerprint(
        cfg, _tool(annotations=types.ToolAnnotations(read_only_hint=True))
    )
    assert fp != tool_fingerprint(ConnectorConfig("c", command="srv", args=("--b",)), _tool())
    assert fp != tool_fingerprint(
        ConnectorConfig("c", command="srv", args=("--a",), secrets=("NEW",)), _tool()
    )
    # Enabling or autostarting does not change what runs.
    assert fp == tool_fingerprint(
        ConnectorConfig("c", command="srv", args=("--a",), autostart=True), _tool()
    )


def test_approval_store_file_is_private_and_exact(tmp_path):
    path = tmp_path / "cfg" / "mcp-approvals.json"
    store = ApprovalStore(path)
    store.allow_always("c", "echo", "f1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = ApprovalStore(path)
    assert again.is_always_allowed("c", "echo", "f1")
    assert not again.is_always_allowed("c", "echo", "f2")
    assert not again.is_always_allowed("other", "echo", "f1")
    again.revoke("c")
    assert not ApprovalStore(path).is_always_allowed("c", "echo", "f1")
    path.write_text("{not json")
    assert not ApprovalStore(path).is_always_allowed("c", "echo", "f1")


def test_import_separates_literal_secrets_from_the_config():
    imported = parse_mcp_servers(
        {
            "mcpServers": {
                "Git Hub!": {
                    "command": "npx",
                    "args": ["-y", "srv"],
                    "env": {"TOKEN": "ghp_x", "REGION": "${REGION}"},
                },
                "api": {
                    "url": "https://api.example.com/mcp",
                    "headers": {"Authorization": "Bearer abc", "X-Other": "1"},
                },
            }
        }
    )
    gh, api = imported
    assert gh.config.name == "Git-Hub" and gh.config.secrets == ("TOKEN", "REGION")
    assert gh.values == {"TOKEN": "ghp_x"} and gh.unset == ["REGION"]
    assert "ghp_x" not in str(gh.config.to_dict())
    assert api.config.transport == "http" and api.values == {"BEARER_TOKEN": "abc"}
    assert any("X-Other" in w for w in api.warnings)
    with pytest.raises(ConnectorConfigError):
        parse_mcp_servers({"servers": []})
    with pytest.raises(ConnectorConfigError, match="not supported"):
        parse_mcp_servers({"mcpServers": {"s": {"url": "https://x/sse", "type": "sse"}}})


def test_remote_http_only_on_loopback():
    ConnectorConfig("local", transport="http", url="http://127.0.0.1:9/mcp")
    with pytest.raises(ConnectorConfigError, match="plain http"):
        ConnectorConfig("far", transport="http", url="http://mcp.example.com/mcp")


def test_results_become_bounded_text():
    image = base64.b64encode(b"\x89PNG" * 100).decode()
    result = types.CallToolResult(
        content=[
            types.TextContent(text="hello"),
            types.ImageContent(data=image, mime_type="image/png"),
            types.EmbeddedResource(resource=types.TextResourceContents(uri="file:///a", text="A")),
        ]
    )
    text = tool_result_text(result)
    assert text.startswith("hello\n[image image/png, 400 bytes, not forwarded]")
    assert "[resource file:///a]\nA" in text and image not in text
    big = types.CallToolResult(content=[types.TextContent(text="x" * (MAX_RESULT_CHARS + 10))])
    assert tool_result_text(big).endswith("[… 10 more characters cut]")
    structured = types.CallToolResult(content=[], structured_content={"a": 1})
    assert '"a": 1' in tool_result_text(structured)
