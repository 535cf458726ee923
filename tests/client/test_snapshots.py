"""Snapshots at 80x24 (and one below it), reviewed by eye; see __snapshots__/.

Each snapshot runs the real app against the loopback fake gateway; nothing in them
depends on the gateway's port, the clock or the machine.
"""

from __future__ import annotations

from dataclasses import replace

from client.screens.chat import ChatScreen
from client.tools import DENIED
from client.widgets.prompt_input import PromptInput
from client.widgets.tool_block import ToolBlock
from shared.chat import Message, TextPart, ToolCallPart, ToolResultPart
from tests.client.pilot_helpers import wait_until

FIXED_TIME = 1_700_000_000.0


def _still(pilot) -> None:
    """Stop cursors blinking, so a snapshot does not depend on when it is taken."""
    for screen in pilot.app.screen_stack:
        for widget in screen.query("Input, TextArea"):
            widget.cursor_blink = False


async def _answered(pilot, text: str) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.models)
    chat = app.screen
    chat.query_one(PromptInput).insert(text)
    await pilot.press("enter")
    await wait_until(pilot, lambda: chat.exchange is None
                     and chat.conversation.messages[-1].role == "assistant")
    await pilot.pause(0.2)
    _still(pilot)


def _seed(app) -> None:
    history = app.config.history
    for i, (title, text) in enumerate((("Lisbon trip", "where to eat"),
                                       ("Taxes", "what is VAT"),
                                       ("Garden", "when to plant tulips"))):
        conv = history.new(title, model="claude-emulated")
        conv = conv.with_message(Message("user", (TextPart(text),)))
        when = FIXED_TIME + 3600 * i
        history.save(replace(conv, created=when, updated=when))


class TestSignIn:
    """The sign-in screen: URL, masked key field, browser-login key."""

    def test_sign_in(self, snap_compare, make_app) -> None:
        app = make_app("https://workjet.example.org", signed_in=False)

        async def run_before(pilot) -> None:
            await pilot.pause(0.1)
            _still(pilot)

        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


class TestChat:
    """The chat after one answer: DLP notice, Markdown with a code block, usage, footer;
    tool calls as collapsed blocks."""

    def test_answer_with_dlp_notice(self, snap_compare, make_app, gateway) -> None:
        app = make_app(gateway.url)

        async def run_before(pilot) -> None:
            await _answered(pilot, "write hello for alice@example.org")

        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)

    def test_small_terminal(self, snap_compare, make_app, gateway) -> None:
        """Below 80x24 the title bar and usage line give way to the conversation."""
        app = make_app(gateway.url)

        async def run_before(pilot) -> None:
            await _answered(pilot, "hi")

        assert snap_compare(app, terminal_size=(60, 16), run_before=run_before)

    def test_tool_calls(self, snap_compare, make_app, gateway) -> None:
        """Tool calls as one line each (ok, denied, error); the first one opened."""
        app = make_app(gateway.url)
        history = app.config.history
        conv = history.new("Notes", model="claude-emulated")
        for message in (
            Message("user", (TextPart("what is in notes.txt?"),)),
            Message("assistant", (TextPart("Let me look."),
                                  ToolCallPart("c1", "files__read", {"path": "notes.txt"}),
                                  ToolCallPart("c2", "files__delete", {"path": "notes.txt"}))),
            Message("tool", (ToolResultPart("c1", "buy milk\ncall Ana"),
                             ToolResultPart("c2", DENIED, is_error=True))),
            Message("assistant", (ToolCallPart("c3", "files__search", {"q": "milk"}),)),
            Message("tool", (ToolResultPart("c3", "Tool call failed: timed out", True),)),
            Message("assistant", (TextPart("It says: buy milk, call Ana."),)),
        ):
            conv = conv.with_message(message)
        history.save(replace(conv, created=FIXED_TIME, updated=FIXED_TIME))

        async def run_before(pilot) -> None:
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, ChatScreen))
            chat = pilot.app.screen
            await chat.open_conversation(history.load(conv.id))
            chat.query(ToolBlock).first().query_one("CollapsibleTitle").focus()
            await pilot.press("enter")
            await pilot.pause(0.2)
            _still(pilot)

        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


class TestOtherScreens:
    """Conversations list, help and model picker."""

    def test_conversations(self, snap_compare, make_app, gateway) -> None:
        app = make_app(gateway.url)
        _seed(app)

        async def run_before(pilot) -> None:
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, ChatScreen))
            await pilot.press("ctrl+l")
            await wait_until(pilot, lambda: getattr(pilot.app.screen, "summaries", None))
            await pilot.pause(0.1)
            _still(pilot)

        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)

    def test_help(self, snap_compare, make_app, gateway) -> None:
        app = make_app(gateway.url)

        async def run_before(pilot) -> None:
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, ChatScreen))
            await pilot.press("f1")
            await pilot.pause(0.1)
            _still(pilot)

        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)

    def test_model_picker(self, snap_compare, make_app, gateway) -> None:
        app = make_app(gateway.url)

        async def run_before(pilot) -> None:
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, ChatScreen)
                             and pilot.app.screen.models)
            await pilot.press("ctrl+o")
            await pilot.pause(0.1)
            _still(pilot)

        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
