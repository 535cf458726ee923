"""Fixtures every test may use: the real services (Redis, S3, Secret Service).

Session fixtures start each service once per run, on a free 127.0.0.1 port, the first
time a test asks for it. A test may ``.stop()`` a session service to simulate an outage;
``_restart_stopped_services`` starts it again after that test, so later tests find it up.
Tests that want a server of their own (its own data, its own port) use the factories
``redis_factory`` / ``s3_factory``; what they make is stopped when the test ends.

A service that is not installed fails the test with what to install; it never skips.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

import pytest

from tests.services import RedisServer, S3Server, SecretService, ServiceError, ServiceProcess


class _Startable(Protocol):
    def start(self) -> None: ...


S = TypeVar("S", bound=_Startable)

# Variables the Secret Service fixture sets (or, for the backend override, removes).
_SECRET_SERVICE_VARS = ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "PYTHON_KEYRING_BACKEND")
_SESSION_SERVICES = pytest.StashKey[list[ServiceProcess]]()


@pytest.fixture(autouse=True, scope="session")
def _no_color_unset() -> Iterator[None]:
    """Unset NO_COLOR for the whole run: Textual honours it, and it changes the colours in
    snapshot SVGs, so snapshot tests would fail on any machine that sets it."""
    saved = os.environ.pop("NO_COLOR", None)
    yield
    if saved is not None:
        os.environ["NO_COLOR"] = saved


def _started(make: Callable[[], S]) -> S:
    try:
        service = make()
        service.start()
    except ServiceError as exc:
        pytest.fail(str(exc), pytrace=False)
    return service


def _registry(config: pytest.Config) -> list[ServiceProcess]:
    return config.stash.setdefault(_SESSION_SERVICES, [])


@pytest.fixture(autouse=True)
def _restart_stopped_services(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test, start again any session service that the test stopped, so an
    outage test cannot break the tests that run after it."""
    yield
    for service in _registry(request.config):
        if not service.running:
            try:
                service.ensure_running()
            except ServiceError as exc:
                pytest.fail(f"could not restart {service!r} after the test: {exc}")


@pytest.fixture(scope="session")
def redis_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[RedisServer]:
    """A real redis-server for the session: ``.url`` (redis://127.0.0.1:PORT/0), ``.port``,
    ``.client()``, ``.stop()``/``.start()`` (same port; data is lost on stop)."""
    server = _started(lambda: RedisServer(tmp_path_factory.mktemp("redis")))
    _registry(request.config).append(server)
    yield server
    _registry(request.config).remove(server)
    server.stop()


@pytest.fixture(scope="session")
def s3_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[S3Server]:
    """A real S3 server (versitygw, POSIX backend) for the session: ``.endpoint``
    ("127.0.0.1:PORT"), ``.url``, ``.access_key``, ``.secret_key``, ``.region``,
    ``.minio(fail_fast=False)``, ``.stop()``/``.start()`` (same port; data is kept).
    Buckets made with ``object_lock=True`` get versioning and S3 Object Lock."""
    server = _started(lambda: S3Server(tmp_path_factory.mktemp("s3")))
    _registry(request.config).append(server)
    yield server
    _registry(request.config).remove(server)
    server.stop()


@pytest.fixture
def redis_factory(tmp_path: Path) -> Iterator[Callable[[], RedisServer]]:
    """Call it to get a running redis-server of the test's own; stopped after the test."""
    made: list[RedisServer] = []

    def make() -> RedisServer:
        server = _started(lambda: RedisServer(tmp_path / f"redis{len(made)}"))
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()


@pytest.fixture
def s3_factory(tmp_path: Path) -> Iterator[Callable[[], S3Server]]:
    """Call it to get a running S3 server of the test's own; stopped after the test."""
    made: list[S3Server] = []

    def make() -> S3Server:
        server = _started(lambda: S3Server(tmp_path / f"s3-{len(made)}"))
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()


@pytest.fixture(scope="session")
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A private, unlocked gnome-keyring Secret Service for the session.

    Yields the environment dict a child process needs to reach it (its own HOME,
    XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS). While it runs, ``os.environ`` carries
    DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR too, so ``keyring`` in this process and
    in subprocesses uses it; both are restored afterwards.
    """
    service = _started(lambda: SecretService(tmp_path_factory.mktemp("secret-service")))
    saved = {name: os.environ.get(name) for name in _SECRET_SERVICE_VARS}
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = service.env["DBUS_SESSION_BUS_ADDRESS"]
    os.environ["XDG_RUNTIME_DIR"] = service.env["XDG_RUNTIME_DIR"]
    os.environ.pop("PYTHON_KEYRING_BACKEND", None)  # it would bypass the Secret Service
    import keyring.core

    keyring.core.init_backend()  # keyring caches the backend it chose at first use
    try:
        yield dict(service.env)
    finally:
        service.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        # No init_backend() here: keyring caches its list of viable backends, and the
        # SecretService one raises once the bus is gone. The session is over anyway.
