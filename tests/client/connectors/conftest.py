"""Fixtures for the connector tests: real MCP servers, an in-memory secret store, PIDs."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from client.connectors.config import ConnectorConfig
from client.connectors.manager import ConnectorManager

REPO = Path(__file__).resolve().parents[3]
PROBE = Path(__file__).with_name("probe_server.py")
EVERYTHING = REPO / ".ci/node_modules/@modelcontextprotocol/server-everything/dist/index.js"


class MemorySecrets:
    """The ``SecretStore`` protocol over a dict, for tests that are not about the keychain."""

    def __init__(self, items: dict[str, str] | None = None) -> None:
        self.items = dict(items or {})

    def get(self, account: str) -> str | None:
        return self.items.get(account)

    def set(self, account: str, secret: str) -> None:
        self.items[account] = secret

    def delete(self, account: str) -> bool:
        return self.items.pop(account, None) is not None


def probe(name: str, *args: str, secrets: tuple[str, ...] = ()) -> ConnectorConfig:
    return ConnectorConfig(name, command=sys.executable, args=(str(PROBE), *args), secrets=secrets)


@pytest.fixture
def everything() -> ConnectorConfig:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: install Node.js (apt-get install nodejs npm)")
    if not EVERYTHING.is_file():
        pytest.fail(f"{EVERYTHING} is missing: run `npm install --prefix {REPO / '.ci'}`")
    return ConnectorConfig("everything", command=node, args=(str(EVERYTHING), "stdio"))


@pytest.fixture
def time_server() -> ConnectorConfig:
    if importlib.util.find_spec("mcp_server_time") is None:
        pytest.fail("mcp-server-time is missing: pip install -e '.[test]' (or mcp-server-time)")
    return ConnectorConfig(
        "time", command=sys.executable, args=("-m", "mcp_server_time", "--local-timezone", "UTC")
    )


@pytest.fixture
def make_manager() -> Iterator[Callable[..., ConnectorManager]]:
    """Build managers that are always closed at the end of the test."""
    made: list[ConnectorManager] = []

    def make(
        configs: list[ConnectorConfig], secrets: object = None, **kw: object
    ) -> ConnectorManager:
        m = ConnectorManager(configs, secrets or MemorySecrets(), **kw)  # type: ignore[arg-type]
        made.append(m)
        return m

    yield make
    for m in made:
        m.close()


def descendants(pid: int | None = None) -> set[int]:
    """Every live descendant of ``pid`` (default: this process), from /proc."""
    root = os.getpid() if pid is None else pid
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(entry)] = int(fields[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pids: set[int], timeout: float = 10.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = {p for p in pids if alive(p)}
        if not left:
            return set()
        time.sleep(0.05)
    return {p for p in pids if alive(p)}
