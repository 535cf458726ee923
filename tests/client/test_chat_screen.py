"""Pilot tests of the chat: send, stream, stop, DLP notice, errors, model, copy, input keys."""

from __future__ import annotations

import asyncio

from textual import events

from client.screens.chat import ChatScreen
from client.widgets.message_view import MessageView
from client.widgets.notice import Notice
from client.widgets.prompt_input import PromptInput
from tests.client.pilot_helpers import screen_text, wait_until


def run(coro):
    return asyncio.run(coro)


async def _ready(pilot, app) -> ChatScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), what="chat screen")
    screen = app.screen
    await wait_until(pilot, lambda: screen.models, what="models")
    return screen


async def _ask(pilot, screen, text: str) -> None:
    prompt = screen.query_one(PromptInput)
    prompt.focus()
    prompt.insert(text)
    await pilot.press("enter")


def test_send_streams_the_answer_and_saves_it(gateway, make_app) -> None:
    async def scenario() -> None:
        app = make_app(gateway.url)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _ready(pilot, app)
            await _ask(pilot, screen, "What is 2+2?")
            await wait_until(pilot, lambda: screen.exchange is None and len(
                screen.conversation.messages) == 2, what="answer")
            answer = screen.query(MessageView).last()
            assert "heard: What is 2+2?" in answer.text
            assert "claude-emulated heard: What is 2+2?" in screen_text(app)
            assert screen.query_one(PromptInput).text == ""
            saved = app.config.history.load(screen.conversation.id)
            assert [m.role for m in saved.messages] == ["user", "assistant"]
            assert saved.title == "What is 2+2?"
            assert saved.usage.output_tokens > 0
            assert "in 12 · out" in screen_text(app)
            body = gateway.chats()[0].body
            assert body["stream"] is True and body["model"] == "claude-emulated"
    run(scenario())


def test_esc_stops_the_answer_and_closes_the_request(gateway, make_app) -> None:
    gateway.token_delay = 0.05
    gateway.answer = lambda prompt, model: "slow " * 500

    async def scenario() -> None:
        app = make_app(gateway.url)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _ready(pilot, app)
            await _ask(pilot, screen, "tell me a long story")
            await wait_until(pilot, lambda: screen.answer_view is not None
                             and screen.answer_view.text.count("slow") > 3, what="streaming")
            await pilot.press("escape")
            await wait_until(pilot, lambda: screen.exchange is None, timeout=3, what="stop")
            assert gateway.cancelled.wait(5), "the gateway request must be closed"
            answer = screen.query(MessageView).last()
            assert answer.text.endswith("*(stopped)*")
            assert answer.text.count("slow") < 400
            assert "(stopped)" in screen_text(app)
    run(scenario())


def test_dlp_notice_is_shown_inline(gateway, make_app) -> None:
    async def scenario() -> None:
        app = make_app(gateway.url)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _ready(pilot, app)
            await _ask(pilot, screen, "mail a@b.org and c@d.org key AKIAABCDEFGHIJKLMNOP")
            await wait_until(pilot, lambda: screen.exchange is None and screen.query(Notice),
                             what="notice")
            notice = screen.query_one(Notice)
            assert notice.text == "3 items redacted: EMAIL, AWS_KEY (in your message)"
            assert "DLP · 3 items redacted: EMAIL, AWS_KEY" in screen_text(app)
    run(scenario())


def test_gateway_errors_say_what_to_do(gateway, make_app) -> None:
    async def scenario() -> None:
        app = make_app(gateway.url)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _ready(pilot, app)
            gateway.fail_next.append((429, "rate_limited", "Too many requests",
                                      {"Retry-After": "30"}))
            await _ask(pilot, screen, "hi")
            await wait_until(pilot, lambda: screen.exchange is None and screen.query(Notice),
                             what="error")
            assert "Try again in 30 s" in screen.query(Notice).last().text
            await _ask(pilot, screen, "BLOCKME please")
            await wait_until(pilot, lambda: len(screen.query(Notice)) == 2, what="block")
            assert "Remove the secret" in screen.query(Notice).last().text
            gateway.tokens.clear()  # the key was revoked
            await _ask(pilot, screen, "again")
            await wait_until(pilot, lambda: len(screen.query(Notice)) == 3, what="401")
            assert "Sign in again" in screen.query(Notice).last().text
    run(scenario())


def test_switch_model_with_the_picker(gateway, make_app) -> None:
    async def scenario() -> None:
        app = make_app(gateway.url)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _ready(pilot, app)
            await pilot.press("ctrl+o")
            await wait_until(pilot, lambda: app.screen is not screen, what="picker")
            assert "gpt-emulated" in screen_text(app)
            await pilot.press("down", "enter")
            await wait_until(pilot, lambda: app.screen is screen, what="picked")
            assert screen.conversation.model == "gpt-emulated"
            await _ask(pilot, screen, "hello")
            await wait_until(pilot, lambda: screen.exchange is None and len(
                screen.conversation.messages) == 2, what="answer")
            assert gateway.chats()[-1].body["model"] == "gpt-emulated"
            assert "gpt-emulated" in screen_text(app).splitlines()[0]
    run(scenario())


def test_enter_sends_but_newline_keys_and_paste_do_not(gateway, make_app) -> None:
    async def scenario() -> None:
        app = make_app(gateway.url)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _ready(pilot, app)
            prompt = screen.query_one(PromptInput)
            prompt.focus()
            await pilot.press("l", "1", "ctrl+j", "l", "2")
            await pilot.press("alt+enter")
            prompt.post_message(events.Paste("pasted line\nsecond line\n"))
            await pilot.pause(0.1)
            assert prompt.text == "l1\nl2\npasted line\nsecond line\n"
            assert gateway.chats() == []
            await pilot.press("enter")
            await wait_until(pilot, lambda: gateway.chats(), what="sent")
            sent = gateway.chats()[0].body["messages"][-1]["content"][0]["text"]
            assert sent == "l1\nl2\npasted line\nsecond line"
    run(scenario())


def test_copy_code_block_uses_the_clipboard(gateway, make_app) -> None:
    async def scenario() -> None:
        app = make_app(gateway.url)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _ready(pilot, app)
            await _ask(pilot, screen, "code please")
            await wait_until(pilot, lambda: screen.exchange is None and len(
                screen.conversation.messages) == 2, what="answer")
            await pilot.press("ctrl+y")
            assert app.clipboard == "print('hello')\n"
    run(scenario())


def test_long_conversation_renders_only_the_tail(gateway, make_app) -> None:
    from shared.chat import Message, TextPart

    async def scenario() -> None:
        app = make_app(gateway.url)
        history = app.config.history
        conv = history.new("Long one", model="claude-emulated")
        for i in range(300):
            conv = conv.with_message(Message("user" if i % 2 == 0 else "assistant",
                                             (TextPart(f"message {i}"),)))
        history.save(conv)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
            screen = app.screen
            await screen.open_conversation(history.load(conv.id))
            assert len(screen.query(MessageView)) == 20
            assert screen.query(MessageView).last().text == "message 299"
            await pilot.press("ctrl+p")
            await wait_until(pilot, lambda: len(screen.query(MessageView)) == 40)
            assert screen.query(MessageView).first().text == "message 260"
    run(scenario())
