"""A real server as a child process: free loopback port, readiness poll, log file, own PID.

``ServiceProcess`` owns exactly one child. ``start()`` launches it and polls until it
answers; ``stop()`` sends SIGTERM to that PID (SIGKILL after a grace period) and reaps
it. The port is chosen once, so ``stop()`` then ``start()`` brings the service back on
the same address, which is what outage tests need. Subclasses say how to launch the
server and how to tell that it is ready.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
POLL_INTERVAL = 0.05
LOG_TAIL_BYTES = 4000

REPO_ROOT = Path(__file__).resolve().parents[2]


class ServiceError(RuntimeError):
    """A test service could not be found, started or stopped; the message says what to do."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def require_binary(name: str, hint: str) -> str:
    """The path of ``name`` on PATH, or ``ServiceError`` saying how to install it."""
    path = shutil.which(name)
    if path is None:
        raise ServiceError(f"{name} missing: {hint}")
    return path


def die_with_parent(command: list[str]) -> list[str]:
    """``command`` prefixed so that the child gets SIGTERM if this process dies.

    A killed test run then leaves no servers behind. ``setpriv`` (util-linux) sets the
    parent-death signal and execs the command, so the PID is still the server's; this
    avoids ``preexec_fn``, which is unsafe once other threads run. The signal follows
    the *thread* that started the child: start services from the main thread.
    """
    setpriv = shutil.which("setpriv")
    if setpriv is None or not sys.platform.startswith("linux"):
        return command
    return [setpriv, "--pdeathsig", "TERM", "--", *command]


class ServiceProcess:
    """One server child process bound to 127.0.0.1 on a port fixed at construction."""

    #: short name used in messages and for the log file
    name = "service"

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.host = "127.0.0.1"
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port if port is not None else free_port(self.host)
        self.log_path = self.workdir / f"{self.name}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    # --- what subclasses provide -------------------------------------------------------

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    def is_ready(self) -> bool:
        """True once the server answers on its port (called repeatedly while starting)."""
        raise NotImplementedError

    # --- life cycle ----------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Launch the server and return once it answers; no-op if already running."""
        if self.running:
            return
        command = self.command()
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._log.write(f"--- start: {' '.join(command)}\n".encode())
        self._log.flush()
        self._proc = subprocess.Popen(
            die_with_parent(command),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.environment(),
            cwd=self.workdir,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._close()
                raise ServiceError(
                    f"{self.name} exited with status {code} while starting on port "
                    f"{self.port}; log {self.log_path}:\n{self.log_tail()}"
                )
            if self.is_ready():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise ServiceError(
                    f"{self.name} did not answer on {self.host}:{self.port} within "
                    f"{timeout:.0f} s; log {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(POLL_INTERVAL)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM our own PID, SIGKILL it after ``timeout`` seconds, and reap it."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._close()

    def restart(self) -> None:
        self.stop()
        self.start()

    def ensure_running(self) -> None:
        """Start the service again if a test stopped it (or it died)."""
        if not self.running:
            self.stop()  # reap a dead child and close its log
            self.start()

    def log_tail(self, limit: int = LOG_TAIL_BYTES) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return ""
        return data[-limit:].decode(errors="replace")

    def _close(self) -> None:
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

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

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"<{type(self).__name__} {self.host}:{self.port} {state}>"


def can_connect(host: str, port: int, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout):
        return True
    return False
