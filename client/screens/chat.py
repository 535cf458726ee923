"""The chat: the conversation, the prompt, a streaming answer, tokens and cost."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Label

from client.code_blocks import code_blocks
from client.errors import GatewayError, SignedOutError
from client.exchange import (
    AnswerStarted,
    DlpSeen,
    Exchange,
    Failed,
    Finished,
    RoundDone,
    TextChunk,
    ToolUsed,
    Update,
)
from client.history import Conversation, HistoryError, message_text
from client.screens.chat_connectors import ConnectorsOpener
from client.screens.chat_views import conversation_views, drop_orphans
from client.widgets.message_view import MessageView
from client.widgets.notice import Notice, dlp_text
from client.widgets.prompt_input import PromptInput
from client.widgets.tool_block import ToolBlock
from client.widgets.usage_bar import UsageBar
from shared.chat import ChatRequest, TextPart
from shared.chat import Message as ChatMessage
from shared.models import ModelDescriptor
from shared.validate import MAX_MESSAGES

RENDER_WINDOW = 20  # messages rendered when a conversation opens; Ctrl+P shows more
DEFAULT_TITLE = "New conversation"


class ChatScreen(ConnectorsOpener):
    CSS_PATH = "chat.tcss"
    AUTO_FOCUS = "#prompt"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop", "Stop", id="stop"),
        Binding("ctrl+o", "pick_model", "Model", id="pick_model"),
        Binding("ctrl+l", "conversations", "Chats", id="conversations"),
        Binding("ctrl+n", "new_conversation", "New", id="new_conversation"),
        Binding("ctrl+y", "copy_code", "Copy", id="copy_code", priority=True),
        Binding("ctrl+s", "settings", "Settings", id="settings"),
        Binding("ctrl+t", "connectors", "Tools", id="connectors"),
        Binding("ctrl+p", "show_earlier", "Earlier", id="show_earlier", show=False),
        Binding("ctrl+g", "sign_in", "Sign in", id="sign_in", show=False),
    ]

    @dataclass
    class ExchangeUpdated(Message):
        """The answer worker reports progress (posted from its thread); streamed text
        waits in ``segment`` (see ``_post_update``)."""

        update: Update
        segment: _TextSegment | None = None

    @dataclass
    class ModelsLoaded(Message):
        models: list[ModelDescriptor]

    @dataclass
    class LoadFailed(Message):
        text: str
        signed_out: bool = False

    def __init__(self, conversation_id: str | None = None) -> None:
        super().__init__()
        self._open_id = conversation_id
        self.conversation: Conversation | None = None
        self.models: list[ModelDescriptor] = []
        self.exchange: Exchange | None = None
        self.answer_view: MessageView | None = None
        self._window_start = 0
        self._copy_index = 0
        self._save_lock = threading.Lock()
        self._text_lock = threading.Lock()
        self._segment = _TextSegment()

    def compose(self) -> ComposeResult:
        yield Label("", id="chat-title")
        yield VerticalScroll(id="messages")
        keys = self.wapp.settings
        yield PromptInput(send_key=keys.binding("send"), newline_key=keys.binding("newline"),
                          id="prompt")
        yield UsageBar(id="usage")
        yield Footer(compact=True)

    async def on_mount(self) -> None:
        history = self.wapp.config.history
        conversation = None
        if self._open_id:
            try:
                conversation = history.load(self._open_id)
            except HistoryError as exc:
                self.notify(str(exc), severity="error")
        await self.open_conversation(conversation or history.new(DEFAULT_TITLE))
        self._load_models()

    # --- conversation display ------------------------------------------------------

    async def open_conversation(self, conversation: Conversation) -> None:
        """Show ``conversation``; only its last messages are rendered, for speed."""
        if self.exchange is not None:
            self.exchange.stop()
        self.conversation = conversation
        self._window_start = max(0, len(conversation.messages) - RENDER_WINDOW)
        container = self.query_one("#messages", VerticalScroll)
        await container.remove_children()
        views = conversation_views(conversation.messages, self._window_start,
                                   len(conversation.messages))
        await container.mount_all(views)
        self._update_header()
        # Markdown renders after mounting, so the final height comes later (much later on a
        # busy machine): anchoring keeps the end in view as it grows, until the person scrolls.
        container.anchor()
        container.scroll_end(animate=False)
        self._copy_index = 0

    async def action_show_earlier(self) -> None:
        if self.conversation is None or self._window_start == 0:
            return
        old_start = self._window_start
        self._window_start = max(0, old_start - RENDER_WINDOW)
        container = self.query_one("#messages", VerticalScroll)
        for label in container.query("#earlier"):
            await label.remove()
        views = conversation_views(self.conversation.messages, self._window_start, old_start)
        first = container.children[0] if container.children else None
        await container.mount_all(views, before=first)
        for block in drop_orphans(list(container.query(ToolBlock))):
            await block.remove()  # its call is shown now, with the result inside

    def _update_header(self) -> None:
        conv = self.conversation
        title = conv.title if conv else ""
        model = conv.model if conv and conv.model else "no model"
        self.query_one("#chat-title", Label).update(f"{title} · {model}")
        usage = self.query_one(UsageBar)
        usage.model = model
        if conv is not None:
            usage.usage = conv.usage

    # --- models ----------------------------------------------------------------------

    def reload_models(self) -> None:
        self._load_models()

    @work(thread=True, exclusive=True, group="models")
    def _load_models(self) -> None:
        try:
            models = list(self.wapp.gateway().models().models)
        except GatewayError as exc:
            self.post_message(self.LoadFailed(str(exc), isinstance(exc, SignedOutError)))
            return
        self.post_message(self.ModelsLoaded(models))

    def on_chat_screen_models_loaded(self, event: ModelsLoaded) -> None:
        self.models = event.models
        conv = self.conversation
        if conv is None or not self.models:
            return
        ids = [m.id for m in self.models]
        if conv.model not in ids:
            default = self.wapp.settings.default_model
            self._set_model(default if default in ids else ids[0])

    async def on_chat_screen_load_failed(self, event: LoadFailed) -> None:
        hint = " Press Ctrl+G to sign in." if event.signed_out else ""
        await self._notice(event.text + hint, "error")

    def _set_model(self, model: str) -> None:
        if self.conversation is not None:
            self.conversation = _replace(self.conversation, model=model)
            self._update_header()

    def action_pick_model(self) -> None:
        from client.screens.model_picker import ModelPickerScreen

        if not self.models:
            self.notify("The model list has not arrived from the gateway yet.", severity="warning")
            self._load_models()
            return
        current = self.conversation.model if self.conversation else ""
        self.app.push_screen(ModelPickerScreen(self.models, current), self._model_picked)

    def _model_picked(self, model: str | None) -> None:
        if model:
            self._set_model(model)
            self.notify(f"Model: {model}", timeout=2)

    # --- sending and streaming -----------------------------------------------------------

    @on(PromptInput.Submitted)
    async def _send(self, event: PromptInput.Submitted) -> None:
        if self.exchange is not None:
            self.notify("An answer is still coming; press Esc to stop it.", severity="warning")
            return
        conv = self.conversation
        if conv is None or not conv.model:
            self.notify("Pick a model first (Ctrl+O).", severity="warning")
            return
        text = event.text.strip("\n")
        event.prompt.clear()
        conv = conv.with_message(ChatMessage("user", (TextPart(text),)))
        if conv.title == DEFAULT_TITLE:
            conv = _replace(conv, title=" ".join(text.split())[:60] or DEFAULT_TITLE)
        self.conversation = conv
        self._update_header()
        self._save()
        container = self.query_one("#messages", VerticalScroll)
        await container.mount(MessageView("user", text))
        # Keep the answer in view as it grows (also under an approval modal) until the
        # person scrolls away.
        container.anchor()
        request = ChatRequest(model=conv.model, messages=conv.messages[-MAX_MESSAGES:],
                              stream=True)
        self.exchange = Exchange(
            self.wapp.gateway(), request, self._post_update, tools=self.wapp.tool_provider,
        )
        self.query_one(UsageBar).state = "answering · Esc stops"
        self._run_exchange(self.exchange)

    def _post_update(self, update: Update) -> None:
        """From the worker: text is coalesced, so the UI renders as fast as it can and
        keys never wait behind a queue of one message per token."""
        if isinstance(update, TextChunk):
            with self._text_lock:
                segment = self._segment
                segment.parts.append(update.text)
                if segment.pending:
                    return  # the message already posted for this segment will take it
                segment.pending = True
            self.post_message(self.ExchangeUpdated(update, segment))
            return
        with self._text_lock:
            # Text streamed after this update (the next round's answer) must not be
            # taken by a message posted before it: it goes to a new segment.
            self._segment = _TextSegment()
        self.post_message(self.ExchangeUpdated(update))

    def _take_text(self, segment: _TextSegment) -> str:
        with self._text_lock:
            text = "".join(segment.parts)
            segment.parts.clear()
            segment.pending = False
        return text

    @work(thread=True, exclusive=True, group="answer")
    def _run_exchange(self, exchange: Exchange) -> None:
        exchange.run()

    def action_stop(self) -> None:
        if self.exchange is not None:
            self.exchange.stop()
            self.query_one(UsageBar).state = "stopping"

    async def on_chat_screen_exchange_updated(self, event: ExchangeUpdated) -> None:
        update = event.update
        container = self.query_one("#messages", VerticalScroll)
        follow = container.is_vertical_scroll_end or container.max_scroll_y == 0
        if isinstance(update, AnswerStarted):
            self.answer_view = MessageView("assistant", streaming=True)
            await container.mount(self.answer_view)
        text = self._take_text(event.segment) if event.segment else ""
        if text and self.answer_view is not None:
            await self.answer_view.append(text)
        if isinstance(update, AnswerStarted | TextChunk):
            pass
        elif isinstance(update, DlpSeen):
            text = dlp_text(update.findings, update.direction)
            if text:
                await self._notice(text, "dlp", before=self.answer_view)
        elif isinstance(update, ToolUsed):
            await self._finish_answer()
            await container.mount(ToolBlock(update.name, update.arguments, update.result,
                                            tool_call_id=update.result.tool_call_id))
        elif isinstance(update, RoundDone):
            conv = self.conversation
            if conv is not None:
                for i, message in enumerate(update.messages):
                    conv = conv.with_message(message, update.usage if i == 0 else None)
                if not update.messages:
                    conv = _replace(conv, usage=_add(conv.usage, update.usage))
                self.conversation = conv
                self._update_header()
                self._save()
        elif isinstance(update, Finished):
            await self._finish_answer(" *(stopped)*" if update.stop_reason == "stopped" else "")
            self._done()
        elif isinstance(update, Failed):
            await self._finish_answer()
            await self._notice(update.message, "error")
            self.notify(update.message, severity="error", timeout=8)
            if update.code != "tools":
                self._done()
        if follow:
            container.scroll_end(animate=False)

    async def _finish_answer(self, suffix: str = "") -> None:
        view, self.answer_view = self.answer_view, None
        if view is None:
            return
        if not view.text and not suffix:
            await view.remove()
        else:
            await view.finish(suffix)

    def _done(self) -> None:
        self.exchange = None
        self.query_one(UsageBar).state = ""
        self._copy_index = 0

    async def _notice(self, text: str, kind: str, before: MessageView | None = None) -> None:
        container = self.query_one("#messages", VerticalScroll)
        notice = Notice(text, kind)  # type: ignore[arg-type]
        if before is not None and before.parent is container:
            await container.mount(notice, before=before)
        else:
            await container.mount(notice)

    @work(thread=True, group="save")
    def _save(self) -> None:
        conv = self.conversation
        if conv is None:
            return
        with self._save_lock:
            try:
                self.wapp.config.history.save(conv)
            except (HistoryError, OSError) as exc:
                self.app.call_from_thread(
                    self.notify, f"Could not save the conversation: {exc}", severity="error"
                )

    # --- other actions ---------------------------------------------------------------

    def action_copy_code(self) -> None:
        """Copy a code block of the last answer (press again for the one before)."""
        if self.conversation is None:
            return
        for message in reversed(self.conversation.messages):
            if message.role != "assistant":
                continue
            blocks = code_blocks(message_text(message))
            if blocks:
                block = blocks[-1 - (self._copy_index % len(blocks))]
                self.app.copy_to_clipboard(block.code)
                n = len(blocks) - (self._copy_index % len(blocks))
                self.notify(
                    f"Copied code block {n} of {len(blocks)} ({block.language or 'text'}, "
                    f"{block.lines} lines). Ctrl+Y again for the previous one.", timeout=3
                )
                self._copy_index += 1
                return
        self.notify("No code block in the answers yet.", severity="warning")

    async def action_new_conversation(self) -> None:
        conv = self.wapp.config.history.new(DEFAULT_TITLE, self._model_or_default())
        await self.open_conversation(conv)

    def _model_or_default(self) -> str:
        if self.conversation and self.conversation.model:
            return self.conversation.model
        return self.wapp.settings.default_model

    def action_conversations(self) -> None:
        from client.screens.conversations import ConversationsScreen

        current = self.conversation.id if self.conversation else ""
        self.app.push_screen(ConversationsScreen(current), self._conversation_chosen)

    async def _conversation_chosen(self, conversation_id: str | None) -> None:
        history = self.wapp.config.history
        if conversation_id == "":
            await self.action_new_conversation()
            return
        if conversation_id is None:
            if self.conversation and not _exists(history, self.conversation.id) \
                    and self.conversation.messages:
                await self.action_new_conversation()  # the open one was deleted
            return
        try:
            await self.open_conversation(history.load(conversation_id))
        except HistoryError as exc:
            self.notify(str(exc), severity="error")

    def action_settings(self) -> None:
        from client.screens.settings import SettingsScreen

        self.app.push_screen(SettingsScreen([m.id for m in self.models]))

    def action_sign_in(self) -> None:
        from client.screens.signin import SignInScreen

        self.app.push_screen(SignInScreen())


@dataclass
class _TextSegment:
    """Streamed text between two other updates, coalesced into as few renders as can be."""

    parts: list[str] = field(default_factory=list)
    pending: bool = False  # a message that will take ``parts`` is on its way


def _exists(history: object, conversation_id: str) -> bool:
    from client.history import History

    assert isinstance(history, History)
    return (history.directory / f"{conversation_id}.json").exists()


def _replace(conv: Conversation, **changes: object) -> Conversation:
    from dataclasses import replace

    return replace(conv, **changes)  # type: ignore[arg-type]


def _add(a: object, b: object) -> object:
    from shared.chat import Usage

    assert isinstance(a, Usage) and isinstance(b, Usage)
    return Usage(a.input_tokens + b.input_tokens, a.output_tokens + b.output_tokens,
                 round(a.cost + b.cost, 8))
