"""Personal-data detectors: true positives and near misses; national ids per country."""

from __future__ import annotations

import random

import pytest

from gateway.dlp import DlpEngine, DlpPolicy
from tests.gateway.dlp.dlp_samples import luhn_complete


@pytest.fixture(scope="module")
def engine() -> DlpEngine:
    return DlpEngine.from_policy(DlpPolicy())


def _types(engine: DlpEngine, text: str) -> list[tuple[str, str]]:
    return [(f.type, text[f.start : f.end]) for f in engine.scan_text(text).findings]


_rng = random.Random(5)
CARDS = [
    luhn_complete(p, n, _rng)
    for p, n in [
        ("4", 16),
        ("4", 13),
        ("51", 16),
        ("2221", 16),
        ("34", 15),
        ("37", 15),
        ("6011", 16),
        ("65", 16),
        ("3530", 16),
        ("36", 14),
        ("62", 19),
        ("2200", 16),
    ]
]

POSITIVES = (
    [
        (
            "EMAIL",
            "write to jane.doe+work@mail.example.co.uk today",
            "jane.doe+work@mail.example.co.uk",
        ),
        ("EMAIL", "<bob@acme.io>", "bob@acme.io"),
        ("PHONE_NUMBER", "call +1 415-555-2671 now", "+1 415-555-2671"),
        ("PHONE_NUMBER", "office (415) 555-2671.", "(415) 555-2671"),
        ("PHONE_NUMBER", "tel: +44 20 7946 0958", "+44 20 7946 0958"),
        ("PHONE_NUMBER", "ruf an: +49 30 901820", "+49 30 901820"),
        ("PHONE_NUMBER", "mobile 07911 123456", "07911 123456"),
        ("PHONE_NUMBER", "call (555) 555-0123 now", "(555) 555-0123"),
        ("PHONE_NUMBER", "call 555.867.5309 now", "555.867.5309"),
        ("IBAN", "IBAN: GB33BUKB20201555555555.", "GB33BUKB20201555555555"),
        ("IBAN", "pay DE44 5001 0517 5407 3249 31 please", "DE44 5001 0517 5407 3249 31"),
        ("US_SSN", "SSN 536-22-1234", "536-22-1234"),
        ("US_SSN", "social security number: 536221234", "536221234"),
        ("IP_ADDRESS", "from 203.0.113.7:443", "203.0.113.7"),
        ("IP_ADDRESS", "host 10.1.2.3.", "10.1.2.3"),
        ("IP_ADDRESS", "v6 2001:db8:85a3::8a2e:370:7334 ok", "2001:db8:85a3::8a2e:370:7334"),
        ("IP_ADDRESS", "link fe80::1ff:fe23:4567:890a%eth0", "fe80::1ff:fe23:4567:890a"),
    ]
    + [("CREDIT_CARD", f"card {c} thanks", c) for c in CARDS]
    + [
        ("CREDIT_CARD", "card 4539-1488-0343-6467 exp 12/27", "4539-1488-0343-6467"),
        ("CREDIT_CARD", f"amex {CARDS[4][:4]} {CARDS[4][4:10]} {CARDS[4][10:]}", None),
    ]
)


@pytest.mark.parametrize(("type_", "text", "value"), POSITIVES)
def test_personal_data_is_found(
    engine: DlpEngine, type_: str, text: str, value: str | None
) -> None:
    found = _types(engine, text)
    assert [t for t, _ in found] == [type_]
    if value is not None:
        assert found[0][1] == value


NEGATIVES = [
    "card 4539 1488 0343 6468",  # Luhn wrong
    "card 4111 1111 1111 1111",  # the test number everyone uses
    "card 4242424242424242",
    "number 1234567812345678",  # Luhn fine? no: not an issuer range that validates
    "order 9999 9999 9999 9995",  # no issuer
    "IBAN GB34BUKB20201555555555",  # mod-97 wrong
    "IBAN GB33BUKB2020155555555",  # wrong length
    "SSN 000-12-3456",
    "SSN 666-12-3456",
    "SSN 912-12-3456",
    "SSN 123-00-4567",
    "SSN 123-45-0000",
    "SSN 078-05-1120",  # the Woolworth wallet number
    "version 1.2.3.4567",
    "ip 256.1.1.1",
    "loopback 127.0.0.1",
    "any 0.0.0.0",
    "time 12:30:45",
    "std::vector<int> a;",
    "mac 00:1a:2b:3c:4d:5e",
    "date 2024-01-15 and 2024.01.15",
    "not an email: a@b",
    "user@localhost",
    "phone 123-456-7890",  # not a valid US number, and British ones start with 0
    "build 1700000000123",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_near_misses_are_not_personal_data(engine: DlpEngine, text: str) -> None:
    assert _types(engine, text) == []


NATIONAL = [
    ("GB", "UK_NINO", "NI number AB 12 34 56 C", "AB 12 34 56 C"),
    ("DE", "DE_TAX_ID", "Steuer-ID 36574261809", "36574261809"),
    ("FR", "FR_NIR", "NIR 2 95 10 99 126 111 93", "2 95 10 99 126 111 93"),
    ("ES", "ES_DNI", "DNI 54362315K", "54362315K"),
    ("ES", "ES_NIE", "NIE X2482300W", "X2482300W"),
    ("IN", "IN_AADHAAR", "Aadhaar 2345 6789 0124", "2345 6789 0124"),
    ("IT", "IT_CODICE_FISCALE", "CF RCCMNL83S18D969H", "RCCMNL83S18D969H"),
    ("BR", "BR_CPF", "CPF 390.533.447-05", "390.533.447-05"),
    ("CA", "CA_SIN", "SIN 129-141-776", "129-141-776"),
    ("PL", "PL_PESEL", "PESEL 44051401359", "44051401359"),
]


@pytest.mark.parametrize(("country", "type_", "text", "value"), NATIONAL)
def test_national_ids_follow_the_tenants_countries(
    country: str, type_: str, text: str, value: str
) -> None:
    on = DlpEngine.from_policy(DlpPolicy(national_ids=(country,)))
    assert _types(on, text) == [(type_, value)]
    off = DlpEngine.from_policy(DlpPolicy(national_ids=()))
    assert [t for t, _ in _types(off, text)] != [type_]


@pytest.mark.parametrize(
    ("country", "text"),
    [
        ("GB", "NI number AB 12 34 56 E"),
        ("GB", "NI number GB 12 34 56 A"),
        ("GB", "NI number QQ 12 34 56 C"),  # the documentation example: QQ is never issued
        ("DE", "Steuer-ID 36574261808"),
        ("ES", "DNI 54362315Z"),
        ("IN", "Aadhaar 2345 6789 0125"),
        ("FR", "NIR 2 95 10 99 126 111 94"),
        ("IT", "CF RCCMNL83S18D969A"),
    ],
)
def test_national_id_checksums(country: str, text: str) -> None:
    engine = DlpEngine.from_policy(DlpPolicy(national_ids=(country,)))
    assert engine.scan_text(text).findings == ()


def test_phone_regions_are_per_tenant() -> None:
    text = "ring 030 901820 please"  # a Berlin number written nationally
    assert DlpEngine.from_policy(DlpPolicy(phone_regions=("US",))).scan_text(text).findings == ()
    found = DlpEngine.from_policy(DlpPolicy(phone_regions=("DE",))).scan_text(text).findings
    assert [f.type for f in found] == ["PHONE_NUMBER"]


@pytest.mark.parametrize(
    ("country", "text"),
    [("DE", "order 36574261809 shipped"), ("IN", "ref 234567890124"), ("PL", "n=44051401359")],
)
def test_bare_digit_national_ids_need_a_keyword(country: str, text: str) -> None:
    engine = DlpEngine.from_policy(DlpPolicy(national_ids=(country,)))
    assert engine.scan_text(text).findings == ()


def test_cards_next_to_other_numbers_are_all_found(engine: DlpEngine) -> None:
    a, b = CARDS[0], CARDS[2]  # a Visa and a Mastercard, 16 digits each

    def grouped(card: str) -> str:
        return " ".join(card[i : i + 4] for i in range(0, 16, 4))

    text = f"ssn 536-22-1234 {grouped(a)} {grouped(b)} 12/27"
    assert _types(engine, text) == [
        ("US_SSN", "536-22-1234"),
        ("CREDIT_CARD", grouped(a)),
        ("CREDIT_CARD", grouped(b)),
    ]
