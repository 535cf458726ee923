"""The multi-line prompt: Enter sends, Ctrl+J or Alt+Enter adds a line, a paste never sends."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.message import Message
from textual.widgets import TextArea

NEWLINE_KEYS = frozenset({"ctrl+j", "alt+enter", "shift+enter", "newline"})
MAX_PROMPT_CHARS = 200_000


class PromptInput(TextArea):
    """A text area whose Enter sends; pasted text (bracketed paste) is only inserted."""

    @dataclass
    class Submitted(Message):
        """The person pressed the send key with text in the prompt."""

        prompt: PromptInput
        text: str

    def __init__(
        self, *, send_key: str = "enter", newline_key: str = "ctrl+j", id: str | None = None
    ) -> None:
        super().__init__(
            id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus",
            compact=True, highlight_cursor_line=False,
        )
        self.send_key = send_key
        self.newline_keys = NEWLINE_KEYS | {newline_key}
        self.placeholder = "Ask anything · Enter sends · Ctrl+J new line"

    async def _on_key(self, event: events.Key) -> None:
        if event.key == self.send_key:
            event.stop()
            event.prevent_default()
            text = self.text
            if text.strip():
                self.post_message(self.Submitted(self, text))
            return
        if event.key in self.newline_keys:
            event.stop()
            event.prevent_default()
            self._replace_via_keyboard("\n", *self.selection)
            return
        if event.key == "enter":  # the send key was remapped: Enter is a plain new line
            event.stop()
            event.prevent_default()
            self._replace_via_keyboard("\n", *self.selection)
            return
        if event.is_printable and len(self.text) >= MAX_PROMPT_CHARS:
            event.stop()
            event.prevent_default()
            self.app.bell()
            return
        await super()._on_key(event)

    async def _on_paste(self, event: events.Paste) -> None:
        # A paste is text, however many newlines it holds: it is inserted, never sent.
        event.stop()
        event.prevent_default()  # TextArea's own handler would insert it a second time
        room = MAX_PROMPT_CHARS - len(self.text)
        if room <= 0:
            self.app.bell()
            return
        result = self._replace_via_keyboard(event.text[:room], *self.selection)
        if result:
            self.move_cursor(result.end_location)
