"""Every key of the client in one place."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

HELP = """\
Chat
  Enter             send the message
  Ctrl+J, Alt+Enter new line in the message (a paste never sends)
  Esc               stop the answer (the request to the gateway is closed)
  Ctrl+O            pick the model
  Ctrl+Y            copy the last code block (again: the one before; OSC 52)
  Ctrl+P            show earlier messages of a long conversation
  Ctrl+N            new conversation
  Ctrl+L            conversations: search, open, rename, delete, export
  Ctrl+S            settings: gateway URL, default model, theme, CA bundle
  Ctrl+T            tools: MCP connectors; Enter on a resource inserts it
  Ctrl+G            sign in again
  Tab / Shift+Tab   move between areas and ⚙ tool calls (Enter opens one)
Conversations
  type to search titles and text · Enter open · Ctrl+N new
  F2 rename · Delete remove · Ctrl+E export to Markdown · Esc back
Everywhere
  F1 this help · Ctrl+Q quit
Credentials stay in the OS keychain, conversations on this disk (0600);
the client talks to your gateway and nothing else.
"""


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "dismiss(None)", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(HELP, markup=False)
        yield Footer(compact=True)
