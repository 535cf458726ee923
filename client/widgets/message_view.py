"""One message of the conversation, rendered as Markdown."""

from __future__ import annotations

from rich.markdown import Markdown as RichMarkdown
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Markdown, Static
from textual.widgets.markdown import MarkdownStream

ROLE_LABELS = {"user": "You", "assistant": "Assistant", "tool": "Tool", "system": "System"}


class MessageView(Vertical):
    """A role label and the message's Markdown; an answer can stream into it.

    A stored message renders as one Rich Markdown block (cheap to mount, so a long
    conversation opens fast); an answer being streamed uses Textual's Markdown widget.
    """

    def __init__(
        self, role: str, text: str = "", *, label: str | None = None, streaming: bool = False
    ) -> None:
        super().__init__(classes=f"message -{role}")
        self.role = role
        self.text = text
        self.streaming = streaming
        self._label = label or ROLE_LABELS.get(role, role)
        self._stream: MarkdownStream | None = None

    def compose(self) -> ComposeResult:
        yield Label(self._label, classes="role")
        if self.streaming:
            yield Markdown(self.text, classes="body")
        else:
            yield Static(RichMarkdown(self.text, code_theme="monokai"), classes="body")

    @property
    def markdown(self) -> Markdown:
        return self.query_one(Markdown)

    async def append(self, fragment: str) -> None:
        """Add streamed text; rendering is incremental and batched by the stream."""
        self.text += fragment
        if self._stream is None:
            self._stream = Markdown.get_stream(self.markdown)
        await self._stream.write(fragment)

    async def finish(self, suffix: str = "") -> None:
        """Stop streaming and render the whole answer once, so the final layout is right."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        self.text += suffix
        await self.markdown.update(self.text)

    def set_label(self, label: str) -> None:
        self.query_one(".role", Label).update(label)
