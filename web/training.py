"""The zone's training record on pages: programmes, cohorts and their attendees, attendance list imports, verified
completions, and the trained people who do not sell yet (plain forms with a 303 back; verifying an attendee swaps
their row under htmx). Managers of the zone only; each change is in the audit log.

The rules are in backend.training, which the JSON API calls too.
"""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest, requires_role
from backend.accounts.models import Role
from backend.clock import utcnow
from backend.db import DbSession, undone_if_refused
from backend.errors import N_, ValidationFailed
from backend.phone import display_phone
from backend.training import attendance, service
from backend.training.models import TrainingAttendee, TrainingCohort, TrainingKind, TrainingProgramme
from backend.training.service import AttendeeInput, CohortInput, ProgrammeInput, VerificationInput
from web.forms import FIRST_OPENED, FormState, form_values, read_form
from web.responses import page, page_or_fragment, see_other

MANAGER_ONLY = [requires_role(Role.MANAGER)]
PATH = "/manager/training"
MSG_CHOOSE_FILE = N_("Choose the attendance list's CSV file.")


def _programme_form(programme: TrainingProgramme) -> dict[str, Any]:
    return {
        "name": programme.name,
        "organiser": programme.organiser,
        "kind": programme.kind,
        "description": programme.description,
    }


def _cohort_form(cohort: TrainingCohort) -> dict[str, Any]:
    return {
        "name": cohort.name,
        "starts_on": cohort.starts_on.isoformat(),
        "ends_on": cohort.ends_on.isoformat() if cohort.ends_on else "",
        "place": cohort.place,
    }


# --- programmes -----------------------------------------------------------------------------------------------


async def _programmes_page(request: UserRequest, db_session: AsyncSession, state: FormState = FIRST_OPENED) -> Template:
    programmes = await service.list_programmes(session=db_session, actor=request.user)
    return page(
        "training/programmes.html",
        programmes=programmes,
        notice=request.query_params.get("notice"),
        **state.context(blank={"kind": TrainingKind.MEAT_PROCESSING.value}),
    )


@get(PATH, guards=MANAGER_ONLY)
async def programmes_page(request: UserRequest, db_session: DbSession) -> Template:
    """The zone's training programmes and their cohorts, and a form to record a programme."""
    return await _programmes_page(request, db_session)


@post(PATH, guards=MANAGER_ONLY)
async def add_programme(request: UserRequest, db_session: DbSession) -> Template | Redirect:
    form = await form_values(request)
    try:
        data = read_form(ProgrammeInput, form)
        async with undone_if_refused(db_session):
            programme = await service.add_programme(session=db_session, actor=request.user, data=data, now=utcnow())
    except ValidationFailed as refused:
        return await _programmes_page(request, db_session, FormState.refused(form, refused))
    return see_other(f"{PATH}/programmes/{programme.id}", notice="added")


async def _programme_page(
    request: UserRequest,
    db_session: AsyncSession,
    programme_id: int,
    *,
    programme_state: FormState | None = None,
    cohort_state: FormState = FIRST_OPENED,
) -> Template:
    found = await service.get_programme(session=db_session, actor=request.user, programme_id=programme_id)
    programme_state = programme_state or FormState(_programme_form(found.programme))
    status_code = max(programme_state.status_code, cohort_state.status_code)
    return page(
        "training/programme.html",
        status_code=status_code,
        programme=found.programme,
        cohorts=found.cohorts,
        notice=request.query_params.get("notice"),
        form=programme_state.values,
        errors=programme_state.errors,
        cohort_form=cohort_state.values,
        cohort_errors=cohort_state.errors,
    )


@get(f"{PATH}/programmes/{{programme_id:int}}", guards=MANAGER_ONLY)
async def programme_page(request: UserRequest, programme_id: FromPath[int], db_session: DbSession) -> Template:
    """One programme: its details to correct, its cohorts, and a form to add a cohort."""
    return await _programme_page(request, db_session, programme_id)


@post(f"{PATH}/programmes/{{programme_id:int}}", guards=MANAGER_ONLY)
async def edit_programme(
    request: UserRequest, programme_id: FromPath[int], db_session: DbSession
) -> Template | Redirect:
    form = await form_values(request)
    try:
        data = read_form(ProgrammeInput, form)
        async with undone_if_refused(db_session):
            await service.update_programme(
                session=db_session, actor=request.user, programme_id=programme_id, data=data, now=utcnow()
            )
    except ValidationFailed as refused:
        return await _programme_page(
            request, db_session, programme_id, programme_state=FormState.refused(form, refused)
        )
    return see_other(f"{PATH}/programmes/{programme_id}", notice="saved")


@post(f"{PATH}/programmes/{{programme_id:int}}/cohorts", guards=MANAGER_ONLY)
async def add_cohort(request: UserRequest, programme_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    form = await form_values(request)
    try:
        data = read_form(CohortInput, form)
        async with undone_if_refused(db_session):
            cohort = await service.add_cohort(
                session=db_session, actor=request.user, programme_id=programme_id, data=data, now=utcnow()
            )
    except ValidationFailed as refused:
        return await _programme_page(request, db_session, programme_id, cohort_state=FormState.refused(form, refused))
    return see_other(f"{PATH}/cohorts/{cohort.id}", notice="added")


# --- cohorts and attendees ------------------------------------------------------------------------------------


async def _cohort_page(
    request: UserRequest,
    db_session: AsyncSession,
    cohort_id: int,
    *,
    cohort_state: FormState | None = None,
    attendee_state: FormState = FIRST_OPENED,
    import_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    view = await service.cohort_with_attendees(session=db_session, actor=request.user, cohort_id=cohort_id)
    cohort_state = cohort_state or FormState(_cohort_form(view.cohort))
    return page(
        "training/cohort.html",
        status_code=max(status_code, cohort_state.status_code, attendee_state.status_code),
        view=view,
        notice=request.query_params.get("notice"),
        form=cohort_state.values,
        errors=cohort_state.errors,
        attendee_form=attendee_state.values,
        attendee_errors=attendee_state.errors,
        import_errors=import_errors or {},
        columns=attendance.HEADER_ALIASES,
    )


@get(f"{PATH}/cohorts/{{cohort_id:int}}", guards=MANAGER_ONLY)
async def cohort_page(request: UserRequest, cohort_id: FromPath[int], db_session: DbSession) -> Template:
    """A cohort: who attended, with their vendor or register entry; verify completions, add people, import a list."""
    return await _cohort_page(request, db_session, cohort_id)


@post(f"{PATH}/cohorts/{{cohort_id:int}}", guards=MANAGER_ONLY)
async def edit_cohort(request: UserRequest, cohort_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    form = await form_values(request)
    try:
        data = read_form(CohortInput, form)
        async with undone_if_refused(db_session):
            await service.update_cohort(
                session=db_session, actor=request.user, cohort_id=cohort_id, data=data, now=utcnow()
            )
    except ValidationFailed as refused:
        return await _cohort_page(request, db_session, cohort_id, cohort_state=FormState.refused(form, refused))
    return see_other(f"{PATH}/cohorts/{cohort_id}", notice="saved")


@post(f"{PATH}/cohorts/{{cohort_id:int}}/attendees", guards=MANAGER_ONLY)
async def add_attendee(request: UserRequest, cohort_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    form = await form_values(request)
    try:
        data = read_form(AttendeeInput, form)
        async with undone_if_refused(db_session):
            await service.add_attendee(
                session=db_session, actor=request.user, cohort_id=cohort_id, data=data, now=utcnow()
            )
    except ValidationFailed as refused:
        return await _cohort_page(request, db_session, cohort_id, attendee_state=FormState.refused(form, refused))
    return see_other(f"{PATH}/cohorts/{cohort_id}", notice="attendee_added")


@post(
    f"{PATH}/cohorts/{{cohort_id:int}}/attendance",
    guards=MANAGER_ONLY,
    request_max_body_size=attendance.MAX_FILE_BYTES + 64 * 1024,
)
async def import_attendance(
    request: UserRequest, cohort_id: FromPath[int], db_session: DbSession
) -> Template | Redirect:
    values = await form_values(request)
    upload = values.get(attendance.FILE_FIELD)
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationFailed.single(attendance.FILE_FIELD, MSG_CHOOSE_FILE)
        async with undone_if_refused(db_session):
            report = await attendance.import_attendance(
                session=db_session,
                manager=request.user,
                cohort_id=cohort_id,
                filename=upload.filename,
                data=await upload.read(),
                now=utcnow(),
            )
    except ValidationFailed as refused:
        errors = FormState.refused({}, refused).errors
        return await _cohort_page(request, db_session, cohort_id, import_errors=dict(errors), status_code=422)
    return see_other(f"{PATH}/imports/{report.id}")


@get(f"{PATH}/imports/{{import_id:int}}", guards=MANAGER_ONLY)
async def import_report(request: UserRequest, import_id: FromPath[int], db_session: DbSession) -> Template:
    """What an attendance list import did, and the rows it did not take with their reasons."""
    report = await attendance.get_import(session=db_session, actor=request.user, import_id=import_id)
    return page("training/import_report.html", report=report)


async def _attendee_answer(
    request: HTMXRequest, db_session: AsyncSession, attendee_id: int, notice: str
) -> Template | Redirect:
    """The plain browser goes back to the cohort; htmx gets the attendee's row to swap."""
    row = await service.get_attendee_row(session=db_session, actor=request.user, attendee_id=attendee_id)
    return page_or_fragment(
        request,
        see_other(f"{PATH}/cohorts/{row.attendee.cohort_id}", notice=notice),
        "training/_attendee.html",
        row=row,
    )


def _attendee_form(attendee: TrainingAttendee) -> dict[str, Any]:
    return {
        "full_name": attendee.full_name,
        "business_name": attendee.business_name,
        "phone": display_phone(attendee.phone) if attendee.phone else "",
        "nib": attendee.nib or "",
        "completed": attendee.completed,
    }


@get(f"{PATH}/attendees/{{attendee_id:int}}", guards=MANAGER_ONLY)
async def attendee_page(request: UserRequest, attendee_id: FromPath[int], db_session: DbSession) -> Template:
    """Someone on a cohort's list, to correct a name or a mistyped phone number."""
    row = await service.get_attendee_row(session=db_session, actor=request.user, attendee_id=attendee_id)
    return page("training/attendee.html", row=row, form=_attendee_form(row.attendee), errors={})


@post(f"{PATH}/attendees/{{attendee_id:int}}", guards=MANAGER_ONLY)
async def edit_attendee(request: UserRequest, attendee_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    form = await form_values(request)
    try:
        data = read_form(AttendeeInput, form)
        async with undone_if_refused(db_session):
            attendee = await service.update_attendee(
                session=db_session, actor=request.user, attendee_id=attendee_id, data=data, now=utcnow()
            )
    except ValidationFailed as refused:
        row = await service.get_attendee_row(session=db_session, actor=request.user, attendee_id=attendee_id)
        return page("training/attendee.html", row=row, **FormState.refused(form, refused).context())
    return see_other(f"{PATH}/cohorts/{attendee.cohort_id}", notice="attendee_saved")


@post(f"{PATH}/attendees/{{attendee_id:int}}/verify", guards=MANAGER_ONLY)
async def verify_attendee(
    request: HTMXRequest, attendee_id: FromPath[int], db_session: DbSession
) -> Template | Redirect:
    form = await form_values(request)
    data = read_form(VerificationInput, form)
    await service.verify_completion(
        session=db_session, actor=request.user, attendee_id=attendee_id, data=data, now=utcnow()
    )
    return await _attendee_answer(request, db_session, attendee_id, "verified")


@post(f"{PATH}/attendees/{{attendee_id:int}}/unverify", guards=MANAGER_ONLY)
async def unverify_attendee(
    request: HTMXRequest, attendee_id: FromPath[int], db_session: DbSession
) -> Template | Redirect:
    await service.withdraw_verification(
        session=db_session, actor=request.user, attendee_id=attendee_id, reason="", now=utcnow()
    )
    return await _attendee_answer(request, db_session, attendee_id, "unverified")


@post(f"{PATH}/attendees/{{attendee_id:int}}/remove", guards=MANAGER_ONLY)
async def remove_attendee(request: UserRequest, attendee_id: FromPath[int], db_session: DbSession) -> Redirect:
    attendee = await service.remove_attendee(session=db_session, actor=request.user, attendee_id=attendee_id)
    return see_other(f"{PATH}/cohorts/{attendee.cohort_id}", notice="removed")


# --- trained but not yet selling ------------------------------------------------------------------------------


@get(f"{PATH}/not-selling", guards=MANAGER_ONLY)
async def trained_not_selling_page(request: UserRequest, db_session: DbSession) -> Template:
    """The zone's trained people who have not signed up, not listed, or not sold yet, each with their cohorts."""
    view = await service.trained_not_selling(session=db_session, actor=request.user)
    return page("training/not_selling.html", view=view)


PAGE_ROUTES = [
    programmes_page,
    add_programme,
    programme_page,
    edit_programme,
    add_cohort,
    cohort_page,
    edit_cohort,
    add_attendee,
    import_attendance,
    import_report,
    attendee_page,
    edit_attendee,
    verify_attendee,
    unverify_attendee,
    remove_attendee,
    trained_not_selling_page,
]
