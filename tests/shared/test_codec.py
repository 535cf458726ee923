"""The codec: every wire type survives encode → decode, and the JSON has the agreed shape."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pkgutil

import pytest

import shared
from shared import (
    ChatRequest,
    ContentPart,
    ErrorBody,
    StreamEvent,
    TextDelta,
    decode,
    encode,
    from_wire,
    to_wire,
)
from tests.shared.samples import CALL, ERROR, REQUEST, RESPONSE, SAMPLES


@pytest.mark.parametrize("value", SAMPLES, ids=lambda v: type(v).__name__)
def test_encode_then_decode_gives_the_same_value(value: object) -> None:
    text = encode(value)
    assert decode(type(value), text) == value
    assert decode(type(value), text.encode()) == value  # bytes, as a request body arrives
    assert from_wire(type(value), json.loads(text)) == value


def test_every_wire_type_has_a_sample() -> None:
    wire_types = {
        value
        for info in pkgutil.iter_modules(shared.__path__)
        for value in vars(importlib.import_module(f"shared.{info.name}")).values()
        if inspect.isclass(value) and dataclasses.is_dataclass(value)
    }
    assert len(wire_types) >= 20
    assert wire_types - {type(v) for v in SAMPLES} == set()


@pytest.mark.parametrize(
    "event", [v for v in SAMPLES if "type" in to_wire(v) and type(v).__module__ == "shared.events"]
)
def test_stream_events_decode_through_the_union_by_their_type_tag(event: object) -> None:
    assert decode(StreamEvent, encode(event)) == event  # type: ignore[arg-type]


def test_content_parts_decode_through_the_union() -> None:
    for part in (*REQUEST.messages[2].content, *REQUEST.messages[3].content):
        assert decode(ContentPart, encode(part)) == part  # type: ignore[arg-type]


def test_the_error_body_has_the_agreed_shape() -> None:
    assert json.loads(encode(ErrorBody(error=ERROR))) == {
        "error": {
            "code": "rate_limited",
            "message": "Too many requests; retry in 7 s",
            "request_id": "r1",
        }
    }


def test_events_carry_their_type_tag() -> None:
    assert json.loads(encode(TextDelta("hi"))) == {"type": "text_delta", "text": "hi"}


def test_unset_optional_fields_are_left_out_and_tuples_are_arrays() -> None:
    wire = to_wire(ChatRequest(model="m", messages=()))
    assert "max_tokens" not in wire and "temperature" not in wire
    assert wire["messages"] == [] and wire["stop"] == [] and wire["stream"] is False


def test_encode_is_compact_utf8_text() -> None:
    text = encode(RESPONSE)
    assert "°C" in text and ", " not in text.replace("It is 18 °C.", "")
    assert json.loads(text)["content"][1] == {
        "id": "call_1",
        "name": "weather",
        "arguments": {"city": "Zürich", "days": [1, 2]},
        "type": "tool_call",
    }
    assert CALL.arguments == {"city": "Zürich", "days": [1, 2]}


def test_unknown_keys_are_ignored_so_old_clients_read_new_gateways() -> None:
    wire = json.loads(encode(TextDelta("x")))
    wire["added_in_a_later_version"] = {"a": 1}
    assert from_wire(TextDelta, wire) == TextDelta("x")


def test_integers_are_accepted_where_a_number_is_expected() -> None:
    usage = decode(shared.Usage, b'{"cost": 2}')
    assert usage.cost == 2.0 and isinstance(usage.cost, float)
