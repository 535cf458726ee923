"""Each connector gets its own secrets and nothing else: not the parent's environment,
not another connector's secrets. Secrets come from the real Secret Service."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from client.connectors.config import ConnectorConfig
from client.connectors.environment import BASE_VARS
from client.connectors.secrets import item_name
from client.keychain import SystemKeychain
from tests.client.connectors.conftest import PROBE, probe

pytestmark = pytest.mark.integration

CANARY = "parent-canary-5b1f0c"


@pytest.fixture
def keychain(secret_service):
    kc = SystemKeychain()
    written: list[str] = []

    def put(connector: str, var: str, value: str) -> None:
        kc.set(item_name(connector, var), value)
        written.append(item_name(connector, var))

    kc.put = put  # type: ignore[attr-defined]
    yield kc
    for item in written:
        kc.delete(item)


def _proc_environ(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/environ", "rb") as fh:
        pairs = [p.split(b"=", 1) for p in fh.read().split(b"\0") if b"=" in p]
    return {k.decode(): v.decode() for k, v in pairs}


def test_each_stdio_connector_sees_only_its_own_secret(
    make_manager, keychain, everything, monkeypatch
):
    monkeypatch.setenv("WORKJET_TEST_CANARY", CANARY)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-" + CANARY)
    keychain.put("a", "A_TOKEN", "secret-of-a")
    keychain.put("b", "B_TOKEN", "secret-of-b")
    keychain.put("everything", "E_TOKEN", "secret-of-e")
    ev = ConnectorConfig(
        "everything", command=everything.command, args=everything.args, secrets=("E_TOKEN",)
    )
    m = make_manager(
        [probe("a", secrets=("A_TOKEN",)), probe("b", secrets=("B_TOKEN",)), ev],
        keychain,
    )
    assert "DBUS_SESSION_BUS_ADDRESS" in os.environ  # the parent has it (Secret Service)

    seen = {n: json.loads(m.call_tool(n, "env", {}).content[0].text) for n in ("a", "b")}
    seen["everything"] = json.loads(m.call_tool("everything", "get-env", {}).content[0].text)
    allowed = set(BASE_VARS)
    for name, own, value in (
        ("a", "A_TOKEN", "secret-of-a"),
        ("b", "B_TOKEN", "secret-of-b"),
        ("everything", "E_TOKEN", "secret-of-e"),
    ):
        env = seen[name]
        assert env[own] == value
        # The exec-time environment of the child, read by the kernel, says the same.
        exec_env = _proc_environ(m.status(name).pid)
        assert exec_env[own] == value
        for source in (env, exec_env):
            extra = set(source) - allowed - {own}
            assert not extra, f"{name} got {extra} from the parent"
            text = json.dumps(source)
            assert CANARY not in text
            assert "DBUS_SESSION_BUS_ADDRESS" not in source
            for other in ("secret-of-a", "secret-of-b", "secret-of-e"):
                if other != value:
                    assert other not in text, f"{name} sees another connector's secret"


def test_a_missing_secret_fails_the_start_with_advice(make_manager, keychain):
    m = make_manager([probe("c", secrets=("C_TOKEN",))], keychain)
    with pytest.raises(Exception, match="C_TOKEN"):
        m.start("c")
    assert "workjet mcp add c --secret C_TOKEN" in m.status("c").error


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def http_probe(tmp_path):
    port = _free_port()
    log = open(tmp_path / "http-probe.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, str(PROBE), "--http-port", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(
                    f"HTTP probe server did not start: {(tmp_path / 'http-probe.log').read_text()}"
                )
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/mcp"
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def test_remote_connector_sends_its_bearer_token_only_in_its_own_requests(
    make_manager, keychain, http_probe
):
    keychain.put("r1", "TOKEN", "bearer-of-r1")
    keychain.put("a", "A_TOKEN", "secret-of-a")
    m = make_manager(
        [
            ConnectorConfig("r1", transport="http", url=http_probe, secrets=("TOKEN",)),
            ConnectorConfig("r2", transport="http", url=http_probe),
            probe("a", secrets=("A_TOKEN",)),
        ],
        keychain,
    )
    assert m.call_tool("r1", "auth", {}).content[0].text == "Bearer bearer-of-r1"
    assert m.call_tool("r2", "auth", {}).content[0].text == "none"
    env_a = m.call_tool("a", "env", {}).content[0].text
    assert "bearer-of-r1" not in env_a
