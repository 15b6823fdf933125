"""The zone's training record: its managers keep the programmes, their cohorts and who attended; a manager verifies
an attendee's completion, which shows as a badge on the vendor's pages; and they see which trained vendors have not
yet listed or sold.

Attendees are known by phone (E.164) or NIB. They are linked to the vendor account of the zone with that proven
phone, or through the district register (an invitation with that phone or NIB, once claimed), or through a
verified NIB certificate; a vendor who signs up later with that phone is linked then (`link_signed_up_vendor`).

Only the zone's managers read or change its training: another zone's programme, cohort or attendee is not found,
as if it did not exist. A vendor sees only their own verified completions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Role, User
from backend.certification.formats import CertificateKind
from backend.certification.models import Certificate, CertificateStatus
from backend.db import matched_rows
from backend.errors import N_, FieldError, NotFound, ValidationFailed
from backend.moderation.audit import record
from backend.moderation.models import VendorInvitation
from backend.phone import InvalidPhoneNumber, normalize_phone
from backend.training.models import TrainingAttendee, TrainingCohort, TrainingKind, TrainingProgramme
from backend.vendors.models import Vendor
from backend.vendors.readiness import ShopFacts, shop_fact_columns

MSG_MANAGERS_ONLY = N_("Only the zone's managers keep its training record.")
MSG_NO_PROGRAMME = N_("This training programme does not exist.")
MSG_NO_COHORT = N_("This cohort does not exist.")
MSG_NO_ATTENDEE = N_("This attendee does not exist.")
MSG_NAME = N_("Type the name (2 to 160 characters).")
MSG_ORGANISER = N_("Type who runs the training, for example BBPVP Semarang.")
MSG_KIND = N_("Choose what the training teaches.")
MSG_COHORT_NAME = N_("Type the cohort's name, for example Angkatan 1 2026.")
MSG_STARTS_ON = N_("Enter the first day of the training.")
MSG_ENDS_BEFORE = N_("The last day cannot be before the first day.")
MSG_ATTENDEE_NAME = N_("Type the attendee's name.")
MSG_PHONE = N_("Type an Indonesian mobile number, for example 0812-3456-7890.")
MSG_NIB = N_("An NIB has 13 digits.")
MSG_PHONE_OR_NIB = N_("Type the phone number or the NIB: attendees are recognised by one of them.")
MSG_NO_VENDOR = N_("This vendor is not in your zone.")
MSG_ALREADY_IN_COHORT = N_("This person is already on the cohort's list.")


def managed_zone(actor: User) -> int:
    """The zone whose training the actor keeps; anyone but a manager with a zone is refused, as not found."""
    if actor.role != Role.MANAGER or actor.zone_id is None:
        raise NotFound(MSG_MANAGERS_ONLY)
    return actor.zone_id


def clean_nib(text: str | None) -> str | None:
    """An NIB as typed ("9120 3012-34567") as its 13 digits, None when blank; ValueError when not an NIB."""
    nib = "".join(char for char in (text or "") if char not in " .-")
    if not nib:
        return None
    if not (nib.isascii() and nib.isdigit() and len(nib) == 13):
        raise ValueError(MSG_NIB)
    return nib


def _words(text: str) -> str:
    return " ".join(text.split())


# --- inputs ---------------------------------------------------------------------------------------------------


class ProgrammeInput(BaseModel):
    """A training programme as a manager types it."""

    field_messages: ClassVar[dict[str, str]] = {"name": MSG_NAME, "organiser": MSG_ORGANISER, "kind": MSG_KIND}

    name: str = PydanticField(min_length=2, max_length=160, description="e.g. Pelatihan Pengolahan Daging")
    organiser: str = PydanticField(min_length=2, max_length=120, description="e.g. BBPVP Semarang")
    kind: TrainingKind = PydanticField(description="meat_processing, entrepreneurship, tkm_group, …")
    description: str = PydanticField(default="", max_length=500)


class CohortInput(BaseModel):
    """A cohort (one run) of a programme."""

    field_messages: ClassVar[dict[str, str]] = {"name": MSG_COHORT_NAME, "starts_on": MSG_STARTS_ON}

    name: str = PydanticField(min_length=1, max_length=120, description="e.g. Angkatan 1 2026")
    starts_on: date
    ends_on: date | None = None
    place: str = PydanticField(default="", max_length=200, description="e.g. BLK Batang, Jl. Raya …")


class AttendeeInput(BaseModel):
    """Someone who attended: a vendor of the zone (`vendor_id`), or a name with a phone number or an NIB."""

    field_messages: ClassVar[dict[str, str]] = {"full_name": MSG_ATTENDEE_NAME}

    full_name: str = PydanticField(default="", max_length=120)
    business_name: str = PydanticField(default="", max_length=120)
    phone: str | None = PydanticField(default=None, max_length=24, description="As typed: 0812…, +62 812-…")
    nib: str | None = PydanticField(default=None, max_length=24)
    vendor_id: int | None = PydanticField(default=None, description="A vendor of the zone, instead of a phone")
    completed: bool = PydanticField(default=False, description="Passed the training (Lulus)")


class VerificationInput(BaseModel):
    """A manager's check of a completion: the certificate's number, when there is one."""

    certificate_number: str = PydanticField(default="", max_length=60)


# --- programmes and cohorts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeWithCohorts:
    programme: TrainingProgramme
    cohorts: list[TrainingCohort]


async def list_programmes(*, session: AsyncSession, actor: User) -> list[ProgrammeWithCohorts]:
    """The zone's programmes, newest first, each with its cohorts by first day: one query."""
    zone_id = managed_zone(actor)
    rows = (
        await session.execute(
            select(TrainingProgramme, TrainingCohort)
            .outerjoin(TrainingCohort, col(TrainingCohort.programme_id) == col(TrainingProgramme.id))
            .where(col(TrainingProgramme.zone_id) == zone_id)
            .order_by(col(TrainingProgramme.id).desc(), col(TrainingCohort.starts_on), col(TrainingCohort.id))
        )
    ).all()
    found: dict[int, ProgrammeWithCohorts] = {}
    for programme, cohort in rows:
        entry = found.setdefault(programme.id, ProgrammeWithCohorts(programme, []))
        if cohort is not None:
            entry.cohorts.append(cohort)
    return list(found.values())


async def get_programme(*, session: AsyncSession, actor: User, programme_id: int) -> ProgrammeWithCohorts:
    """One programme of the manager's zone with its cohorts; another zone's is not found."""
    zone_id = managed_zone(actor)
    # A programme without cohorts comes back once, with None (the outer join).
    rows: Sequence[tuple[TrainingProgramme, TrainingCohort | None]] = (
        await session.execute(
            select(TrainingProgramme, TrainingCohort)
            .outerjoin(TrainingCohort, col(TrainingCohort.programme_id) == col(TrainingProgramme.id))
            .where(col(TrainingProgramme.id) == programme_id, col(TrainingProgramme.zone_id) == zone_id)
            .order_by(col(TrainingCohort.starts_on), col(TrainingCohort.id))
        )
    ).all()
    if not rows:
        raise NotFound(MSG_NO_PROGRAMME)
    return ProgrammeWithCohorts(rows[0][0], [cohort for _, cohort in rows if cohort is not None])


def _programme_fields(data: ProgrammeInput) -> dict[str, Any]:
    errors = []
    name, organiser = _words(data.name), _words(data.organiser)
    if len(name) < 2:
        errors.append(FieldError("name", MSG_NAME))
    if len(organiser) < 2:
        errors.append(FieldError("organiser", MSG_ORGANISER))
    if errors:
        raise ValidationFailed(errors)
    return {"name": name, "organiser": organiser, "kind": data.kind.value, "description": data.description.strip()}


async def add_programme(
    *, session: AsyncSession, actor: User, data: ProgrammeInput, now: datetime
) -> TrainingProgramme:
    """A manager records a training programme of their zone; the audit log keeps it."""
    zone_id = managed_zone(actor)
    fields = _programme_fields(data)
    programme = TrainingProgramme(zone_id=zone_id, created_by=actor.id, created_at=now, updated_at=now, **fields)
    session.add(programme)
    await session.flush()
    await record(session, actor, "training.programme_add", programme, zone_id, after=fields)
    return programme


def _apply(row: Any, fields: dict[str, Any], now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set the fields that changed; what they were and what they are now, for the audit log."""
    before = {name: getattr(row, name) for name, value in fields.items() if getattr(row, name) != value}
    for name in before:
        setattr(row, name, fields[name])
    if before:
        row.updated_at = now
    return before, {name: fields[name] for name in before}


def _audit_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


async def update_programme(
    *, session: AsyncSession, actor: User, programme_id: int, data: ProgrammeInput, now: datetime
) -> TrainingProgramme:
    """A manager corrects one of their zone's programmes; the audit log keeps what changed."""
    programme = (await get_programme(session=session, actor=actor, programme_id=programme_id)).programme
    before, after = _apply(programme, _programme_fields(data), now)
    if before:
        session.add(programme)
        await session.flush()
        await record(
            session, actor, "training.programme_edit", programme, programme.zone_id, before=before, after=after
        )
    return programme


def _cohort_fields(data: CohortInput) -> dict[str, Any]:
    name = _words(data.name)
    errors = []
    if not name:
        errors.append(FieldError("name", MSG_COHORT_NAME))
    if data.ends_on is not None and data.ends_on < data.starts_on:
        errors.append(FieldError("ends_on", MSG_ENDS_BEFORE))
    if errors:
        raise ValidationFailed(errors)
    return {"name": name, "starts_on": data.starts_on, "ends_on": data.ends_on, "place": _words(data.place)}


async def add_cohort(
    *, session: AsyncSession, actor: User, programme_id: int, data: CohortInput, now: datetime
) -> TrainingCohort:
    """A manager adds a cohort to one of their zone's programmes; the audit log keeps it."""
    programme = (await get_programme(session=session, actor=actor, programme_id=programme_id)).programme
    fields = _cohort_fields(data)
    cohort = TrainingCohort(
        programme_id=programme.id, zone_id=programme.zone_id, created_at=now, updated_at=now, **fields
    )
    session.add(cohort)
    await session.flush()
    after = {name: _audit_value(value) for name, value in fields.items()}
    await record(session, actor, "training.cohort_add", cohort, cohort.zone_id, reason=programme.name, after=after)
    return cohort


async def get_cohort(*, session: AsyncSession, actor: User, cohort_id: int) -> tuple[TrainingCohort, TrainingProgramme]:
    """One cohort of the manager's zone with its programme; another zone's is not found."""
    zone_id = managed_zone(actor)
    row = (
        await session.execute(
            select(TrainingCohort, TrainingProgramme)
            .join(TrainingProgramme, col(TrainingProgramme.id) == col(TrainingCohort.programme_id))
            .where(col(TrainingCohort.id) == cohort_id, col(TrainingCohort.zone_id) == zone_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(MSG_NO_COHORT)
    return row[0], row[1]


async def update_cohort(
    *, session: AsyncSession, actor: User, cohort_id: int, data: CohortInput, now: datetime
) -> TrainingCohort:
    """A manager corrects one of their zone's cohorts; the audit log keeps what changed."""
    cohort, _programme = await get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    before, after = _apply(cohort, _cohort_fields(data), now)
    if before:
        session.add(cohort)
        await session.flush()
        await record(
            session,
            actor,
            "training.cohort_edit",
            cohort,
            cohort.zone_id,
            before={name: _audit_value(value) for name, value in before.items()},
            after={name: _audit_value(value) for name, value in after.items()},
        )
    return cohort


# --- attendees ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendeeRow:
    """An attendee as the cohort's page lists them: with the vendor they are linked to, if any."""

    attendee: TrainingAttendee
    vendor_id: int | None
    vendor_name: str | None


@dataclass(frozen=True)
class CohortView:
    cohort: TrainingCohort
    programme: TrainingProgramme
    attendees: list[AttendeeRow]


async def cohort_with_attendees(*, session: AsyncSession, actor: User, cohort_id: int) -> CohortView:
    """A cohort of the manager's zone, its programme and its attendees by name with their vendors: one query."""
    zone_id = managed_zone(actor)
    # A cohort without attendees comes back once, with None (the outer join).
    rows: Sequence[tuple[TrainingCohort, TrainingProgramme, TrainingAttendee | None, int | None, str | None]] = (
        await session.execute(
            select(TrainingCohort, TrainingProgramme, TrainingAttendee, col(Vendor.id), col(Vendor.business_name))
            .join(TrainingProgramme, col(TrainingProgramme.id) == col(TrainingCohort.programme_id))
            .outerjoin(TrainingAttendee, col(TrainingAttendee.cohort_id) == col(TrainingCohort.id))
            .outerjoin(Vendor, col(Vendor.user_id) == col(TrainingAttendee.user_id))
            .where(col(TrainingCohort.id) == cohort_id, col(TrainingCohort.zone_id) == zone_id)
            .order_by(col(TrainingAttendee.full_name), col(TrainingAttendee.id))
        )
    ).all()
    if not rows:
        raise NotFound(MSG_NO_COHORT)
    attendees = [AttendeeRow(row[2], row[3], row[4]) for row in rows if row[2] is not None]
    return CohortView(rows[0][0], rows[0][1], attendees)


@dataclass
class Identities:
    """Who the zone knows by phone and NIB: vendor accounts and the register's invitations."""

    user_by_phone: dict[str, int] = field(default_factory=dict)
    user_by_nib: dict[str, int] = field(default_factory=dict)
    invitation_by_phone: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    invitation_by_nib: dict[str, tuple[int, int | None]] = field(default_factory=dict)

    def match(self, phone: str | None, nib: str | None) -> tuple[int | None, int | None]:
        """The vendor account and the register's invitation for this phone or NIB (the NIB first)."""
        invitation = (self.invitation_by_nib.get(nib) if nib else None) or (
            self.invitation_by_phone.get(phone) if phone else None
        )
        user_id = (
            (self.user_by_phone.get(phone) if phone else None)
            or (invitation[1] if invitation else None)
            or (self.user_by_nib.get(nib) if nib else None)
        )
        return user_id, invitation[0] if invitation else None


async def zone_identities(
    *, session: AsyncSession, zone_id: int, phones: Iterable[str], nibs: Iterable[str]
) -> Identities:
    """The vendor accounts (proven phone) and invitations of the zone with these phones or NIBs, and the vendors
    whose verified NIB certificate has one of the NIBs: three queries whatever the number."""
    phones, nibs = sorted(set(phones)), sorted(set(nibs))
    found = Identities()
    if phones:
        users = await session.execute(
            select(col(User.phone), col(User.id)).where(
                col(User.zone_id) == zone_id,
                col(User.role) == Role.VENDOR,
                col(User.phone_verified_at).is_not(None),
                col(User.phone).in_(phones),
            )
        )
        found.user_by_phone = {row[0]: row[1] for row in users.all()}
    if phones or nibs:
        conditions = []
        if phones:
            conditions.append(col(VendorInvitation.phone).in_(phones))
        if nibs:
            conditions.append(col(VendorInvitation.nib).in_(nibs))
        invitations = await session.execute(
            select(
                col(VendorInvitation.id),
                col(VendorInvitation.phone),
                col(VendorInvitation.nib),
                col(VendorInvitation.claimed_by_id),
            ).where(col(VendorInvitation.zone_id) == zone_id, or_(*conditions))
        )
        for invitation_id, phone, nib, claimed_by in invitations.all():
            found.invitation_by_phone[phone] = (invitation_id, claimed_by)
            if nib:
                found.invitation_by_nib[nib] = (invitation_id, claimed_by)
    if nibs:
        certificates = await session.execute(
            select(col(Certificate.number), col(Vendor.user_id))
            .join(Vendor, col(Vendor.id) == col(Certificate.vendor_id))
            .where(
                col(Vendor.zone_id) == zone_id,
                col(Certificate.kind) == CertificateKind.NIB,
                col(Certificate.status) == CertificateStatus.VERIFIED,
                col(Certificate.number).in_(nibs),
            )
        )
        found.user_by_nib = {row[0]: row[1] for row in certificates.all()}
    return found


def _attendee_identity(data: AttendeeInput) -> tuple[str | None, str | None]:
    errors = []
    phone = nib = None
    if data.phone and data.phone.strip():
        try:
            phone = normalize_phone(data.phone)
        except InvalidPhoneNumber:
            errors.append(FieldError("phone", MSG_PHONE))
    try:
        nib = clean_nib(data.nib)
    except ValueError:
        errors.append(FieldError("nib", MSG_NIB))
    if not errors and phone is None and nib is None:
        errors.append(FieldError("phone", MSG_PHONE_OR_NIB))
    if errors:
        raise ValidationFailed(errors)
    return phone, nib


@dataclass(frozen=True)
class ResolvedAttendee:
    """An attendee as typed, checked, and matched to the zone's vendor account and register invitation."""

    full_name: str
    business_name: str
    phone: str | None
    nib: str | None
    user_id: int | None
    invitation_id: int | None

    def fields(self) -> dict[str, Any]:
        return {
            "full_name": self.full_name,
            "business_name": self.business_name,
            "phone": self.phone,
            "nib": self.nib,
            "user_id": self.user_id,
            "invitation_id": self.invitation_id,
        }


async def _resolve_attendee(
    session: AsyncSession, cohort: TrainingCohort, data: AttendeeInput, *, keep_out: int | None = None
) -> ResolvedAttendee:
    """Check what was typed and match it: a vendor of the zone (`vendor_id`), or a name with a phone or NIB linked
    to the vendor or invitation with that phone or NIB. Someone else already on the cohort's list is refused."""
    full_name, business_name = _words(data.full_name), _words(data.business_name)
    if data.vendor_id is not None:
        vendor = await session.get(Vendor, data.vendor_id)
        owner = await session.get(User, vendor.user_id) if vendor is not None else None
        if vendor is None or owner is None or vendor.zone_id != cohort.zone_id:
            raise ValidationFailed([FieldError("vendor_id", MSG_NO_VENDOR)])
        resolved = ResolvedAttendee(
            full_name or vendor.owner_name, business_name or vendor.business_name, owner.phone, None, owner.id, None
        )
    else:
        phone, nib = _attendee_identity(data)
        if len(full_name) < 2:
            raise ValidationFailed([FieldError("full_name", MSG_ATTENDEE_NAME)])
        identities = await zone_identities(
            session=session, zone_id=cohort.zone_id, phones=[phone] if phone else [], nibs=[nib] if nib else []
        )
        user_id, invitation_id = identities.match(phone, nib)
        resolved = ResolvedAttendee(full_name, business_name, phone, nib, user_id, invitation_id)
    same = [col(TrainingAttendee.phone) == resolved.phone] if resolved.phone else []
    if resolved.nib:
        same.append(col(TrainingAttendee.nib) == resolved.nib)
    duplicate = select(col(TrainingAttendee.id)).where(col(TrainingAttendee.cohort_id) == cohort.id, or_(*same))
    if keep_out is not None:
        duplicate = duplicate.where(col(TrainingAttendee.id) != keep_out)
    if (await session.execute(duplicate)).first() is not None:
        raise ValidationFailed([FieldError("phone" if resolved.phone else "nib", MSG_ALREADY_IN_COHORT)])
    return resolved


async def add_attendee(
    *, session: AsyncSession, actor: User, cohort_id: int, data: AttendeeInput, now: datetime
) -> TrainingAttendee:
    """A manager adds someone to a cohort's list: a vendor of the zone, or a person by phone or NIB, linked to the
    vendor or the register's invitation with that phone or NIB. Someone already on the list is refused."""
    cohort, _programme = await get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    resolved = await _resolve_attendee(session, cohort, data)
    attendee = TrainingAttendee(
        cohort_id=cohort.id,
        zone_id=cohort.zone_id,
        completed=data.completed,
        created_at=now,
        updated_at=now,
        **resolved.fields(),
    )
    session.add(attendee)
    await session.flush()
    after = {"cohort": cohort.name, "phone": resolved.phone, "nib": resolved.nib, "completed": data.completed}
    await record(session, actor, "training.attendee_add", attendee, cohort.zone_id, after=after)
    return attendee


async def update_attendee(
    *, session: AsyncSession, actor: User, attendee_id: int, data: AttendeeInput, now: datetime
) -> TrainingAttendee:
    """A manager corrects someone on a cohort's list (a name, a mistyped phone); a changed phone or NIB is matched
    again. A verified completion stays completed. The audit log keeps what changed."""
    attendee = await get_attendee(session=session, actor=actor, attendee_id=attendee_id)
    cohort = await session.get_one(TrainingCohort, attendee.cohort_id)
    resolved = await _resolve_attendee(session, cohort, data, keep_out=attendee.id)
    fields = {**resolved.fields(), "completed": data.completed or attendee.verified_at is not None}
    if (resolved.phone, resolved.nib) == (attendee.phone, attendee.nib) and attendee.user_id is not None:
        fields["user_id"], fields["invitation_id"] = attendee.user_id, attendee.invitation_id  # already linked
    before, after = _apply(attendee, fields, now)
    if before:
        session.add(attendee)
        await session.flush()
        await record(session, actor, "training.attendee_edit", attendee, attendee.zone_id, before=before, after=after)
    return attendee


async def get_attendee(*, session: AsyncSession, actor: User, attendee_id: int) -> TrainingAttendee:
    """One attendee of the manager's zone; another zone's is not found."""
    attendee = await session.get(TrainingAttendee, attendee_id)
    if attendee is None or attendee.zone_id != managed_zone(actor):
        raise NotFound(MSG_NO_ATTENDEE)
    return attendee


async def get_attendee_row(*, session: AsyncSession, actor: User, attendee_id: int) -> AttendeeRow:
    """One attendee of the manager's zone with the vendor they are linked to, as the cohort's page lists them."""
    zone_id = managed_zone(actor)
    row = (
        await session.execute(
            select(TrainingAttendee, col(Vendor.id), col(Vendor.business_name))
            .outerjoin(Vendor, col(Vendor.user_id) == col(TrainingAttendee.user_id))
            .where(col(TrainingAttendee.id) == attendee_id, col(TrainingAttendee.zone_id) == zone_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(MSG_NO_ATTENDEE)
    return AttendeeRow(row[0], row[1], row[2])


async def remove_attendee(*, session: AsyncSession, actor: User, attendee_id: int) -> TrainingAttendee:
    """A manager takes someone off a cohort's list (a mistake in the list); the audit log keeps who it was."""
    attendee = await get_attendee(session=session, actor=actor, attendee_id=attendee_id)
    before = {"phone": attendee.phone, "nib": attendee.nib, "verified": attendee.verified_at is not None}
    await record(session, actor, "training.attendee_remove", attendee, attendee.zone_id, before=before)
    await session.delete(attendee)
    await session.flush()
    return attendee


async def verify_completion(
    *, session: AsyncSession, actor: User, attendee_id: int, data: VerificationInput, now: datetime
) -> TrainingAttendee:
    """A manager checked the attendee's certificate (or the organiser's list): the completion is verified, with
    the certificate's number when there is one, and shows as a badge on the vendor's pages."""
    attendee = await get_attendee(session=session, actor=actor, attendee_id=attendee_id)
    before = {
        "completed": attendee.completed,
        "certificate_number": attendee.certificate_number,
        "verified": attendee.verified_at is not None,
    }
    attendee.completed = True
    attendee.certificate_number = _words(data.certificate_number)
    attendee.verified_at, attendee.verified_by, attendee.updated_at = now, actor.id, now
    session.add(attendee)
    await session.flush()
    after = {"completed": True, "certificate_number": attendee.certificate_number, "verified": True}
    await record(session, actor, "training.verify", attendee, attendee.zone_id, before=before, after=after)
    return attendee


async def withdraw_verification(
    *, session: AsyncSession, actor: User, attendee_id: int, reason: str, now: datetime
) -> TrainingAttendee:
    """A manager takes back a verification given by mistake: the badge no longer shows."""
    attendee = await get_attendee(session=session, actor=actor, attendee_id=attendee_id)
    if attendee.verified_at is not None:
        attendee.verified_at, attendee.verified_by, attendee.updated_at = None, None, now
        session.add(attendee)
        await session.flush()
        await record(
            session,
            actor,
            "training.unverify",
            attendee,
            attendee.zone_id,
            reason=reason,
            before={"verified": True},
            after={"verified": False},
        )
    return attendee


async def link_signed_up_vendor(*, session: AsyncSession, user: User) -> int:
    """A vendor who proved their phone (at sign-up) is linked to the attendances of their zone with that phone,
    or with the NIB of the register's invitation they claimed. Returns how many were linked."""
    if user.role != Role.VENDOR or user.zone_id is None or user.phone_verified_at is None:
        return 0
    claimed_nibs = select(col(VendorInvitation.nib)).where(
        col(VendorInvitation.claimed_by_id) == user.id, col(VendorInvitation.nib).is_not(None)
    )
    result = await session.execute(
        update(TrainingAttendee)
        .where(
            col(TrainingAttendee.zone_id) == user.zone_id,
            col(TrainingAttendee.user_id).is_(None),
            or_(col(TrainingAttendee.phone) == user.phone, col(TrainingAttendee.nib).in_(claimed_nibs)),
        )
        .values(user_id=user.id)
        .execution_options(synchronize_session=False)
    )
    return matched_rows(result)


async def link_vendor_by_nib(*, session: AsyncSession, vendor: Vendor, nib_text: str) -> int:
    """A vendor whose NIB certificate a manager verified is linked to the attendances of their zone with that NIB
    (an attendance list that gave only the NIB). Returns how many were linked."""
    try:
        nib = clean_nib(nib_text)
    except ValueError:
        return 0
    if nib is None:
        return 0
    result = await session.execute(
        update(TrainingAttendee)
        .where(
            col(TrainingAttendee.zone_id) == vendor.zone_id,
            col(TrainingAttendee.user_id).is_(None),
            col(TrainingAttendee.nib) == nib,
        )
        .values(user_id=vendor.user_id)
        .execution_options(synchronize_session=False)
    )
    return matched_rows(result)


# --- trained but not yet selling ------------------------------------------------------------------------------


@dataclass
class TrainedPerson:
    """Someone the zone trained, with the cohorts they attended and how far their shop has come."""

    name: str
    business_name: str
    phone: str | None
    user_id: int | None
    vendor_id: int | None
    in_register: bool
    shop: ShopFacts
    cohorts: list[str] = field(default_factory=list)
    verified: bool = False

    @property
    def stage(self) -> str:
        """not_signed_up, not_listed (no live listing), not_sold (listed, no sale yet) or selling."""
        if self.user_id is None:
            return "not_signed_up"
        if not self.shop.live:
            return "not_listed"
        if not self.shop.first_sale:
            return "not_sold"
        return "selling"


@dataclass(frozen=True)
class TrainedNotSelling:
    not_signed_up: list[TrainedPerson]
    not_listed: list[TrainedPerson]
    not_sold: list[TrainedPerson]
    selling_count: int


def _shop_facts(values: Sequence[Any]) -> ShopFacts:
    products, live, pending, rejected, food, sold, category = values
    return ShopFacts(products or 0, live or 0, pending or 0, rejected or 0, food or 0, bool(sold), category)


async def trained_not_selling(*, session: AsyncSession, actor: User) -> TrainedNotSelling:
    """The zone's trained people who do not sell yet, by how far they are: not signed up, no live listing, listed
    but no sale. One query: the attendees with their cohort, programme, vendor and the shop's readiness facts."""
    zone_id = managed_zone(actor)
    facts = shop_fact_columns(col(TrainingAttendee.user_id), col(Vendor.id))
    rows = (
        await session.execute(
            select(
                TrainingAttendee,
                col(TrainingCohort.name),
                col(TrainingProgramme.name),
                col(Vendor.id),
                col(Vendor.business_name),
                *facts,
            )
            .join(TrainingCohort, col(TrainingCohort.id) == col(TrainingAttendee.cohort_id))
            .join(TrainingProgramme, col(TrainingProgramme.id) == col(TrainingCohort.programme_id))
            .outerjoin(Vendor, col(Vendor.user_id) == col(TrainingAttendee.user_id))
            .where(col(TrainingAttendee.zone_id) == zone_id)
            .order_by(col(TrainingAttendee.full_name), col(TrainingAttendee.id))
        )
    ).all()
    people: dict[tuple[str, Any], TrainedPerson] = {}
    for row in rows:
        attendee: TrainingAttendee = row[0]
        key: tuple[str, Any] = (
            ("user", attendee.user_id) if attendee.user_id else ("person", attendee.phone or attendee.nib)
        )
        person = people.get(key)
        if person is None:
            person = people[key] = TrainedPerson(
                name=attendee.full_name,
                business_name=row[4] or attendee.business_name,
                phone=attendee.phone,
                user_id=attendee.user_id,
                vendor_id=row[3],
                in_register=attendee.invitation_id is not None,
                shop=_shop_facts(row[5:]),
            )
        person.cohorts.append(f"{row[2]} · {row[1]}")
        person.verified = person.verified or attendee.verified_at is not None
        person.in_register = person.in_register or attendee.invitation_id is not None
    groups: dict[str, list[TrainedPerson]] = {"not_signed_up": [], "not_listed": [], "not_sold": [], "selling": []}
    for person in people.values():
        groups[person.stage].append(person)
    return TrainedNotSelling(
        groups["not_signed_up"], groups["not_listed"], groups["not_sold"], selling_count=len(groups["selling"])
    )


# --- badges ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingBadge:
    """A verified completion, as the vendor's pages show it."""

    programme: str
    organiser: str
    kind: str
    cohort: str
    certificate_number: str
    ends_on: date | None


async def training_badges(*, session: AsyncSession, user_id: int) -> list[TrainingBadge]:
    """The verified completions of one vendor account, newest cohort first: what its pages show as badges."""
    rows = await session.execute(
        select(
            col(TrainingProgramme.name),
            col(TrainingProgramme.organiser),
            col(TrainingProgramme.kind),
            col(TrainingCohort.name),
            col(TrainingAttendee.certificate_number),
            col(TrainingCohort.ends_on),
        )
        .select_from(TrainingAttendee)
        .join(TrainingCohort, col(TrainingCohort.id) == col(TrainingAttendee.cohort_id))
        .join(TrainingProgramme, col(TrainingProgramme.id) == col(TrainingCohort.programme_id))
        .where(col(TrainingAttendee.user_id) == user_id, col(TrainingAttendee.verified_at).is_not(None))
        .order_by(col(TrainingCohort.starts_on).desc(), col(TrainingAttendee.id))
    )
    return [TrainingBadge(*row) for row in rows.all()]
