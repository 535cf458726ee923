"""The conversations on this disk: search, open, new, rename, delete, export."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, OptionList
from textual.widgets.option_list import Option

from client.atomic import write_atomic
from client.history import ConversationSummary, HistoryError, export_markdown
from client.screens.dialogs import ConfirmScreen, TextPromptScreen

if TYPE_CHECKING:
    from client.app import WorkjetApp


def _label(summary: ConversationSummary) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(summary.updated))
    return f"{summary.title[:42]:<42} {when} {summary.message_count:>5} msg"


class ConversationsScreen(Screen[str | None]):
    """Dismisses with the id to open, "" for a new conversation, or None to go back."""

    CSS_PATH = "conversations.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+n", "new", "New"),
        Binding("f2", "rename", "Rename"),
        Binding("delete", "delete", "Delete"),  # in the list; in the search it edits text
        Binding("ctrl+e", "export", "Export", priority=True),
        Binding("down", "focus_list", "List", show=False),
    ]

    def __init__(self, current_id: str = "") -> None:
        super().__init__()
        self._current = current_id
        self.summaries: list[ConversationSummary] = []

    @property
    def wapp(self) -> WorkjetApp:
        return cast("WorkjetApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(id="conversations"):
            yield Input(placeholder="Search titles and text…", id="search")
            yield OptionList(id="list")
            yield Label("", id="count", classes="hint")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#search", Input).focus()
        self.refresh_list()

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self.refresh_list()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        if self.summaries:
            self.dismiss(self._selected_id() or self.summaries[0].id)

    def refresh_list(self) -> None:
        self._search(self.query_one("#search", Input).value)

    @work(thread=True, exclusive=True, group="search")
    def _search(self, query: str) -> None:
        history = self.wapp.config.history
        found = history.search(query) if query.strip() else history.list()
        self.app.call_from_thread(self._show, found, query)

    def _show(self, found: list[ConversationSummary], query: str) -> None:
        self.summaries = found
        options = self.query_one("#list", OptionList)
        options.clear_options()
        options.add_options([Option(_label(s), id=s.id) for s in found])
        ids = [s.id for s in found]
        if ids:
            options.highlighted = ids.index(self._current) if self._current in ids else 0
        what = f"matching {query.strip()!r}" if query.strip() else "on this disk"
        self.query_one("#count", Label).update(f"{len(found)} conversations {what}")

    def _selected_id(self) -> str | None:
        options = self.query_one("#list", OptionList)
        if options.highlighted is None or not self.summaries:
            return None
        return options.get_option_at_index(options.highlighted).id

    @on(OptionList.OptionSelected, "#list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_focus_list(self) -> None:
        self.query_one("#list", OptionList).focus()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_new(self) -> None:
        self.dismiss("")

    def action_rename(self) -> None:
        conv_id = self._selected_id()
        if conv_id is None:
            return
        title = next(s.title for s in self.summaries if s.id == conv_id)

        def renamed(value: str | None) -> None:
            if not value:
                return
            try:
                self.wapp.config.history.rename(conv_id, value)
            except HistoryError as exc:
                self.notify(str(exc), severity="error")
            self.refresh_list()

        self.app.push_screen(TextPromptScreen("New title:", title), renamed)

    def action_delete(self) -> None:
        conv_id = self._selected_id()
        if conv_id is None:
            return
        title = next(s.title for s in self.summaries if s.id == conv_id)

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.wapp.config.history.delete(conv_id)
                self.notify(f"Deleted {title!r}", timeout=3)
                self.refresh_list()

        self.app.push_screen(ConfirmScreen(f"Delete {title!r} from this disk?"), confirmed)

    def action_export(self) -> None:
        conv_id = self._selected_id()
        if conv_id is None:
            return
        try:
            conv = self.wapp.config.history.load(conv_id)
            name = re.sub(r"[^A-Za-z0-9._-]+", "-", conv.title).strip("-")[:60] or conv.id
            target = self.wapp.config.history.directory.parent / "exports" / f"{name}.md"
            write_atomic(target, export_markdown(conv).encode())
        except (HistoryError, OSError) as exc:
            self.notify(f"Export failed: {exc}", severity="error")
            return
        self.notify(f"Exported to {target}", timeout=6)
