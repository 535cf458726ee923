"""Every credential detector: true positives in the documented formats, near misses."""

from __future__ import annotations

import pytest

from gateway.dlp import DlpEngine, DlpPolicy
from gateway.dlp.ruleset import default_rules
from tests.gateway.dlp.dlp_samples import Gen, secret_samples

SAMPLES = secret_samples()


@pytest.fixture(scope="module")
def engine() -> DlpEngine:
    return DlpEngine.from_policy(DlpPolicy())


@pytest.mark.parametrize(
    ("type_", "text", "value"), SAMPLES, ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(SAMPLES)]
)
def test_finds_each_format_at_its_exact_offsets(
    engine: DlpEngine, type_: str, text: str, value: str
) -> None:
    start = text.index(value)
    scan = engine.scan_text(text)
    assert [(f.type, f.start, f.end) for f in scan.findings] == [(type_, start, start + len(value))]
    assert value not in scan.text


def test_there_are_at_least_60_credential_formats() -> None:
    secret_types = {d.type for d in default_rules().detectors if d.category == "secret"}
    assert len(secret_types) >= 60
    assert {t for t, _, _ in SAMPLES} == secret_types  # every secret type has a sample


def _flip_last(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


NEAR_MISSES = [
    ("github checksum wrong", _flip_last(Gen(1).github("ghp_"))),
    ("npm checksum wrong", _flip_last(Gen(2).github("npm_"))),
    ("github too short", Gen(3).github("ghp_")[:-1]),
    ("github too long", Gen(3).github("ghp_") + "x"),
    ("aws documented example", "AKIAIOSFODNN7EXAMPLE"),
    ("aws id too short", "AKIA" + "ABCDEFGHIJKLMNO"),
    ("aws id wrong alphabet", "AKIA" + "ABCDEFGHIJKLMN01"),
    (
        "aws secret documented example",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    ("workjet key not 32 bytes", "wj_live_" + "A" * 42 + "B"),
    ("workjet key too short", "wj_live_" + "abcDEF123_-" * 3),
    (
        "jwt header not json",
        "eyJhbGciOiJIUzI1NiJ9x.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl",
    ),
    ("stripe publishable key", "pk_live_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3"),
    ("slack token placeholder", "xoxb-your-token-here"),
    ("password placeholder", 'password = "changeme"'),
    ("password from env", "password = os.environ['DB_PASSWORD']"),
    ("password variable", "password=user_password"),
    ("password typed", "def login(password: str) -> bool:"),
    ("password in prose", "hide_password: Defaults to True."),
    ("api key templated", "api_key: ${API_KEY}"),
    ("low-entropy token", "token = aaaaaaaaaaaaaaaaaaaaaaaa"),
    ("url without password", "https://example.org/path?user=me"),
    ("url password placeholder", "postgres://app:password@localhost/app"),
    ("git sha", "commit 3f786850e387550fdab836ed7e6dc881de23001b"),
    ("uuid", "id 123e4567-e89b-12d3-a456-426614174000"),
    (
        "pem public key",
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n"
        "-----END PUBLIC KEY-----",
    ),
    ("basic auth not base64 of user:pass", "Authorization: Basic bm90aGluZ2hlcmU="),
]


@pytest.mark.parametrize(("label", "text"), NEAR_MISSES, ids=[m[0] for m in NEAR_MISSES])
def test_near_misses_are_not_findings(engine: DlpEngine, label: str, text: str) -> None:
    assert engine.scan_text(text).findings == ()


def test_test_values_are_found_when_the_policy_says_so() -> None:
    strict = DlpEngine.from_policy(DlpPolicy(ignore_test_values=False))
    assert [f.type for f in strict.scan_text("AKIAIOSFODNN7EXAMPLE").findings] == [
        "AWS_ACCESS_KEY_ID"
    ]
    assert [f.type for f in strict.scan_text("4111 1111 1111 1111").findings] == ["CREDIT_CARD"]


def test_secret_inside_prose_code_and_json(engine: DlpEngine) -> None:
    token = Gen(9).github("ghp_")
    for text in (
        f"use {token}.",
        f'{{"token":"{token}"}}',
        f"GITHUB_TOKEN={token}\n",
        f"`{token}`",
        f"({token})",
    ):
        scan = engine.scan_text(text)
        start = text.index(token)
        assert [(f.type, f.start, f.end) for f in scan.findings] == [
            ("GITHUB_PAT", start, start + len(token))
        ]
