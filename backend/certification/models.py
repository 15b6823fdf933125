"""Certificates a vendor holds; a manager verifies each before it counts."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from backend.certification.formats import CertificateKind
from backend.db import created_at_field, id_field


class CertificateStatus(StrEnum):
    UNVERIFIED = "unverified"
    VERIFIED = "verified"
    REJECTED = "rejected"


KIND_VALUES = ", ".join(f"'{kind.value}'" for kind in CertificateKind)


class Certificate(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("vendor_id", "kind", "number", name="uq_certificate_vendor_kind_number"),
        CheckConstraint(f"kind IN ({KIND_VALUES})", name="kind_known"),
        CheckConstraint("status IN ('unverified', 'verified', 'rejected')", name="status_known"),
        CheckConstraint("expires_on IS NULL OR issued_on IS NULL OR expires_on >= issued_on", name="dates_ordered"),
        # The few certificates not verified: with ix_certificate_expires_on it answers "relies on a certificate
        # that does not count" (catalog.service.buyer_visible) without reading every certificate on each search
        # and product page (bench/load.py).
        Index(
            "ix_certificate_not_verified",
            "id",
            postgresql_where=text("status <> 'verified'"),
            sqlite_where=text("status <> 'verified'"),
        ),
    )

    id: int = id_field()
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    number: str = Field(max_length=60)
    issuer: str = Field(max_length=120)
    issued_on: date | None = None
    expires_on: date | None = Field(default=None, index=True)
    document_key: str = Field(max_length=200)
    document_media_type: str = Field(max_length=40)
    status: str = Field(default=CertificateStatus.UNVERIFIED, sa_column=Column(String(16), nullable=False))
    status_reason: str = Field(default="", max_length=500)
    verified_by_id: int | None = Field(default=None, foreign_key="user.id")
    verified_at: datetime | None = None
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
