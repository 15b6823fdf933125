"""Training programmes (BBPVP Semarang meat processing, BLK entrepreneurship, TKM groups), their cohorts and who
attended, kept by the zone's managers."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.db import created_at_field, id_field
from backend.errors import N_


class TrainingKind(StrEnum):
    MEAT_PROCESSING = "meat_processing"
    FOOD_PROCESSING = "food_processing"
    ENTREPRENEURSHIP = "entrepreneurship"
    TKM_GROUP = "tkm_group"
    HALAL_ASSISTANCE = "halal_assistance"
    PACKAGING = "packaging"
    OTHER = "other"


TRAINING_KIND_LABELS = {
    TrainingKind.MEAT_PROCESSING: N_("Meat processing"),
    TrainingKind.FOOD_PROCESSING: N_("Food processing"),
    TrainingKind.ENTREPRENEURSHIP: N_("Entrepreneurship"),
    TrainingKind.TKM_GROUP: N_("TKM group (independent workforce)"),
    TrainingKind.HALAL_ASSISTANCE: N_("Halal self-declare assistance"),
    TrainingKind.PACKAGING: N_("Packaging and labelling"),
    TrainingKind.OTHER: N_("Other training"),
}

_KINDS = ", ".join(f"'{kind.value}'" for kind in TrainingKind)


class TrainingProgramme(SQLModel, table=True):
    """A training programme a zone's vendors take part in: who runs it and what it teaches."""

    __tablename__ = "training_programme"
    __table_args__ = (CheckConstraint(f"kind IN ({_KINDS})", name="kind_known"),)

    id: int = id_field()
    zone_id: int = Field(foreign_key="zone.id", index=True)
    name: str = Field(max_length=160)
    organiser: str = Field(max_length=120)  # "BBPVP Semarang", "BLK Kabupaten Batang"
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    description: str = Field(default="", max_length=500)
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class TrainingCohort(SQLModel, table=True):
    """One run of a programme: a group trained together, from one day to another, at one place."""

    __tablename__ = "training_cohort"
    __table_args__ = (CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates_in_order"),)

    id: int = id_field()
    programme_id: int = Field(foreign_key="training_programme.id", index=True)
    zone_id: int = Field(foreign_key="zone.id", index=True)
    name: str = Field(max_length=120)
    starts_on: date
    ends_on: date | None = None
    place: str = Field(default="", max_length=200)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class AttendanceImport(SQLModel, table=True):
    """One upload of a cohort's attendance list, with its report."""

    __tablename__ = "training_import"

    id: int = id_field()
    cohort_id: int = Field(foreign_key="training_cohort.id", index=True)
    zone_id: int = Field(foreign_key="zone.id")
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


class TrainingAttendee(SQLModel, table=True):
    """Someone who attended a cohort: known by phone (E.164) or NIB, linked to the vendor account with that phone
    (now or when they sign up later) and to the register's invitation with that phone or NIB. A manager's
    verification of the completion (with the certificate's number when there is one) is what shows as a badge."""

    __tablename__ = "training_attendee"
    __table_args__ = (
        UniqueConstraint("cohort_id", "phone", name="uq_training_attendee_cohort_phone"),
        UniqueConstraint("cohort_id", "nib", name="uq_training_attendee_cohort_nib"),
        CheckConstraint("phone IS NOT NULL OR nib IS NOT NULL", name="identified"),
    )

    id: int = id_field()
    cohort_id: int = Field(foreign_key="training_cohort.id", index=True)
    zone_id: int = Field(foreign_key="zone.id", index=True)
    full_name: str = Field(max_length=120)
    business_name: str = Field(default="", max_length=120)
    phone: str | None = Field(default=None, max_length=16, index=True)
    nib: str | None = Field(default=None, max_length=13)
    # Passed ("Lulus") as the organiser's list or the manager says.
    completed: bool = False
    # The vendor account (role vendor) this attendee is, once known.
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    invitation_id: int | None = Field(default=None, foreign_key="vendor_invitation.id", ondelete="SET NULL")
    certificate_number: str = Field(default="", max_length=60)
    verified_at: datetime | None = None
    verified_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    import_id: int | None = Field(default=None, foreign_key="training_import.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
