"""The canary rule: a matched value never reaches a log record or an error message."""

from __future__ import annotations

import json
import logging

import pytest

from gateway.dlp import DlpEngine, DlpPolicy, PolicyError
from shared.chat import ChatRequest, Message, TextPart
from tests.gateway.dlp.dlp_samples import Gen, secret_samples

CANARY_KEY = Gen(41).workjet()
CANARY_TOKEN = Gen(42).github("ghp_")
CANARY_MAIL = "canary.person.7731@example.org"


def test_no_matched_value_in_any_log_record_or_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    engine = DlpEngine.from_policy(DlpPolicy(restore_placeholders=True))
    text = f"mail {CANARY_MAIL} token {CANARY_TOKEN} key {CANARY_KEY}"
    out = engine.scan_request(ChatRequest("m", (Message("user", (TextPart(text),)),)))
    assert out.blocked
    flt = engine.response_filter(out)
    flt.feed(text)
    flt.flush()
    for _, _, sample in secret_samples():
        engine.scan_text(sample)
    error = out.error()
    rendered = " ".join(
        [
            str(error),
            error.message,
            repr(error),
            repr(out.findings),
            repr(flt.findings),
            json.dumps([f.__dict__ if hasattr(f, "__dict__") else str(f) for f in out.findings]),
        ]
    )
    logged = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    for value in (CANARY_MAIL, CANARY_TOKEN, CANARY_KEY):
        assert value not in rendered
        assert value not in logged
    # findings are type, count and action only: nothing derived from the value
    assert {tuple(vars(f)) if hasattr(f, "__dict__") else f.__slots__ for f in out.findings} == {
        ("type", "count", "action")
    }


def test_policy_errors_do_not_echo_the_bad_value() -> None:
    with pytest.raises(PolicyError) as info:
        DlpPolicy.from_dict({"actions": {"EMAIL": CANARY_TOKEN}})
    assert "must be one of" in str(info.value) and CANARY_TOKEN not in str(info.value)
