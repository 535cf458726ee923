"""The settings screen: gateway URL, default model, theme, CA bundle (nothing secret)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Select, Static

from client.settings import SettingsError

if TYPE_CHECKING:
    from client.app import WorkjetApp


class SettingsScreen(Screen[None]):
    CSS_PATH = "settings.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self, models: list[str] | None = None) -> None:
        super().__init__()
        self._models = models or []

    @property
    def wapp(self) -> WorkjetApp:
        return cast("WorkjetApp", self.app)

    def compose(self) -> ComposeResult:
        s = self.wapp.settings
        themes = sorted(self.app.available_themes)
        models = sorted(set(self._models) | ({s.default_model} if s.default_model else set()))
        with VerticalScroll(id="settings"):
            yield Label("Gateway URL", classes="field-label")
            yield Input(s.gateway_url, placeholder="https://workjet.example.org", id="gateway_url")
            yield Label("Default model", classes="field-label")
            yield Select([(m, m) for m in models], value=s.default_model or Select.NULL,
                         allow_blank=True, id="default_model", compact=True)
            yield Label("Theme", classes="field-label")
            yield Select([(t, t) for t in themes], value=s.theme if s.theme in themes
                         else Select.NULL, id="theme", compact=True)
            yield Label("CA bundle (PEM file trusted for the gateway; empty: system CAs)",
                        classes="field-label")
            yield Input(s.ca_bundle, placeholder="/path/to/ca.pem", id="ca_bundle")
            yield Static("Credentials are never stored here; they live in the keychain.",
                         id="settings-status", classes="hint")
        yield Footer(compact=True)

    def action_save(self) -> None:
        def value(widget_id: str) -> str:
            widget = self.query_one(f"#{widget_id}")
            if isinstance(widget, Select):
                return "" if widget.is_blank() else str(widget.value)
            return cast(Input, widget).value.strip()

        status = self.query_one("#settings-status", Static)
        try:
            settings = self.wapp.settings.replace(
                gateway_url=value("gateway_url"), default_model=value("default_model"),
                theme=value("theme") or self.wapp.settings.theme, ca_bundle=value("ca_bundle"),
            )
            self.wapp.update_settings(settings)
        except (SettingsError, OSError) as exc:
            status.set_classes("error-text")
            status.update(f"Not saved: {exc}")
            return
        self.notify("Settings saved.", timeout=2)
        self.app.pop_screen()
