"""Connectors from the chat: Ctrl+T opens the connectors screen, a connector added there is
offered to the model in the next turn, tool calls show as collapsed blocks (ok, denied)
that open by keyboard and come back when the conversation is opened again, and a
resource chosen on the screen lands in the prompt."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest
from textual.widgets import DataTable, Input, OptionList

from client.connectors.config import ConnectorConfig
from client.connectors.provider import ConnectorToolProvider
from client.screens.approval import ApprovalScreen, connector_tools
from client.screens.chat import ChatScreen
from client.screens.connectors import AddConnectorScreen, ConnectorsScreen
from client.widgets.prompt_input import PromptInput
from client.widgets.tool_block import ToolBlock
from tests.client.connectors.conftest import PROBE, descendants, wait_gone
from tests.client.pilot_helpers import screen_text, wait_until

pytestmark = pytest.mark.integration


def _titles(screen: ChatScreen) -> list[str]:
    return [str(b.query_one("CollapsibleTitle").render()) for b in screen.query(ToolBlock)]


async def _ask_and_decide(pilot, screen: ChatScreen, text: str, key: str) -> None:
    prompt = screen.query_one(PromptInput)
    prompt.focus()
    prompt.insert(text)
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen), 30,
                     what="the approval modal")
    await pilot.press(key)
    await wait_until(pilot, lambda: screen.exchange is None, 30, what="the answer")
    await pilot.pause(0.1)


def test_connector_added_from_the_chat_runs_as_a_tool_shown_collapsed(gateway, make_app):
    gateway.tool_call = ("probe__echo", {"text": "from the model"})
    app = make_app(gateway.url)  # no connectors, so no tool provider at start
    before = descendants()
    pids: set[int] = set()

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen)
                             and app.screen.models, what="the chat")
            chat = app.screen
            assert app.tool_provider is None
            await wait_until(pilot, lambda: "^t Tools" in screen_text(app).splitlines()[-1],
                             what="the binding in the footer")

            await pilot.press("ctrl+t")
            await wait_until(pilot, lambda: isinstance(app.screen, ConnectorsScreen), 20,
                             what="the connectors screen")
            await pilot.press("n")
            await wait_until(pilot, lambda: isinstance(app.screen, AddConnectorScreen))
            form = app.screen
            form.query_one("#add-name", Input).value = "probe"
            form.query_one("#add-target", Input).value = f"{sys.executable} {PROBE}"
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: isinstance(app.screen, ConnectorsScreen)
                             and app.screen.query_one(DataTable).row_count == 1, what="added")
            provider = app.tool_provider
            assert isinstance(provider, ConnectorToolProvider)
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is chat, what="back in the chat")

            # The next turn offers the new connector's tools; the model calls one.
            await _ask_and_decide(pilot, chat, "echo something", "o")
            assert "probe__echo" in {t["name"] for t in gateway.chats()[0].body["tools"]}
            pids.update(descendants() - before)
            assert _titles(chat) == ["▶ ⚙ probe__echo · ok"]
            block = chat.query_one(ToolBlock)
            assert block.collapsed
            await wait_until(pilot, lambda: "The tool said: echo: from the model"
                             in screen_text(app), what="the final answer")
            assert "Result" not in screen_text(app)  # collapsed: the result is not shown

            # Keyboard: Shift+Tab from the prompt to the block, Enter opens it.
            await pilot.press("shift+tab")
            assert app.focused is block.query_one("CollapsibleTitle")
            await pilot.press("enter")
            await wait_until(pilot, lambda: not block.collapsed, what="expanded")
            await pilot.pause(0.1)
            text = screen_text(app)
            assert '"text": "from the model"' in text and "echo: from the model" in text

            # Denied: the block says so, and the model was told.
            await _ask_and_decide(pilot, chat, "and again", "d")
            assert _titles(chat)[-1] == "▶ ⚙ probe__echo · denied"
            await wait_until(pilot, lambda: "The tool said: The person denied this tool call."
                             in screen_text(app), what="the answer after a denial")

            # Opened again from the history file: the same blocks.
            conv = app.config.history.load(chat.conversation.id)
            await chat.open_conversation(conv)
            await pilot.pause(0.1)
            assert _titles(chat) == ["▶ ⚙ probe__echo · ok", "▶ ⚙ probe__echo · denied"]
            await pilot.press("ctrl+q")
        assert not wait_gone(pids, 10), "a connector process outlived the app"

    asyncio.run(run())


def test_a_resource_chosen_on_the_connectors_screen_lands_in_the_prompt(
    gateway, make_app, everything: ConnectorConfig
):
    app = make_app(gateway.url, connectors=[everything.to_dict()])

    def slow_tools(app):  # as `workjet` with connectors, on a slow machine
        time.sleep(1.5)
        return connector_tools(app)

    app.config.tool_provider_factory = slow_tools
    before = descendants()

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), what="the chat")
            chat = app.screen
            chat.query_one(PromptInput).insert("Summarise this: ")
            await pilot.press("ctrl+t")
            await wait_until(pilot, lambda: isinstance(app.screen, ConnectorsScreen), 20,
                             what="the connectors screen")
            screen = app.screen
            await wait_until(pilot, lambda: not any(w.group == "tools" and w.is_running
                                                    for w in app.workers), what="the provider")
            assert screen.provider is app.tool_provider  # the app's one, not a second
            await pilot.press("l")
            items = screen.query_one(OptionList)
            await wait_until(pilot, lambda: items.option_count > 5, 30, what="items")
            labels = [str(items.get_option_at_index(i).prompt) for i in range(items.option_count)]
            first_resource = next(i for i, x in enumerate(labels) if x.startswith("resource:"))
            items.focus()
            items.highlighted = first_resource
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.screen is chat, 20, what="back in the chat")
            prompt = chat.query_one(PromptInput)
            assert prompt.text.startswith("Summarise this: [resource demo://")
            assert app.focused is prompt
        assert not wait_gone(descendants() - before, 10), "a connector outlived the app"

    asyncio.run(run())
