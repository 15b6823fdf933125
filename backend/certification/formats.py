"""Certificate kinds and the format of each kind's number, written down in one place.

The system only checks that a number looks right (a manager checks the document itself), so each
format comes with a hint telling the vendor what is expected, shown when the number is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from backend.errors import N_


class CertificateKind(StrEnum):
    NIB = "nib"
    HALAL = "halal"
    PIRT = "pirt"
    BPOM = "bpom"
    SNI = "sni"
    TRAINING = "training"
    COMPETENCY = "competency"


@dataclass(frozen=True)
class CertificateFormat:
    kind: CertificateKind
    label: str
    example: str
    hint: str
    expiry_required: bool
    badge: str | None
    food_safety: bool


FORMATS: dict[CertificateKind, CertificateFormat] = {
    CertificateKind.NIB: CertificateFormat(
        CertificateKind.NIB,
        N_("NIB (business identity number)"),
        "9120301234567",
        N_("An NIB from OSS has 13 digits, for example 9120301234567."),
        False,
        None,
        False,
    ),
    CertificateKind.HALAL: CertificateFormat(
        CertificateKind.HALAL,
        N_("Halal (BPJPH)"),
        "ID33110000123450523",
        N_(
            "A BPJPH halal certificate number starts with ID followed by 14 to 17 digits, "
            "for example ID33110000123450523 (older MUI numbers: 14 digits)."
        ),
        False,
        "Halal",
        True,
    ),
    CertificateKind.PIRT: CertificateFormat(
        CertificateKind.PIRT,
        N_("SPP-IRT / P-IRT (home-industry food)"),
        "P-IRT No. 2063325010123-24",
        N_("A P-IRT number has 15 digits, for example P-IRT No. 2063325010123-24."),
        False,
        "PIRT",
        True,
    ),
    CertificateKind.BPOM: CertificateFormat(
        CertificateKind.BPOM,
        N_("BPOM RI MD / ML"),
        "BPOM RI MD 224510001234",
        N_("A BPOM number is MD or ML followed by 12 digits, for example BPOM RI MD 224510001234."),
        True,
        "BPOM",
        True,
    ),
    CertificateKind.SNI: CertificateFormat(
        CertificateKind.SNI,
        N_("SNI (national standard)"),
        "SNI 3553:2015",
        N_("Give the SNI standard number, for example SNI 3553:2015 or SNI 01-3553-2006."),
        True,
        "SNI",
        False,
    ),
    CertificateKind.TRAINING: CertificateFormat(
        CertificateKind.TRAINING,
        N_("Training certificate (BBPVP, BLK, TKM)"),
        "BBPVP-SMG/BOGA/2024/0153",
        N_(
            "Type the certificate number as printed (5 to 60 letters, digits and . / -, with at least 3 digits), "
            "for example BBPVP-SMG/BOGA/2024/0153."
        ),
        False,
        None,
        False,
    ),
    CertificateKind.COMPETENCY: CertificateFormat(
        CertificateKind.COMPETENCY,
        N_("Competency certificate (BNSP)"),
        "KOM.1034.01297 2019",
        N_("A BNSP registration number looks like KOM.1034.01297 2019."),
        False,
        None,
        False,
    ),
}


class InvalidCertificateNumber(ValueError):
    def __init__(self, hint: str) -> None:
        self.hint = hint
        super().__init__(hint)


_SPACES = re.compile(r"\s+")
_HALAL = re.compile(r"^(ID\d{14,17}|(?:LPPOM-)?\d{14})$")
_PIRT_WORDS = re.compile(r"^(SPP-?IRT|P-?IRT)\s*(NO\.?|NOMOR)?\s*", re.IGNORECASE)
_BPOM = re.compile(r"^(?:BPOM\s*(?:RI)?\s*)?(MD|ML)\s*(\d{12})$")
_SNI = re.compile(r"^SNI(?: (ISO|IEC|ISO/IEC))? (\d{1,2}-\d{4}-\d{4}|\d{4,5}(?:-\d{1,2})?:\d{4})$")
_TRAINING = re.compile(r"^[A-Z0-9 ./\-]{5,60}$")
_COMPETENCY = re.compile(r"^(?:NO\.?\s*REG\.?\s*)?([A-Z]{3})\.(\d{4})\.(\d{5})\s*(\d{4})$")


def normalize_certificate_number(kind: CertificateKind | str, raw: str) -> str:
    """The canonical stored form of a certificate number, or InvalidCertificateNumber with the kind's hint."""
    kind = CertificateKind(kind)  # an unknown kind raises ValueError
    text = _SPACES.sub(" ", raw.strip().upper())
    hint = FORMATS[kind].hint
    number = _canonical(kind, text)
    if number is None:
        raise InvalidCertificateNumber(hint)
    return number


def _canonical(kind: CertificateKind, text: str) -> str | None:
    if kind == CertificateKind.NIB:
        digits = text.replace(" ", "").replace("-", "")
        return digits if re.fullmatch(r"\d{13}", digits) else None
    if kind == CertificateKind.HALAL:
        compact = text.replace(" ", "")
        return compact if _HALAL.match(compact) else None
    if kind == CertificateKind.PIRT:
        digits = re.sub(r"[\s.\-]", "", _PIRT_WORDS.sub("", text))
        return digits if re.fullmatch(r"\d{15}", digits) else None
    if kind == CertificateKind.BPOM:
        match = _BPOM.match(text)
        return f"{match.group(1)} {match.group(2)}" if match else None
    if kind == CertificateKind.SNI:
        return text if _SNI.match(text) else None
    if kind == CertificateKind.TRAINING:
        ok = _TRAINING.match(text) and sum(char.isdigit() for char in text) >= 3
        return text if ok else None
    match = _COMPETENCY.match(text)
    return f"{match.group(1)}.{match.group(2)}.{match.group(3)} {match.group(4)}" if match else None
