"""Certificate rules: number formats, dates, documents; new or changed certificates wait for a manager."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.access import ensure_access
from backend.catalog.entries import refresh_entries
from backend.certification.formats import (
    FORMATS,
    CertificateKind,
    InvalidCertificateNumber,
    normalize_certificate_number,
)
from backend.certification.models import Certificate, CertificateStatus
from backend.certification.schemas import CertificateInput
from backend.clock import wib_today
from backend.errors import N_, FieldError, ValidationFailed
from backend.media.images import ProcessedDocument
from backend.media.storage import Storage, content_key
from backend.vendors.models import Vendor

MSG_NOT_FOUND = N_("This certificate does not exist.")
# The vendor is warned this many days before a certificate expires.
EXPIRY_WARNING_DAYS = 30
MSG_DUPLICATE = N_("You already added this certificate.")


def counts_on(certificate: Certificate, day: date) -> bool:
    """A certificate counts when verified and not expired; it stops counting the day after its expiry date."""
    return certificate.status == CertificateStatus.VERIFIED and (
        certificate.expires_on is None or certificate.expires_on >= day
    )


def needs_attention(certificate: Certificate, today: date) -> str | None:
    """Why a certificate needs the vendor's attention, if it does: rejected, expired, expiring, unverified."""
    if certificate.status == CertificateStatus.REJECTED:
        return "rejected"
    if certificate.expires_on is not None:
        if certificate.expires_on < today:
            return "expired"
        if certificate.expires_on <= today + timedelta(days=EXPIRY_WARNING_DAYS):
            return "expiring"
    if certificate.status == CertificateStatus.UNVERIFIED:
        return "unverified"
    return None


def badges(certificates: list[Certificate], day: date) -> list[str]:
    """Badges (Halal, PIRT, BPOM, SNI) come only from certificates that count today."""
    found = {FORMATS[CertificateKind(c.kind)].badge for c in certificates if counts_on(c, day)}
    return [badge for badge in ("Halal", "PIRT", "BPOM", "SNI") if badge in found]


def _checked_fields(data: CertificateInput, today: date) -> tuple[str, list[FieldError]]:
    errors: list[FieldError] = []
    number = ""
    try:
        number = normalize_certificate_number(data.kind, data.number)
    except InvalidCertificateNumber as exc:
        errors.append(FieldError("number", exc.hint))
    kind_format = FORMATS[data.kind]
    if kind_format.expiry_required and data.expires_on is None:
        errors.append(FieldError("expires_on", N_("This kind of certificate has an expiry date: enter it.")))
    if data.expires_on is not None and data.expires_on < today:
        errors.append(FieldError("expires_on", N_("This certificate has already expired.")))
    if data.issued_on is not None and data.issued_on > today:
        errors.append(FieldError("issued_on", N_("The issue date cannot be in the future.")))
    if data.issued_on and data.expires_on and data.expires_on < data.issued_on:
        errors.append(FieldError("expires_on", N_("The expiry date must be after the issue date.")))
    return number, errors


async def _duplicate(*, session: AsyncSession, vendor: Vendor, kind: str, number: str, except_id: int | None) -> bool:
    query = select(col(Certificate.id)).where(
        col(Certificate.vendor_id) == vendor.id, col(Certificate.kind) == kind, col(Certificate.number) == number
    )
    if except_id is not None:
        query = query.where(col(Certificate.id) != except_id)
    return (await session.execute(query)).first() is not None


async def _store_document(storage: Storage, document: ProcessedDocument) -> str:
    key = content_key("certificates", document.data, document.extension)
    await anyio.to_thread.run_sync(storage.save, key, document.data)
    return key


async def add_certificate(
    *,
    session: AsyncSession,
    vendor: Vendor,
    data: CertificateInput,
    document: ProcessedDocument | None,
    storage: Storage,
    now: datetime,
) -> Certificate:
    """Attach a certificate with its document; it starts unverified until a manager checks it. Its dates are
    checked against the day of `now` (WIB)."""
    number, errors = _checked_fields(data, wib_today(now))
    if document is None:
        errors.append(FieldError("document", N_("Upload a photo or PDF of the certificate.")))
    if number and await _duplicate(session=session, vendor=vendor, kind=data.kind, number=number, except_id=None):
        errors.append(FieldError("number", MSG_DUPLICATE))
    if errors:
        raise ValidationFailed(errors)
    assert document is not None
    certificate = Certificate(
        vendor_id=vendor.id,
        kind=data.kind,
        number=number,
        issuer=" ".join(data.issuer.split()),
        issued_on=data.issued_on,
        expires_on=data.expires_on,
        document_key=await _store_document(storage, document),
        document_media_type=document.media_type,
        created_at=now,
        updated_at=now,
    )
    session.add(certificate)
    await session.flush()
    return certificate


async def update_certificate(
    *,
    session: AsyncSession,
    vendor: Vendor,
    certificate_id: int,
    data: CertificateInput,
    document: ProcessedDocument | None,
    storage: Storage,
    now: datetime,
) -> Certificate:
    """Correct a certificate or replace its document; any change sends it back to verification."""
    certificate = await get_certificate(session=session, vendor=vendor, certificate_id=certificate_id)
    number, errors = _checked_fields(data, wib_today(now))
    if number and await _duplicate(
        session=session, vendor=vendor, kind=data.kind, number=number, except_id=certificate.id
    ):
        errors.append(FieldError("number", MSG_DUPLICATE))
    if errors:
        raise ValidationFailed(errors)
    changes = {
        "kind": data.kind.value,
        "number": number,
        "issuer": " ".join(data.issuer.split()),
        "issued_on": data.issued_on,
        "expires_on": data.expires_on,
    }
    changed = any(getattr(certificate, name) != value for name, value in changes.items())
    if document is not None:
        certificate.document_key = await _store_document(storage, document)
        certificate.document_media_type = document.media_type
        changed = True
    if changed:
        for name, value in changes.items():
            setattr(certificate, name, value)
        certificate.status = CertificateStatus.UNVERIFIED
        certificate.status_reason = ""
        certificate.verified_by_id = None
        certificate.verified_at = None
        certificate.updated_at = now
        session.add(certificate)
        # Listings relying on it stop counting as certified until it is verified again.
        await refresh_entries(session, vendor_id=vendor.id)
    return certificate


async def list_certificates(*, session: AsyncSession, vendor: Vendor) -> list[Certificate]:
    query = (
        select(Certificate)
        .where(col(Certificate.vendor_id) == vendor.id)
        .order_by(col(Certificate.kind), col(Certificate.id))
    )
    return list((await session.execute(query)).scalars())


async def get_certificate(*, session: AsyncSession, vendor: Vendor, certificate_id: int) -> Certificate:
    certificate = await session.get(Certificate, certificate_id)
    ensure_access(certificate, vendor, MSG_NOT_FOUND)
    assert certificate is not None
    return certificate
