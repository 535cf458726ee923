"""Connector tools inside the real Workjet app: the approval modal through the app's own
``ask_from_thread``, the connectors screen, and no connector process left after exit."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from client.connectors.provider import ConnectorToolProvider
from client.screens.approval import ApprovalScreen, connector_tools
from client.screens.connectors import ConnectorsScreen, connectors_screen_for
from tests.client.connectors.conftest import PROBE, descendants, wait_gone

pytestmark = pytest.mark.integration


async def until(pilot: Any, check: Any, timeout: float = 20, what: str = "") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


def test_tools_in_the_app_and_no_child_after_exit(make_app):
    probe = {
        "name": "probe",
        "transport": "stdio",
        "command": sys.executable,
        "args": [str(PROBE)],
        "secrets": [],
    }
    app = make_app(connectors=[probe], signed_in=False)
    app.config.tool_provider_factory = connector_tools
    before = descendants()
    pids: set[int] = set()

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.tool_provider is not None, what="the provider")
            provider = app.tool_provider
            assert isinstance(provider, ConnectorToolProvider)
            names = {t.name for t in await asyncio.to_thread(provider.tools)}
            assert "probe__echo" in names
            pending = asyncio.get_running_loop().run_in_executor(
                None, provider.call, "probe__echo", {"text": "via the app"}, "t1"
            )
            await until(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="modal")
            await pilot.press("o")
            assert (await pending).content == "echo: via the app"
            pids.update(descendants() - before)
            assert provider.manager.status("probe").pid in pids

            screen = connectors_screen_for(app)
            assert screen.provider is provider and screen.registry is not None
            app.push_screen(screen)
            await until(pilot, lambda: isinstance(app.screen, ConnectorsScreen), what="screen")
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, ConnectorsScreen), what="back")
            await pilot.press("ctrl+q")
        # on_unmount closed the provider: every connector process is gone.
        assert not wait_gone(pids, 10), "a connector process outlived the app"

    asyncio.run(run())
