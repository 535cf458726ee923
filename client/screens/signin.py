"""Sign in: a browser device login (code + URL) or an API key in a masked field."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from client.errors import GatewayError
from client.gateway_client import DevicePending, GatewayClient
from client.keychain import KeychainError
from client.settings import SettingsError, check_gateway_url

if TYPE_CHECKING:
    from client.app import WorkjetApp

API_KEY_PREFIXES = ("wj_live_", "wj_test_", "wj_sess_")


class SignInScreen(Screen[None]):
    CSS_PATH = "signin.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+d", "device_login", "Sign in with browser", priority=True),
        Binding("escape", "cancel_login", "Cancel", show=False),
    ]

    @dataclass
    class DeviceCodeShown(Message):
        user_code: str
        url: str

    @dataclass
    class SignedIn(Message):
        gateway_url: str

    @dataclass
    class Failed(Message):
        text: str

    def __init__(self, error: str = "") -> None:
        super().__init__()
        self._error = error
        self._cancelled = False

    def compose(self) -> ComposeResult:
        with Vertical(id="signin"):
            yield Label("Sign in to your Workjet gateway", id="signin-title")
            yield Label("Gateway URL", classes="field-label")
            yield Input(self._app.gateway_url, placeholder="https://workjet.example.org",
                        id="url")
            yield Label("API key (Enter to sign in) — or Ctrl+D to sign in with a browser",
                        classes="field-label")
            yield Input(placeholder="wj_live_…", password=True, id="api-key")
            with Vertical(id="device"):
                yield Static("", id="device-code")
            yield Static(self._error, id="signin-status", classes="error-text" if self._error
                         else "hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        target = "#api-key" if self.query_one("#url", Input).value else "#url"
        self.query_one(target, Input).focus()

    def _url(self) -> str | None:
        try:
            return check_gateway_url(self.query_one("#url", Input).value)
        except SettingsError as exc:
            self._status(str(exc), error=True)
            self.query_one("#url", Input).focus()
            return None

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#signin-status", Static)
        status.set_classes("error-text" if error else "hint")
        status.update(text)

    @on(Input.Submitted, "#url")
    def _url_entered(self) -> None:
        if self._url():
            self.query_one("#api-key", Input).focus()

    @on(Input.Submitted, "#api-key")
    def _key_entered(self, event: Input.Submitted) -> None:
        key = event.value.strip()
        url = self._url()
        if url is None:
            return
        if not key.startswith(API_KEY_PREFIXES):
            self._status("That does not look like a Workjet API key (wj_live_…).", error=True)
            return
        self._status(f"Checking the key with {url}…")
        self._check_key(url, key)

    @work(thread=True, exclusive=True, group="signin")
    def _check_key(self, url: str, key: str) -> None:
        try:
            GatewayClient(url, lambda: key, ca_bundle=self._ca()).me()
            self._app.store_credential(url, key)
        except (GatewayError, KeychainError) as exc:
            self.post_message(self.Failed(str(exc)))
            return
        self.post_message(self.SignedIn(url))

    def _ca(self) -> str | None:
        return self._app.config.ca_bundle or self._app.settings.ca_bundle or None

    def action_device_login(self) -> None:
        url = self._url()
        if url is None:
            return
        self._cancelled = False
        self._status(f"Asking {url} for a sign-in code…")
        self._device_login(url)

    def action_cancel_login(self) -> None:
        self._cancelled = True
        self.workers.cancel_group(self, "signin")
        self._status("Sign-in cancelled.")
        self.query_one("#device-code", Static).update("")

    @work(thread=True, exclusive=True, group="signin")
    def _device_login(self, url: str) -> None:
        client = GatewayClient(url, lambda: None, ca_bundle=self._ca())
        try:
            login = client.start_device_login()
            self.post_message(self.DeviceCodeShown(
                login.user_code, login.verification_uri_complete or login.verification_uri))
            interval = login.interval
            deadline = time.monotonic() + login.expires_in
            while not self._cancelled and time.monotonic() < deadline:
                time.sleep(interval)
                if self._cancelled:
                    return
                try:
                    token = client.poll_device_token(login.device_code)
                except DevicePending as pending:
                    interval += 5 if pending.slow_down else 0
                    continue
                self._app.store_credential(url, token)
                self.post_message(self.SignedIn(url))
                return
            if not self._cancelled:
                self.post_message(self.Failed("The sign-in code expired. Press Ctrl+D again."))
        except (GatewayError, KeychainError) as exc:
            self.post_message(self.Failed(str(exc)))
        finally:
            client.close()

    def on_sign_in_screen_device_code_shown(self, event: DeviceCodeShown) -> None:
        self.query_one("#device-code", Static).update(
            f"Open {event.url}\nin any browser and enter the code  {event.user_code}\n"
            "Waiting for approval… (Esc cancels)"
        )
        self._status("")

    def on_sign_in_screen_failed(self, event: Failed) -> None:
        self._status(event.text, error=True)

    def on_sign_in_screen_signed_in(self, event: SignedIn) -> None:
        app = self._app
        if app.config.gateway_url:
            app.config.gateway_url = event.gateway_url
        elif app.settings.gateway_url != event.gateway_url:
            try:
                app.update_settings(app.settings.replace(gateway_url=event.gateway_url))
            except (SettingsError, OSError) as exc:
                self._status(f"Signed in, but the settings could not be saved: {exc}", error=True)
        self.query_one("#api-key", Input).value = ""  # no credential kept in widget state
        self.app.notify(f"Signed in to {event.gateway_url}", timeout=3)
        app.show_chat()

    @property
    def _app(self) -> WorkjetApp:
        return cast("WorkjetApp", self.app)
