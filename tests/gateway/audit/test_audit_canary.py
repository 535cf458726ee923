"""The canary: distinctive strings in system prompts, prompts, tool calls and results and
answers reach the provider and the client, yet appear in no audit object, no spool file,
no database file and no log line of a real gunicorn gateway auditing to a real S3 server.
"""

from __future__ import annotations

import gzip
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway.audit.config import S3Target
from gateway.audit.objects import object_lines, parse_data_key
from gateway.audit.sinks import S3Sink
from tests.emulators import Behaviour, Emulator
from tests.gateway.server import provision

pytestmark = pytest.mark.integration

KEY = "test-provider-key"
CATALOG = {"models": [
    {"id": "gpt-test", "provider": "openai", "upstream": "gpt-up", "context_window": 100000,
     "input_price_per_mtok": 2.0, "output_price_per_mtok": 8.0,
     "capabilities": ["streaming", "tools"]},
    {"id": "claude-test", "provider": "anthropic", "upstream": "claude-up",
     "context_window": 100000, "input_price_per_mtok": 3.0, "output_price_per_mtok": 15.0,
     "capabilities": ["streaming", "tools"]},
]}


def canary(kind: str) -> str:
    return f"wjcanary{kind}{secrets.token_hex(8)}"


def unpacked(data: bytes) -> bytes:
    """The bytes as written, and inflated too when they are gzip'd (audit objects are)."""
    if data[:2] == b"\x1f\x8b":
        try:
            return data + gzip.decompress(data)
        except (OSError, EOFError):
            return data
    return data


def answer_text(resp: requests.Response) -> str:
    """The answer as the client sees it: the text deltas of a stream joined, or the body."""
    if not resp.headers["Content-Type"].startswith("text/event-stream"):
        return resp.text
    events = [json.loads(line[6:]) for line in resp.text.splitlines()
              if line.startswith("data: ")]
    return "".join(e.get("text", "") for e in events if e["type"] == "text_delta")


def text_msg(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "content": [{"type": "text", "text": text}]}


def test_no_content_at_rest_anywhere(
    gateway_server: Callable[..., Any], s3_server: Any, tmp_path: Path
) -> None:
    c = {k: canary(k) for k in ("system", "user", "args", "tool", "answer", "compat")}
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(CATALOG))
    with Emulator(api_key=KEY) as openai, Emulator(api_key=KEY) as anthropic:
        env = {
            "WORKJET_OPENAI_BASE_URL": openai.url + "/v1", "WORKJET_OPENAI_API_KEY": KEY,
            "WORKJET_ANTHROPIC_BASE_URL": anthropic.url, "WORKJET_ANTHROPIC_API_KEY": KEY,
            "WORKJET_ROUTER_CATALOG": str(catalog),
            "WORKJET_AUDIT_URL": f"s3://{s3_server.endpoint}/audit-canary",
            "WORKJET_AUDIT_S3_ACCESS_KEY": s3_server.access_key,
            "WORKJET_AUDIT_S3_SECRET_KEY": s3_server.secret_key,
            "WORKJET_AUDIT_S3_REGION": s3_server.region,
            "WORKJET_AUDIT_S3_ALLOW_HTTP": "true",
            "WORKJET_AUDIT_S3_CREATE_BUCKET": "true",
            "WORKJET_AUDIT_UPLOAD_INTERVAL": "0.2",
            "WORKJET_LOG_LEVEL": "DEBUG",
        }
        server = gateway_server(env=env, workers=1)
        user = provision(server.store, "acme", "dev@acme.test", "member")
        http = requests.Session()
        http.trust_env = False
        http.headers["Authorization"] = f"Bearer {user.key}"
        answers: list[str] = []

        # 1. system prompt and prompt, whole answer (the emulator echoes the prompt)
        r = http.post(f"{server.url}/api/v1/chat", timeout=30, json={
            "model": "gpt-test",
            "messages": [text_msg("system", c["system"]), text_msg("user", c["user"])]})
        assert r.status_code == 200, r.text
        answers.append(answer_text(r))
        # 2. a streamed answer that carries its own canary
        anthropic.state.push(Behaviour(text=f"here {c['answer']} it is", pieces=3))
        r = http.post(f"{server.url}/api/v1/chat", timeout=30, json={
            "model": "claude-test", "stream": True, "messages": [text_msg("user", "hi")]})
        assert r.status_code == 200
        answers.append(answer_text(r))
        # 3. a tool call's arguments and the tool's result (which the model reports back)
        r = http.post(f"{server.url}/api/v1/chat", timeout=30, stream=False, json={
            "model": "claude-test", "stream": True,
            "tools": [{"name": "lookup", "input_schema": {"type": "object"}}],
            "messages": [
                text_msg("user", "look it up"),
                {"role": "assistant", "content": [{"type": "tool_call", "id": "call_1",
                                                   "name": "lookup",
                                                   "arguments": {"q": c["args"]}}]},
                {"role": "tool", "content": [{"type": "tool_result", "tool_call_id": "call_1",
                                              "content": c["tool"]}]},
            ]})
        assert r.status_code == 200
        answers.append(answer_text(r))
        # 4. the OpenAI-compatible front door
        r = http.post(f"{server.url}/v1/chat/completions", timeout=30, json={
            "model": "gpt-test", "messages": [{"role": "system", "content": c["compat"]},
                                              {"role": "user", "content": "x"}]})
        assert r.status_code == 200, r.text
        server.stop()  # graceful: the worker flushes its audit spool
        upstream = json.dumps(openai.state.requests + anthropic.state.requests)

    # The canaries really travelled: to the providers, and back to the client.
    for kind in ("system", "user", "args", "tool", "compat"):
        assert c[kind] in upstream, f"the {kind} canary never reached a provider"
    assert c["user"] in answers[0] and c["answer"] in answers[1] and c["tool"] in answers[2]

    # Every file the gateway wrote: database (+WAL), spool, keys, its log (DEBUG level).
    files = [p for p in server.workdir.rglob("*") if p.is_file()]
    assert any(p.name == "gateway.db" for p in files)
    assert any(p.name == "gateway.log" for p in files)
    sink = S3Sink(S3Target(s3_server.endpoint, "audit-canary", s3_server.access_key,
                           s3_server.secret_key, secure=False, region=s3_server.region))
    objects = {key: sink.get(key) for key in sink.list("")}
    records = [json.loads(line) for key, body in objects.items() if parse_data_key(key)
               for line in object_lines(body)]
    assert len([r for r in records if r["kind"] == "request"]) == 4
    assert all(r["status"] == 200 and r["input_tokens"] > 0 for r in records)
    places = {str(p): unpacked(p.read_bytes()) for p in files}
    places.update({f"s3://audit-canary/{k}": unpacked(v) for k, v in objects.items()})
    for where, data in places.items():
        for kind, value in c.items():
            assert value.encode() not in data, f"the {kind} canary is in {where}"
