"""``workjet local``: a gateway of one's own on loopback, for the README's quick start.

It runs the gateway's CLI as child processes with the database and audit folder in a
local state folder, creates tenant ``local``, owner ``admin@localhost`` and a fresh
API key (read from the last line of ``key create``'s output and handed back to the
caller, who keeps it in memory only: it is never written to a file or put in any
environment), then serves the gateway on a free loopback port until ``stop()``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import requests

from client.atomic import ensure_private_dir

READY_TIMEOUT = 60.0
TENANT = "local"
OWNER = "admin@localhost"


class LocalStackError(RuntimeError):
    """The local gateway could not be set up; the message says what failed."""


def gateway_command() -> list[str]:
    """``workjet-gateway`` from the same installation as this client."""
    beside = Path(sys.executable).with_name("workjet-gateway")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("workjet-gateway")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from gateway.cli import main; sys.exit(main())"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalGateway:
    def __init__(
        self, state_dir: Path, port: int = 0, base_env: Mapping[str, str] | None = None
    ) -> None:
        self.state_dir = state_dir.resolve()
        self.port = port or free_port()
        self._base_env = dict(os.environ if base_env is None else base_env)
        self._proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.state_dir / "gateway.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(self._base_env)
        env["WORKJET_DATABASE_URL"] = f"sqlite:///{self.state_dir / 'gateway.db'}"
        env["WORKJET_AUDIT_URL"] = f"file://{self.state_dir / 'audit'}"
        return env

    def _run(self, *args: str, allow_exists: bool = False) -> str:
        result = subprocess.run(  # noqa: S603 - our own CLI with our own arguments
            [*gateway_command(), *args], env=self.env(), capture_output=True, text=True,
            timeout=120, cwd=self.state_dir, check=False,
        )
        if result.returncode != 0:
            err = (result.stderr or result.stdout).strip()
            if allow_exists and ("exists" in err or "already" in err):
                return ""
            raise LocalStackError(f"`workjet-gateway {' '.join(args)}` failed: {err[-500:]}")
        return result.stdout

    def provision(self) -> str:
        """Create the database, tenant, owner and a fresh API key; return the key."""
        ensure_private_dir(self.state_dir)
        self._run("init")
        self._run("tenant", "create", TENANT, allow_exists=True)
        self._run("user", "create", "--tenant", TENANT, OWNER, "--role", "owner",
                  allow_exists=True)
        out = self._run("key", "create", "--tenant", TENANT, "--user", OWNER,
                        "--name", "quickstart")
        lines = [line.strip() for line in out.splitlines() if line.strip()]
        if not lines or not lines[-1].startswith("wj_"):
            raise LocalStackError("`workjet-gateway key create` printed no key")
        return lines[-1]

    def start(self) -> None:
        """Serve on loopback and wait until it answers ``/healthz``."""
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child writes to it until stop()
        try:
            self._proc = subprocess.Popen(  # noqa: S603
                [*gateway_command(), "serve", "--bind", f"127.0.0.1:{self.port}"],
                env=self.env(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                cwd=self.state_dir, start_new_session=True,
            )
        finally:
            log.close()
        deadline = time.monotonic() + READY_TIMEOUT
        session = requests.Session()
        session.trust_env = False
        try:
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    raise LocalStackError(
                        f"the gateway exited at start; see {self.log_path}:\n{self._log_tail()}"
                    )
                try:
                    if session.get(self.url + "/healthz", timeout=2).status_code == 200:
                        return
                except requests.RequestException:
                    pass
                time.sleep(0.1)
        finally:
            session.close()
        self.stop()
        raise LocalStackError(f"the gateway did not come up in {READY_TIMEOUT:.0f} s")

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the gateway (its whole process group: gunicorn and its workers)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass

    def __enter__(self) -> LocalGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
