"""Untrusted JSON: the codec refuses bad shapes naming where, and bounds size and depth."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    ChatRequest,
    DecodeError,
    ErrorDetail,
    StreamEvent,
    Usage,
    ValidationError,
    WireError,
    decode,
    decode_json,
    encode,
)
from tests.shared.samples import REQUEST


def _request(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(encode(REQUEST))
    body.update(changes)
    return body


def _refused(body: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        decode(ChatRequest, json.dumps(body))
    assert info.value.code == "validation_failed"
    assert isinstance(info.value, WireError)
    return info.value


# --- validation names the path -------------------------------------------------------------


def test_a_wrong_role_is_refused_naming_the_message() -> None:
    body = _request()
    body["messages"][1]["role"] = "admin"
    error = _refused(body)
    assert error.path == "messages[1].role"
    assert str(error).startswith("messages[1].role: expected one of ")
    assert "'assistant'" in str(error) and "'user'" in str(error)


def test_a_missing_field_is_refused_naming_it() -> None:
    body = _request()
    del body["model"]
    assert str(_refused(body)) == "model: is required"
    body = _request()
    del body["messages"][2]["content"][1]["name"]
    assert _refused(body).path == "messages[2].content[1].name"


@pytest.mark.parametrize(
    ("changes", "path", "problem"),
    [
        ({"model": 5}, "model", "expected a string"),
        ({"max_tokens": "10"}, "max_tokens", "expected an integer"),
        ({"max_tokens": 10.0}, "max_tokens", "expected an integer"),
        ({"temperature": "hot"}, "temperature", "expected a number"),
        ({"stream": "yes"}, "stream", "expected true or false"),
        ({"stream": 1}, "stream", "expected true or false"),
        ({"messages": {"role": "user"}}, "messages", "expected an array"),
        ({"messages": ["hi"]}, "messages[0]", "expected an object"),
        ({"stop": [1]}, "stop[0]", "expected a string"),
        (
            {"tools": [{"name": "t", "input_schema": []}]},
            "tools[0].input_schema",
            "expected an object",
        ),
    ],
)
def test_a_wrong_type_is_refused_naming_the_path(
    changes: dict[str, Any], path: str, problem: str
) -> None:
    error = _refused(_request(**changes))
    assert (error.path, error.problem) == (path, problem)


@pytest.mark.parametrize(
    ("cls", "body", "path"),
    [
        (ChatRequest, _request(max_tokens=True), "max_tokens"),
        (ChatRequest, _request(temperature=False), "temperature"),
        (Usage, {"input_tokens": True}, "input_tokens"),
        (Usage, {"cost": True}, "cost"),
    ],
)
def test_a_bool_is_not_accepted_as_a_number(cls: type, body: object, path: str) -> None:
    with pytest.raises(ValidationError) as info:
        decode(cls, json.dumps(body))
    assert info.value.path == path


@pytest.mark.parametrize("tag", ["image", "", None, 3, ["text"], {"t": 1}])
def test_an_unknown_content_type_tag_is_refused(tag: object) -> None:
    body = _request()
    body["messages"][1]["content"].append({"type": tag, "text": "x"})
    error = _refused(body)
    assert error.path == "messages[1].content[1].type"
    assert "'text', 'tool_call', 'tool_result'" in error.problem


def test_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        decode(StreamEvent, b'{"type": "message_pause"}')  # type: ignore[arg-type]
    assert info.value.path == "type"


def test_an_unknown_error_code_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        decode(ErrorDetail, b'{"code": "teapot", "message": "x"}')
    assert info.value.path == "code"


def test_a_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValidationError, match="expected an object"):
        decode(ChatRequest, b"[]")


# --- malformed JSON ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"{", b'{"model": }', b"\xff\xfe\x00", b"{'model': 'm'}", b"[1,]", b"nul"],
)
def test_malformed_json_raises_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError, match="malformed JSON") as info:
        decode(ChatRequest, data)
    assert info.value.code == "invalid_json"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_number_constants_are_refused(constant: str) -> None:
    # They are not JSON; accepting them would let `encode` emit text other parsers reject.
    with pytest.raises(DecodeError, match=constant):
        decode(Usage, f'{{"cost": {constant}}}')


def test_an_integer_with_thousands_of_digits_is_a_decode_error() -> None:
    # Python refuses to convert > 4300 digits with a plain ValueError; it must not escape
    # as anything other than DecodeError (the gateway would answer 500).
    with pytest.raises(DecodeError, match="malformed JSON"):
        decode(ChatRequest, b'{"max_tokens": ' + b"9" * 5000 + b"}")


# --- size and depth bounds -------------------------------------------------------------------


def test_a_body_over_max_bytes_is_refused_saying_the_limit() -> None:
    body = json.dumps({"text": "x" * 100}).encode()
    assert decode_json(body, max_bytes=len(body)) == {"text": "x" * 100}
    with pytest.raises(DecodeError, match=rf"{len(body) + 1} bytes; the limit is {len(body)}"):
        decode_json(body + b" ", max_bytes=len(body))


def test_the_default_size_bound_applies() -> None:
    big = b'"' + b"a" * DEFAULT_MAX_BYTES + b'"'
    with pytest.raises(DecodeError, match=f"the limit is {DEFAULT_MAX_BYTES}"):
        decode_json(big)


def test_size_counts_utf8_bytes_of_text_not_characters() -> None:
    text = json.dumps("é" * 10, ensure_ascii=False)  # 12 characters, 22 bytes
    with pytest.raises(DecodeError, match="22 bytes"):
        decode_json(text, max_bytes=21)


def _nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


@pytest.mark.parametrize(("opener", "closer"), [("[", "]"), ('{"a":', "}")])
def test_nesting_up_to_max_depth_is_accepted_and_deeper_refused(opener: str, closer: str) -> None:
    inner = "1" if opener.startswith("{") else ""
    ok = opener * 5 + inner + closer * 5
    deep = opener * 6 + inner + closer * 6
    assert decode_json(ok, max_depth=5) is not None
    with pytest.raises(DecodeError, match="JSON nests deeper than 5 levels"):
        decode_json(deep, max_depth=5)


def test_the_default_depth_bound_applies() -> None:
    decode_json(_nested(DEFAULT_MAX_DEPTH))
    with pytest.raises(DecodeError, match=f"deeper than {DEFAULT_MAX_DEPTH} levels"):
        decode_json(_nested(DEFAULT_MAX_DEPTH + 1))


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_very_deep_nesting_is_a_decode_error_not_a_recursion_error(depth: int) -> None:
    for data in (_nested(depth), '{"a":' * depth + "1" + "}" * depth):
        with pytest.raises(DecodeError, match="deeper than"):
            decode_json(data)
    body = _request(tools=[{"name": "t", "input_schema": json.loads(_nested(40))}])
    deep_body = json.dumps(body)[:-1] + ', "x": ' + _nested(depth) + "}"
    with pytest.raises(DecodeError):
        decode(ChatRequest, deep_body)


# --- fuzz: nothing but WireError escapes ----------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["model", "messages", "role", "content", "type", "text", "x"]),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_give_a_value_or_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_json(data)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_arbitrary_json_gives_a_request_or_a_wire_error(value: object) -> None:
    with contextlib.suppress(WireError):
        decode(ChatRequest, json.dumps(value))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_gives_a_value_or_decode_error(data: str) -> None:
    with contextlib.suppress(DecodeError):
        decode_json(data)


def test_text_with_a_lone_surrogate_is_measured_not_crashed_on() -> None:
    assert decode_json('"\ud800"') == "\ud800"
