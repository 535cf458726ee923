"""Policy actions per tenant, placeholders, restoring, requests, and the block error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from gateway import errors
from gateway.dlp import DlpEngine, DlpPolicy, PolicyError, load_policy_file
from gateway.dlp.ruleset import default_rules
from shared.chat import (
    ChatRequest,
    Message,
    TextPart,
    ToolCallPart,
    ToolDefinition,
    ToolResultPart,
)
from shared.dlp import DlpFinding
from tests.gateway.dlp.dlp_samples import Gen

TOKEN = Gen(21).github("ghp_")
KEY = Gen(22).workjet()
PEM = Gen(23).pem()


def _request(*texts: str) -> ChatRequest:
    return ChatRequest(
        model="m",
        messages=(
            Message("system", (TextPart(texts[0]),)),
            *(Message("user", (TextPart(t),)) for t in texts[1:]),
        ),
    )


def test_defaults_redact_secrets_and_personal_data_and_block_keys() -> None:
    engine = DlpEngine.from_policy()
    scan = engine.scan_text(f"mail bob@acme.io token {TOKEN}")
    assert [(f.type, f.action) for f in scan.findings] == [
        ("EMAIL", "redact"),
        ("GITHUB_PAT", "redact"),
    ]
    assert scan.text == "mail [EMAIL_1] token [GITHUB_PAT_1]"
    assert not scan.blocked
    assert engine.scan_text(PEM).blocked
    assert engine.scan_text(f"my key {KEY}").blocked


@pytest.mark.parametrize(
    ("actions", "expected_text", "expected_action"),
    [
        ({"EMAIL": "allow"}, "mail bob@acme.io", None),
        ({"EMAIL": "alert"}, "mail bob@acme.io", "alert"),
        ({"EMAIL": "block"}, "mail [EMAIL_1]", "block"),
        ({"pii": "alert"}, "mail bob@acme.io", "alert"),
        ({"pii": "block", "EMAIL": "redact"}, "mail [EMAIL_1]", "redact"),
    ],
)
def test_each_action(
    actions: dict[str, str], expected_text: str, expected_action: str | None
) -> None:
    engine = DlpEngine.from_policy(DlpPolicy.from_dict({"actions": actions}))
    scan = engine.scan_text("mail bob@acme.io")
    assert scan.text == expected_text
    assert [f.action for f in scan.findings] == ([expected_action] if expected_action else [])


def test_two_tenants_two_policies() -> None:
    policies = {
        "acme": DlpPolicy.from_dict({"actions": {"secret": "block"}}),
        "globex": DlpPolicy.from_dict({"actions": {"GITHUB_PAT": "allow"}}),
    }
    text = f"token {TOKEN}"
    assert DlpEngine.from_policy(policies["acme"]).scan_text(text).blocked
    assert DlpEngine.from_policy(policies["globex"]).scan_text(text).findings == ()


def test_placeholders_are_numbered_per_type_and_consistent_within_a_request() -> None:
    engine = DlpEngine.from_policy()
    req = _request(
        "You help bob@acme.io.",
        "Write to bob@acme.io and ann@acme.io",
        "Again: ann@acme.io, bob@acme.io",
    )
    out = engine.scan_request(req)
    texts = [m.content[0].text for m in out.request.messages]  # type: ignore[union-attr]
    assert texts == [
        "You help [EMAIL_1].",
        "Write to [EMAIL_1] and [EMAIL_2]",
        "Again: [EMAIL_2], [EMAIL_1]",
    ]
    assert out.findings == (DlpFinding("EMAIL", 5, "redact"),)
    assert not out.blocked and out.restore is None


def test_every_part_is_scanned_tool_calls_results_and_tool_descriptions() -> None:
    engine = DlpEngine.from_policy()
    req = ChatRequest(
        model="m",
        messages=(
            Message("user", (TextPart("hi"),)),
            Message("assistant", (ToolCallPart("c1", "send", {"to": ["bob@acme.io"], "n": 1}),)),
            Message("tool", (ToolResultPart("c1", f"token={TOKEN}"),)),
        ),
        tools=(ToolDefinition("send", {"type": "object"}, "mails ann@acme.io"),),
    )
    out = engine.scan_request(req)
    call = out.request.messages[1].content[0]
    result = out.request.messages[2].content[0]
    assert isinstance(call, ToolCallPart) and call.arguments == {"to": ["[EMAIL_1]"], "n": 1}
    assert isinstance(result, ToolResultPart) and result.content == "token=[GITHUB_PAT_1]"
    assert out.request.tools[0].description == "mails [EMAIL_2]"
    assert req.messages[1].content[0].arguments == {"to": ["bob@acme.io"], "n": 1}  # type: ignore[union-attr]


def test_clean_request_is_returned_unchanged() -> None:
    req = _request("be brief", "what is 2+2?")
    out = DlpEngine.from_policy().scan_request(req)
    assert out.request is req and out.findings == () and not out.blocked


def test_placeholders_are_restored_in_the_answer_when_the_policy_says_so() -> None:
    engine = DlpEngine.from_policy(DlpPolicy(restore_placeholders=True))
    out = engine.scan_request(_request("sys", "mail bob@acme.io about [EMAIL_9]"))
    assert out.restore is not None
    assert out.restore("Dear [EMAIL_1], re [EMAIL_9]") == "Dear bob@acme.io, re [EMAIL_9]"
    flt = engine.response_filter(out)
    streamed = "".join(flt.feed(c) for c in ["Dear [EM", "AIL_1], ", "done"]) + flt.flush()
    assert streamed == "Dear bob@acme.io, done"


def test_a_blocked_request_renders_a_4xx_body_naming_types_not_values() -> None:
    engine = DlpEngine.from_policy()
    out = engine.scan_request(_request("sys", f"here is my key\n{PEM}\nand {KEY}"))
    assert out.blocked
    app = Flask(__name__)
    errors.init_app(app)

    @app.post("/chat")
    def chat() -> str:
        raise out.error()

    resp = app.test_client().post("/chat")
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["error"]["code"] == "dlp_blocked"
    message = body["error"]["message"]
    assert "RSA private key" in message and "Workjet API key" in message
    assert "Remove or replace" in message and "administrator" in message
    raw = resp.get_data(as_text=True)
    assert KEY not in raw and PEM.splitlines()[1] not in raw


def test_policy_documents_are_validated_with_helpful_messages(tmp_path: Path) -> None:
    types = default_rules().types
    with pytest.raises(PolicyError, match="must be one of"):
        DlpPolicy.from_dict({"actions": {"EMAIL": "shred"}}, types)
    with pytest.raises(PolicyError, match="unknown detector type"):
        DlpPolicy.from_dict({"actions": {"EMAILS": "redact"}}, types)
    with pytest.raises(PolicyError, match="unknown policy keys"):
        DlpPolicy.from_dict({"action": {}}, types)
    with pytest.raises(PolicyError, match="country code"):
        DlpPolicy.from_dict({"national_ids": ["Germany"]}, types)
    path = tmp_path / "p.json"
    path.write_text(
        json.dumps(
            {
                "default": {"actions": {"secret": "block"}},
                "tenants": {"acme": {"actions": {"EMAIL": "allow"}, "national_ids": ["DE"]}},
            }
        )
    )
    loaded = load_policy_file(path, types)
    assert loaded.for_tenant(None).actions == {"secret": "block"}
    assert loaded.for_tenant("acme").national_ids == ("DE",)
    with pytest.raises(PolicyError, match="no policy for tenant"):
        loaded.for_tenant("globex")
    toml = tmp_path / "p.toml"
    toml.write_text('normalize = false\n[actions]\nEMAIL = "alert"\n')
    assert load_policy_file(toml, types).default == DlpPolicy(
        normalize=False, actions={"EMAIL": "alert"}
    )


@pytest.mark.parametrize("normalize", [True, False])
def test_lone_surrogates_from_json_do_not_break_scanning(normalize: bool) -> None:
    text = json.loads('"\\ud800 mail bob@acme.io \\udfff ok \\u00e9"')
    scan = DlpEngine.from_policy(DlpPolicy(normalize=normalize)).scan_text(text)
    assert [(f.type, text[f.start : f.end]) for f in scan.findings] == [("EMAIL", "bob@acme.io")]
