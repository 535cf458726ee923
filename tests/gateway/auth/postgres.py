"""A throw-away PostgreSQL server on a free loopback port, for the auth store on PostgreSQL.

``initdb`` makes a cluster in a fresh directory (trust auth, loopback only); the server
runs as its own child process and is stopped by PID. Run as root, both run as the
``postgres`` system user (PostgreSQL refuses root), through ``setpriv``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from tests.services.process import ServiceError, ServiceProcess, require_binary

HINT = "apt-get install postgresql (initdb and postgres on PATH)"


class PostgresServer(ServiceProcess):
    name = "postgres"

    def __init__(self) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="workjet-pg-"))  # /tmp: reachable by postgres
        super().__init__(self._root)
        self.data = self._root / "data"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                raise ServiceError("running as root needs a 'postgres' system user") from None
            os.chown(self._root, account.pw_uid, account.pw_gid)
            os.chown(self.log_path.parent, account.pw_uid, account.pw_gid)
            self._as_user = [require_binary("setpriv", "apt-get install util-linux"),
                             "--reuid=postgres", "--regid=postgres", "--init-groups"]
        initdb = require_binary("initdb", HINT)
        result = subprocess.run(
            [*self._as_user, initdb, "-D", str(self.data), "-U", "workjet", "--auth=trust",
             "--no-sync"], capture_output=True, text=True, timeout=120, check=False,
        )
        if result.returncode != 0:
            raise ServiceError(f"initdb failed: {result.stderr[-2000:]}")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://workjet@127.0.0.1:{self.port}/postgres"

    def command(self) -> list[str]:
        postgres = require_binary("postgres", HINT)
        return [*self._as_user, postgres, "-D", str(self.data), "-p", str(self.port),
                "-k", str(self._root), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]

    def is_ready(self) -> bool:
        try:
            with psycopg.connect(f"host=127.0.0.1 port={self.port} user=workjet "
                                 "dbname=postgres connect_timeout=1"):
                return True
        except psycopg.OperationalError:
            return False

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self._root, ignore_errors=True)
