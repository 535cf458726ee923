"""The router against real HTTP emulators: each provider, tools both ways, resilience."""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway.errors import ApiError
from gateway.router import Router, build_router
from gateway.router.relay import FLUSH, stream
from shared.chat import (
    ChatRequest,
    Message,
    TextPart,
    ToolCallPart,
    ToolDefinition,
    ToolResultPart,
)
from shared.events import (
    ErrorEvent,
    MessageEnd,
    MessageStart,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageEvent,
)
from tests.emulators import Behaviour
from tests.gateway.router.conftest import KEY, MODELS, Upstreams
from tests.services.process import ServiceProcess

WEATHER = ToolDefinition(
    name="get_weather", description="Weather for a city",
    input_schema={"type": "object", "properties": {"location": {"type": "string"}},
                  "required": ["location"], "additionalProperties": False},
)


def ask(model: str, text: str = "hello there", **kw: Any) -> ChatRequest:
    return ChatRequest(model=model, messages=(
        Message("system", (TextPart("be brief"),)), Message("user", (TextPart(text),))), **kw)


def plan(router: Router, model: str) -> Any:
    return router.plan(model, "t1", "acme")


def relayed(router: Router, req: ChatRequest, keepalive: float = 5.0) -> list[Any]:
    return list(stream(router, req, plan(router, req.model), keepalive))


def events(router: Router, req: ChatRequest, keepalive: float = 5.0) -> list[Any]:
    """The relayed events and keep-alives (None), without the flush points."""
    return [e for e in relayed(router, req, keepalive) if e is not FLUSH]


@pytest.mark.parametrize("model", MODELS)
def test_complete_text_with_usage_and_cost(router: Router, upstreams: Upstreams,
                                           model: str) -> None:
    answer = router.complete(ask(model), plan(router, model))
    assert answer.content == (TextPart(f"Hello from {model.replace('-test', '-up')}. "
                                       "You said: hello there"),)
    assert answer.stop_reason == "end_turn" and answer.provider == upstreams_provider(model)
    m = router.catalog.models[model]
    assert answer.usage.output_tokens == 7  # the emulator counts words
    assert answer.usage.input_tokens == 4
    assert answer.usage.cost == m.cost(4, 7) > 0 or m.input_price_per_mtok == 0
    sent = upstreams.of(model).state.requests[-1]
    assert "be brief" in json.dumps(sent["body"])  # the system prompt reached the provider


def upstreams_provider(model: str) -> str:
    return {"gpt": "openai", "claude": "anthropic", "gemini": "google", "llama": "ollama"}[
        model.split("-")[0]]


@pytest.mark.parametrize("model", MODELS)
def test_tool_call_and_result_round_trip(router: Router, upstreams: Upstreams,
                                         model: str) -> None:
    req = ask(model, "weather in Paris?", tools=(WEATHER,))
    first = router.complete(req, plan(router, model))
    assert first.stop_reason == "tool_use"
    call = first.content[-1]
    assert isinstance(call, ToolCallPart) and call.name == "get_weather"
    assert call.arguments == {"location": "Paris", "unit": "celsius"}
    sent_tools = json.dumps(upstreams.of(model).state.requests[-1]["body"])
    assert '"additionalProperties": false' in sent_tools  # the schema went whole
    follow = ChatRequest(model=model, tools=(WEATHER,), messages=(
        *req.messages, Message("assistant", (call,)),
        Message("tool", (ToolResultPart(call.id, "18 C and sunny"),))))
    second = router.complete(follow, plan(router, model))
    assert second.content == (TextPart("The tool returned: 18 C and sunny"),)


@pytest.mark.parametrize("model", MODELS)
def test_stream_text_and_tool_events(router: Router, model: str) -> None:
    got = events(router, ask(model, "weather?", tools=(WEATHER,)))
    assert isinstance(got[0], MessageStart) and got[0].model == model
    start = next(e for e in got if isinstance(e, ToolCallStart))
    assert start.name == "get_weather" and start.id
    args = "".join(e.arguments_delta for e in got if isinstance(e, ToolCallDelta))
    assert json.loads(args) == {"location": "Paris", "unit": "celsius"}
    assert any(isinstance(e, ToolCallEnd) for e in got)
    usage = next(e for e in got if isinstance(e, UsageEvent))
    assert usage.output_tokens == 12
    assert got[-1] == MessageEnd("tool_use")
    text = events(router, ask(model, "one two three"))
    assert "".join(e.text for e in text if isinstance(e, TextDelta)).endswith("one two three")
    assert text[-1] == MessageEnd("end_turn")


def test_fallback_on_503_to_the_next_model(router: Router, upstreams: Upstreams) -> None:
    upstreams.openai.state.push(Behaviour(status=503))
    answer = router.complete(ask("resilient"), plan(router, "resilient"))
    assert answer.provider == "anthropic" and answer.model == "claude-test"
    assert len(upstreams.openai.state.requests) == 1


def test_stream_falls_back_before_the_first_byte(router: Router, upstreams: Upstreams) -> None:
    upstreams.openai.state.push(Behaviour(status=503, retry_after="1"))
    got = events(router, ask("resilient"))
    assert isinstance(got[0], MessageStart) and got[0].provider == "anthropic"
    assert got[-1] == MessageEnd("end_turn")


def test_no_fallback_after_the_first_byte(router: Router, upstreams: Upstreams) -> None:
    upstreams.openai.state.push(Behaviour(break_after=3))
    got = events(router, ask("resilient", "a b c d e f g"))
    assert isinstance(got[0], MessageStart) and got[0].provider == "openai"
    assert any(isinstance(e, TextDelta) for e in got)
    assert isinstance(got[-1], ErrorEvent) and got[-1].error.code == "provider_error"
    assert upstreams.anthropic.state.requests == []


def test_rate_limit_carries_retry_after(router: Router, upstreams: Upstreams) -> None:
    upstreams.google.state.default = Behaviour(status=429, retry_after="30")
    with pytest.raises(ApiError) as caught:
        router.complete(ask("gemini-test"), plan(router, "gemini-test"))
    assert caught.value.status == 429 and caught.value.headers["Retry-After"] == "30"
    assert len(upstreams.google.state.requests) == 1  # 30 s is beyond the retry budget


def test_retry_with_backoff_recovers(router: Router, upstreams: Upstreams) -> None:
    upstreams.anthropic.state.push(Behaviour(status=500))
    answer = router.complete(ask("claude-test"), plan(router, "claude-test"))
    assert answer.provider == "anthropic" and len(upstreams.anthropic.state.requests) == 2


def test_client_errors_are_not_retried(router: Router, upstreams: Upstreams) -> None:
    upstreams.openai.state.push(Behaviour(status=400))
    with pytest.raises(ApiError) as caught:
        router.complete(ask("resilient"), plan(router, "resilient"))
    assert caught.value.status == 400 and caught.value.code == "provider_error"
    assert upstreams.anthropic.state.requests == []


def test_read_timeout(upstreams: Upstreams, catalog_path: str) -> None:
    router = build_router(upstreams.settings(catalog_path, router_read_timeout=0.3,
                                             router_retry_rounds=1))
    upstreams.ollama.state.push(Behaviour(latency=2.0))
    started = time.monotonic()
    with pytest.raises(ApiError) as caught:
        router.complete(ask("llama-test"), plan(router, "llama-test"))
    assert caught.value.status == 504 and caught.value.code == "provider_timeout"
    assert time.monotonic() - started < 1.5
    router.close()


def test_circuit_opens_and_closes(upstreams: Upstreams, catalog_path: str) -> None:
    router = build_router(upstreams.settings(catalog_path, router_breaker_threshold=2,
                                             router_retry_rounds=1, router_breaker_reset=0.5))
    upstreams.openai.state.default = Behaviour(status=500)
    for _ in range(2):
        with pytest.raises(ApiError):
            router.complete(ask("gpt-test"), plan(router, "gpt-test"))
    assert router.endpoints["openai"].breaker.state == "open"
    with pytest.raises(ApiError) as caught:  # refused without calling the provider
        router.complete(ask("gpt-test"), plan(router, "gpt-test"))
    assert caught.value.status == 503 and len(upstreams.openai.state.requests) == 2
    fell_back = router.complete(ask("resilient"), plan(router, "resilient"))
    assert fell_back.provider == "anthropic" and len(upstreams.openai.state.requests) == 2
    upstreams.openai.state.default = Behaviour()
    time.sleep(0.6)
    assert router.endpoints["openai"].breaker.state == "half_open"
    assert router.complete(ask("gpt-test"), plan(router, "gpt-test")).provider == "openai"
    assert router.endpoints["openai"].breaker.state == "closed"
    router.close()


def test_closing_the_stream_closes_the_upstream(router: Router, upstreams: Upstreams) -> None:
    upstreams.anthropic.state.push(Behaviour(chunk_delay=0.05, pieces=200))
    relay = stream(router, ask("claude-test"), plan(router, "claude-test"), 5.0)
    assert isinstance(next(relay), MessageStart)
    next(relay)
    relay.close()
    assert upstreams.anthropic.state.stream_closed.wait(3.0)
    assert upstreams.anthropic.state.client_closed == 1


def test_keepalive_ticks_during_silence(router: Router, upstreams: Upstreams) -> None:
    upstreams.ollama.state.push(Behaviour(latency=0.5))
    got = events(router, ask("llama-test"), keepalive=0.1)
    assert got[:2] == [None, None] and isinstance(got[-1], MessageEnd)


@pytest.mark.parametrize("model, provider", [("gpt-test", "openai"), ("claude-test", "anthropic"),
                                             ("gemini-test", "google"), ("llama-test", "ollama")])
def test_keepalive_ticks_between_the_chunks_of_a_slow_stream(
    router: Router, upstreams: Upstreams, model: str, provider: str,
) -> None:
    said = "".join(e.text for e in events(router, ask(model)) if isinstance(e, TextDelta))
    getattr(upstreams, provider).state.push(Behaviour(chunk_delay=0.35, pieces=3))
    got = events(router, ask(model), keepalive=0.1)
    started = next(i for i, e in enumerate(got) if isinstance(e, MessageStart))
    assert got[started:].count(None) >= 4  # silences of 0.35 s after the answer began
    assert "".join(e.text for e in got if isinstance(e, TextDelta)) == said
    assert isinstance(got[-1], MessageEnd)


class GunicornEmulator(ServiceProcess):
    """The emulators under gunicorn, which keeps connections alive after a stream (the
    development server closes them), as providers do."""

    name = "emulator"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", "4",
                "--chdir", str(Path(__file__).resolve().parents[3]),
                "-b", f"127.0.0.1:{self.port}", "tests.emulators.wsgi:app"]

    def environment(self) -> dict[str, str]:
        return {**os.environ, "EMULATOR_API_KEY": KEY, "EMULATOR_PIECES": "30"}

    def is_ready(self) -> bool:  # a worker answers (any status), not only the master's socket
        try:
            requests.get(f"http://127.0.0.1:{self.port}/", timeout=0.5)
        except requests.RequestException:
            return False
        return True


def test_each_event_goes_out_before_the_relay_waits_for_the_next(
    router: Router, upstreams: Upstreams,
) -> None:
    upstreams.google.state.push(Behaviour(chunk_delay=0.2, pieces=4))
    got = relayed(router, ask("gemini-test"))
    texts = [i for i, e in enumerate(got) if isinstance(e, TextDelta)]
    assert len(texts) == 4
    for here, after in itertools.pairwise(texts):
        assert FLUSH in got[here:after]  # flushed, then the 0.2 s wait


def test_streams_read_to_their_end_reuse_one_upstream_connection(
    tmp_path: Path, upstreams: Upstreams, catalog_path: str,
) -> None:
    emulator = GunicornEmulator(tmp_path)
    emulator.start()
    url = f"http://127.0.0.1:{emulator.port}/v1"
    built = build_router(upstreams.settings(catalog_path, openai_base_url=url))
    pools = built.endpoints["openai"].session.get_adapter(url).poolmanager.pools
    try:
        local_ports = []
        for _ in range(4):
            got = events(built, ask("gpt-test"))
            assert isinstance(got[-1], MessageEnd)
            pooled = [c for key in pools.keys() for c in pools[key].pool.queue  # noqa: SIM118
                      if c is not None and c.sock is not None]  # open, back in the pool
            local_ports.append([c.sock.getsockname()[1] for c in pooled])
        assert len(local_ports[0]) == 1 and local_ports == [local_ports[0]] * 4
        # pieces written at once: read together, their events are flushed together
        got = relayed(built, ask("gpt-test"))
        pieces = sum(isinstance(e, TextDelta) for e in got)
        assert pieces >= 15 and got.count(FLUSH) < pieces / 2
    finally:
        built.close()
        emulator.stop()


def test_tenant_allow_list_and_aliases(router: Router) -> None:
    assert [t.model.id for t in router.plan("mine", "t9", "restricted")] == ["llama-test"]
    with pytest.raises(ApiError) as caught:
        router.plan("gpt-test", "t9", "restricted")
    assert caught.value.code == "model_not_allowed"
    with pytest.raises(ApiError):
        router.plan("no-such-model", "t1", "acme")


@pytest.mark.parametrize(("status", "gateway_status", "code"), [
    (401, 502, "provider_error"), (403, 502, "provider_error"), (404, 502, "provider_error"),
    (400, 400, "provider_error"), (500, 503, "provider_unavailable"),
    (529, 503, "provider_unavailable")])
def test_provider_statuses_map_to_gateway_errors(router: Router, upstreams: Upstreams,
                                                 status: int, gateway_status: int,
                                                 code: str) -> None:
    upstreams.anthropic.state.default = Behaviour(status=status)
    with pytest.raises(ApiError) as caught:
        router.complete(ask("claude-test"), plan(router, "claude-test"))
    assert (caught.value.status, caught.value.code) == (gateway_status, code)


def test_stream_broken_before_any_event_falls_back(router: Router,
                                                   upstreams: Upstreams) -> None:
    upstreams.openai.state.push(Behaviour(break_after=0))
    got = events(router, ask("resilient"))
    assert isinstance(got[0], MessageStart) and got[0].provider == "anthropic"
    assert got[-1] == MessageEnd("end_turn")


def test_tool_results_reach_gemini_and_ollama_by_name(router: Router,
                                                      upstreams: Upstreams) -> None:
    call = ToolCallPart("call_x1", "get_weather", {"location": "Oslo"})
    req = ChatRequest(model="gemini-test", tools=(WEATHER,), messages=(
        Message("user", (TextPart("weather?"),)), Message("assistant", (call,)),
        Message("tool", (ToolResultPart("call_x1", '{"temp": 3}'),))))
    router.complete(req, plan(router, "gemini-test"))
    parts = upstreams.google.state.requests[-1]["body"]["contents"][-1]["parts"]
    assert parts == [{"functionResponse": {"name": "get_weather", "response": {"temp": 3}}}]
    router.complete(ChatRequest(model="llama-test", tools=(WEATHER,), messages=req.messages),
                    plan(router, "llama-test"))
    last = upstreams.ollama.state.requests[-1]["body"]["messages"][-1]
    assert last == {"role": "tool", "content": '{"temp": 3}', "tool_name": "get_weather"}


def test_total_timeout_ends_a_slow_stream(upstreams: Upstreams, catalog_path: str) -> None:
    router = build_router(upstreams.settings(catalog_path, router_total_timeout=0.5))
    upstreams.google.state.push(Behaviour(chunk_delay=0.1, pieces=50))
    started = time.monotonic()
    got = events(router, ask("gemini-test"))
    assert isinstance(got[-1], ErrorEvent) and got[-1].error.code == "provider_timeout"
    assert sum(isinstance(e, TextDelta) for e in got) >= 2  # it streamed until the deadline
    assert time.monotonic() - started < 1.5
    router.close()


def test_a_provider_silent_longer_than_the_read_timeout_ends_the_stream(
    upstreams: Upstreams, catalog_path: str,
) -> None:
    router = build_router(upstreams.settings(catalog_path, router_read_timeout=0.5))
    upstreams.google.state.push(Behaviour(chunk_delay=3.0, pieces=3))
    started = time.monotonic()
    got = events(router, ask("gemini-test"), keepalive=0.1)
    assert isinstance(got[0], MessageStart) and isinstance(got[1], TextDelta)
    assert isinstance(got[-1], ErrorEvent) and got[-1].error.code == "provider_error"
    assert got.count(None) >= 3  # keep-alives until the silence became too long
    assert time.monotonic() - started < 2.5
    router.close()


def test_stream_usage_carries_the_catalog_cost(router: Router) -> None:
    got = events(router, ask("claude-test", "a b c"))
    usage = next(e for e in got if isinstance(e, UsageEvent))
    m = router.catalog.models["claude-test"]
    assert usage.cost == m.cost(usage.input_tokens, usage.output_tokens) > 0
