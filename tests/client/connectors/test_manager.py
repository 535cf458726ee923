"""The connector manager against real MCP servers: tools, resources, prompts, progress,
cancellation, crashes, timeouts, and no child process left behind."""

from __future__ import annotations

import concurrent.futures
import json
import sys
import threading
import time

import pytest

from client.connectors.config import ConnectorConfig
from client.connectors.connection import ConnectorError
from client.connectors.results import prompt_text, read_result_text, tool_result_text
from tests.client.connectors.conftest import descendants, probe, wait_gone

pytestmark = pytest.mark.integration


def test_time_server_lists_and_calls_tools(make_manager, time_server):
    m = make_manager([time_server])
    names = {t.name for t in m.list_tools("time")}
    assert {"get_current_time", "convert_time"} <= names
    res = m.call_tool("time", "get_current_time", {"timezone": "Europe/Paris"})
    assert not res.is_error
    assert json.loads(tool_result_text(res))["timezone"] == "Europe/Paris"
    status = m.status("time")
    assert status.state == "ready" and status.pid in descendants()


def test_everything_server_tools_resources_prompts(make_manager, everything):
    m = make_manager([everything])
    tools = {t.name for t in m.list_tools("everything")}
    assert {"echo", "get-sum", "trigger-long-running-operation"} <= tools
    assert tool_result_text(m.call_tool("everything", "get-sum", {"a": 2, "b": 40})).endswith(
        "is 42."
    )

    resources = m.list_resources("everything")
    assert resources, "server-everything lists resources"
    text = read_result_text(m.read_resource("everything", resources[0].uri))
    assert resources[0].uri in text and len(text) > len(resources[0].uri) + 20

    prompts = {p.name: p for p in m.list_prompts("everything")}
    assert "simple-prompt" in prompts
    assert prompt_text(m.get_prompt("everything", "simple-prompt")).startswith("user:")


def test_progress_is_reported_and_a_long_call_is_cancelled(make_manager, everything):
    m = make_manager([everything])
    m.start("everything")
    seen: list[tuple[float, float | None]] = []
    got_two = threading.Event()

    def progress(value: float, total: float | None, _msg: str | None) -> None:
        seen.append((value, total))
        if len(seen) >= 2:
            got_two.set()

    t0 = time.monotonic()
    fut = m.submit_call(
        "everything",
        "trigger-long-running-operation",
        {"duration": 30, "steps": 30},
        on_progress=progress,
    )
    assert got_two.wait(10), "no progress notifications arrived"
    assert m.cancel_all() == 1
    with pytest.raises(concurrent.futures.CancelledError):
        fut.result(5)
    assert fut.cancelled()
    assert time.monotonic() - t0 < 10, "cancelling did not end the call early"
    assert seen[0] == (1.0, 30.0)
    # The connector survives a cancelled call.
    assert tool_result_text(m.call_tool("everything", "echo", {"message": "still here"})).endswith(
        "still here"
    )


def test_cancelling_a_call_tells_the_server(make_manager, tmp_path):
    marker = tmp_path / "cancelled"
    m = make_manager([probe("p", "--marker-file", str(marker))])
    m.start("p")
    started = threading.Event()
    fut = m.submit_call("p", "slow", {"seconds": 30}, on_progress=lambda *_: started.set())
    assert started.wait(10)
    assert m.cancel_all() == 1
    deadline = time.monotonic() + 5
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.read_text() == "cancelled", "the server's handler was not cancelled"
    assert fut.cancelled()


def test_per_call_timeout(make_manager):
    m = make_manager([probe("p")], call_timeout=1.0)
    t0 = time.monotonic()
    with pytest.raises(ConnectorError, match="did not finish within 1 s"):
        m.call_tool("p", "slow", {"seconds": 20})
    assert time.monotonic() - t0 < 8
    assert m.call_tool("p", "echo", {"text": "ok"}).content[0].text == "echo: ok"


def test_crash_is_reported_with_stderr_and_restartable(make_manager):
    m = make_manager([probe("p")])
    first_pid = m.start("p").pid
    assert first_pid is not None
    with pytest.raises(ConnectorError):
        m.call_tool("p", "crash", {})
    deadline = time.monotonic() + 5
    while m.status("p").state != "failed" and time.monotonic() < deadline:
        time.sleep(0.05)
    status = m.status("p")
    assert status.state == "failed"
    assert "exited unexpectedly" in status.error
    assert "probe: last words" in status.stderr_tail
    assert not wait_gone({first_pid}, 1)
    with pytest.raises(ConnectorError, match="restart it"):
        m.list_tools("p")
    restarted = m.restart("p")
    assert restarted.state == "ready" and restarted.pid not in (None, first_pid)
    assert m.call_tool("p", "echo", {"text": "back"}).content[0].text == "echo: back"


def test_failure_at_start_shows_last_stderr_lines(make_manager):
    bad = probe("bad", "--stderr-at-start", "fatal: missing API token", "--exit-at-start", "3")
    m = make_manager([bad])
    with pytest.raises(ConnectorError):
        m.start("bad")
    status = m.status("bad")
    assert status.state == "failed"
    assert "fatal: missing API token" in status.stderr_tail


def test_missing_command_fails_clearly(make_manager):
    m = make_manager([ConnectorConfig("nope", command="/nonexistent/mcp-server")])
    with pytest.raises(ConnectorError):
        m.start("nope")
    assert "not found" in m.status("nope").error


def test_start_timeout_kills_the_hung_child(make_manager):
    m = make_manager([probe("hang", "--hang-at-start")], start_timeout=1.5)
    before = descendants()
    t0 = time.monotonic()
    with pytest.raises(ConnectorError):
        m.start("hang")
    assert time.monotonic() - t0 < 10
    assert "did not answer within 1.5 s" in m.status("hang").error
    assert not wait_gone(descendants() - before, 5)


def test_close_while_a_connector_is_still_starting(make_manager):
    hang = ConnectorConfig(
        "hang", command=sys.executable, args=probe("x", "--hang-at-start").args, autostart=True
    )
    m = make_manager([hang], start_timeout=120)
    m.start_autostart()
    deadline = time.monotonic() + 10
    while m.status("hang").pid is None:
        assert time.monotonic() < deadline, "the child did not start"
        time.sleep(0.05)
    pid = m.status("hang").pid
    assert m.status("hang").state == "starting"
    t0 = time.monotonic()
    m.close()
    assert time.monotonic() - t0 < 10, "close waited for the start timeout"
    assert not wait_gone({pid}, 5)


def test_no_child_left_after_close(make_manager, everything, time_server):
    before = descendants()
    m = make_manager([everything, time_server, probe("p")])
    for name in ("everything", "time", "p"):
        m.start(name)
    pids = {m.status(n).pid for n in ("everything", "time", "p")}
    assert None not in pids
    children = descendants() - before
    assert pids <= children
    # A call in flight at exit does not keep anything alive.
    m.submit_call("p", "slow", {"seconds": 30})
    m.close()
    assert not wait_gone(children, 10), "a connector process outlived close()"
    with pytest.raises(ConnectorError):
        m.start("time")


def test_no_child_left_when_the_app_process_exits(tmp_path):
    """A separate Python process starts connectors and exits without calling close()."""
    import os
    import subprocess

    from tests.client.connectors.conftest import REPO

    script = tmp_path / "app.py"
    script.write_text(
        "import sys\n"
        "from client.connectors.manager import ConnectorManager\n"
        "from tests.client.connectors.conftest import probe, MemorySecrets\n"
        "m = ConnectorManager([probe('a'), probe('b')], MemorySecrets())\n"
        "print(m.start('a').pid, m.start('b').pid, flush=True)\n"
    )
    out = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(REPO),
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    assert out.returncode == 0, out.stderr
    pids = {int(p) for p in out.stdout.split()}
    assert len(pids) == 2
    assert not wait_gone(pids, 5), "atexit did not stop the connectors"
