"""What managers decide and what the system did on their behalf, kept for the record."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.db import created_at_field, id_field
from backend.errors import N_


class AuditEntry(SQLModel, table=True):
    """One manager, admin or system action: who, when, what, why, before and after. Append-only."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_zone_at", "zone_id", "at"),)

    id: int = id_field()
    at: datetime = created_at_field()
    actor_id: int | None = Field(default=None, foreign_key="user.id")  # None: a scheduled job
    actor_role: str = Field(max_length=16)
    zone_id: int | None = Field(default=None, foreign_key="zone.id")
    action: str = Field(max_length=40, index=True)
    subject_type: str = Field(max_length=30)
    subject_id: int
    # What the subject was called when it happened ("Keripik Tempe", "INV-2026-000123"), for people reading the log.
    subject_label: str = Field(default="", max_length=160, sa_column_kwargs={"server_default": ""})
    reason: str = Field(default="", max_length=500)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class ReportKind(StrEnum):
    WRONG_PHOTO = "wrong_photo"
    NOT_HALAL = "not_halal"
    BAD_QUALITY = "bad_quality"
    OTHER = "other"


REPORT_KIND_LABELS = {
    ReportKind.WRONG_PHOTO: N_("The photo does not show the product"),
    ReportKind.NOT_HALAL: N_("Sold as halal but is not"),
    ReportKind.BAD_QUALITY: N_("Bad quality or unsafe"),
    ReportKind.OTHER: N_("Something else"),
}


class ListingReport(SQLModel, table=True):
    """A buyer's report about a listing, for the zone's manager to look into."""

    __tablename__ = "listing_report"
    __table_args__ = (
        CheckConstraint("kind IN ('wrong_photo', 'not_halal', 'bad_quality', 'other')", name="kind_known"),
        CheckConstraint("status IN ('open', 'resolved')", name="status_known"),
    )

    id: int = id_field()
    product_id: int = Field(foreign_key="product.id", index=True)
    reporter_id: int = Field(foreign_key="user.id")
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    details: str = Field(default="", max_length=500)
    status: str = Field(default="open", sa_column=Column(String(10), nullable=False, index=True))
    created_at: datetime = created_at_field()
    resolved_by_id: int | None = Field(default=None, foreign_key="user.id")
    resolved_at: datetime | None = None
    resolution: str = Field(default="", max_length=500)


class CertificateNotice(SQLModel, table=True):
    """What the daily expiry job did about one certificate; unique so a second run does nothing more."""

    __tablename__ = "certificate_notice"
    __table_args__ = (
        UniqueConstraint("certificate_id", "kind", "expires_on", name="uq_certificate_notice_once"),
        CheckConstraint("kind IN ('warn_30', 'warn_7', 'expired')", name="kind_known"),
    )

    id: int = id_field()
    certificate_id: int = Field(foreign_key="certificate.id", index=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    kind: str = Field(max_length=10)
    expires_on: date
    run_on: date
    created_at: datetime = created_at_field()


class RegisterImport(SQLModel, table=True):
    """One upload of a district's UMKM register, with its report."""

    __tablename__ = "register_import"

    id: int = id_field()
    zone_id: int = Field(foreign_key="zone.id", index=True)
    manager_id: int = Field(foreign_key="user.id")
    filename: str = Field(max_length=200)
    total_rows: int = 0
    created_count: int = 0
    updated_count: int = 0
    unchanged_count: int = 0
    rejected_count: int = 0
    # [{"line": 7, "reason": "...gettext id...", "params": {...}}], shown on the report page.
    rejected_rows: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = created_at_field()


class VendorInvitation(SQLModel, table=True):
    """A UMKM from the register, invited to claim a vendor account with its phone number."""

    __tablename__ = "vendor_invitation"
    __table_args__ = (
        UniqueConstraint("zone_id", "nib", name="uq_vendor_invitation_zone_nib"),
        UniqueConstraint("zone_id", "phone", name="uq_vendor_invitation_zone_phone"),
    )

    id: int = id_field()
    zone_id: int = Field(foreign_key="zone.id", index=True)
    business_name: str = Field(max_length=120)
    owner_name: str = Field(max_length=120)
    nib: str | None = Field(default=None, max_length=13)
    phone: str = Field(max_length=16, index=True)
    kecamatan: str = Field(max_length=80)
    desa: str = Field(max_length=80)
    category: str = Field(max_length=16)
    import_id: int = Field(foreign_key="register_import.id")
    # When a manager last sent (or marked as sent) the WhatsApp invitation to sign up; None: not invited yet.
    invited_at: datetime | None = None
    claimed_by_id: int | None = Field(default=None, foreign_key="user.id")
    claimed_at: datetime | None = None
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
