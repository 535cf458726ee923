"""End to end: the installed `workjet` in tmux at 80x24 against the real gateway.

The gateway runs under gunicorn (`workjet-gateway serve`) with an Anthropic-protocol
provider emulator behind it; the key goes into the real Secret Service (gnome-keyring).
Keys are sent with `tmux send-keys` and the screen is read with `capture-pane`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.emulators import Emulator
from tests.gateway.server import GatewayServer, installed_command, provision

PROVIDER_KEY = "test-provider-key"
CATALOG = {"models": [
    {"id": "claude-test", "provider": "anthropic", "upstream": "claude-up",
     "context_window": 200000, "input_price_per_mtok": 3.0, "output_price_per_mtok": 15.0,
     "capabilities": ["streaming", "tools"]},
]}


class Tmux:
    """A private tmux server (its own socket name), one 80x24 session, stopped at the end."""

    def __init__(self, name: str) -> None:
        if shutil.which("tmux") is None:
            pytest.fail("tmux missing: apt-get install tmux")
        self.base = ["tmux", "-L", name, "-f", "/dev/null"]

    def start(self, command: str, env: dict[str, str]) -> None:
        subprocess.run([*self.base, "new-session", "-d", "-s", "e2e", "-x", "80", "-y", "24",
                        command], env=env, check=True, timeout=30)

    def keys(self, *keys: str, literal: bool = False) -> None:
        flags = ["-l"] if literal else []
        subprocess.run([*self.base, "send-keys", "-t", "e2e", *flags, *keys], check=True,
                       timeout=10)

    def screen(self) -> str:
        return subprocess.run([*self.base, "capture-pane", "-t", "e2e", "-p"],
                              capture_output=True, text=True, timeout=10).stdout

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen shows:\n{self.screen()}")

    def size(self) -> str:
        return subprocess.run([*self.base, "display", "-p", "-t", "e2e",
                               "#{window_width}x#{window_height}"],
                              capture_output=True, text=True, timeout=10).stdout.strip()

    def stop(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True, timeout=10)


@contextlib.contextmanager
def workjet_session(tmp_path: Path, secret_service: dict[str, str]) -> Iterator[Session]:
    """The real gateway + emulator, and `workjet` running in tmux, signed in with a key."""
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(CATALOG))
    with Emulator(api_key=PROVIDER_KEY) as anthropic:
        server = GatewayServer(tmp_path / "gw", {
            "WORKJET_ANTHROPIC_BASE_URL": anthropic.url,
            "WORKJET_ANTHROPIC_API_KEY": PROVIDER_KEY,
            "WORKJET_ROUTER_CATALOG": str(catalog),
        })
        server.start()
        tmux = Tmux(f"wj-e2e-{os.getpid()}")
        try:
            key = provision(server.store, "acme", "alice@example.org").key
            home = tmp_path / "home"
            env = {**{k: v for k, v in os.environ.items() if not k.startswith("WORKJET_")},
                   "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
                   "XDG_DATA_HOME": str(home / "data"), "TERM": "xterm-256color",
                   "DBUS_SESSION_BUS_ADDRESS": secret_service["DBUS_SESSION_BUS_ADDRESS"]}
            env.pop("PYTHON_KEYRING_BACKEND", None)
            out = tmp_path / "stdout.txt"
            tmux.start(f"{installed_command('workjet')} --gateway {server.url} > {out}; "
                       "sleep 60", env)
            assert tmux.size() == "80x24"
            tmux.wait_for("Sign in to your Workjet gateway")
            tmux.keys(key, literal=True)
            assert key not in tmux.screen(), "the key field must be masked"
            tmux.keys("Enter")
            tmux.wait_for("Ask anything")
            tmux.wait_for("claude-test")
            yield Session(tmux, server.url, key, env, out, home)
        finally:
            tmux.stop()
            server.stop()


@dataclass
class Session:
    tmux: Tmux
    url: str
    key: str
    env: dict[str, str]
    stdout: Path
    home: Path

    def ask(self, text: str) -> None:
        self.tmux.keys(text, literal=True)
        self.tmux.keys("Enter")


@pytest.mark.integration
def test_workjet_in_tmux_signs_in_asks_and_streams(tmp_path: Path, secret_service) -> None:
    with workjet_session(tmp_path, secret_service) as s:
        s.ask("What is the capital of Portugal?")
        screen = s.tmux.wait_for("You said: What is the capital of Portugal?")
        assert "claude-test · in " in screen and "tokens · $" in screen
        print(screen)  # the report pastes this capture
        stored = subprocess.run(
            ["secret-tool", "lookup", "service", "workjet", "username", f"gateway:{s.url}"],
            env=s.env, capture_output=True, text=True)
        assert stored.stdout == s.key, "the key must be in the Secret Service"
        s.tmux.keys("C-q")
        deadline = time.monotonic() + 10
        while "Ask anything" in s.tmux.screen() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert s.stdout.read_text() == "", "nothing may be printed to stdout"
        for path in s.home.rglob("*"):
            if path.is_file():
                assert s.key not in path.read_text(errors="replace"), path
