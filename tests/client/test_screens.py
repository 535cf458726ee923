"""Pilot tests of sign-in, conversations, settings and help."""

from __future__ import annotations

import asyncio
import json

from textual.widgets import Input, OptionList

from client.keychain import account_for
from client.screens.chat import ChatScreen
from client.screens.conversations import ConversationsScreen
from client.screens.help import HelpScreen
from client.screens.settings import SettingsScreen
from client.screens.signin import SignInScreen
from shared.chat import Message, TextPart
from tests.client.fake_gateway import API_KEY, SESSION
from tests.client.pilot_helpers import screen_text, wait_until


def run(coro):
    return asyncio.run(coro)


def test_sign_in_with_an_api_key_in_a_masked_field(gateway, make_app, tmp_path) -> None:
    async def scenario() -> None:
        app = make_app(gateway.url, signed_in=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, SignInScreen))
            key_field = app.screen.query_one("#api-key", Input)
            assert key_field.password is True
            assert app.focused is key_field
            await pilot.press(*"sk-wrong", "enter")
            await wait_until(pilot, lambda: "does not look like" in screen_text(app))
            key_field.value = ""
            await pilot.press(*API_KEY)
            assert API_KEY not in screen_text(app), "the key must be masked"
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), what="chat")
            assert app.config.keychain.get(account_for(gateway.url)) == API_KEY
            settings = (tmp_path / "config" / "settings.json")
            assert not settings.exists() or API_KEY not in settings.read_text()
    run(scenario())


def test_device_login_shows_code_and_url_then_stores_the_session(gateway, make_app) -> None:
    async def scenario() -> None:
        app = make_app(gateway.url, signed_in=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, SignInScreen))
            await pilot.press("ctrl+d")
            await wait_until(pilot, lambda: "WXYZ-1234" in screen_text(app), what="code")
            assert f"{gateway.url}/device?code=WXYZ-1234" in screen_text(app)
            gateway.device_approved = True
            await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), what="chat")
            assert app.config.keychain.get(account_for(gateway.url)) == SESSION
    run(scenario())


def test_wrong_key_is_refused_with_the_reason(gateway, make_app) -> None:
    async def scenario() -> None:
        app = make_app(gateway.url, signed_in=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, SignInScreen))
            await pilot.press(*("wj_live_" + "Q" * 43), "enter")
            await wait_until(pilot, lambda: "Sign in again" in screen_text(app))
            assert app.config.keychain.get(account_for(gateway.url)) is None
    run(scenario())


def _seed(app) -> list[str]:
    history = app.config.history
    ids = []
    for title, text in (("Lisbon trip", "where to eat bacalhau"), ("Taxes", "what is VAT"),
                        ("Garden", "when to plant tulips")):
        conv = history.new(title, model="claude-emulated")
        conv = conv.with_message(Message("user", (TextPart(text),)))
        history.save(conv)
        ids.append(conv.id)
    return ids


def test_conversations_search_open_rename_delete_export(gateway, make_app) -> None:
    async def scenario() -> None:
        app = make_app(gateway.url)
        ids = _seed(app)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
            chat = app.screen
            await pilot.press("ctrl+l")
            await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
            conversations = app.screen
            await wait_until(pilot, lambda: len(conversations.summaries) == 3)
            await pilot.press(*"bacalhau")
            await wait_until(pilot, lambda: len(conversations.summaries) == 1)
            assert "Lisbon trip" in screen_text(app) and "Taxes" not in screen_text(app)
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.screen is chat)
            assert chat.conversation.id == ids[0]
            assert "where to eat bacalhau" in screen_text(app)

            await pilot.press("ctrl+l")
            await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
            conversations = app.screen
            await pilot.press(*"VAT")
            await wait_until(pilot, lambda: len(conversations.summaries) == 1)
            await pilot.press("f2")
            await wait_until(pilot, lambda: app.screen.query("#answer"))
            app.screen.query_one("#answer", Input).value = "Tax questions"
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.config.history.load(ids[1]).title
                             == "Tax questions")
            await pilot.press("ctrl+e")
            exported = app.config.history.directory.parent / "exports" / "Tax-questions.md"
            await wait_until(pilot, lambda: exported.exists())
            assert "what is VAT" in exported.read_text()
            assert (exported.stat().st_mode & 0o777) == 0o600
            await pilot.press("down", "delete")
            await wait_until(pilot, lambda: "Delete 'Tax questions'" in screen_text(app))
            await pilot.press("y")
            await wait_until(pilot, lambda: not (app.config.history.directory
                                                 / f"{ids[1]}.json").exists())
            conversations.query_one("#search", Input).value = ""
            await wait_until(pilot, lambda: len(conversations.summaries) == 2)
            assert [s.title for s in app.config.history.list()] == ["Garden", "Lisbon trip"]
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is chat)
    run(scenario())


def test_settings_screen_saves_non_secret_values_and_refuses_a_key(gateway, make_app,
                                                                    tmp_path) -> None:
    async def scenario() -> None:
        app = make_app(gateway.url)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
            await wait_until(pilot, lambda: app.screen.models)
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
            screen = app.screen
            screen.query_one("#ca_bundle", Input).value = API_KEY
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: "looks like a credential" in screen_text(app))
            path = tmp_path / "config" / "settings.json"
            assert not path.exists()
            screen.query_one("#ca_bundle", Input).value = ""
            screen.query_one("#default_model").value = "gpt-emulated"
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: path.exists())
            assert json.loads(path.read_text())["default_model"] == "gpt-emulated"
            assert app.settings.default_model == "gpt-emulated"
    run(scenario())


def test_help_lists_the_keys(gateway, make_app) -> None:
    async def scenario() -> None:
        app = make_app(gateway.url)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
            await pilot.press("f1")
            await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
            text = screen_text(app)
            assert "Esc               stop the answer" in text
            assert "Ctrl+J, Alt+Enter" in text
            assert "Ctrl+T            tools: MCP connectors" in text
            await pilot.press("escape")
            await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
            footer = screen_text(app).splitlines()[-1]
            for label in ("Stop", "Model", "Chats", "New", "Copy", "Tools", "Quit", "Help"):
                assert label in footer, label
    run(scenario())


def test_usable_below_80x24(gateway, make_app) -> None:
    async def scenario() -> None:
        app = make_app(gateway.url)
        async with app.run_test(size=(60, 14)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
            screen = app.screen
            await wait_until(pilot, lambda: screen.models)
            prompt = screen.query_one("#prompt")
            prompt.insert("small screen")
            await pilot.press("enter")
            await wait_until(pilot, lambda: screen.exchange is None
                             and len(screen.conversation.messages) == 2)
            assert prompt.region.height >= 3 and prompt.region.bottom <= 14
            assert not screen.query_one("#chat-title").display
    run(scenario())


def test_option_list_keyboard_only(gateway, make_app) -> None:
    """Open a conversation from the list with arrow keys alone."""
    async def scenario() -> None:
        app = make_app(gateway.url)
        ids = _seed(app)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
            chat = app.screen
            await pilot.press("ctrl+l")
            await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen)
                             and app.screen.summaries)
            await pilot.press("down")
            assert isinstance(app.focused, OptionList)
            await pilot.press("down", "enter")
            await wait_until(pilot, lambda: app.screen is chat)
            assert chat.conversation.id in ids
    run(scenario())
