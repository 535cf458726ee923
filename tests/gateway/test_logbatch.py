"""Batched access lines: written within the interval, whole, never interleaved between
processes sharing a pipe, flushed early by a burst and at exit, and from gunicorn workers."""

from __future__ import annotations

import io
import logging
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from gateway.logbatch import BatchedLineHandler
from tests.gateway.server import GatewayServer, provision
from tests.services import RedisServer


def _logger(name: str, handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(f"test.logbatch.{name}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


class Writes(io.StringIO):
    """A stream that remembers each write it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, s: str) -> int:
        self.writes.append(s)
        return super().write(s)


def test_lines_wait_for_the_interval_then_go_out_in_whole_line_writes() -> None:
    stream = Writes()
    handler = BatchedLineHandler(stream, interval=0.3)
    log = _logger("interval", handler)
    lines = [f"line {i} " + "x" * (i * 37 % 400) for i in range(60)]
    started = time.monotonic()
    for line in lines:
        log.info(line)
    assert stream.writes == []  # nothing written per request
    while not stream.writes and time.monotonic() - started < 3:
        time.sleep(0.02)
    assert 0.25 <= time.monotonic() - started < 1.5
    time.sleep(0.1)
    assert stream.getvalue().splitlines() == lines
    assert len(stream.writes) > 1  # 60 lines of up to 400 bytes do not fit one pipe write
    for chunk in stream.writes:
        assert chunk.endswith("\n") and len(chunk.encode()) <= select.PIPE_BUF
    handler.close()


def test_a_burst_is_written_at_once_and_close_writes_the_rest() -> None:
    stream = Writes()
    handler = BatchedLineHandler(stream, interval=60, max_pending=1000)
    log = _logger("burst", handler)
    for i in range(9):
        log.info("%03d %s", i, "y" * 96)  # 101 bytes with the newline
    assert stream.writes == []
    log.info("%03d %s", 9, "y" * 96)  # 1010 bytes waiting: over max_pending
    assert len(stream.getvalue().splitlines()) == 10
    log.info("last")
    handler.close()
    assert stream.getvalue().splitlines()[-1] == "last"


_WRITER = """
import logging, os, sys
from gateway.logbatch import BatchedLineHandler
handler = BatchedLineHandler(sys.stdout, interval=0.05)
log = logging.getLogger("w")
log.addHandler(handler)
log.propagate = False
log.setLevel(logging.INFO)
log.info("parent-before-fork")
children = []
for n in range(4):
    pid = os.fork()
    if pid == 0:
        for i in range(1500):
            log.info("child=%d line=%d %s end", n, i, "z" * (i % 300))
        logging.shutdown()
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
log.info("parent-after")
"""


def test_forked_writers_sharing_a_pipe_never_interleave_lines() -> None:
    done = subprocess.run([sys.executable, "-c", _WRITER], capture_output=True, text=True,
                          timeout=120, check=False, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # The parent's waiting line is written once, by the parent (not by each child).
    assert lines.count("parent-before-fork") == 1 and lines[-1] == "parent-after"
    children = [line for line in lines if line.startswith("child=")]
    assert len(children) == 4 * 1500
    for line in children:
        n, i, pad, end = line.split(" ")
        assert end == "end" and pad == "z" * (int(i.split("=")[1]) % 300), line[:80]
    for n in range(4):
        mine = [int(line.split(" ")[1][5:]) for line in children if line.startswith(f"child={n} ")]
        assert mine == list(range(1500))


@pytest.mark.integration
def test_gunicorn_workers_write_every_access_line(tmp_path: Path,
                                                  redis_server: RedisServer) -> None:
    server = GatewayServer(tmp_path / "gw", workers=2,
                           env={"WORKJET_RATELIMIT_STORAGE_URI": redis_server.url})
    server.start()
    try:
        key = provision(server.store, "acme", "a@acme.test").key
        with requests.Session() as http:
            http.trust_env = False
            for i in range(40):
                status = http.get(f"{server.url}/api/v1/me?i={i}",
                                  headers={"Authorization": f"Bearer {key}"}).status_code
                assert status == 200
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            found = [line for line in server.log_path.read_text().splitlines()
                     if "workjet.access GET /api/v1/me 200" in line]
            if len(found) == 40:
                break
            time.sleep(0.05)
        assert len(found) == 40
        assert all("request_id=" in line and key[-20:] not in line and "i=" not in line
                   for line in found)
    finally:
        server.stop()
