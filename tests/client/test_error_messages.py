"""Gateway errors become one readable message with what to do next."""

from __future__ import annotations

import pytest

from client.errors import describe
from shared.errors import ErrorDetail


@pytest.mark.parametrize(
    ("code", "then"),
    [
        ("model_not_allowed", "Pick another model (ctrl+o)."),
        ("unauthenticated", "Sign in again"),
        ("rate_limited", "Try again"),
    ],
)
def test_gateway_sentence_and_advice_read_as_two_sentences(code: str, then: str) -> None:
    message = describe(ErrorDetail(code, "The gateway said so.", "r1"), "http://gw",
                       retry_after=3)
    assert ".." not in message
    assert "The gateway said so. " in message
    assert then in message
