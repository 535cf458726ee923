"""Ask the person before a connector's tool runs: allow once, always allow, or deny.

The modal shows the connector and what it runs (command or URL), the tool, its
description and the full arguments. A server's own annotations (``readOnlyHint``...) are
shown as what the server *claims*, and never answer the question for the person.

``connector_tools(app)`` is the ``tool_provider_factory`` the app is built with: it makes a
``ConnectorToolProvider`` whose questions are this modal, asked from the chat's worker
thread with ``app.ask_from_thread``.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from client.connectors.approvals import ApprovalRequest, ApprovalStore, Decision
from client.connectors.config import load_connectors
from client.connectors.manager import ConnectorManager
from client.connectors.provider import ConnectorToolProvider, ProgressUpdate

if TYPE_CHECKING:
    from client.app import WorkjetApp

MAX_ARGUMENT_CHARS = 20_000
MAX_DESCRIPTION_CHARS = 600


class ApprovalScreen(ModalScreen[Decision]):
    """Dismissed with ``"once"``, ``"always"`` or ``"deny"``; Esc denies."""

    CSS_PATH = "approval.tcss"
    AUTO_FOCUS = "#deny"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "decide('once')", "Allow once"),
        Binding("a", "decide('always')", "Always allow"),
        Binding("d,escape", "decide('deny')", "Deny"),
    ]

    def __init__(self, request: ApprovalRequest) -> None:
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        req = self.request
        with Vertical(id="approval"):
            yield Label("Allow this tool call?", id="approval-title")
            yield Static(
                f"Connector  {req.connector}  ({req.target})",
                markup=False,
                id="approval-connector",
                classes="field",
            )
            yield Static(
                f"Tool       {req.tool}", markup=False, id="approval-tool", classes="field"
            )
            if req.description:
                text = req.description.strip()
                if len(text) > MAX_DESCRIPTION_CHARS:
                    text = text[:MAX_DESCRIPTION_CHARS] + "…"
                yield Static(text, markup=False, id="approval-description")
            with VerticalScroll(id="approval-arguments"):
                yield Static(_arguments_text(req), markup=False, id="approval-args")
            if req.annotations:
                yield Static(
                    _hints_text(req.annotations), markup=False, id="approval-hints", classes="hint"
                )
            with Horizontal(id="approval-buttons"):
                yield Button("Allow once (o)", id="once", variant="primary", compact=True)
                yield Button("Always allow (a)", id="always", variant="warning", compact=True)
                yield Button("Deny (d)", id="deny", variant="error", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_decide(event.button.id or "deny")

    def action_decide(self, decision: str) -> None:
        if decision == "once":
            self.dismiss("once")
        elif decision == "always":
            self.dismiss("always")
        else:
            self.dismiss("deny")


def _arguments_text(req: ApprovalRequest) -> str:
    text = json.dumps(req.arguments, indent=2, ensure_ascii=False, sort_keys=True)
    if len(text) > MAX_ARGUMENT_CHARS:
        cut = len(text) - MAX_ARGUMENT_CHARS
        text = text[:MAX_ARGUMENT_CHARS] + f"\n… {cut} more characters (all are sent)"
    return "Arguments\n" + text


def _hints_text(hints: dict[str, object]) -> str:
    said = ", ".join(f"{k}={v}" for k, v in sorted(hints.items()))
    return f"The server describes this tool as: {said}. Unverified: you decide."


# --- the app's tool provider ------------------------------------------------------------


def connector_tools(app: WorkjetApp) -> ConnectorToolProvider:
    """``AppConfig.tool_provider_factory``: connector tools asked through this modal.

    Connectors come from ``app.settings.connectors``; their secrets from the app's
    keychain; "always" approvals from ``mcp-approvals.json`` next to the settings file (in
    memory for a session without one). Call ``provider.close()`` when the app exits.
    """
    configs = load_connectors(app.settings.connectors)
    manager = ConnectorManager(configs, app.config.keychain)
    settings_file = app.config.settings_file
    approvals = ApprovalStore(
        settings_file.with_name("mcp-approvals.json") if settings_file is not None else None
    )

    def ask(request: ApprovalRequest) -> Decision:
        return app.ask_from_thread(ApprovalScreen(request)) or "deny"

    def progress(update: ProgressUpdate) -> None:
        if app.is_running:
            with contextlib.suppress(RuntimeError):  # the app closed meanwhile
                app.call_from_thread(_show_progress, app, update)

    manager.start_autostart()
    return ConnectorToolProvider(manager, approvals, ask, on_progress=progress)


def progress_text(update: ProgressUpdate) -> str:
    amount = f"{update.progress:g}/{update.total:g}" if update.total else f"{update.progress:g}"
    text = f"{update.connector} · {update.tool} {amount}"
    return f"{text} {update.message}" if update.message else text


def _show_progress(app: WorkjetApp, update: ProgressUpdate) -> None:
    from client.widgets.usage_bar import UsageBar

    for bar in app.screen.query(UsageBar):
        bar.state = progress_text(update)[:80]
