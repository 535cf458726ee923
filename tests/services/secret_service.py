"""A private Secret Service: gnome-keyring inside its own D-Bus session (RECIPES.md, B).

``SecretService.start()`` runs a ``dbus-daemon`` on a socket in a private runtime dir,
then ``gnome-keyring-daemon --foreground --unlock --components=secrets`` on that bus
with HOME pointing at a temp dir (so no real keyring is touched), and waits until it
owns ``org.freedesktop.secrets``. ``env`` is the environment a process needs to use it.
Both daemons are stopped by their own PIDs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from tests.services.process import (
    POLL_INTERVAL,
    START_TIMEOUT,
    STOP_TIMEOUT,
    ServiceError,
    die_with_parent,
    require_binary,
)

INSTALL_HINT = "run .ci/run or apt-get install dbus gnome-keyring"
BUS_NAME = "org.freedesktop.secrets"
KEYRING_PASSWORD = "workjet-test-keyring"  # unlocks the throw-away login keyring
# Variables that would point keyring or D-Bus somewhere other than our private session.
_DROPPED = (
    "DBUS_SESSION_BUS_ADDRESS",
    "PYTHON_KEYRING_BACKEND",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_RUNTIME_DIR",
)


class SecretService:
    """gnome-keyring's Secret Service on a private session bus; ``env`` reaches it."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.home = self.workdir / "home"
        self.runtime_dir = self.workdir / "run"
        self.log_path = self.workdir / "secret-service.log"
        self.dbus_daemon = require_binary("dbus-daemon", INSTALL_HINT)
        self.dbus_send = require_binary("dbus-send", INSTALL_HINT)
        self.keyring_daemon = require_binary("gnome-keyring-daemon", INSTALL_HINT)
        self.env: dict[str, str] = {}
        self._bus: subprocess.Popen[str] | None = None
        self._gkd: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None

    @property
    def bus_address(self) -> str:
        return self.env.get("DBUS_SESSION_BUS_ADDRESS", "")

    @property
    def running(self) -> bool:
        return all(p is not None and p.poll() is None for p in (self._bus, self._gkd))

    def start(self, timeout: float = START_TIMEOUT) -> None:
        if self.running:
            return
        self.stop()
        self.home.mkdir(parents=True, exist_ok=True)
        self.runtime_dir.mkdir(parents=True, exist_ok=True)
        self.runtime_dir.chmod(0o700)  # gnome-keyring refuses a shared runtime dir
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
        env.update(HOME=str(self.home), XDG_RUNTIME_DIR=str(self.runtime_dir))
        self._log = open(self.log_path, "a")  # noqa: SIM115 - closed in stop()
        self._bus = subprocess.Popen(
            die_with_parent([
                self.dbus_daemon, "--session", "--nofork", "--nopidfile", "--print-address=1",
                f"--address=unix:path={self.runtime_dir}/bus",
            ]),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
            text=True,
        )  # fmt: skip
        assert self._bus.stdout is not None
        address = self._bus.stdout.readline().strip()
        if not address:
            self.stop()
            raise ServiceError(f"dbus-daemon printed no address; log {self.log_path}")
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        self._gkd = subprocess.Popen(
            die_with_parent(
                [self.keyring_daemon, "--foreground", "--unlock", "--components=secrets"]
            ),
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=self._log,
            env=env,
            text=True,
        )
        assert self._gkd.stdin is not None
        self._gkd.stdin.write(KEYRING_PASSWORD)
        self._gkd.stdin.close()  # EOF ends the password
        deadline = time.monotonic() + timeout
        while not self._owns_bus_name(env):
            if self._gkd.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ServiceError(
                    f"gnome-keyring's Secret Service did not come up; log {self.log_path}"
                )
            time.sleep(POLL_INTERVAL)
        self.env = env

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        for proc in (self._gkd, self._bus):  # keyring first: it talks to the bus
            if proc is None:
                continue
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        self._gkd = self._bus = None
        if self._log is not None:
            self._log.close()
            self._log = None
        self.env = {}

    def _owns_bus_name(self, env: dict[str, str]) -> bool:
        result = subprocess.run(
            [
                self.dbus_send, "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", f"string:{BUS_NAME}",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )  # fmt: skip
        return "boolean true" in result.stdout

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
