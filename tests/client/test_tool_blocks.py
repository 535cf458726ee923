"""Tool calls in a stored conversation: one collapsed block per call, with its result inside,
opened by keyboard; the file format keeps them (and files written before blocks existed)."""

from __future__ import annotations

import asyncio
import json

from client.history import FORMAT_VERSION, History
from client.screens.chat import ChatScreen
from client.tools import DENIED
from client.widgets.message_view import MessageView
from client.widgets.tool_block import MAX_SHOWN_CHARS, ToolBlock
from shared.chat import Message, TextPart, ToolCallPart, ToolResultPart
from tests.client.pilot_helpers import screen_text, wait_until


def _titles(screen: ChatScreen) -> list[str]:
    return [str(b.query_one("CollapsibleTitle").render()) for b in screen.query(ToolBlock)]


def _tool_conversation(history: History, after: int = 0):
    conv = history.new("Tools", model="claude-emulated")
    conv = conv.with_message(Message("user", (TextPart("what is in notes.txt?"),)))
    conv = conv.with_message(Message("assistant", (
        TextPart("Let me look."),
        ToolCallPart("c1", "files__read", {"path": "notes.txt"}),
        ToolCallPart("c2", "files__delete", {"path": "notes.txt"}),
    )))
    conv = conv.with_message(Message("tool", (
        ToolResultPart("c1", "buy milk\n" + "x" * (MAX_SHOWN_CHARS + 500)),
        ToolResultPart("c2", DENIED, is_error=True),
    )))
    conv = conv.with_message(Message("assistant", (
        ToolCallPart("c1", "files__search", {"q": "[b]milk[/b]"}),  # ids may repeat
    )))
    conv = conv.with_message(Message("tool", (
        ToolResultPart("c1", "Tool call failed: the connector exited", is_error=True),
    )))
    conv = conv.with_message(Message("assistant", (TextPart("It says: buy milk."),)))
    for i in range(after):
        conv = conv.with_message(Message("user" if i % 2 else "assistant",
                                         (TextPart(f"more {i}"),)))
    history.save(conv)
    return conv


def test_stored_tool_calls_show_as_collapsed_blocks_that_open_by_keyboard(
    gateway, make_app
) -> None:
    async def scenario() -> None:
        app = make_app(gateway.url)
        history = app.config.history
        conv = _tool_conversation(history)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
            screen = app.screen
            await screen.open_conversation(history.load(conv.id))
            await pilot.pause(0.1)
            assert _titles(screen) == [
                "▶ ⚙ files__read · ok",
                "▶ ⚙ files__delete · denied",
                "▶ ⚙ files__search · error",
            ]
            assert all(b.collapsed for b in screen.query(ToolBlock))
            text = screen_text(app)
            assert "buy milk\n" not in text and "Tool call failed" not in text
            # The tool results are inside their blocks, not separate "Tool" messages.
            assert [v.role for v in screen.query(MessageView)] == ["user", "assistant",
                                                                    "assistant"]

            # Keyboard only: Shift+Tab from the prompt reaches the last block; Enter opens it.
            await pilot.press("shift+tab")
            last = screen.query(ToolBlock).last()
            assert app.focused is last.query_one("CollapsibleTitle")
            await pilot.press("enter")
            await wait_until(pilot, lambda: not last.collapsed, what="expanded")
            await pilot.pause(0.1)
            text = screen_text(app)
            assert "Tool call failed: the connector exited" in text
            assert '"q": "[b]milk[/b]"' in text  # arguments shown as sent, markup untouched
            await pilot.press("enter")
            await wait_until(pilot, lambda: last.collapsed, what="collapsed again")

            # A long result is cut for display, never in the stored conversation.
            first = screen.query(ToolBlock).first()
            first.collapsed = False
            await pilot.pause(0.1)
            shown = str(first.query_one(".tool-result").render())
            assert shown.startswith("Result\nbuy milk")
            assert shown.endswith("\n… 509 more characters")
    asyncio.run(scenario())


def test_a_result_whose_call_is_above_the_window_is_shown_once(gateway, make_app) -> None:
    """The render window can start between a call and its result; Ctrl+P pairs them."""

    async def scenario() -> None:
        app = make_app(gateway.url)
        history = app.config.history
        # 22 messages: the window shows the last 20, so it starts at the results (index 2)
        # and the calls (index 1) are above it.
        conv = _tool_conversation(history, after=16)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
            screen = app.screen
            await screen.open_conversation(history.load(conv.id))
            assert screen._window_start == 2 and conv.messages[2].role == "tool"
            assert [b.tool_call_id for b in screen.query(ToolBlock)] == ["c1", "c2", "c1"]
            assert _titles(screen)[:2] == ["▶ ⚙ files__read · ok", "▶ ⚙ files__delete · denied"]
            assert len(screen.query(".-orphan")) == 2
            await pilot.press("ctrl+p")
            await wait_until(pilot, lambda: not screen.query("#earlier"), what="earlier shown")
            await pilot.pause(0.1)
            assert [b.tool_call_id for b in screen.query(ToolBlock)] == ["c1", "c2", "c1"]
            assert not screen.query(".-orphan")
            assert _titles(screen)[:2] == ["▶ ⚙ files__read · ok", "▶ ⚙ files__delete · denied"]
    asyncio.run(scenario())


def test_history_keeps_tool_calls_and_reads_older_files(tmp_path) -> None:
    history = History(tmp_path / "conversations").open()
    conv = _tool_conversation(history)
    loaded = history.load(conv.id)
    assert loaded == conv
    calls = [p for m in loaded.messages for p in m.content if isinstance(p, ToolCallPart)]
    assert [(c.name, c.arguments) for c in calls] == [
        ("files__read", {"path": "notes.txt"}),
        ("files__delete", {"path": "notes.txt"}),
        ("files__search", {"q": "[b]milk[/b]"}),
    ]

    # A file written by the first client (same format version, text only) still opens.
    old_id = "0" * 32
    (history.directory / f"{old_id}.json").write_text(json.dumps({
        "version": FORMAT_VERSION, "id": old_id, "title": "Old", "created": 1.0,
        "updated": 2.0, "messages": [
            {"role": "user", "content": [{"type": "text", "text": "hello"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "hi"}]},
        ],
    }))
    old = history.load(old_id)
    assert [m.role for m in old.messages] == ["user", "assistant"] and old.model == ""
