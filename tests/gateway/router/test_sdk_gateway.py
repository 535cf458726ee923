"""The official OpenAI and Anthropic SDKs against the real gateway (gunicorn as deployed).

Each SDK gets the gateway's URL as ``base_url`` and a Workjet API key as its key, and
chats, streaming and not, with a tool round trip, against a model of every provider:
an Anthropic-format request answered by Gemini, an OpenAI-format one by Claude, and so on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
import requests

from tests.emulators import Behaviour
from tests.gateway.router.conftest import MODELS, TEST_CATALOG, Upstreams, emulator_env
from tests.gateway.server import GatewayServer, Provisioned, provision

pytestmark = pytest.mark.integration

WEATHER_SCHEMA = {"type": "object", "properties": {"location": {"type": "string"},
                                                   "unit": {"type": "string"}},
                  "required": ["location"]}


@pytest.fixture(scope="module")
def gateway(_emulators: Upstreams,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GatewayServer, str]]:
    workdir = tmp_path_factory.mktemp("sdk-gateway")
    catalog = workdir / "catalog.json"
    catalog.write_text(json.dumps(TEST_CATALOG))
    server = GatewayServer(Path(workdir), emulator_env(_emulators, str(catalog)))
    server.start()
    who: Provisioned = provision(server.store, "acme", "dev@acme.test", "member")
    yield server, who.key
    server.stop()


@pytest.fixture
def oai(gateway: tuple[GatewayServer, str], upstreams: Upstreams) -> openai.OpenAI:
    server, key = gateway
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0)


@pytest.fixture
def claude(gateway: tuple[GatewayServer, str], upstreams: Upstreams) -> anthropic.Anthropic:
    server, key = gateway
    return anthropic.Anthropic(base_url=server.url, api_key=key, max_retries=0)


OPENAI_TOOL: Any = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city", "parameters": WEATHER_SCHEMA}}
ANTHROPIC_TOOL: Any = {"name": "get_weather", "description": "Weather for a city",
                       "input_schema": WEATHER_SCHEMA}
ARGS = {"location": "Paris", "unit": "celsius"}


@pytest.mark.parametrize("model", MODELS)
def test_openai_sdk_tool_round_trip(oai: openai.OpenAI, model: str) -> None:
    question: list[Any] = [{"role": "system", "content": "be brief"},
                           {"role": "user", "content": "weather in Paris?"}]
    first = oai.chat.completions.create(model=model, messages=question, tools=[OPENAI_TOOL])
    assert first.model == model and first.choices[0].finish_reason == "tool_calls"
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == ARGS  # type: ignore[union-attr]
    follow = [*question, first.choices[0].message.model_dump(exclude_none=True),
              {"role": "tool", "tool_call_id": call.id, "content": "18 C"}]
    second = oai.chat.completions.create(model=model, messages=follow, tools=[OPENAI_TOOL])
    assert second.choices[0].message.content == "The tool returned: 18 C"
    assert second.usage is not None and second.usage.completion_tokens > 0


@pytest.mark.parametrize("model", MODELS)
def test_openai_sdk_streams_text_and_tool_calls(oai: openai.OpenAI, model: str) -> None:
    chunks = list(oai.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "weather?"}], tools=[OPENAI_TOOL],
        stream=True, stream_options={"include_usage": True}))
    args = "".join(tc.function.arguments or "" for ch in chunks for c in ch.choices
                   for tc in c.delta.tool_calls or [] if tc.function)
    names = [tc.function.name for ch in chunks for c in ch.choices
             for tc in c.delta.tool_calls or [] if tc.function and tc.function.name]
    assert names == ["get_weather"] and json.loads(args) == ARGS
    assert [c.finish_reason for ch in chunks for c in ch.choices if c.finish_reason] == [
        "tool_calls"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 12
    text = oai.chat.completions.create(model=model, stream=True,
                                       messages=[{"role": "user", "content": "one two"}])
    said = "".join(c.delta.content or "" for ch in text for c in ch.choices)
    assert said.endswith("You said: one two")


@pytest.mark.parametrize("model", MODELS)
def test_anthropic_sdk_tool_round_trip(claude: anthropic.Anthropic, model: str) -> None:
    question: list[Any] = [{"role": "user", "content": "weather in Paris?"}]
    first = claude.messages.create(model=model, max_tokens=200, system="be brief",
                                   messages=question, tools=[ANTHROPIC_TOOL])
    assert first.model == model and first.stop_reason == "tool_use"
    block = next(b for b in first.content if b.type == "tool_use")
    assert block.name == "get_weather" and block.input == ARGS
    follow = [*question, {"role": "assistant", "content": [b.model_dump() for b in first.content]},
              {"role": "user", "content": [{"type": "tool_result", "tool_use_id": block.id,
                                            "content": "18 C"}]}]
    second = claude.messages.create(model=model, max_tokens=200, messages=follow,
                                    tools=[ANTHROPIC_TOOL])
    assert second.content[0].text == "The tool returned: 18 C"  # type: ignore[union-attr]
    assert second.stop_reason == "end_turn" and second.usage.output_tokens > 0


@pytest.mark.parametrize("model", MODELS)
def test_anthropic_sdk_streams_text_and_tool_calls(claude: anthropic.Anthropic,
                                                   model: str) -> None:
    with claude.messages.stream(model=model, max_tokens=200, tools=[ANTHROPIC_TOOL],
                                messages=[{"role": "user", "content": "weather?"}]) as stream:
        events = list(stream)
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use" and final.usage.output_tokens == 12
    block = next(b for b in final.content if b.type == "tool_use")
    assert block.input == ARGS
    assert sum(1 for e in events if e.type == "input_json") >= 1
    with claude.messages.stream(model=model, max_tokens=50,
                                messages=[{"role": "user", "content": "one two"}]) as stream:
        said = "".join(stream.text_stream)
    assert said.endswith("You said: one two")


def test_client_disconnect_closes_the_upstream(gateway: tuple[GatewayServer, str],
                                               upstreams: Upstreams) -> None:
    server, key = gateway
    upstreams.google.state.push(Behaviour(chunk_delay=0.05, pieces=400))
    response = requests.post(server.url + "/api/v1/chat", stream=True, timeout=10,
                             headers={"Authorization": f"Bearer {key}"},
                             json={"model": "gemini-test", "stream": True, "messages": [
                                 {"role": "user", "content": [{"type": "text", "text": "hi"}]}]})
    lines = response.iter_lines()
    assert b"message_start" in next(lines)
    while b"text_delta" not in next(lines):
        pass
    response.close()  # the client goes away mid-answer
    assert upstreams.google.state.stream_closed.wait(5.0), "the upstream stream stayed open"
    assert upstreams.google.state.completed == 0


def test_keepalive_comments_during_provider_silence(gateway: tuple[GatewayServer, str],
                                                    upstreams: Upstreams) -> None:
    server, key = gateway
    upstreams.anthropic.state.push(Behaviour(latency=0.7))
    started = time.monotonic()
    response = requests.post(server.url + "/api/v1/chat", stream=True, timeout=10,
                             headers={"Authorization": f"Bearer {key}"},
                             json={"model": "claude-test", "stream": True, "messages": [
                                 {"role": "user", "content": [{"type": "text", "text": "hi"}]}]})
    lines = response.iter_lines()
    first = next(lines)
    assert first == b": keep-alive" and time.monotonic() - started < 0.6
    rest = b"\n".join(lines)
    assert b'"type":"message_end"' in rest


def test_each_event_reaches_the_client_as_it_arrives(gateway: tuple[GatewayServer, str],
                                                      upstreams: Upstreams) -> None:
    server, key = gateway
    upstreams.google.state.push(Behaviour(chunk_delay=0.4, pieces=3))
    started = time.monotonic()
    response = requests.post(server.url + "/api/v1/chat", stream=True, timeout=10,
                             headers={"Authorization": f"Bearer {key}"},
                             json={"model": "gemini-test", "stream": True, "messages": [
                                 {"role": "user", "content": [{"type": "text", "text": "hi"}]}]})
    seen = [(time.monotonic() - started, line) for line in response.iter_lines() if line]
    deltas = [at for at, line in seen if b'"type":"text_delta"' in line]
    assert len(deltas) == 3
    assert deltas[0] < 0.3 and deltas[1] > 0.35 and deltas[2] > 0.75  # none held back
    assert b"message_end" in seen[-1][1]


def test_both_sdks_list_the_models(oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    assert {m.id for m in oai.models.list()} == set(MODELS)
    assert {m.id for m in claude.models.list()} == set(MODELS)


def test_provider_errors_reach_the_sdk_with_retry_after(oai: openai.OpenAI,
                                                        upstreams: Upstreams) -> None:
    upstreams.anthropic.state.default = Behaviour(status=429, retry_after="17")
    with pytest.raises(openai.RateLimitError) as caught:
        oai.chat.completions.create(model="claude-test",
                                    messages=[{"role": "user", "content": "hi"}])
    assert caught.value.response.headers["retry-after"] == "17"
    assert caught.value.body["code"] == "rate_limited"  # type: ignore[index]


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/chat/completions", {"model": "llama-test", "stream": True,
                              "messages": [{"role": "user", "content": "one two three"}]}),
    ("/v1/messages", {"model": "gpt-test", "stream": True, "max_tokens": 50,
                      "messages": [{"role": "user", "content": "one two three"}]}),
    ("/api/v1/chat", {"model": "claude-test", "stream": True, "messages": [
        {"role": "user", "content": [{"type": "text", "text": "one two three"}]}]}),
])
def test_every_door_relays_text_as_it_arrives(gateway: tuple[GatewayServer, str],
                                              upstreams: Upstreams, path: str,
                                              body: dict[str, Any]) -> None:
    server, key = gateway
    for emu in (upstreams.openai, upstreams.anthropic, upstreams.ollama):
        emu.state.push(Behaviour(chunk_delay=0.15, pieces=8))
    started = time.monotonic()
    response = requests.post(server.url + path, json=body, stream=True, timeout=10,
                             headers={"Authorization": f"Bearer {key}"})
    lines = response.iter_lines()
    first_text = next(line for line in lines if b"text_delta" in line
                      or (b'"content": "' in line and b'"content": ""' not in line))
    seen_at = time.monotonic() - started
    rest = list(lines)
    total = time.monotonic() - started
    assert seen_at < 0.6 and total > 1.0  # the first words came long before the last
    assert any(b"[DONE]" in x or b"message_stop" in x or b"message_end" in x for x in rest)
    assert first_text
