"""The Textual app, built by ``create_app`` from what ``__main__`` (or a test) decided."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from client.gateway_client import GatewayClient
from client.history import History
from client.keychain import CredentialStore, KeychainError, account_for
from client.settings import DEFAULT_KEY_BINDINGS, Settings, save_settings
from client.tools import ToolProvider, ToolProviderFactory

T = TypeVar("T")


@dataclass
class AppConfig:
    """Everything the app needs, made by the caller; the app reads no environment."""

    settings: Settings
    history: History
    keychain: CredentialStore
    settings_file: Path | None = None  # None: settings changes last for this session only
    tool_provider_factory: ToolProviderFactory | None = None
    gateway_url: str = ""  # overrides settings.gateway_url (e.g. `workjet local`)
    ca_bundle: str = ""
    title: str = "Workjet"
    extra: dict[str, Any] = field(default_factory=dict)


class WorkjetApp(App[None]):
    """The terminal client; starts on the chat screen when signed in, else on sign-in."""

    CSS_PATH = "app.tcss"
    TITLE = "Workjet"
    ENABLE_COMMAND_PALETTE = False
    # Classes set on every screen by size, so the .tcss can drop chrome below 80x24.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (80, "-normal")]  # noqa: RUF012
    VERTICAL_BREAKPOINTS = [(0, "-short"), (20, "-tall")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f1", "help", "Help", id="help"),
    ]

    def __init__(self, config: AppConfig) -> None:
        super().__init__()
        self.config = config
        self.settings = config.settings
        self.title = config.title
        self.tool_provider: ToolProvider | None = None
        self._client: GatewayClient | None = None
        self._client_key: tuple[str, str] | None = None

    # --- gateway and credential ----------------------------------------------------

    @property
    def gateway_url(self) -> str:
        return self.config.gateway_url or self.settings.gateway_url

    def gateway(self) -> GatewayClient:
        """The client of the configured gateway; the credential is read per request."""
        url = self.gateway_url
        ca = self.config.ca_bundle or self.settings.ca_bundle
        if self._client is None or self._client_key != (url, ca):
            if self._client is not None:
                self._client.close()
            keychain = self.config.keychain
            account = account_for(url)
            self._client = GatewayClient(url, lambda: keychain.get(account), ca_bundle=ca or None)
            self._client_key = (url, ca)
        return self._client

    def has_credential(self) -> bool:
        """True when the keychain holds a credential for the gateway (may raise)."""
        if not self.gateway_url:
            return False
        return self.config.keychain.get(account_for(self.gateway_url)) is not None

    def store_credential(self, gateway_url: str, secret: str) -> None:
        self.config.keychain.set(account_for(gateway_url), secret)

    def forget_credential(self) -> None:
        if self.gateway_url:
            self.config.keychain.delete(account_for(self.gateway_url))

    # --- settings ------------------------------------------------------------------

    def update_settings(self, settings: Settings) -> None:
        """Apply and (unless this session is ephemeral) save the settings."""
        if self.config.settings_file is not None:
            save_settings(self.config.settings_file, settings)
        self.settings = settings
        self.apply_settings()

    def apply_settings(self) -> None:
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        keymap = {
            action: key
            for action, key in self.settings.key_bindings.items()
            if action in DEFAULT_KEY_BINDINGS and action not in ("send", "newline")
        }
        self.set_keymap(keymap)

    # --- asking the person from a worker thread ------------------------------------

    def ask_from_thread(self, screen: Screen[T]) -> T | None:
        """Push ``screen`` and block this (worker) thread until it is dismissed."""
        if threading.get_ident() == self._thread_id:
            raise RuntimeError("ask_from_thread blocks; call it from a worker thread")
        answered = threading.Event()
        box: list[T | None] = [None]

        def done(result: T | None) -> None:
            box[0] = result
            answered.set()

        self.call_from_thread(self.push_screen, screen, done)
        while not answered.wait(0.2):
            if not self.is_running:
                return None
        return box[0]

    # --- lifecycle -----------------------------------------------------------------

    def on_mount(self) -> None:
        self.apply_settings()
        if self.config.tool_provider_factory is not None:
            self._start_tools()
        from client.screens.chat import ChatScreen
        from client.screens.signin import SignInScreen

        try:
            signed_in = self.has_credential()
        except KeychainError as exc:
            self.push_screen(SignInScreen(error=str(exc)))
            return
        self.push_screen(ChatScreen() if signed_in else SignInScreen())

    @work(thread=True, exclusive=True, group="tools")
    def _start_tools(self) -> None:
        """Build the tool provider off the UI thread (it may load the MCP SDK)."""
        factory = self.config.tool_provider_factory
        if factory is None:
            return
        try:
            self.tool_provider = factory(self)
        except Exception as exc:  # a broken connector set-up must not stop the chat
            self.call_from_thread(
                self.notify, f"Connector tools are off: {exc}", severity="warning", timeout=8
            )

    def show_chat(self) -> None:
        """After signing in: replace the sign-in screen with the chat."""
        from client.screens.chat import ChatScreen

        below = self.screen_stack[-2] if len(self.screen_stack) > 2 else None
        if isinstance(below, ChatScreen):
            self.pop_screen()
            below.reload_models()
        else:
            self.switch_screen(ChatScreen())

    def action_help(self) -> None:
        from client.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def on_unmount(self) -> None:
        if self._client is not None:
            self._client.close()
        close = getattr(self.tool_provider, "close", None)
        if callable(close):
            close()


def create_app(config: AppConfig) -> WorkjetApp:
    """The one way to build the app, for ``workjet`` and for tests alike."""
    return WorkjetApp(config)
