"""The real test services work, and each is used for real: Redis, S3 (versitygw) and
the Secret Service (gnome-keyring on a private D-Bus)."""

from __future__ import annotations

import io
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import keyring
import keyring.backends.SecretService
import minio.error
import pytest
import redis
import urllib3.exceptions

from tests.conftest import _started
from tests.services import RedisServer, S3Server, SecretService, ServiceError
from tests.services.process import REPO_ROOT, free_port


def _bucket() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


# --- Redis -----------------------------------------------------------------------------


@pytest.mark.integration
def test_redis_round_trips_a_key(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"
    client.set("workjet:test:greeting", "héllo", ex=60)
    assert client.get("workjet:test:greeting") == "héllo".encode()
    assert client.delete("workjet:test:greeting") == 1
    assert client.get("workjet:test:greeting") is None


@pytest.mark.integration
def test_redis_stop_fails_clients_and_start_recovers(
    redis_factory: Callable[[], RedisServer],
) -> None:
    server = redis_factory()
    port = server.port
    client = server.client(socket_connect_timeout=1, socket_timeout=1)
    client.set("k", "v")
    server.stop()
    assert not server.running
    with pytest.raises(redis.exceptions.ConnectionError):
        client.ping()
    server.start()
    assert server.port == port
    assert client.ping() is True
    assert client.get("k") is None  # kept off disk: a restart empties it


@pytest.mark.integration
def test_stopped_session_redis_is_back_for_the_next_test(redis_server: RedisServer) -> None:
    redis_server.stop()  # _restart_stopped_services brings it back after this test
    assert not redis_server.running


@pytest.mark.integration
def test_session_redis_was_restarted(redis_server: RedisServer) -> None:
    assert redis_server.client(socket_connect_timeout=1).ping() is True


# --- S3 (versitygw) ------------------------------------------------------------------


@pytest.mark.integration
def test_s3_put_list_get_an_object(s3_server: S3Server) -> None:
    client = s3_server.minio()
    assert s3_server.endpoint == f"127.0.0.1:{s3_server.port}"
    bucket = _bucket()
    body = b"\x00audit line\n" * 1000
    client.make_bucket(bucket)
    assert client.bucket_exists(bucket)
    client.put_object(bucket, "2026/12/03/spool-1.jsonl", io.BytesIO(body), len(body))
    listed = [o.object_name for o in client.list_objects(bucket, prefix="2026/", recursive=True)]
    assert listed == ["2026/12/03/spool-1.jsonl"]
    response = client.get_object(bucket, "2026/12/03/spool-1.jsonl")
    try:
        assert response.read() == body
    finally:
        response.close()
        response.release_conn()


@pytest.mark.integration
def test_s3_refuses_wrong_credentials(s3_server: S3Server) -> None:
    import minio as minio_module

    wrong = minio_module.Minio(
        s3_server.endpoint, access_key=s3_server.access_key, secret_key="wrong", secure=False
    )
    with pytest.raises(minio.error.S3Error) as info:
        wrong.list_buckets()
    assert info.value.code in {"SignatureDoesNotMatch", "AccessDenied", "InvalidAccessKeyId"}


@pytest.mark.integration
def test_s3_object_lock_refuses_deleting_a_locked_version(s3_server: S3Server) -> None:
    from minio.commonconfig import COMPLIANCE
    from minio.objectlockconfig import DAYS, ObjectLockConfig

    client = s3_server.minio()
    bucket = _bucket()
    client.make_bucket(bucket, object_lock=True)
    assert client.get_bucket_versioning(bucket).status == "Enabled"
    client.set_object_lock_config(bucket, ObjectLockConfig(COMPLIANCE, 1, DAYS))
    first = client.put_object(bucket, "digest", io.BytesIO(b"one"), 3)
    client.put_object(bucket, "digest", io.BytesIO(b"two"), 3)  # a new version, not a rewrite
    with pytest.raises(minio.error.S3Error) as info:
        client.remove_object(bucket, "digest", version_id=first.version_id)
    assert info.value.code == "AccessDenied"
    old = client.get_object(bucket, "digest", version_id=first.version_id)
    try:
        assert old.read() == b"one"
    finally:
        old.close()
        old.release_conn()


@pytest.mark.integration
def test_s3_stop_fails_clients_and_start_recovers_with_data(
    s3_factory: Callable[[], S3Server],
) -> None:
    server = s3_factory()
    client = server.minio(fail_fast=True)
    bucket = _bucket()
    client.make_bucket(bucket)
    client.put_object(bucket, "kept", io.BytesIO(b"data"), 4)
    server.stop()
    with pytest.raises(urllib3.exceptions.HTTPError):
        client.list_buckets()
    server.start()
    assert bucket in [b.name for b in client.list_buckets()]
    response = client.get_object(bucket, "kept")
    try:
        assert response.read() == b"data"  # the POSIX backend keeps data across restarts
    finally:
        response.close()
        response.release_conn()


# --- Secret Service (gnome-keyring) ------------------------------------------------------


@pytest.mark.integration
def test_keyring_round_trips_a_secret_seen_by_another_process(
    secret_service: dict[str, str],
) -> None:
    backend = keyring.get_keyring()
    assert isinstance(backend, keyring.backends.SecretService.Keyring)
    service, user = f"workjet-test-{uuid.uuid4().hex[:8]}", "alice@example.com"
    keyring.set_password(service, user, "s3cr3t-☃")
    assert keyring.get_password(service, user) == "s3cr3t-☃"

    read = (
        "import sys, keyring; "
        "print(type(keyring.get_keyring()).__module__); "
        "print(keyring.get_password(sys.argv[1], sys.argv[2]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", read, service, user],
        env=secret_service,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.splitlines() == ["keyring.backends.SecretService", "s3cr3t-☃"]

    keyring.delete_password(service, user)
    assert keyring.get_password(service, user) is None
    again = subprocess.run(
        [sys.executable, "-c", read, service, user],
        env=secret_service,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert again.stdout.splitlines()[-1] == "None"


@pytest.mark.integration
def test_servers_die_with_the_process_that_started_them(tmp_path: Path) -> None:
    # A test run killed outright (CI timeout, ^C twice) must not leave servers behind.
    script = (
        "import pathlib, sys, time\n"
        "from tests.services import RedisServer\n"
        "server = RedisServer(pathlib.Path(sys.argv[1]))\n"
        "server.start()\n"
        "print(server.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    starter = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert starter.stdout is not None
    pid = int(starter.stdout.readline())
    assert _alive(pid)
    starter.kill()
    starter.wait()
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for init to reap it counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


# --- without the services (unit) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "hint"),
    [
        (RedisServer, "apt-get install redis-server"),
        (SecretService, "apt-get install dbus gnome-keyring"),
    ],
)
def test_a_missing_binary_fails_the_test_with_what_to_install(
    make: Callable[[Path], RedisServer | SecretService],
    hint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ServiceError, match=hint):
        make(tmp_path)
    # the fixtures turn that into a failure, never a skip
    with pytest.raises(pytest.fail.Exception, match=hint):
        _started(lambda: make(tmp_path))


def test_a_server_that_cannot_bind_fails_with_its_log(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = RedisServer(tmp_path, port=taken.getsockname()[1])
        with pytest.raises(ServiceError, match="exited with status") as info:
            server.start()
    assert "Address already in use" in str(info.value)
    assert not server.running


def test_free_port_is_bindable() -> None:
    import socket

    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
