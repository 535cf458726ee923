"""The connectors screen in Pilot: failures with their stderr, restart, listing, inserting a
resource, adding (secret to the keychain) and removing a connector."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Input, OptionList, Static

from client.connectors.approvals import ApprovalStore
from client.connectors.config import ConnectorConfig
from client.connectors.connection import ConnectorError
from client.connectors.manager import ConnectorManager
from client.connectors.provider import ConnectorToolProvider
from client.connectors.registry import ConnectorRegistry
from client.screens.connectors import AddConnectorScreen, ConnectorsScreen
from client.settings import Settings, save_settings
from tests.client.connectors.conftest import MemorySecrets, descendants, probe, wait_gone

pytestmark = pytest.mark.integration


class Host(App[None]):
    def __init__(self, screen: ConnectorsScreen, settings: Settings) -> None:
        super().__init__()
        self._screen = screen
        self.settings = settings
        self.config = SimpleNamespace()
        self.result: list[str | None] = []

    def compose(self) -> ComposeResult:
        yield Static("chat")

    def on_mount(self) -> None:
        self.push_screen(self._screen, self.result.append)


async def until(pilot: Any, check: Callable[[], bool], timeout: float = 20, what: str = "") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


def _info(screen: ConnectorsScreen) -> str:
    return str(screen.query_one("#connector-info", Static).render())


def _select(screen: ConnectorsScreen, name: str) -> None:
    names = [c.name for c in screen.manager.configs]
    screen.query_one(DataTable).move_cursor(row=names.index(name))


def test_connectors_screen(tmp_path: Path, everything: ConnectorConfig) -> None:
    bad = probe("bad", "--stderr-at-start", "fatal: token expired", "--exit-at-start", "4")
    configs = [probe("p"), bad, everything]
    settings_file = tmp_path / "config" / "settings.json"
    settings = Settings(connectors=[c.to_dict() for c in configs])
    save_settings(settings_file, settings)
    secrets = MemorySecrets()
    registry = ConnectorRegistry(settings_file, secrets)
    manager = ConnectorManager(configs, secrets)
    provider = ConnectorToolProvider(manager, ApprovalStore(None), lambda _req: "deny")
    before = descendants()

    async def run() -> None:
        screen = ConnectorsScreen(provider, registry)
        app = Host(screen, settings)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.screen is screen, what="the screen")
            table = screen.query_one(DataTable)
            assert table.row_count == 3

            # A connector failing at start: FAILED, with the last lines of its stderr.
            _select(screen, "bad")
            await pilot.press("s")
            await until(pilot, lambda: "FAILED" in str(table.get_row("bad")), what="FAILED")
            await until(
                pilot,
                lambda: "last stderr lines:\n  fatal: token expired" in _info(screen),
                what="stderr lines",
            )

            # A crash of a running connector is reported; r restarts it.
            _select(screen, "p")
            await pilot.press("s")
            await until(pilot, lambda: manager.status("p").state == "ready", what="p ready")
            first_pid = manager.status("p").pid
            with pytest.raises(ConnectorError):
                await asyncio.to_thread(manager.call_tool, "p", "crash", {})
            await until(pilot, lambda: "probe: last words" in _info(screen), what="crash report")
            assert "exited unexpectedly" in _info(screen)
            await pilot.press("r")
            await until(pilot, lambda: manager.status("p").state == "ready", what="restart")
            assert manager.status("p").pid not in (None, first_pid)
            await until(pilot, lambda: "p: ready" in _info(screen), what="ready shown")

            # Listing what a connector offers, then inserting a resource into the chat.
            _select(screen, "everything")
            await pilot.press("l")
            items = screen.query_one(OptionList)
            await until(pilot, lambda: items.option_count > 5, what="items")
            labels = [str(items.get_option_at_index(i).prompt) for i in range(items.option_count)]
            assert any(x.startswith("tool: echo") for x in labels)
            assert any(x.startswith("prompt: simple-prompt") for x in labels)
            first_resource = next(i for i, x in enumerate(labels) if x.startswith("resource:"))
            items.focus()
            items.highlighted = first_resource
            await pilot.press("enter")
            await until(pilot, lambda: bool(app.result), what="dismissal")
            assert app.result[0] and app.result[0].startswith("[resource demo://")

            # Adding a connector: the secret goes to the keychain, its name to the settings.
            screen2 = ConnectorsScreen(provider, registry)
            app.push_screen(screen2)
            await until(pilot, lambda: app.screen is screen2, what="screen again")
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, AddConnectorScreen), what="form")
            form = app.screen
            form.query_one("#add-name", Input).value = "clock"
            form.query_one(
                "#add-target", Input
            ).value = f"{sys.executable} -m mcp_server_time --local-timezone UTC"
            form.query_one("#add-var-0", Input).value = "CLOCK_TOKEN"
            form.query_one("#add-value-0", Input).value = "tok-screen-991"
            await pilot.press("ctrl+s")
            await until(pilot, lambda: screen2.query_one(DataTable).row_count == 4, what="added")
            assert secrets.get("mcp:clock:CLOCK_TOKEN") == "tok-screen-991"
            saved = settings_file.read_text()
            assert "tok-screen-991" not in saved
            assert [c["name"] for c in json.loads(saved)["connectors"]][-1] == "clock"
            assert app.settings.connectors[-1]["name"] == "clock"

            # Removing it: confirm with y; the keychain item goes too.
            _select(screen2, "clock")
            await pilot.press("delete")
            await pilot.pause(0.2)
            await pilot.press("y")
            await until(pilot, lambda: screen2.query_one(DataTable).row_count == 3, what="removed")
            assert secrets.get("mcp:clock:CLOCK_TOKEN") is None
            assert "clock" not in settings_file.read_text()
            await asyncio.to_thread(provider.close)

    asyncio.run(run())
    assert not wait_gone(descendants() - before, 10)
