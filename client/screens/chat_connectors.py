"""The chat screen's base: the app it belongs to, and Ctrl+T, the connectors screen, whose
chosen resource or prompt lands in the chat's prompt."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, cast

from textual import work
from textual.screen import Screen
from textual.worker import Worker

from client.widgets.prompt_input import MAX_PROMPT_CHARS, PromptInput

if TYPE_CHECKING:
    from client.app import WorkjetApp

PROVIDER_WAIT = 30.0  # seconds Ctrl+T waits for the app to finish making its tool provider


class ConnectorsOpener(Screen[None]):
    @property
    def wapp(self) -> WorkjetApp:
        return cast("WorkjetApp", self.app)

    def action_connectors(self) -> None:
        """The connectors screen; a resource or prompt chosen there lands in the prompt."""
        starting = [w for w in self.app.workers if w.group == "tools" and w.is_running]
        if starting:
            self.notify("Connectors are starting…", timeout=2)
        self._open_connectors(starting)

    @work(thread=True, exclusive=True, group="connectors")
    def _open_connectors(self, starting: list[Worker[None]]) -> None:
        import client.screens.connectors  # noqa: F401  (loads the MCP SDK off the UI thread)

        # The app may still be making its tool provider: wait, so there is only one.
        deadline = time.monotonic() + PROVIDER_WAIT
        while any(w.is_running for w in starting) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.app.call_from_thread(self._push_connectors)

    def _push_connectors(self) -> None:
        from client.connectors.config import ConnectorConfigError
        from client.screens.connectors import ConnectorsScreen, connectors_screen_for

        if isinstance(self.app.screen, ConnectorsScreen):
            return
        try:
            # Makes the app's tool provider when it had none: the next answer offers its tools.
            screen = connectors_screen_for(self.wapp)
        except ConnectorConfigError as exc:
            self.notify(f"Connectors cannot be shown: {exc}", severity="error", timeout=8)
            return
        self.app.push_screen(screen, self._insert_text)

    def _insert_text(self, text: str | None) -> None:
        if not text:
            return
        prompt = self.query_one(PromptInput)
        room = MAX_PROMPT_CHARS - len(prompt.text)
        if len(text) > room:
            self.notify(f"Only {max(room, 0)} characters fit in the prompt; the rest was cut.",
                        severity="warning")
        if room > 0:
            prompt.insert(text[:room])
        prompt.focus()
