"""A throw-away ``redis-server`` (Debian's) on a free loopback port, kept off disk."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.services.process import ServiceProcess, require_binary

if TYPE_CHECKING:
    import redis

INSTALL_HINT = "run .ci/run or apt-get install redis-server"


class RedisServer(ServiceProcess):
    """``redis-server`` bound to 127.0.0.1; data lives in memory only and is lost on stop.

    ``url`` is ``redis://127.0.0.1:PORT/0``; ``client()`` returns a ``redis.Redis``.
    """

    name = "redis"

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        super().__init__(workdir, port)
        self.binary = require_binary("redis-server", INSTALL_HINT)

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def command(self) -> list[str]:
        return [
            self.binary,
            "--bind", self.host,
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--protected-mode", "no",
            "--dir", str(self.workdir),
        ]  # fmt: skip

    def is_ready(self) -> bool:
        # A raw PING: ready means it answers commands, not just that the port is open
        # (Redis accepts connections while still loading).
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def client(self, **kwargs: Any) -> redis.Redis:
        """A ``redis.Redis`` for this server (``kwargs`` go to ``Redis.from_url``)."""
        import redis

        return redis.Redis.from_url(self.url, **kwargs)
