"""A whole session connects to the configured gateway and to nothing else."""

from __future__ import annotations

import asyncio
import socket

import pytest

from client.screens.chat import ChatScreen
from client.screens.conversations import ConversationsScreen
from client.screens.help import HelpScreen
from client.screens.settings import SettingsScreen
from client.screens.signin import SignInScreen
from client.widgets.prompt_input import PromptInput
from tests.client.fake_gateway import API_KEY
from tests.client.pilot_helpers import wait_until


@pytest.fixture
def socket_guard(monkeypatch):
    """Record every outbound connection and name resolution; refuse all but `allowed`."""
    allowed: set[tuple[str, int]] = set()
    seen: list[object] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        seen.append(address)
        if self.family in (socket.AF_INET, socket.AF_INET6):
            if (address[0], address[1]) not in allowed:
                raise AssertionError(f"the client connected to {address}, not the gateway")
        elif self.family == socket.AF_UNIX:
            raise AssertionError(f"the client connected to the unix socket {address}")
        return real_connect(self, address)

    def getaddrinfo(host, port, *args, **kwargs):
        seen.append(("resolve", host, port))
        if (host, port) not in allowed:
            raise AssertionError(f"the client looked up {host}:{port}, not the gateway")
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return allowed, seen


def test_a_full_session_talks_only_to_the_gateway(gateway, make_app, socket_guard) -> None:
    allowed, seen = socket_guard
    allowed.add(("127.0.0.1", gateway.port))

    async def scenario() -> None:
        app = make_app(gateway.url, signed_in=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, SignInScreen))
            await pilot.press(*API_KEY, "enter")
            await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
            chat = app.screen
            await wait_until(pilot, lambda: chat.models)
            for text in ("hello there", "mail bob@example.org"):
                chat.query_one(PromptInput).insert(text)
                await pilot.press("enter")
                await wait_until(pilot, lambda: chat.exchange is None
                                 and chat.conversation.messages[-1].role == "assistant")
            await pilot.press("ctrl+o")
            await pilot.press("down", "enter")
            await pilot.press("ctrl+y", "ctrl+l")
            await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
            await pilot.press(*"hello", "escape")
            await wait_until(pilot, lambda: app.screen is chat)
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
            await pilot.press("escape", "f1")
            await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
            await pilot.press("escape")
            await pilot.press("ctrl+q")

    asyncio.run(scenario())
    connections = [s for s in seen if not (isinstance(s, tuple) and s[0] == "resolve")]
    assert connections, "the guard saw no connection: it is not watching"
    assert set(map(tuple, connections)) == {("127.0.0.1", gateway.port)}
    assert len(gateway.chats()) == 2
