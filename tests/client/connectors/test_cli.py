"""`workjet mcp ...` with the real Secret Service: secrets go to the keychain, never to disk."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import keyring
import pytest

from client.keychain import SERVICE, SystemKeychain
from client.mcp_cli import main

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(secret_service, tmp_path):
    settings_file = tmp_path / "config" / "settings.json"
    keychain = SystemKeychain()

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        rc = main(
            list(argv),
            keychain=keychain,
            settings_file=settings_file,
            stdin=io.StringIO(stdin),
            stdout=out,
            stderr=err,
        )
        return rc, out.getvalue(), err.getvalue()

    run.settings_file = settings_file  # type: ignore[attr-defined]
    return run


def _files_text(root: Path) -> str:
    return "".join(p.read_text() for p in root.rglob("*") if p.is_file())


def test_add_stores_secret_in_keychain_only_and_remove_deletes_it(cli, tmp_path):
    rc, out, err = cli(
        "add",
        "clock",
        "--secret",
        "CLOCK_TOKEN",
        "--",
        sys.executable,
        "-m",
        "mcp_server_time",
        stdin="tok-canary-7781\n",
    )
    assert rc == 0, err
    assert keyring.get_password(SERVICE, "mcp:clock:CLOCK_TOKEN") == "tok-canary-7781"
    settings = json.loads(cli.settings_file.read_text())
    assert settings["connectors"][0]["secrets"] == ["CLOCK_TOKEN"]
    assert "tok-canary-7781" not in _files_text(tmp_path)

    rc, out, _ = cli("list")
    assert "clock" in out and "CLOCK_TOKEN" in out and "tok-canary" not in out

    rc, out, _ = cli("remove", "clock")
    assert rc == 0 and "1 keychain item" in out
    assert keyring.get_password(SERVICE, "mcp:clock:CLOCK_TOKEN") is None
    assert json.loads(cli.settings_file.read_text())["connectors"] == []


def test_add_remote_connector_and_refuse_a_credential_in_arguments(cli):
    rc, _, err = cli(
        "add",
        "remote",
        "--url",
        "https://mcp.example.com/mcp",
        "--secret",
        "API_TOKEN",
        stdin="remote-token\n",
    )
    assert rc == 0, err
    assert keyring.get_password(SERVICE, "mcp:remote:API_TOKEN") == "remote-token"
    rc, _, err = cli(
        "add", "leaky", "--", "server", "--token", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    )
    assert rc == 1 and "looks like a credential" in err
    assert "leaky" not in cli.settings_file.read_text()


def test_test_command_lists_tools_and_stops(cli):
    assert cli("add", "clock", "--", sys.executable, "-m", "mcp_server_time")[0] == 0
    rc, out, err = cli("test", "clock")
    assert rc == 0, err
    assert "get_current_time" in out and "convert_time" in out
    assert out.rstrip().endswith("clock: stopped")


def test_test_command_reports_a_failing_server(cli):
    cli(
        "add",
        "broken",
        "--",
        sys.executable,
        "-c",
        "import sys; print('cannot reach upstream', file=sys.stderr); sys.exit(2)",
    )
    rc, _, err = cli("test", "broken")
    assert rc == 1
    assert "stderr: cannot reach upstream" in err


def test_import_moves_literal_secrets_to_keychain(cli, tmp_path):
    source = tmp_path / "claude_desktop_config.json"
    source.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "github server": {
                        "command": "npx",
                        "args": ["-y", "@modelcontextprotocol/server-github"],
                        "env": {"GITHUB_TOKEN": "ghp_literal_import_canary"},
                    },
                    "remote": {
                        "type": "http",
                        "url": "https://mcp.example.com/mcp",
                        "headers": {"Authorization": "Bearer remote-import-canary"},
                    },
                    "placeholder": {"command": "srv", "env": {"KEY": "${KEY}"}},
                }
            }
        )
    )
    rc, out, err = cli("import", str(source), stdin="typed-value\n")
    assert rc == 0, err
    assert "delete them from that file" in out
    assert keyring.get_password(SERVICE, "mcp:github-server:GITHUB_TOKEN") == (
        "ghp_literal_import_canary"
    )
    assert keyring.get_password(SERVICE, "mcp:remote:BEARER_TOKEN") == "remote-import-canary"
    assert keyring.get_password(SERVICE, "mcp:placeholder:KEY") == "typed-value"
    settings_text = cli.settings_file.read_text()
    assert "canary" not in settings_text and "typed-value" not in settings_text
    names = [c["name"] for c in json.loads(settings_text)["connectors"]]
    assert names == ["github-server", "remote", "placeholder"]
    for name in names:
        cli("remove", name)
    assert keyring.get_password(SERVICE, "mcp:remote:BEARER_TOKEN") is None


def test_add_fs_connector_and_test_it(cli, tmp_path):
    shared = tmp_path / "docs"
    shared.mkdir()
    rc, out, err = cli("add-fs", "files", str(shared))
    assert rc == 0, err
    rc, out, err = cli("test", "files")
    assert rc == 0, err
    assert "read_file" in out and "list_directory" in out and "search_files" in out
