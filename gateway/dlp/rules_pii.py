"""Personal-data detectors: e-mail, phone, cards, IBAN, US SSN, IP addresses, national ids.

Digit patterns accept short runs of separators between digits (``4111 1111-1111.1111``,
``4 1 1 1 ...``), which is how the scanner resists separators inserted into digit runs;
validators work on the digits alone.
"""

from __future__ import annotations

from gateway.dlp.detector import Check, Detector, Probe
from gateway.dlp.validators import (
    card_ok,
    email_ok,
    iban_ok,
    ipv4_ok,
    ipv6_ok,
    phone_ok,
    ssn_ok,
    stdnum_ok,
    uk_nino_ok,
)

_SEP = "[ \\-._]{0,3}"  # separators tolerated inside a digit run


_NOT_DIGITS = str.maketrans("", "", " -._()+/")


def _digits(value: str) -> str:
    """The digits of a candidate (the view's digits are ASCII; separators are few)."""
    return value.translate(_NOT_DIGITS)


_SEPS_TO_SPACE = str.maketrans(" -._()+/", "        ")


def _groups(value: str) -> list[tuple[int, int]]:
    """Spans of the digit groups of ``value`` (runs of digits between separators)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for part in value.translate(_SEPS_TO_SPACE).split(" "):
        if part:
            spans.append((pos, pos + len(part)))
        pos += len(part) + 1
    return spans


def _card(value: str, probe: Probe) -> bool | list[tuple[int, int]]:
    """A run of digit groups may hold one card, several, or a card next to other numbers
    (an SSN, an expiry date, a reference): look for cards among its consecutive groups."""
    if card_ok(_digits(value), probe.ignore_test_values):
        return True
    if value.isdigit():
        return False
    groups = _groups(value)
    found: list[tuple[int, int]] = []
    i = 0
    while i < len(groups):
        digits = ""
        match = -1
        for j in range(i, len(groups)):
            digits += value[groups[j][0] : groups[j][1]]
            if len(digits) > 19:
                break
            if len(digits) >= 12 and card_ok(digits, probe.ignore_test_values):
                match = j
                break
        if match >= 0:
            found.append((groups[i][0], groups[match][1]))
            i = match + 1
        else:
            i += 1
    return found or False


def _iban(value: str, probe: Probe) -> bool | tuple[int, int]:
    compact = value.replace(" ", "").replace("-", "")
    if iban_ok(compact):
        return True
    # trailing groups that belong to the following text
    for cut in range(len(value) - 1, 14, -1):
        if value[cut] in " -" and iban_ok(value[:cut].replace(" ", "").replace("-", "")):
            return 0, cut
    return False


def _ssn(value: str, probe: Probe) -> bool:
    seps = [c for c in value if not c.isdigit()]
    if seps and (len(seps) != 2 or seps[0] != seps[1]):
        return False
    if probe.before[-1:] in ("-", ".", "/") or probe.after[:1] in ("-", "/"):
        return False  # part of a longer dashed or dotted number
    if seps == [" ", " "] and not probe.isolated():
        return False
    return ssn_ok(_digits(value), probe.ignore_test_values)


def _email(value: str, probe: Probe) -> bool:
    return email_ok(value)


def _phone(value: str, probe: Probe) -> bool:
    digits = _digits(value)
    if not 7 <= len(digits) <= 15 or probe.before[-1:] in (".", "/", ":"):
        return False
    if probe.after[:1] == "/" or not probe.isolated():
        return False
    groups = _groups(value)
    seps = {value[a - 1] for a, _ in groups[1:]} if len(groups) > 1 else set()
    if "." in seps and all(e - s <= 3 for s, e in groups) and len(groups) == 4:
        return False  # an IPv4 address or a version number
    if len(groups) == 3 and len(digits) == 8 and value[:4].isdigit() and value[4] in "-./":
        return False  # an ISO date
    if value[0] != "+" and value[0] != "(" and len(groups) == 1:
        return False  # bare digit runs are ids and timestamps far more often than phones
    return phone_ok(value, probe.phone_regions)


def _ipv4(value: str, probe: Probe) -> bool:
    if probe.before[-1:] == ".":
        return False  # the tail of a longer dotted number
    return ipv4_ok(value)


def _ipv6(value: str, probe: Probe) -> bool:
    return ipv6_ok(value)


def _std(module: str, keywords: tuple[str, ...] = ()) -> Check:
    """A python-stdnum validator. With ``keywords``, a number written as bare digits
    (no separators) also needs one of them in the 48 characters before it: a run of
    11 or 12 digits with a valid check digit is far more often an id or a phone number."""
    validate = stdnum_ok(module)

    def check(value: str, probe: Probe) -> bool:
        if not probe.isolated():
            return False
        if keywords and value.isdigit():
            start = probe.span[0] if probe.span[0] < probe.span[1] else 0
            lead = probe.data[max(0, start - 48) : start + 48].decode("utf-8", "replace")
            if not any(k in lead.lower() for k in keywords):
                return False
        return validate(value)

    return check


def _nino(value: str, probe: Probe) -> bool:
    return uk_nino_ok(value)


def _p(
    type_: str, pattern: str, check: Check, priority: int = 50, max_len: int = 64,
    hint: str = "",
) -> Detector:
    return Detector(type_, "pii", pattern, check, 1, priority, max_len, hint=hint)


def _n(country: str, type_: str, pattern: str, check: Check, hint: str = r"\d\d\d") -> Detector:
    return Detector(type_, "national_id", pattern, check, 1, 55, 40, country, hint)


PII_DETECTORS: tuple[Detector, ...] = (
    _p("EMAIL",
       r"\b([A-Za-z0-9._%+\-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)"
       r"{1,8}[A-Za-z]{2,24})\b", _email, max_len=330,
       hint=r"[A-Za-z0-9]@[A-Za-z0-9]"),
    _p("CREDIT_CARD", r"\b(\d(?:" + _SEP + r"\d){11,})\b", _card, 60, 400,
       hint=r"\d[ \-._]{0,3}\d[ \-._]{0,3}\d[ \-._]{0,3}\d"),
    _p("IBAN", r"\b([A-Z]{2}\d{2}(?:[ \-]?[A-Z0-9]){11,30})\b",
       _iban, 60, 70, hint=r"[A-Z][A-Z]\d\d"),
    _p("US_SSN", r"\b(\d{3}[ \-]\d{2}[ \-]\d{4})\b", _ssn, 60, 16,
       hint=r"\d\d[ \-]\d\d[ \-]\d"),
    _p("US_SSN",
       r"(?i)\b(?:ssn|social\s{1,3}security(?:\s{1,3}(?:number|no\.?|#))?|ss#)\W{0,10}"
       r"(\d{9}|\d{3}[ .\-]\d{2}[ .\-]\d{4})\b", _ssn, 60, 16, hint=r"(?i)(?:ssn|social\s|ss#)"),
    _p("PHONE_NUMBER",
       r"(?:^|[^\w+])(\+\(?\d{1,3}\)?(?:[ .\-]{0,2}\(?\d{1,5}\)?){1,6})(?:[^\w]|$)",
       _phone, 40, 32, hint=r"\+\(?\d"),
    _p("PHONE_NUMBER",
       r"(?:^|[^\w+.\-])(\(?\d{2,5}\)?(?:[ .\-]{1,2}\d{2,8}){1,4})(?:[^\w.\-]|\.(?:\s|$)|$)",
       _phone, 40, 32, hint=r"\d\)?[ .\-]{1,2}\d\d"),
    _p("IP_ADDRESS", r"\b((?:\d{1,3}\.){3}\d{1,3})\b", _ipv4, 30, 15, hint=r"\d\.\d{1,3}\.\d"),
    _p("IP_ADDRESS",
       r"(?i)(?:^|[^\w:.])([0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7})(?:[^\w:]|$)", _ipv6, 30, 39,
       hint=r"(?:[0-9A-Fa-f]:[0-9A-Fa-f]{0,4}:|::)"),
    # national identifiers, switched on per country by the policy
    _n("GB", "UK_NINO", r"\b([A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D])\b", _nino, r"[A-Z][A-Z] ?\d\d"),
    _n("DE", "DE_TAX_ID", r"\b(\d{2} ?\d{3} ?\d{3} ?\d{3})\b",
       _std("de.idnr", ("steuer", "tax", "idnr", "identifikationsnummer", "tin"))),
    _n("FR", "FR_NIR",
       r"\b([12] ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2})\b",
       _std("fr.nir", ("nir", "securite sociale", "social security", "insee", "secu"))),
    _n("ES", "ES_DNI", r"\b(\d{8}[ \-]?[A-Z])\b", _std("es.dni")),
    _n("ES", "ES_NIE", r"\b([XYZ][ \-]?\d{7}[ \-]?[A-Z])\b", _std("es.nie"), r"[XYZ][ \-]?\d\d"),
    _n("IN", "IN_AADHAAR", r"\b([2-9]\d{3}[ \-]?\d{4}[ \-]?\d{4})\b",
       _std("in_.aadhaar", ("aadhaar", "aadhar", "uid"))),
    _n("IT", "IT_CODICE_FISCALE", r"\b([A-Z]{6}\d{2}[A-EHLMPRST]\d{2}[A-Z]\d{3}[A-Z])\b",
       _std("it.codicefiscale"), r"[A-Z]{6}\d\d"),
    _n("NL", "NL_BSN", r"\b(\d{4}\.?\d{2}\.?\d{3})\b",
       _std("nl.bsn", ("bsn", "burgerservice", "sofi"))),
    _n("BR", "BR_CPF", r"\b(\d{3}\.\d{3}\.\d{3}-\d{2})\b", _std("br.cpf")),
    _n("CA", "CA_SIN", r"\b(\d{3}[ \-]\d{3}[ \-]\d{3})\b", _std("ca.sin")),
    _n("PL", "PL_PESEL", r"\b(\d{11})\b", _std("pl.pesel", ("pesel",))),
    _n("SE", "SE_PERSONNUMMER", r"\b(\d{6}[\-+]\d{4}|\d{8}[\-+]?\d{4})\b",
       _std("se.personnummer", ("personnummer", "person"))),
    _n("CN", "CN_RESIDENT_ID", r"\b(\d{17}[\dX])\b",
       _std("cn.ric", ("id card", "身份证", "resident"))),
    _n("US", "US_ITIN", r"\b(9\d{2}[ \-]?(?:5\d|6[0-5]|7\d|8[0-8]|9[0-24-9])[ \-]?\d{4})\b",
       _std("us.itin", ("itin", "taxpayer"))),
    _n("CH", "CH_AHV", r"\b(756\.?\d{4}\.?\d{4}\.?\d{2})\b", _std("ch.ssn")),
    _n("BE", "BE_NATIONAL_NUMBER", r"\b(\d{2}\.?\d{2}\.?\d{2}[\-.]?\d{3}\.?\d{2})\b",
       _std("be.nn", ("national", "rijksregister", "registre", "nn"))),
    _n("FI", "FI_HETU", r"\b(\d{6}[\-+A-FU-Y]\d{3}[0-9A-Y])\b",
       _std("fi.hetu"), r"\d{6}[\-+A-FU-Y]\d"),
    _n("DK", "DK_CPR", r"\b(\d{6}-?\d{4})\b", _std("dk.cpr", ("cpr",))),
    _n("NO", "NO_FODSELSNUMMER", r"\b(\d{6} ?\d{5})\b",
       _std("no.fodselsnummer", ("fodsel", "fødsel", "personnummer"))),
    _n("MX", "MX_CURP", r"\b([A-Z]{4}\d{6}[HM][A-Z]{5}[A-Z0-9]\d)\b",
       _std("mx.curp"), r"[A-Z]{4}\d{6}"),
    _n("KR", "KR_RRN", r"\b(\d{6}-?\d{7})\b", _std("kr.rrn", ("rrn", "resident", "주민"))),
    _n("ZA", "ZA_ID_NUMBER", r"\b(\d{13})\b", _std("za.idnr", ("id number", "identity"))),
)

# Blob detectors: candidates for decode-and-rescan, never findings themselves.
BLOB_DETECTORS: tuple[Detector, ...] = (
    Detector("BASE64", "blob", r"([A-Za-z0-9+/_\-]{20,}={0,2})", None, 1, 0, 32768,
             hint=r"[A-Za-z0-9+/_\-]{20}"),
    Detector("URLENC", "blob",
             r"([A-Za-z0-9._~+\-=&/:@]*(?:%[0-9A-Fa-f]{2}[A-Za-z0-9._~+\-=&/:@]*)+)",
             None, 1, 0, 32768, hint=r"%[0-9A-Fa-f]{2}"),
)
