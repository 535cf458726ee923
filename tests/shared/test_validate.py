"""``check_chat_request``: the counts and sizes that come from outside stay bounded."""

from __future__ import annotations

import dataclasses

import pytest

from shared import (
    ChatRequest,
    Message,
    TextPart,
    ToolDefinition,
    ValidationError,
    check_chat_request,
)
from shared import validate as v
from tests.shared.samples import REQUEST

HI = Message(role="user", content=(TextPart("hi"),))
TOOL = ToolDefinition("t", {"type": "object"})


def _with(**changes: object) -> ChatRequest:
    return dataclasses.replace(REQUEST, **changes)  # type: ignore[arg-type]


def test_a_valid_request_is_returned_unchanged() -> None:
    assert check_chat_request(REQUEST) is REQUEST


@pytest.mark.parametrize(
    "changes",
    [
        {"model": "m" * v.MAX_MODEL_NAME},
        {"messages": (HI,) * v.MAX_MESSAGES},
        {"messages": (Message(role="user", content=(TextPart("x"),) * v.MAX_PARTS_PER_MESSAGE),)},
        {"tools": (TOOL,) * v.MAX_TOOLS},
        {"tools": (ToolDefinition("t" * v.MAX_TOOL_NAME, {}),)},
        {"stop": ("x",) * v.MAX_STOP_SEQUENCES},
        {"max_tokens": 1},
        {"max_tokens": v.MAX_OUTPUT_TOKENS},
        {"max_tokens": None},
        {"temperature": 0.0},
        {"temperature": 2.0},
        {"temperature": None},
    ],
    ids=lambda c: next(iter(c)),
)
def test_values_at_the_bounds_are_accepted(changes: dict[str, object]) -> None:
    request = _with(**changes)
    assert check_chat_request(request) is request


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"model": ""}, "model"),
        ({"model": "m" * (v.MAX_MODEL_NAME + 1)}, "model"),
        ({"messages": ()}, "messages"),
        ({"messages": (HI,) * (v.MAX_MESSAGES + 1)}, "messages"),
        (
            {"messages": (HI, Message("user", (TextPart("x"),) * (v.MAX_PARTS_PER_MESSAGE + 1)))},
            "messages[1].content",
        ),
        ({"tools": (TOOL,) * (v.MAX_TOOLS + 1)}, "tools"),
        ({"tools": (TOOL, ToolDefinition("", {}))}, "tools[1].name"),
        ({"tools": (ToolDefinition("t" * (v.MAX_TOOL_NAME + 1), {}),)}, "tools[0].name"),
        ({"stop": ("x",) * (v.MAX_STOP_SEQUENCES + 1)}, "stop"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": -5}, "max_tokens"),
        ({"max_tokens": v.MAX_OUTPUT_TOKENS + 1}, "max_tokens"),
        ({"temperature": -0.01}, "temperature"),
        ({"temperature": 2.01}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
    ],
)
def test_values_out_of_bounds_are_refused_naming_the_field(
    changes: dict[str, object], path: str
) -> None:
    with pytest.raises(ValidationError) as info:
        check_chat_request(_with(**changes))
    assert info.value.path == path
    assert str(info.value).startswith(f"{path}: ")
