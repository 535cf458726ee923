"""The provider emulators speak each provider's wire protocol: the official SDKs parse them.

Each SDK client talks to an emulator over real HTTP; what it returns is the SDK's own
typed object, so a field the emulator got wrong fails the SDK's validation or the asserts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import ollama
import openai
import pytest
from anthropic.types import Message, RawMessageStreamEvent
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as gt
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import TypeAdapter

from tests.emulators import Behaviour, Emulator

KEY = "test-provider-key"
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "schema": {"type": "object", "properties": {"location": {"type": "string"},
                                                "unit": {"enum": ["celsius", "fahrenheit"]}},
               "required": ["location"]},
}


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(api_key=KEY) as server:
        yield server


# --- OpenAI ---------------------------------------------------------------------------

def _openai(emu: Emulator) -> openai.OpenAI:
    return openai.OpenAI(base_url=emu.url + "/v1", api_key=KEY, max_retries=0)


OPENAI_TOOL: Any = {"type": "function", "function": {
    "name": WEATHER["name"], "description": WEATHER["description"],
    "parameters": WEATHER["schema"]}}


def test_openai_text_and_tool_round_trip(emu: Emulator) -> None:
    client = _openai(emu)
    answer = client.chat.completions.create(
        model="gpt-emu", messages=[{"role": "system", "content": "be brief"},
                                   {"role": "user", "content": "hi there"}])
    assert isinstance(answer, ChatCompletion)
    assert answer.choices[0].message.content == "Hello from gpt-emu. You said: hi there"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and answer.usage.completion_tokens == 7

    call = client.chat.completions.create(
        model="gpt-emu", messages=[{"role": "user", "content": "weather?"}], tools=[OPENAI_TOOL])
    assert call.choices[0].finish_reason == "tool_calls"
    tool_call = call.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert tool_call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(tool_call.function.arguments) == {"location": "Paris", "unit": "celsius"}  # type: ignore[union-attr]
    raw = emu.state.requests[-1]["body"]
    ChatCompletion.model_validate(_openai_raw(emu, raw))


def _openai_raw(emu: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    import requests
    response = requests.post(emu.url + "/v1/chat/completions", json=body, timeout=5,
                             headers={"Authorization": f"Bearer {KEY}"})
    return dict(response.json())


def test_openai_stream_with_streamed_tool_arguments(emu: Emulator) -> None:
    stream = _openai(emu).chat.completions.create(
        model="gpt-emu", messages=[{"role": "user", "content": "weather?"}],
        tools=[OPENAI_TOOL], stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    fragments = [tc.function.arguments for c in chunks for ch in c.choices
                 for tc in ch.delta.tool_calls or [] if tc.function and tc.function.arguments]
    assert len(fragments) > 1
    assert json.loads("".join(fragments)) == {"location": "Paris", "unit": "celsius"}
    assert chunks[-2].choices[0].finish_reason == "tool_calls"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0


def test_openai_errors_carry_status_and_retry_after(emu: Emulator) -> None:
    emu.state.push(Behaviour(status=429, retry_after="7"))
    with pytest.raises(openai.RateLimitError) as caught:
        _openai(emu).chat.completions.create(
            model="gpt-emu", messages=[{"role": "user", "content": "x"}])
    assert caught.value.response.headers["retry-after"] == "7"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=emu.url + "/v1", api_key="wrong", max_retries=0) \
            .chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])


def test_openai_broken_stream_fails_the_sdk(emu: Emulator) -> None:
    emu.state.push(Behaviour(break_after=2))
    stream = _openai(emu).chat.completions.create(
        model="gpt-emu", messages=[{"role": "user", "content": "a b c d e"}], stream=True)
    with pytest.raises(Exception):  # noqa: B017 - httpx's RemoteProtocolError, wrapped or not
        list(stream)


# --- Anthropic ------------------------------------------------------------------------

def _anthropic(emu: Emulator) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=emu.url, api_key=KEY, max_retries=0)


ANTHROPIC_TOOL: Any = {"name": WEATHER["name"], "description": WEATHER["description"],
                       "input_schema": WEATHER["schema"]}


def test_anthropic_text_tool_and_tool_result(emu: Emulator) -> None:
    client = _anthropic(emu)
    answer = client.messages.create(model="claude-emu", max_tokens=100, system="be brief",
                                    messages=[{"role": "user", "content": "hi"}])
    assert isinstance(answer, Message)
    assert answer.content[0].text == "Hello from claude-emu. You said: hi"  # type: ignore[union-attr]
    assert answer.stop_reason == "end_turn"
    call = client.messages.create(model="claude-emu", max_tokens=100, tools=[ANTHROPIC_TOOL],
                                  messages=[{"role": "user", "content": "weather?"}])
    assert call.stop_reason == "tool_use"
    block = call.content[0]
    assert block.type == "tool_use" and block.input == {"location": "Paris", "unit": "celsius"}
    result = client.messages.create(
        model="claude-emu", max_tokens=100, tools=[ANTHROPIC_TOOL],
        messages=[{"role": "user", "content": "weather?"},
                  {"role": "assistant", "content": [block.model_dump()]},
                  {"role": "user", "content": [{"type": "tool_result", "tool_use_id": block.id,
                                                "content": "18 C"}]}])
    assert result.content[0].text == "The tool returned: 18 C"  # type: ignore[union-attr]


def test_anthropic_stream_events_parse(emu: Emulator) -> None:
    client = _anthropic(emu)
    with client.messages.stream(model="claude-emu", max_tokens=100, tools=[ANTHROPIC_TOOL],
                                messages=[{"role": "user", "content": "weather?"}]) as stream:
        events = list(stream)
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert final.content[0].input == {"location": "Paris", "unit": "celsius"}  # type: ignore[union-attr]
    assert sum(1 for e in events if e.type == "input_json") > 1
    adapter: TypeAdapter[Any] = TypeAdapter(RawMessageStreamEvent)
    import requests
    raw = requests.post(emu.url + "/v1/messages", headers={"x-api-key": KEY}, timeout=5,
                        json={"model": "c", "max_tokens": 5, "stream": True,
                              "messages": [{"role": "user", "content": "hi"}]})
    datas = [json.loads(line[6:]) for line in raw.text.splitlines() if line.startswith("data: ")]
    parsed = [adapter.validate_python(d) for d in datas if d["type"] != "ping"]
    assert parsed[0].type == "message_start" and parsed[-1].type == "message_stop"


def test_anthropic_overloaded_error(emu: Emulator) -> None:
    emu.state.push(Behaviour(status=529, retry_after="3"))
    with pytest.raises(anthropic.APIStatusError) as caught:
        _anthropic(emu).messages.create(model="c", max_tokens=5,
                                        messages=[{"role": "user", "content": "x"}])
    assert caught.value.status_code == 529
    assert caught.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]


# --- Google Gemini --------------------------------------------------------------------

def _genai(emu: Emulator, key: str = KEY) -> genai.Client:
    return genai.Client(api_key=key, http_options=gt.HttpOptions(
        base_url=emu.url, retry_options=gt.HttpRetryOptions(attempts=1)))


GEMINI_TOOL = gt.Tool(function_declarations=[gt.FunctionDeclaration(
    name=WEATHER["name"], description=WEATHER["description"],
    parameters_json_schema=WEATHER["schema"])])


def test_gemini_text_and_function_call(emu: Emulator) -> None:
    client = _genai(emu)
    answer = client.models.generate_content(
        model="gemini-emu", contents="hello",
        config=gt.GenerateContentConfig(system_instruction="be brief"))
    assert answer.text == "Hello from gemini-emu. You said: hello"
    assert answer.usage_metadata is not None and answer.usage_metadata.candidates_token_count == 6
    call = client.models.generate_content(
        model="gemini-emu", contents="weather?", config=gt.GenerateContentConfig(
            tools=[GEMINI_TOOL],
            automatic_function_calling=gt.AutomaticFunctionCallingConfig(disable=True)))
    fc = call.function_calls[0]  # type: ignore[index]
    assert fc.name == "get_weather" and fc.args == {"location": "Paris", "unit": "celsius"}


def test_gemini_stream_and_errors(emu: Emulator) -> None:
    client = _genai(emu)
    chunks = list(client.models.generate_content_stream(model="gemini-emu", contents="a b c"))
    assert all(isinstance(c, gt.GenerateContentResponse) for c in chunks)
    assert "".join(c.text or "" for c in chunks) == "Hello from gemini-emu. You said: a b c"
    assert chunks[-1].candidates[0].finish_reason == gt.FinishReason.STOP  # type: ignore[index]
    emu.state.push(Behaviour(status=503))
    with pytest.raises(genai_errors.ServerError) as caught:
        client.models.generate_content(model="gemini-emu", contents="x")
    assert caught.value.code == 503
    wrong_key = _genai(emu, "wrong")  # held: a Client closes its transport when collected
    with pytest.raises(genai_errors.ClientError) as refused:
        wrong_key.models.generate_content(model="gemini-emu", contents="x")
    assert refused.value.code == 401


# --- Ollama ---------------------------------------------------------------------------

def test_ollama_chat_stream_and_tools(emu: Emulator) -> None:
    client = ollama.Client(host=emu.url)
    answer = client.chat(model="llama-emu", messages=[{"role": "user", "content": "hi"}])
    assert isinstance(answer, ollama.ChatResponse)
    assert answer.message.content == "Hello from llama-emu. You said: hi"
    assert answer.done_reason == "stop" and answer.eval_count == 6
    parts = list(client.chat(model="llama-emu", stream=True,
                             messages=[{"role": "user", "content": "hi"}]))
    assert all(isinstance(p, ollama.ChatResponse) for p in parts)
    assert "".join(p.message.content or "" for p in parts) == answer.message.content
    tool = {"type": "function", "function": {"name": WEATHER["name"],
            "description": WEATHER["description"], "parameters": WEATHER["schema"]}}
    call = client.chat(model="llama-emu", tools=[tool],
                       messages=[{"role": "user", "content": "weather?"}])
    assert call.message.tool_calls is not None
    assert call.message.tool_calls[0].function.arguments == {"location": "Paris",
                                                             "unit": "celsius"}
    emu.state.push(Behaviour(status=500))
    with pytest.raises(ollama.ResponseError) as caught:
        client.chat(model="llama-emu", messages=[{"role": "user", "content": "x"}])
    assert caught.value.status_code == 500


def test_slow_stream_is_paced(emu: Emulator) -> None:
    import time
    emu.state.push(Behaviour(chunk_delay=0.05, latency=0.1))
    start = time.monotonic()
    list(ollama.Client(host=emu.url).chat(model="m", stream=True,
                                          messages=[{"role": "user", "content": "one two"}]))
    assert time.monotonic() - start >= 0.1 + 0.05 * 6
