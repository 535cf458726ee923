"""The approval flow in the TUI (Pilot): allow once, always, deny, and asking again when
the tool's definition or the connector's command changes. Real MCP servers run the tools."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from client.connectors.config import ConnectorConfig
from client.connectors.provider import DENIED
from client.screens.approval import ApprovalScreen, connector_tools
from client.settings import Settings
from client.widgets.usage_bar import UsageBar
from tests.client.connectors.conftest import PROBE, MemorySecrets, descendants, wait_gone

pytestmark = pytest.mark.integration
T = TypeVar("T")


class Host(App[None]):
    """The slice of ``WorkjetApp`` the connector tools use, with the same ``ask_from_thread``."""

    def __init__(self, connectors: list[ConnectorConfig], settings_file: Path) -> None:
        super().__init__()
        self.settings = Settings(connectors=[c.to_dict() for c in connectors])
        self.config = SimpleNamespace(keychain=MemorySecrets(), settings_file=settings_file)
        self._ident = threading.get_ident()

    def compose(self) -> ComposeResult:
        yield UsageBar()

    def ask_from_thread(self, screen: Screen[T]) -> T | None:
        assert threading.get_ident() != self._ident
        answered = threading.Event()
        box: list[T | None] = [None]

        def done(result: T | None) -> None:
            box[0] = result
            answered.set()

        self.call_from_thread(self.push_screen, screen, done)
        while not answered.wait(0.2):
            if not self.is_running:
                return None
        return box[0]


async def _modal(app: Host, pilot: Any, timeout: float = 20) -> ApprovalScreen:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not isinstance(app.screen, ApprovalScreen):
        assert loop.time() < deadline, "the approval modal did not appear"
        await pilot.pause(0.05)
    await pilot.pause()
    return app.screen


def _shown(screen: ApprovalScreen) -> str:
    return "\n".join(str(w.render()) for w in screen.query(Static))


def _probe(desc_file: Path, *extra: str) -> ConnectorConfig:
    return ConnectorConfig(
        "probe",
        command=sys.executable,
        args=(str(PROBE), "--description-file", str(desc_file), *extra),
    )


def test_allow_once_always_deny_and_changes_ask_again(tmp_path, everything):
    desc = tmp_path / "desc.txt"
    desc.write_text("Echo the text back.")
    settings_file = tmp_path / "config" / "settings.json"
    before = descendants()

    async def run() -> None:
        app = Host([_probe(desc), everything], settings_file)
        async with app.run_test(size=(80, 24)) as pilot:
            provider = connector_tools(app)
            loop = asyncio.get_running_loop()

            def call(name: str, args: dict[str, Any]) -> asyncio.Future[Any]:
                return loop.run_in_executor(None, provider.call, name, args, "call-1")

            names = {t.name for t in await asyncio.to_thread(provider.tools)}
            assert {"probe__echo", "probe__env", "everything__echo"} <= names

            # 1. Allow once: the modal shows connector, command, tool and full arguments.
            pending = call("probe__echo", {"text": "hello there"})
            modal = await _modal(app, pilot)
            shown = _shown(modal)
            assert "probe" in shown and str(PROBE) in shown and "echo" in shown
            assert '"text": "hello there"' in shown
            await pilot.press("o")
            result = await pending
            assert (result.content, result.is_error) == ("echo: hello there", False)

            # 2. "Once" is not remembered: asked again; this time always allow.
            pending = call("probe__echo", {"text": "two"})
            await _modal(app, pilot)
            await pilot.press("a")
            assert (await pending).content == "echo: two"

            # 3. Always: no question any more.
            result = await asyncio.wait_for(call("probe__echo", {"text": "three"}), 20)
            assert result.content == "echo: three"
            assert not isinstance(app.screen, ApprovalScreen)

            # 4. Deny: the model is told, the tool does not run.
            pending = call("probe__env", {})
            await _modal(app, pilot)
            await pilot.press("d")
            result = await pending
            assert (result.content, result.is_error) == (DENIED, True)

            # 5. A server's read-only hint is shown as a claim and still asks.
            pending = call("everything__echo", {"message": "hi"})
            modal = await _modal(app, pilot)
            assert "read_only_hint=True" in _shown(modal) and "Unverified" in _shown(modal)
            await pilot.press("escape")
            assert (await pending).content == DENIED

            # 6. The tool's definition changes (new description): asked again.
            desc.write_text("Echo the text back. Also uploads your files somewhere.")
            await asyncio.to_thread(provider.manager.restart, "probe")
            pending = call("probe__echo", {"text": "four"})
            modal = await _modal(app, pilot)
            assert "uploads your files" in _shown(modal)
            await pilot.press("a")
            assert (await pending).content == "echo: four"
            result = await asyncio.wait_for(call("probe__echo", {"text": "five"}), 20)
            assert result.content == "echo: five"

            # 7. The connector's command changes: asked again.
            await asyncio.to_thread(
                provider.reload, [_probe(desc, "--stderr-at-start", "v2"), everything]
            )
            pending = call("probe__echo", {"text": "six"})
            modal = await _modal(app, pilot)
            assert "--stderr-at-start v2" in _shown(modal)
            await pilot.press("o")
            assert (await pending).content == "echo: six"

            # Progress notifications reach the status line.
            pending = call("probe__slow", {"seconds": 0.5})
            await _modal(app, pilot)
            await pilot.press("o")
            assert (await pending).content == "done"
            await pilot.pause(0.1)
            assert "probe · slow" in app.query_one(UsageBar).state

            await asyncio.to_thread(provider.close)
        # The approvals file holds hashes and names only, never arguments.
        saved = settings_file.with_name("mcp-approvals.json").read_text()
        assert "echo" in saved and "hello there" not in saved and "four" not in saved

    asyncio.run(run())
    assert not wait_gone(descendants() - before, 10), "connector processes outlived the app"


def test_stopping_the_answer_cancels_a_running_tool(tmp_path):
    desc = tmp_path / "desc.txt"
    desc.write_text("Echo.")

    async def run() -> None:
        app = Host([_probe(desc)], tmp_path / "settings.json")
        async with app.run_test(size=(80, 24)) as pilot:
            provider = connector_tools(app)
            await asyncio.to_thread(provider.tools)
            loop = asyncio.get_running_loop()
            pending = loop.run_in_executor(None, provider.call, "probe__slow", {"seconds": 30})
            await _modal(app, pilot)
            await pilot.press("o")
            await asyncio.sleep(1.0)
            t0 = loop.time()
            assert provider.cancel() == 1
            result = await asyncio.wait_for(pending, 10)
            assert result.is_error and "cancelled" in result.content
            assert loop.time() - t0 < 5
            await asyncio.to_thread(provider.close)

    asyncio.run(run())
