"""Validators that run after a cheap candidate match: checksums, ranges, entropy.

Each takes the candidate value (a short, bounded string: the patterns cap their lengths)
and answers whether it is the real thing. Library validators (python-stdnum, phonenumbers)
only ever see such bounded candidates, never whole inputs.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import math
from collections import Counter
from collections.abc import Callable

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

# Values that documentation and test suites use everywhere: they look right but leak nothing.
TEST_CARD_NUMBERS = frozenset(
    {
        "4111111111111111", "4242424242424242", "4012888888881881", "4222222222222",
        "4000056655665556", "5555555555554444", "5105105105105100", "5200828282828210",
        "2223003122003222", "378282246310005", "371449635398431", "378734493671000",
        "6011111111111117", "6011000990139424", "3056930009020004", "36227206271667",
        "3566002020360505", "3530111333300000", "6200000000000005", "4000000000000002",
        "4000000000009995", "4000000000000077", "5431111111111111", "6011601160116611",
    }
)
TEST_SSNS = frozenset({"078051120", "219099999", "123456789", "457555462"})


_LUHN_DOUBLE = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_ok(digits: str) -> bool:
    rev = digits[::-1]
    total = sum(map(int, rev[0::2])) + sum(_LUHN_DOUBLE[int(d)] for d in rev[1::2])
    return total % 10 == 0


def shannon_entropy(value: str) -> float:
    """Bits per character."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def char_classes(value: str) -> int:
    return (
        any(c.islower() for c in value)
        + any(c.isupper() for c in value)
        + any(c.isdigit() for c in value)
        + any(not c.isalnum() for c in value)
    )


def looks_like_test_value(value: str) -> bool:
    upper = value.upper()
    return "EXAMPLE" in upper or "XXXXXXXX" in upper or "00000000000000" in upper


def base62_crc32_ok(token: str) -> bool:
    """GitHub and npm tokens: prefix_ + 30 random base62 + 6-char base62 CRC32 of them."""
    body = token.rsplit("_", 1)[-1]
    if len(body) < 7:
        return False
    random, check = body[:-6], body[-6:]
    value = 0
    for ch in check:
        idx = _BASE62.find(ch)
        if idx < 0:
            return False
        value = value * 62 + idx
    return value == binascii.crc32(random.encode("ascii"))


def canonical_b64url_32(body: str) -> bool:
    """43 base64url characters that encode exactly 32 bytes (the last one's 2 low bits 0)."""
    if len(body) != 43:
        return False
    idx = _B64URL.find(body[-1])
    return idx >= 0 and idx & 3 == 0


def _b64url_json(segment: str) -> object:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded))


def jwt_ok(token: str) -> bool:
    parts = token.split(".")
    if len(parts) not in (3, 5):
        return False
    try:
        header = _b64url_json(parts[0])
    except (ValueError, binascii.Error):
        return False
    return isinstance(header, dict) and ("alg" in header or "typ" in header or "enc" in header)


def ssn_ok(digits: str, ignore_test: bool) -> bool:
    if len(digits) != 9 or (ignore_test and digits in TEST_SSNS):
        return False
    area, group, serial = int(digits[:3]), int(digits[3:5]), int(digits[5:])
    return area not in (0, 666) and area < 900 and group != 0 and serial != 0


def card_ok(digits: str, ignore_test: bool) -> bool:
    n = len(digits)
    if n < 12 or n > 19 or not _issuer_ok(digits, n) or not luhn_ok(digits):
        return False
    return not (ignore_test and digits in TEST_CARD_NUMBERS)


def _issuer_ok(digits: str, n: int) -> bool:
    p2, p3, p4, p6 = int(digits[:2]), int(digits[:3]), int(digits[:4]), int(digits[:6])
    if digits[0] == "4":
        return n in (13, 16, 19)  # Visa
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16  # Mastercard
    if p2 in (34, 37):
        return n == 15  # American Express
    if 2200 <= p4 <= 2204:
        return n == 16  # Mir
    if p4 == 6011 or 644 <= p3 <= 649 or p2 == 65 or 622126 <= p6 <= 622925:
        return 16 <= n <= 19  # Discover
    if 3528 <= p4 <= 3589:
        return 16 <= n <= 19  # JCB
    if 300 <= p3 <= 305 or p2 in (36, 38, 39) or p4 == 3095:
        return 14 <= n <= 19  # Diners Club
    if p2 == 62 or p2 == 81:
        return 16 <= n <= 19  # UnionPay
    if p2 == 50 or 56 <= p2 <= 69:
        return 12 <= n <= 19  # Maestro
    return False


def iban_ok(value: str) -> bool:
    from stdnum import iban

    return bool(iban.is_valid(value))


def ipv4_ok(value: str) -> bool:
    parts = value.split(".")
    if len(parts) != 4 or any(len(p) > 1 and p[0] == "0" for p in parts):
        return False
    try:
        addr = ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return not (addr.is_loopback or addr.is_unspecified or value == "255.255.255.255")


def ipv6_ok(value: str) -> bool:
    groups = value.split(":")
    if not any(len(g) >= 3 for g in groups) and len(groups) < 8:
        return False
    try:
        addr = ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return not (addr.is_loopback or addr.is_unspecified)


def email_ok(value: str) -> bool:
    local, _, domain = value.rpartition("@")
    if not local or local[0] == "." or local[-1] == "." or ".." in value:
        return False
    labels = domain.split(".")
    tld = labels[-1]
    if len(labels) < 2 or not tld.isalpha() or len(tld) > 24:
        return False
    return all(lab and lab[0] != "-" and lab[-1] != "-" for lab in labels)


def phone_ok(value: str, regions: tuple[str, ...]) -> bool:
    import phonenumbers

    if value.startswith("+"):
        return _valid_phone(value, None) or (value.startswith("+1") and nanp_formatted(value))
    if "US" in regions and nanp_formatted(value):
        return True  # includes the 555 numbers of fiction and of made-up examples
    digits = value.lstrip("(")
    for region in regions:
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if meta is None:
            continue
        prefix = meta.national_prefix
        # Outside North America a nationally written number starts with the trunk
        # prefix (``020 7946 0958``); without it, any 10 digits would pass as British.
        if prefix and meta.country_code != 1 and not digits.startswith(prefix):
            continue
        if _valid_phone(value, region):
            return True
    return False


_NANP_SEPARATORS = str.maketrans("", "", " .-()")


def nanp_formatted(value: str) -> bool:
    """``(415) 555-2671``, ``415-555-2671``, ``+1 415.555.2671``: written like a North
    American number, with a syntactically valid area code and exchange (N = 2-9)."""
    v = value.removeprefix("+1").removeprefix("1").strip(" .-")
    digits = v.translate(_NANP_SEPARATORS)
    if len(digits) != 10 or not digits.isdigit() or digits[0] < "2" or digits[3] < "2":
        return False
    return v[:1] == "(" or (len(v) == 12 and v[3] == v[7] and v[3] in " .-")


def _valid_phone(value: str, region: str | None) -> bool:
    import phonenumbers

    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))


def stdnum_ok(module: str) -> Callable[[str], bool]:
    """A validator backed by ``stdnum.<module>.is_valid``, imported on first use."""

    def check(value: str) -> bool:
        import importlib

        mod = importlib.import_module(f"stdnum.{module}")
        return bool(mod.is_valid(value))

    return check


_NINO_BAD_FIRST = set("DFIQUV")
_NINO_BAD_SECOND = set("DFIOQUV")
_NINO_BAD_PREFIX = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def uk_nino_ok(value: str) -> bool:
    v = value.replace(" ", "").upper()
    if len(v) != 9 or not (v[:2].isalpha() and v[2:8].isdigit() and v[8] in "ABCD"):
        return False
    return (
        v[0] not in _NINO_BAD_FIRST
        and v[1] not in _NINO_BAD_SECOND
        and v[:2] not in _NINO_BAD_PREFIX
    )


def password_value_ok(value: str, key: str) -> bool:
    """Judge the value of a ``password=`` / ``secret:`` / ``api_key`` style assignment."""
    v = value.strip("'\"`")
    if len(v) < 6 or len(v) > 200:
        return False
    lowered = v.lower()
    if any(ch in v for ch in "()[]{}<>$%") or lowered in _PLACEHOLDERS:
        return False
    if lowered.startswith(("your", "my_", "xxx", "***", "...", "env.", "process.", "os.")):
        return False
    if set(v) <= set("*xX.-_#"):
        return False
    # Code references: dotted or snake-case identifiers are variables, not values.
    identifier = all(c.isalpha() or c in "._" for c in v)
    if identifier and (v.islower() or "." in v or v.istitle()):
        return False  # a variable, an attribute, or a word of prose ("Defaults to True")
    is_password = any(k in key for k in ("pass", "pwd"))
    entropy = shannon_entropy(v)
    if is_password:
        return entropy >= 2.5 and (char_classes(v) >= 2 or len(v) >= 12)
    return len(v) >= 12 and entropy >= 3.2 and char_classes(v) >= 2


_PLACEHOLDERS = frozenset(
    {
        "password", "passwd", "secret", "changeme", "change_me", "placeholder", "redacted",
        "none", "null", "true", "false", "undefined", "example", "required", "optional",
        "string", "str", "your-api-key", "your_api_key", "api_key", "apikey", "token",
        "<password>", "notasecret", "dummy", "test", "testing", "sample",
    }
)


def url_password_ok(password: str) -> bool:
    p = password.lower()
    if len(password) < 3 or p in _PLACEHOLDERS or p.startswith(("$", "{", "<", "%", "*")):
        return False
    return set(password) - set("*x.") != set()
