"""The connectors screen: status, start/stop/restart, what each offers, add and remove.

Pushed by the chat with ``push_screen(ConnectorsScreen(provider, registry), callback)``;
it is dismissed with text to insert into the conversation (a resource's contents or a
prompt's messages, chosen with Enter) or ``None``. Everything that blocks (starting a
connector, listing, the keychain) runs in thread workers; status changes arrive from the
manager's thread as ``StatusChanged`` messages.
"""

from __future__ import annotations

import dataclasses
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from client.connectors.config import ConnectorConfig, ConnectorConfigError
from client.connectors.connection import ConnectorError, ConnectorStatus
from client.connectors.provider import ConnectorToolProvider
from client.connectors.registry import ConnectorRegistry
from client.connectors.results import prompt_text, read_result_text
from client.keychain import KeychainError
from client.screens.dialogs import ConfirmScreen
from client.settings import Settings, SettingsError

if TYPE_CHECKING:
    from client.app import WorkjetApp

STATE_LABELS = {"stopped": "stopped", "starting": "starting…", "ready": "ready", "failed": "FAILED"}
MAX_SECRET_ROWS = 3


class ConnectorsScreen(Screen[str | None]):
    CSS_PATH = "connectors.tcss"
    AUTO_FOCUS = "#connector-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back"),
        Binding("s", "start", "Start"),
        Binding("r", "restart", "Restart"),
        Binding("x", "stop", "Stop"),
        Binding("l", "list", "List"),
        Binding("e", "toggle_enabled", "On/off"),
        Binding("n", "add", "Add"),
        Binding("delete", "remove", "Remove"),
    ]

    @dataclass
    class StatusChanged(Message):
        status: ConnectorStatus

    @dataclass
    class Listed(Message):
        name: str
        items: list[tuple[str, str, str]]  # (kind, id, label)

    @dataclass
    class Failed(Message):
        text: str

    def __init__(
        self, provider: ConnectorToolProvider, registry: ConnectorRegistry | None = None
    ) -> None:
        super().__init__()
        self.provider = provider
        self.manager = provider.manager
        self.registry = registry
        self._listed_for = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="connectors"):
            yield DataTable(id="connector-table", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="connector-lower"):
                with VerticalScroll(id="connector-detail"):
                    yield Static("", id="connector-info", markup=False)
                yield OptionList(id="connector-items")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Connector", "State", "Kind", "Runs")
        self.manager.add_listener(self._from_manager)
        self._refresh_table()

    def on_unmount(self) -> None:
        self.manager.remove_listener(self._from_manager)

    def _from_manager(self, status: ConnectorStatus) -> None:
        self.post_message(self.StatusChanged(status))  # thread-safe

    # --- display -------------------------------------------------------------------------

    def _refresh_table(self) -> None:
        table = self.query_one(DataTable)
        selected = self.selected
        table.clear()
        for cfg in self.manager.configs:
            status = self.manager.status(cfg.name)
            state = STATE_LABELS[status.state] if cfg.enabled else "disabled"
            runs = cfg.target if len(cfg.target) <= 40 else cfg.target[:39] + "…"
            table.add_row(cfg.name, state, cfg.transport, runs, key=cfg.name)
        names = [c.name for c in self.manager.configs]
        if selected in names:
            table.move_cursor(row=names.index(selected))
        self._show_detail()

    @property
    def selected(self) -> str:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return ""
        names = [c.name for c in self.manager.configs]
        row = table.cursor_row
        return names[row] if 0 <= row < len(names) else ""

    def _show_detail(self) -> None:
        info = self.query_one("#connector-info", Static)
        name = self.selected
        if not name:
            info.update("No connectors. Press n to add one, or run `workjet mcp add`.")
            return
        cfg = self.manager.config(name)
        status = self.manager.status(name)
        lines = [f"{name}: {status.state}" + (f" ({status.server})" if status.server else "")]
        lines.append(f"runs: {cfg.target}")
        if cfg.secrets:
            lines.append(f"secrets (keychain): {', '.join(cfg.secrets)}")
        if status.pid:
            lines.append(f"pid: {status.pid}")
        if status.error:
            lines.append(f"error: {status.error}")
        if status.stderr_tail:
            lines.append("last stderr lines:")
            lines += [f"  {line}" for line in status.stderr_tail[-8:]]
        info.update("\n".join(lines))
        if self._listed_for != name:
            self.query_one(OptionList).clear_options()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_connectors_screen_status_changed(self, event: StatusChanged) -> None:
        self._refresh_table()

    def on_connectors_screen_listed(self, event: Listed) -> None:
        self._listed_for = event.name
        items = self.query_one(OptionList)
        items.clear_options()
        for kind, ident, label in event.items:
            items.add_option(Option(f"{kind}: {label}", id=f"{kind}\0{ident}"))
        if not event.items:
            items.add_option(Option("(offers nothing)", disabled=True))

    def on_connectors_screen_failed(self, event: Failed) -> None:
        self.notify(event.text, severity="error", timeout=8)
        self._refresh_table()

    # --- actions -------------------------------------------------------------------------

    def action_close(self) -> None:
        self.dismiss(None)

    def action_start(self) -> None:
        if self.selected:
            self._lifecycle(self.selected, "start")

    def action_restart(self) -> None:
        if self.selected:
            self._lifecycle(self.selected, "restart")

    def action_stop(self) -> None:
        if self.selected:
            self._lifecycle(self.selected, "stop")

    def action_list(self) -> None:
        if self.selected:
            self._list(self.selected)

    def action_toggle_enabled(self) -> None:
        name = self.selected
        if name and self.registry is not None:
            self._toggle(name)

    def action_add(self) -> None:
        if self.registry is None:
            self.notify("Connectors cannot be changed in this session.", severity="warning")
            return
        self.app.push_screen(AddConnectorScreen(), self._added)

    def action_remove(self) -> None:
        name = self.selected
        if not name or self.registry is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._remove(name)

        self.app.push_screen(ConfirmScreen(f"Remove {name} and its keychain items?"), confirmed)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        ident = event.option.id or ""
        if "\0" in ident and self._listed_for:
            kind, value = ident.split("\0", 1)
            if kind in ("resource", "prompt"):
                self._fetch(self._listed_for, kind, value)

    # --- workers -------------------------------------------------------------------------

    @work(thread=True, group="connectors")
    def _lifecycle(self, name: str, what: str) -> None:
        try:
            if what == "start":
                self.manager.start(name)
            elif what == "restart":
                self.manager.restart(name)
            else:
                self.manager.stop(name)
        except ConnectorError as exc:
            self.post_message(self.Failed(str(exc)))

    @work(thread=True, exclusive=True, group="connector-list")
    def _list(self, name: str) -> None:
        items: list[tuple[str, str, str]] = []
        try:
            for tool in self.manager.list_tools(name, refresh=True):
                items.append(("tool", tool.name, tool.name))
            for lister, kind in (
                (self.manager.list_resources, "resource"),
                (self.manager.list_prompts, "prompt"),
            ):
                try:
                    found = lister(name)
                except ConnectorError:
                    continue  # the server does not offer this kind
                for item in found:
                    ident = getattr(item, "uri", None) or item.name
                    items.append((kind, ident, item.name or ident))
        except ConnectorError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        self.post_message(self.Listed(name, items))

    @work(thread=True, exclusive=True, group="connector-fetch")
    def _fetch(self, name: str, kind: str, ident: str) -> None:
        try:
            if kind == "resource":
                text = read_result_text(self.manager.read_resource(name, ident))
            else:
                text = prompt_text(self.manager.get_prompt(name, ident))
        except ConnectorError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        self.app.call_from_thread(self.dismiss, text)

    @work(thread=True, group="connectors")
    def _toggle(self, name: str) -> None:
        assert self.registry is not None
        try:
            cfg = self.registry.set_enabled(name, not self.manager.config(name).enabled)
        except (ConnectorConfigError, SettingsError, OSError) as exc:
            self.post_message(self.Failed(str(exc)))
            return
        self._apply(cfg.name)

    @work(thread=True, group="connectors")
    def _remove(self, name: str) -> None:
        assert self.registry is not None
        try:
            self.registry.remove(name)
        except (ConnectorConfigError, SettingsError, KeychainError, OSError) as exc:
            self.post_message(self.Failed(str(exc)))
            return
        self._apply(name)

    def _added(self, result: tuple[ConnectorConfig, dict[str, str]] | None) -> None:
        if result is not None:
            self._add(*result)

    @work(thread=True, group="connectors")
    def _add(self, cfg: ConnectorConfig, values: dict[str, str]) -> None:
        assert self.registry is not None
        try:
            self.registry.add(cfg, values)
        except (ConnectorConfigError, SettingsError, KeychainError, OSError) as exc:
            self.post_message(self.Failed(str(exc)))
            return
        self._apply(cfg.name)

    def _apply(self, name: str) -> None:
        """Reload connectors from the settings file into the provider and the app."""
        assert self.registry is not None
        configs = self.registry.list()
        self.provider.reload(configs)
        self.app.call_from_thread(_sync_app_settings, self.app, [c.to_dict() for c in configs])
        self.app.call_from_thread(self._refresh_table)


def _sync_app_settings(app: object, connectors: list[dict[str, Any]]) -> None:
    """Keep the app's copy of the settings current, so a later save keeps the connectors."""
    settings = getattr(app, "settings", None)
    if isinstance(settings, Settings):
        app.settings = dataclasses.replace(settings, connectors=connectors)  # type: ignore[attr-defined]


class AddConnectorScreen(ModalScreen[tuple[ConnectorConfig, dict[str, str]] | None]):
    """Name, command line or URL, and up to three secrets (values masked)."""

    CSS_PATH = "connectors.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("ctrl+s", "save", "Add", priority=True),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="add-connector"):
            yield Label("Add a connector", id="add-title")
            yield Input(placeholder="name (letters, digits, - or _)", id="add-name")
            yield Input(
                placeholder="command line, or https://… for a remote server", id="add-target"
            )
            for i in range(MAX_SECRET_ROWS):
                with Horizontal(classes="secret-row"):
                    yield Input(placeholder="SECRET_VAR", id=f"add-var-{i}", classes="var")
                    yield Input(
                        placeholder="value (kept in the keychain)",
                        password=True,
                        id=f"add-value-{i}",
                        classes="value",
                    )
            yield Static("", id="add-error", markup=False)
            yield Label("Ctrl+S: add    Esc: cancel", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_save()

    def action_save(self) -> None:
        try:
            cfg, values = self._build()
        except (ConnectorConfigError, ValueError) as exc:
            self.query_one("#add-error", Static).update(str(exc))
            return
        self.dismiss((cfg, values))

    def _build(self) -> tuple[ConnectorConfig, dict[str, str]]:
        def get(widget_id: str) -> str:
            return self.query_one(f"#{widget_id}", Input).value.strip()

        name, target = get("add-name"), get("add-target")
        values: dict[str, str] = {}
        for i in range(MAX_SECRET_ROWS):
            var = get(f"add-var-{i}")
            if var:
                secret = self.query_one(f"#add-value-{i}", Input).value
                if not secret:
                    raise ConnectorConfigError(f"give a value for {var}")
                values[var] = secret
        if target.startswith(("http://", "https://")):
            cfg = ConnectorConfig(name, transport="http", url=target, secrets=tuple(values))
        else:
            words = shlex.split(target)
            if not words:
                raise ConnectorConfigError("give the server's command line or URL")
            cfg = ConnectorConfig(
                name, command=words[0], args=tuple(words[1:]), secrets=tuple(values)
            )
        return cfg, values


def connectors_screen_for(app: WorkjetApp) -> ConnectorsScreen:
    """The screen for the running app: its tool provider (made now if the app had none,
    e.g. no connectors at start) and, when settings are saved, a registry to change them.

    Push it with a callback that inserts the returned text into the prompt.
    """
    from client.screens.approval import connector_tools

    provider = app.tool_provider
    if not isinstance(provider, ConnectorToolProvider):
        provider = connector_tools(app)
        app.tool_provider = provider
    settings_file = app.config.settings_file
    registry = (
        ConnectorRegistry(settings_file, app.config.keychain) if settings_file is not None else None
    )
    return ConnectorsScreen(provider, registry)
