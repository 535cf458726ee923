"""The answer filter: secrets split across chunks are caught without buffering it all."""

from __future__ import annotations

import pytest

from gateway.dlp import DlpEngine, DlpPolicy
from gateway.dlp.stream import STEP
from shared.chat import ChatRequest, Message, TextPart
from tests.gateway.dlp.dlp_samples import Gen

TOKEN = Gen(31).github("ghp_")
JWT = Gen(32).jwt()
PEM = Gen(33).pem()


def _run(engine: DlpEngine, chunks: list[str]) -> tuple[str, list[str]]:
    flt = engine.response_filter()
    emitted = [flt.feed(c) for c in chunks]
    emitted.append(flt.flush())
    return "".join(emitted), [f.type for f in flt.findings]


@pytest.mark.parametrize("size", [1, 3, 7, 64])
@pytest.mark.parametrize("secret", [TOKEN, JWT, PEM, "bob@acme.io"])
def test_secret_split_across_chunks_is_redacted(size: int, secret: str) -> None:
    engine = DlpEngine.from_policy(DlpPolicy(scan_responses=True))
    text = "Sure. " + "lorem ipsum " * 60 + secret + " and that is all. " + "x " * 300
    chunks = [text[i : i + size] for i in range(0, len(text), size)]
    out, types = _run(engine, chunks)
    assert secret not in out
    assert len(types) == 1
    assert out.replace(f"[{types[0]}_R1]", secret) == text


def test_text_is_released_before_the_answer_ends() -> None:
    engine = DlpEngine.from_policy(DlpPolicy(scan_responses=True))
    flt = engine.response_filter()
    released = ""
    for _ in range(200):
        released += flt.feed("plain words go by ")
    assert len(released) > 200 * 18 - engine.window - STEP - 32
    assert released + flt.flush() == "plain words go by " * 200


def test_no_scanning_when_the_policy_turns_it_off() -> None:
    engine = DlpEngine.from_policy(DlpPolicy(scan_responses=False))
    flt = engine.response_filter()
    assert flt.feed(f"token {TOKEN}") == f"token {TOKEN}"
    assert flt.flush() == "" and flt.findings == ()


def test_block_in_an_answer_redacts() -> None:
    engine = DlpEngine.from_policy(DlpPolicy(scan_responses=True))
    out, types = _run(engine, [f"key:\n{PEM}\n"])
    assert types == ["RSA_PRIVATE_KEY"] and "PRIVATE KEY" not in out


def test_answer_findings_are_never_restored() -> None:
    """A value the model wrote is redacted and stays redacted, even with restoring on."""
    engine = DlpEngine.from_policy(DlpPolicy(scan_responses=True, restore_placeholders=True))
    outcome = engine.scan_request(
        ChatRequest("m", (Message("user", (TextPart("mail bob@acme.io"),)),))
    )
    flt = engine.response_filter(outcome)
    out = flt.feed("Dear [EMAIL_1], ann@acme.io wrote.") + flt.flush()
    assert out == "Dear bob@acme.io, [EMAIL_2] wrote."
    assert outcome.restore is not None and outcome.restore(out) == out
    plain = engine.response_filter()  # without the outcome: its own, distinct labels
    assert plain.feed("from ann@acme.io") + plain.flush() == "from [EMAIL_R1]"
