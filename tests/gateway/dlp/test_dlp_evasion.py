"""Normalisation against evasion: each class is caught, and offsets map back exactly."""

from __future__ import annotations

import base64
import urllib.parse

import pytest

from gateway.dlp import DlpEngine, DlpPolicy
from gateway.dlp.normalize import FoldTable, normalize
from tests.gateway.dlp.dlp_samples import Gen

TOKEN = Gen(11).github("ghp_")
CARD = "4539148803436467"


def _fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in s)


# (label, text, expected type, the exact original characters the finding must cover)
CASES = [
    (
        "zero-width space and joiner",
        TOKEN[:10] + "\u200b" + TOKEN[10:20] + "\u200d" + TOKEN[20:],
        "GITHUB_PAT",
    ),
    ("soft hyphen", TOKEN[:5] + "\u00ad" + TOKEN[5:], "GITHUB_PAT"),
    (
        "word joiner and BOM",
        TOKEN[:8] + "\u2060" + TOKEN[8:30] + "\ufeff" + TOKEN[30:],
        "GITHUB_PAT",
    ),
    ("variation selector", TOKEN[:12] + "\ufe0f" + TOKEN[12:], "GITHUB_PAT"),
    ("full-width letters and digits", _fullwidth(TOKEN), "GITHUB_PAT"),
    ("Cyrillic look-alike", "AKI\u0410QWERTYUIOPASDFGH", "AWS_ACCESS_KEY_ID"),
    ("Greek look-alike", "AK\u0399AQWERTYUIOPASDFGH", "AWS_ACCESS_KEY_ID"),
    ("mathematical digits", "".join(chr(0x1D7CE + int(c)) for c in CARD), "CREDIT_CARD"),
    ("Arabic-Indic digits", "".join(chr(0x0660 + int(c)) for c in CARD), "CREDIT_CARD"),
    ("full-width digits", _fullwidth(CARD), "CREDIT_CARD"),
    ("separators inside the digit run", "4-5-3-9 1.4.8.8 0_3_4_3 6 4 6 7", "CREDIT_CARD"),
    ("letters posing as digits", "4539 l488 O343 6467", "CREDIT_CARD"),
    ("letters posing as digits in an SSN", "536-22-l234", "US_SSN"),
    ("zero-width inside digits", "4539\u200b1488\u200b0343\u200b6467", "CREDIT_CARD"),
    ("NFKC e-mail", _fullwidth("jane") + "\uff20" + _fullwidth("example") + "\uff0ecom", "EMAIL"),
    ("combining mark", "ja\u0301ne@example.com", "EMAIL"),
    ("Unicode dashes in an SSN", "536\u2010" + "22\u2013" + "1234", "US_SSN"),
]


@pytest.fixture(scope="module")
def engine() -> DlpEngine:
    return DlpEngine.from_policy(DlpPolicy())


@pytest.mark.parametrize(("label", "evasive", "type_"), CASES, ids=[c[0] for c in CASES])
def test_evasion_is_caught_with_exact_original_offsets(
    engine: DlpEngine, label: str, evasive: str, type_: str
) -> None:
    text = f"see \u202e{evasive}\u202c here"
    start = text.index(evasive)
    scan = engine.scan_text(text)
    assert [(f.type, f.start, f.end) for f in scan.findings] == [
        (type_, start, start + len(evasive))
    ]
    # the redaction removed exactly those characters, and nothing around them
    assert scan.text == text[:start] + f"[{type_}_1]" + text[start + len(evasive) :]


def test_normalisation_can_be_switched_off() -> None:
    plain = DlpEngine.from_policy(DlpPolicy(normalize=False))
    assert plain.scan_text(TOKEN[:10] + "\u200b" + TOKEN[10:]).findings == ()


def test_offset_map_of_mixed_deletions_and_expansions() -> None:
    text = "a\u200bb\ufb01c\u00add"  # zero-width space, the "fi" ligature, a soft hyphen
    view = normalize(text, FoldTable())
    assert view.text == "abficd"
    assert [view.span(i, i + 1) for i in range(len(view.text))] == [
        (0, 1),
        (2, 3),
        (3, 4),
        (3, 4),
        (4, 5),
        (6, 7),
    ]
    assert view.span(1, 5) == (2, 5)  # "bfic" covers the ligature once


def test_letters_are_folded_only_between_digits() -> None:
    view = normalize("Hello l0ve 4O12 and 1l1 Oslo ghs_Q73l5Pu", FoldTable())
    assert view.text == "Hello l0ve 4012 and 111 Oslo ghs_Q73l5Pu" and view.origin is None


def test_ascii_text_is_its_own_view() -> None:
    view = normalize("plain ascii", FoldTable())
    assert view.origin is None and view.text == "plain ascii"


ENCODED = [
    ("base64", base64.b64encode(f"token {TOKEN} ok".encode()).decode()),
    ("base64 url-safe", base64.urlsafe_b64encode(f"token {TOKEN} ok!?>".encode()).decode()),
    ("base64 twice", base64.b64encode(base64.b64encode(f"token {TOKEN}".encode())).decode()),
    ("hex", f"token {TOKEN} ok".encode().hex()),
    ("url-encoded", urllib.parse.quote(f"token={TOKEN}&x=1", safe="")),
]


@pytest.mark.parametrize(("label", "blob"), ENCODED, ids=[e[0] for e in ENCODED])
def test_encoded_blobs_are_decoded_and_rescanned(engine: DlpEngine, label: str, blob: str) -> None:
    text = f"data: {blob} end"
    scan = engine.scan_text(text)
    assert [f.type for f in scan.findings] == ["GITHUB_PAT"]
    f = scan.findings[0]
    assert text.index(blob) <= f.start < f.end <= text.index(blob) + len(blob)
    assert TOKEN not in scan.text and blob not in scan.text


def test_url_encoding_maps_back_exactly(engine: DlpEngine) -> None:
    text = "GET /share?to=jane%40example.com&x=1"
    scan = engine.scan_text(text)
    assert [(f.type, text[f.start : f.end]) for f in scan.findings] == [
        ("EMAIL", "jane%40example.com")
    ]


def test_decoding_depth_is_bounded_by_the_policy() -> None:
    blob = f"token {TOKEN}".encode()
    for _ in range(3):
        blob = base64.b64encode(blob)
    text = blob.decode()
    assert DlpEngine.from_policy(DlpPolicy(decode_depth=3)).scan_text(text).findings != ()
    assert DlpEngine.from_policy(DlpPolicy(decode_depth=2)).scan_text(text).findings == ()
    assert (
        DlpEngine.from_policy(DlpPolicy(decode_depth=0))
        .scan_text(base64.b64encode(f"token {TOKEN}".encode()).decode())
        .findings
        == ()
    )
