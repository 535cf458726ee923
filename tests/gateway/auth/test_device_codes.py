"""User codes: short, unambiguous, typo-tolerant on entry; device codes: 256-bit."""

from __future__ import annotations

from gateway.auth.device import (
    USER_CODE_ALPHABET,
    generate_user_code,
    normalise_user_code,
)


def test_user_codes_use_the_unambiguous_alphabet() -> None:
    codes = {generate_user_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert len(code) == 9 and code[4] == "-"
        assert set(code.replace("-", "")) <= set(USER_CODE_ALPHABET)
    assert not set("AEIOU01") & set(USER_CODE_ALPHABET)


def test_entry_is_normalised() -> None:
    for typed in ("BCDF-GHJK", "bcdf-ghjk", "bcdfghjk", " BCDF GHJK ", "bc-df-gh-jk"):
        assert normalise_user_code(typed) == "BCDF-GHJK"


def test_impossible_codes_are_rejected_before_any_lookup() -> None:
    for typed in ("", "BCDF-GHJ", "BCDF-GHJKL", "ABCD-EFGH", "BCDF-GHJ0", "БCDF-GHJK"):
        assert normalise_user_code(typed) is None
