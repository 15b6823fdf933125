"""JSON API of the zone's training record: programmes, cohorts, attendees, attendance list imports, verified
completions and the trained people who do not sell yet (managers, their own zone only: another zone's answer 404),
and a vendor's own verified completions.

The same service functions as the pages (training.service, training.attendance).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar import Controller, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody
from litestar.types import ControllerRouterHandler
from pydantic import BaseModel

from backend.accounts.auth import BEARER, UserRequest, requires_role
from backend.accounts.models import Role
from backend.clock import utcnow
from backend.db import DbSession
from backend.i18n import gettext
from backend.public import RowShape, UtcDatetime
from backend.training import attendance, service
from backend.training.models import (
    TRAINING_KIND_LABELS,
    AttendanceImport,
    TrainingAttendee,
    TrainingCohort,
    TrainingKind,
)
from backend.training.service import (
    AttendeeInput,
    CohortInput,
    ProgrammeInput,
    ProgrammeWithCohorts,
    TrainedPerson,
    VerificationInput,
)


class CohortPublic(RowShape):
    id: int
    programme_id: int
    name: str
    starts_on: date
    ends_on: date | None
    place: str


class ProgrammePublic(BaseModel):
    id: int
    name: str
    organiser: str
    kind: str
    kind_label: str
    description: str
    cohorts: list[CohortPublic]

    @classmethod
    def of(cls, found: ProgrammeWithCohorts) -> ProgrammePublic:
        programme = found.programme
        return cls(
            id=programme.id,
            name=programme.name,
            organiser=programme.organiser,
            kind=programme.kind,
            kind_label=gettext(TRAINING_KIND_LABELS[TrainingKind(programme.kind)]),
            description=programme.description,
            cohorts=[CohortPublic.of(cohort) for cohort in found.cohorts],
        )


class AttendeePublic(BaseModel):
    """Someone on a cohort's list: `vendor_id` once linked to a vendor of the zone, `in_register` when the district
    register has them; `verified` when a manager verified the completion (it shows as a badge)."""

    id: int
    cohort_id: int
    full_name: str
    business_name: str
    phone: str | None
    nib: str | None
    completed: bool
    verified: bool
    verified_at: UtcDatetime | None
    certificate_number: str
    signed_up: bool
    vendor_id: int | None
    in_register: bool

    @classmethod
    def of(cls, attendee: TrainingAttendee, vendor_id: int | None = None) -> AttendeePublic:
        return cls(
            id=attendee.id,
            cohort_id=attendee.cohort_id,
            full_name=attendee.full_name,
            business_name=attendee.business_name,
            phone=attendee.phone,
            nib=attendee.nib,
            completed=attendee.completed,
            verified=attendee.verified_at is not None,
            verified_at=attendee.verified_at,
            certificate_number=attendee.certificate_number,
            signed_up=attendee.user_id is not None,
            vendor_id=vendor_id,
            in_register=attendee.invitation_id is not None,
        )


class CohortDetail(BaseModel):
    cohort: CohortPublic
    programme_id: int
    programme_name: str
    organiser: str
    attendees: list[AttendeePublic]


class RejectedRowPublic(BaseModel):
    line: int
    reason: str


class AttendanceReport(BaseModel):
    id: int
    cohort_id: int
    filename: str
    total_rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    rejected_rows: list[RejectedRowPublic]
    created_at: UtcDatetime

    @classmethod
    def of(cls, report: AttendanceImport) -> AttendanceReport:
        return cls(
            id=report.id,
            cohort_id=report.cohort_id,
            filename=report.filename,
            total_rows=report.total_rows,
            created=report.created_count,
            updated=report.updated_count,
            unchanged=report.unchanged_count,
            rejected=report.rejected_count,
            rejected_rows=[_rejected(row) for row in report.rejected_rows],
            created_at=report.created_at,
        )


def _rejected(row: dict[str, Any]) -> RejectedRowPublic:
    return RejectedRowPublic(line=row["line"], reason=gettext(row["reason"], **row["params"]))


class TrainedPersonPublic(BaseModel):
    """Someone the zone trained who does not sell yet: `stage` is not_signed_up, not_listed (no live listing) or
    not_sold (listed, no sale yet)."""

    name: str
    business_name: str
    phone: str | None
    stage: str
    vendor_id: int | None
    in_register: bool
    live_listings: int
    listings_waiting_for_review: int
    verified: bool
    cohorts: list[str]

    @classmethod
    def of(cls, person: TrainedPerson) -> TrainedPersonPublic:
        return cls(
            name=person.name,
            business_name=person.business_name,
            phone=person.phone,
            stage=person.stage,
            vendor_id=person.vendor_id,
            in_register=person.in_register,
            live_listings=person.shop.live,
            listings_waiting_for_review=person.shop.pending_review,
            verified=person.verified,
            cohorts=person.cohorts,
        )


class TrainedNotSellingPublic(BaseModel):
    not_signed_up: list[TrainedPersonPublic]
    not_listed: list[TrainedPersonPublic]
    not_sold: list[TrainedPersonPublic]
    selling: int


class TrainingBadgePublic(RowShape):
    """A verified training completion of mine, as buyers see it on my vendor page."""

    programme: str
    organiser: str
    kind: str
    cohort: str
    certificate_number: str
    ends_on: date | None


@dataclass
class AttendanceUpload:
    attendance: UploadFile


class TrainingApi(Controller):
    path = "/api/v1/manager/training"
    tags = ["training"]
    guards = [requires_role(Role.MANAGER)]
    security = BEARER

    @get("/programmes", summary="My zone's training programmes with their cohorts")
    async def list_programmes(self, request: UserRequest, db_session: DbSession) -> list[ProgrammePublic]:
        found = await service.list_programmes(session=db_session, actor=request.user)
        return [ProgrammePublic.of(entry) for entry in found]

    @post("/programmes", summary="Record a training programme of my zone; audit-logged")
    async def add_programme(
        self, request: UserRequest, data: JSONBody[ProgrammeInput], db_session: DbSession
    ) -> ProgrammePublic:
        programme = await service.add_programme(session=db_session, actor=request.user, data=data, now=utcnow())
        return ProgrammePublic.of(ProgrammeWithCohorts(programme, []))

    @get("/programmes/{programme_id:int}", summary="One of my zone's programmes")
    async def get_programme(
        self, request: UserRequest, programme_id: FromPath[int], db_session: DbSession
    ) -> ProgrammePublic:
        found = await service.get_programme(session=db_session, actor=request.user, programme_id=programme_id)
        return ProgrammePublic.of(found)

    @put("/programmes/{programme_id:int}", summary="Correct one of my zone's programmes; audit-logged")
    async def update_programme(
        self, request: UserRequest, programme_id: FromPath[int], data: JSONBody[ProgrammeInput], db_session: DbSession
    ) -> ProgrammePublic:
        await service.update_programme(
            session=db_session, actor=request.user, programme_id=programme_id, data=data, now=utcnow()
        )
        found = await service.get_programme(session=db_session, actor=request.user, programme_id=programme_id)
        return ProgrammePublic.of(found)

    @post("/programmes/{programme_id:int}/cohorts", summary="Add a cohort to a programme; audit-logged")
    async def add_cohort(
        self, request: UserRequest, programme_id: FromPath[int], data: JSONBody[CohortInput], db_session: DbSession
    ) -> CohortPublic:
        cohort = await service.add_cohort(
            session=db_session, actor=request.user, programme_id=programme_id, data=data, now=utcnow()
        )
        return CohortPublic.of(cohort)

    @get("/cohorts/{cohort_id:int}", summary="A cohort with its attendees")
    async def get_cohort(self, request: UserRequest, cohort_id: FromPath[int], db_session: DbSession) -> CohortDetail:
        view = await service.cohort_with_attendees(session=db_session, actor=request.user, cohort_id=cohort_id)
        return CohortDetail(
            cohort=CohortPublic.of(view.cohort),
            programme_id=view.programme.id,
            programme_name=view.programme.name,
            organiser=view.programme.organiser,
            attendees=[AttendeePublic.of(row.attendee, row.vendor_id) for row in view.attendees],
        )

    @put("/cohorts/{cohort_id:int}", summary="Correct a cohort; audit-logged")
    async def update_cohort(
        self, request: UserRequest, cohort_id: FromPath[int], data: JSONBody[CohortInput], db_session: DbSession
    ) -> CohortPublic:
        cohort: TrainingCohort = await service.update_cohort(
            session=db_session, actor=request.user, cohort_id=cohort_id, data=data, now=utcnow()
        )
        return CohortPublic.of(cohort)

    @post(
        "/cohorts/{cohort_id:int}/attendees",
        summary="Add someone to a cohort's list: a vendor of my zone, or a name with a phone or NIB; audit-logged",
    )
    async def add_attendee(
        self, request: UserRequest, cohort_id: FromPath[int], data: JSONBody[AttendeeInput], db_session: DbSession
    ) -> AttendeePublic:
        attendee = await service.add_attendee(
            session=db_session, actor=request.user, cohort_id=cohort_id, data=data, now=utcnow()
        )
        return AttendeePublic.of(attendee)

    @post(
        "/cohorts/{cohort_id:int}/attendance",
        request_max_body_size=attendance.MAX_FILE_BYTES + 64 * 1024,
        summary="Import a cohort's attendance list (CSV); the report names the rows not taken",
        description="Multipart: `attendance` is the CSV file (comma or semicolon separated; columns such as Nama, "
        "Nama Usaha, No. HP / WA, NIB, Lulus or Status). Importing the same file again adds nobody.",
    )
    async def import_attendance(
        self,
        request: UserRequest,
        cohort_id: FromPath[int],
        data: Annotated[AttendanceUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        db_session: DbSession,
    ) -> AttendanceReport:
        report = await attendance.import_attendance(
            session=db_session,
            manager=request.user,
            cohort_id=cohort_id,
            filename=data.attendance.filename or "attendance.csv",
            data=await data.attendance.read(),
            now=utcnow(),
        )
        return AttendanceReport.of(report)

    @get("/imports/{import_id:int}", summary="The report of one attendance list import")
    async def get_import(
        self, request: UserRequest, import_id: FromPath[int], db_session: DbSession
    ) -> AttendanceReport:
        report = await attendance.get_import(session=db_session, actor=request.user, import_id=import_id)
        return AttendanceReport.of(report)

    @put("/attendees/{attendee_id:int}", summary="Correct someone on a cohort's list; audit-logged")
    async def update_attendee(
        self, request: UserRequest, attendee_id: FromPath[int], data: JSONBody[AttendeeInput], db_session: DbSession
    ) -> AttendeePublic:
        await service.update_attendee(
            session=db_session, actor=request.user, attendee_id=attendee_id, data=data, now=utcnow()
        )
        row = await service.get_attendee_row(session=db_session, actor=request.user, attendee_id=attendee_id)
        return AttendeePublic.of(row.attendee, row.vendor_id)

    @delete("/attendees/{attendee_id:int}", status_code=204, summary="Take someone off a cohort's list; audit-logged")
    async def remove_attendee(self, request: UserRequest, attendee_id: FromPath[int], db_session: DbSession) -> None:
        await service.remove_attendee(session=db_session, actor=request.user, attendee_id=attendee_id)

    @post(
        "/attendees/{attendee_id:int}/verification",
        status_code=200,
        summary="Verify an attendee's completion (with the certificate's number); it shows as a badge; audit-logged",
    )
    async def verify(
        self,
        request: UserRequest,
        attendee_id: FromPath[int],
        data: JSONBody[VerificationInput],
        db_session: DbSession,
    ) -> AttendeePublic:
        attendee = await service.verify_completion(
            session=db_session, actor=request.user, attendee_id=attendee_id, data=data, now=utcnow()
        )
        return AttendeePublic.of(attendee)

    @delete(
        "/attendees/{attendee_id:int}/verification",
        status_code=204,
        summary="Withdraw a verification given by mistake; audit-logged",
    )
    async def unverify(self, request: UserRequest, attendee_id: FromPath[int], db_session: DbSession) -> None:
        await service.withdraw_verification(
            session=db_session, actor=request.user, attendee_id=attendee_id, reason="", now=utcnow()
        )

    @get("/trained-not-selling", summary="My zone's trained people who have not yet listed or sold")
    async def trained_not_selling(self, request: UserRequest, db_session: DbSession) -> TrainedNotSellingPublic:
        view = await service.trained_not_selling(session=db_session, actor=request.user)
        return TrainedNotSellingPublic(
            not_signed_up=[TrainedPersonPublic.of(person) for person in view.not_signed_up],
            not_listed=[TrainedPersonPublic.of(person) for person in view.not_listed],
            not_sold=[TrainedPersonPublic.of(person) for person in view.not_sold],
            selling=view.selling_count,
        )


class VendorTrainingApi(Controller):
    path = "/api/v1/vendor"
    tags = ["vendor"]
    guards = [requires_role(Role.VENDOR)]
    security = BEARER

    @get("/training", summary="My verified training completions (shown as badges on my vendor page)")
    async def my_training(self, request: UserRequest, db_session: DbSession) -> list[TrainingBadgePublic]:
        badges = await service.training_badges(session=db_session, user_id=request.user.id)
        return [TrainingBadgePublic.of(badge) for badge in badges]


API_ROUTES: list[ControllerRouterHandler] = [TrainingApi, VendorTrainingApi]
