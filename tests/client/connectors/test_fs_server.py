"""The Local FS connector as a real MCP server process: read-only, confined to its roots."""

from __future__ import annotations

import os
import sys

import pytest

from client.connectors.config import ConnectorConfig
from client.connectors.manager import ConnectorManager
from client.connectors.results import tool_result_text
from tests.client.connectors.conftest import REPO, MemorySecrets

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fs(tmp_path_factory):
    """One FS server for the module: starting a Python MCP server takes about a second."""
    tmp_path = tmp_path_factory.mktemp("fs")
    root = tmp_path / "shared"
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "todo.md").write_text("buy milk\nfind the needle-42 here\n")
    (root / "readme.txt").write_text("hello from the shared folder")
    (tmp_path / "private.txt").write_text("PRIVATE-CANARY")
    os.symlink(tmp_path / "private.txt", root / "innocent.txt")
    os.symlink(tmp_path, root / "up")
    cfg = ConnectorConfig(
        "files",
        command=sys.executable,
        args=("-m", "client.connectors.fs_server", "--root", str(root)),
        cwd=str(REPO),
    )
    m = ConnectorManager([cfg], MemorySecrets())

    def call(tool: str, **arguments: object) -> tuple[bool, str]:
        res = m.call_tool("files", tool, dict(arguments))
        return res.is_error, tool_result_text(res)

    yield call, root
    m.close()


def test_tools_are_read_only_listing_reading_searching(fs):
    call, root = fs
    err, text = call("list_directory")
    assert not err
    assert "notes/" in text and "readme.txt (28 bytes)" in text
    assert "innocent.txt (symlink, points outside the shared folders)" in text
    assert call("read_file", path="readme.txt") == (False, "hello from the shared folder")
    err, text = call("search_files", query="needle-42", content=True)
    assert text == str(root / "notes" / "todo.md")
    err, text = call("search_files", query="*.md")
    assert text == str(root / "notes" / "todo.md")


@pytest.mark.parametrize(
    "path",
    [
        "../private.txt",
        "notes/../../private.txt",
        "innocent.txt",
        "up/private.txt",
        "up/shared/readme.txt/../../private.txt",
        "/etc/passwd",
    ],
)
def test_traversal_and_symlink_escapes_are_refused(fs, path):
    call, _ = fs
    err, text = call("read_file", path=path)
    assert err
    assert "outside the shared folders" in text
    assert "PRIVATE-CANARY" not in text


def test_listing_and_searching_outside_is_refused(fs):
    call, _ = fs
    err, text = call("list_directory", path="..")
    assert err and "outside the shared folders" in text
    err, text = call("list_directory", path="up")
    assert err and "outside the shared folders" in text
    err, text = call("search_files", query="PRIVATE", content=True)
    assert not err and text == "no match"  # the symlinks out are not followed
    err, text = call("search_files", query="private", path="up")
    assert err and "outside" in text
