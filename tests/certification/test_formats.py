"""Certificate numbers are checked against the format of their kind, with a hint saying what is expected."""

from __future__ import annotations

from datetime import date

import pytest

from backend.certification.formats import (
    FORMATS,
    CertificateKind,
    InvalidCertificateNumber,
    normalize_certificate_number,
)
from backend.certification.models import Certificate, CertificateStatus
from backend.certification.service import badges, counts_on

VALID = [
    (CertificateKind.NIB, "9120301234567", "9120301234567"),
    (CertificateKind.NIB, "9120 3012 34567", "9120301234567"),
    (CertificateKind.HALAL, "ID33110000123450523", "ID33110000123450523"),
    (CertificateKind.HALAL, "id 3311 0000 1234 50523", "ID33110000123450523"),
    (CertificateKind.HALAL, "ID31110000191530821", "ID31110000191530821"),
    (CertificateKind.HALAL, "LPPOM-00150083460918", "LPPOM-00150083460918"),
    (CertificateKind.HALAL, "00150083460918", "00150083460918"),
    (CertificateKind.PIRT, "P-IRT No. 2063325010123-24", "206332501012324"),
    (CertificateKind.PIRT, "PIRT 206.3325.01.0123-24", "206332501012324"),
    (CertificateKind.PIRT, "206332501012324", "206332501012324"),
    (CertificateKind.PIRT, "SPP-IRT No. 5153325020456-25", "515332502045625"),
    (CertificateKind.BPOM, "BPOM RI MD 224510001234", "MD 224510001234"),
    (CertificateKind.BPOM, "md224510001234", "MD 224510001234"),
    (CertificateKind.BPOM, "ML 234509876543", "ML 234509876543"),
    (CertificateKind.SNI, "SNI 3553:2015", "SNI 3553:2015"),
    (CertificateKind.SNI, "sni 01-3553-2006", "SNI 01-3553-2006"),
    (CertificateKind.SNI, "SNI ISO 22000:2018", "SNI ISO 22000:2018"),
    (CertificateKind.TRAINING, "BBPVP-SMG/BOGA/2024/0153", "BBPVP-SMG/BOGA/2024/0153"),
    (CertificateKind.TRAINING, "blk batang 045/tkm/2025", "BLK BATANG 045/TKM/2025"),
    (CertificateKind.COMPETENCY, "KOM.1034.01297 2019", "KOM.1034.01297 2019"),
    (CertificateKind.COMPETENCY, "No. Reg. kom.1034.01297 2019", "KOM.1034.01297 2019"),
]

INVALID = [
    (CertificateKind.NIB, "912030123456"),  # 12 digits
    (CertificateKind.NIB, "91203012345678"),  # 14 digits
    (CertificateKind.NIB, "NIB-ABCDEFGHIJ"),
    (CertificateKind.HALAL, "HALAL-123"),
    (CertificateKind.HALAL, "ID3311"),
    (CertificateKind.HALAL, "IX33110000123450523"),
    (CertificateKind.PIRT, "P-IRT No. 206332501012"),
    (CertificateKind.PIRT, "P-IRT No. 2063325010123-2X"),
    (CertificateKind.BPOM, "MD 2245100012"),
    (CertificateKind.BPOM, "MX 224510001234"),
    (CertificateKind.BPOM, "224510001234"),
    (CertificateKind.SNI, "3553:2015"),
    (CertificateKind.SNI, "SNI halal"),
    (CertificateKind.TRAINING, "lulus"),
    (CertificateKind.TRAINING, "Sertifikat pelatihan boga"),
    (CertificateKind.COMPETENCY, "KOM-1034-01297-2019"),
    (CertificateKind.COMPETENCY, "KO.1034.01297 2019"),
]


@pytest.mark.parametrize(("kind", "typed", "stored"), VALID)
def test_real_looking_numbers_are_accepted_in_their_canonical_form(kind, typed, stored):
    assert normalize_certificate_number(kind, typed) == stored


@pytest.mark.parametrize(("kind", "typed"), INVALID + [(kind, "") for kind in CertificateKind])
def test_badly_formatted_numbers_are_refused_with_the_kinds_hint(kind, typed):
    with pytest.raises(InvalidCertificateNumber) as refused:
        normalize_certificate_number(kind, typed)
    assert refused.value.hint == FORMATS[kind].hint


def test_an_unknown_kind_is_an_error():
    with pytest.raises(ValueError, match="'ijazah' is not a valid CertificateKind"):
        normalize_certificate_number("ijazah", "123")


def test_every_kind_has_a_format_whose_example_passes_and_appears_in_its_hint():
    assert set(FORMATS) == set(CertificateKind)
    for kind, kind_format in FORMATS.items():
        normalize_certificate_number(kind, kind_format.example)
        assert kind_format.example in kind_format.hint


def test_badges_come_only_from_halal_pirt_bpom_and_sni():
    assert {f.badge for f in FORMATS.values()} - {None} == {"Halal", "PIRT", "BPOM", "SNI"}


def certificate(kind: str, status: str, expires_on: date | None = None) -> Certificate:
    return Certificate(
        vendor_id=1,
        kind=kind,
        number="x",
        issuer="x",
        expires_on=expires_on,
        document_key="k",
        document_media_type="image/webp",
        status=status,
    )


def test_a_certificate_counts_through_its_expiry_date_and_stops_the_day_after():
    halal = certificate("halal", CertificateStatus.VERIFIED, expires_on=date(2026, 12, 31))

    assert counts_on(halal, date(2026, 12, 31))
    assert not counts_on(halal, date(2027, 1, 1))


def test_badges_only_from_verified_unexpired_certificates():
    held = [
        certificate("halal", CertificateStatus.VERIFIED),
        certificate("pirt", CertificateStatus.UNVERIFIED),
        certificate("bpom", CertificateStatus.VERIFIED, expires_on=date(2026, 1, 1)),
        certificate("sni", CertificateStatus.REJECTED),
        certificate("nib", CertificateStatus.VERIFIED),
    ]

    assert badges(held, date(2026, 11, 23)) == ["Halal"]
