"""Snapshots at 80x24 of the connector screens, reviewed by eye (also checked in tmux).

Nothing in them depends on the machine: the connectors shown are never started.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from client.connectors.approvals import ApprovalRequest, ApprovalStore
from client.connectors.config import ConnectorConfig
from client.connectors.manager import ConnectorManager
from client.connectors.provider import ConnectorToolProvider
from client.screens.approval import ApprovalScreen
from client.screens.connectors import ConnectorsScreen
from tests.client.connectors.conftest import MemorySecrets

REQUEST = ApprovalRequest(
    connector="github",
    target="npx -y @modelcontextprotocol/server-github",
    tool="create_issue",
    description="Create a new issue in a GitHub repository.",
    arguments={
        "owner": "acme",
        "repo": "widgets",
        "title": "Crash on start",
        "body": "Steps:\n1. run\n2. crash",
    },
    annotations={"read_only_hint": False, "destructive_hint": False},
    fingerprint="0" * 64,
)


class _Host(App[None]):
    def __init__(self, screen: object) -> None:
        super().__init__()
        self._screen = screen

    def compose(self) -> ComposeResult:
        yield Static("chat")

    def on_mount(self) -> None:
        self.push_screen(self._screen)  # type: ignore[arg-type]


def test_approval_modal(snap_compare):
    """The question before a tool runs: connector, command, tool, arguments, hints."""
    assert snap_compare(_Host(ApprovalScreen(REQUEST)), terminal_size=(80, 24))


def test_connectors_screen_never_started(snap_compare):
    """The list of connectors and the detail of the selected one."""
    manager = ConnectorManager(
        [
            ConnectorConfig(
                "github", command="npx", args=("-y", "server-github"), secrets=("GITHUB_TOKEN",)
            ),
            ConnectorConfig(
                "docs", transport="http", url="https://mcp.example.com/mcp", autostart=True
            ),
        ],
        MemorySecrets(),
    )
    provider = ConnectorToolProvider(manager, ApprovalStore(None), lambda _r: "deny")
    try:
        assert snap_compare(_Host(ConnectorsScreen(provider)), terminal_size=(80, 24))
    finally:
        manager.close()
