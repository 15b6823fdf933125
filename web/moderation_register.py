"""The manager's register import pages: upload a CSV, read the report of rejected rows."""

from __future__ import annotations

from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest
from backend.accounts.models import Role
from backend.accounts.service import list_zones
from backend.clock import utcnow
from backend.config import Settings
from backend.db import DbSession, undone_if_refused
from backend.errors import N_, ValidationFailed
from backend.links import absolute_link
from backend.moderation import register
from backend.moderation.models import VendorInvitation
from backend.moderation.schemas import RegisterZoneInput
from backend.phone import display_phone, whatsapp_link
from web.forms import field_errors, form_values, page_number, read_form, whole_number
from web.responses import page, see_other
from web.roles import MANAGERS

MSG_CHOOSE_FILE = N_("Choose the register's CSV file.")


async def _register_page(
    request: UserRequest, db_session: AsyncSession, *, status_code: int = 200, errors: dict[str, str] | None = None
) -> Template:
    imports = await register.list_imports(session=db_session, actor=request.user)
    zones = await list_zones(session=db_session) if request.user.role == Role.ADMIN else []
    return page(
        "moderation/register.html",
        status_code=status_code,
        imports=imports,
        zones=zones,
        errors=errors or {},
        columns=register.HEADER_ALIASES,
    )


@get("/manager/register", guards=MANAGERS)
async def register_form(request: UserRequest, db_session: DbSession) -> Template:
    return await _register_page(request, db_session)


@post("/manager/register", guards=MANAGERS, request_max_body_size=register.MAX_FILE_BYTES + 64 * 1024)
async def upload_register(request: UserRequest, db_session: DbSession) -> Template | Redirect:
    values = await form_values(request)
    upload = values.get("register")
    try:
        chosen = read_form(RegisterZoneInput, values)
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationFailed.single("register", MSG_CHOOSE_FILE)
        async with undone_if_refused(db_session):
            report = await register.import_register(
                session=db_session,
                manager=request.user,
                zone_id=chosen.zone_id if request.user.role == Role.ADMIN else request.user.zone_id,
                filename=upload.filename,
                data=await upload.read(),
                now=utcnow(),
            )
    except ValidationFailed as exc:
        return await _register_page(request, db_session, status_code=422, errors=field_errors(exc))
    return see_other(f"/manager/register/{report.id}")


@get("/manager/register/{import_id:int}", guards=MANAGERS)
async def register_report(request: UserRequest, import_id: FromPath[int], db_session: DbSession) -> Template:
    report = await register.get_import(session=db_session, actor=request.user, import_id=import_id)
    return page("moderation/register_report.html", report=report)


# --- inviting the register's rows ----------------------------------------------------------------------------


@get("/manager/register/rows", guards=MANAGERS)
async def register_rows(request: UserRequest, db_session: DbSession, settings: NamedDependency[Settings]) -> Template:
    """The register's rows, 50 a page, with a WhatsApp invitation for each row not signed up yet and a way to mark
    rows as invited (four queries)."""
    state_text = request.query_params.get("state") or ""
    state = register.InvitationState(state_text) if state_text in set(register.InvitationState) else None
    kecamatan = (request.query_params.get("kecamatan") or "").strip()[:80]
    listing = await register.list_invitations(
        session=db_session,
        actor=request.user,
        state=state,
        kecamatan=kecamatan,
        page=page_number(request.query_params.get("page")),
    )
    zone_ids = {row.zone_id for row in listing.rows}
    zones = {zone.id: zone for zone in await list_zones(session=db_session) if zone.id in zone_ids}
    signup_link = absolute_link(request, settings, "/signup?role=vendor")

    def invite_link(row: VendorInvitation) -> str:
        message = register.invitation_message(row, zone=zones[row.zone_id], signup_link=signup_link)
        return whatsapp_link(row.phone, message)

    return page(
        "moderation/register_rows.html",
        listing=listing,
        state=state.value if state else "",
        states=list(register.InvitationState),
        kecamatan=kecamatan,
        invite_link=invite_link,
        display_phone=display_phone,
        notice=request.query_params.get("notice"),
    )


def _rows_query(values: dict[str, object]) -> dict[str, str]:
    """Back to the list as it was: its filter and page."""
    kept = {name: str(values.get(f"back_{name}") or "") for name in ("state", "kecamatan", "page")}
    return {name: value for name, value in kept.items() if value}


@post("/manager/register/rows/invited", guards=MANAGERS)
async def mark_rows_invited(request: UserRequest, db_session: DbSession) -> Redirect:
    """Mark the ticked rows (or the one whose button was pressed) as invited."""
    values = await form_values(request, lists=("ids",))
    one = whole_number(str(values.get("one") or ""))
    ids = [one] if one else [n for n in (whole_number(text) for text in values["ids"]) if n]
    marked = await register.mark_invited(session=db_session, actor=request.user, invitation_ids=ids, now=utcnow())
    return see_other("/manager/register/rows", notice="marked" if marked else "none_marked", **_rows_query(values))


@post("/manager/register/rows/{invitation_id:int}/invited", guards=MANAGERS, status_code=204)
async def whatsapp_invitation_opened(
    request: UserRequest, invitation_id: FromPath[int], db_session: DbSession
) -> Response[None]:
    """The manager opened a row's WhatsApp invitation (a click the page reports in the background): it is
    recorded as invited."""
    await register.mark_invited(session=db_session, actor=request.user, invitation_ids=[invitation_id], now=utcnow())
    return Response(None, status_code=204)


PAGE_ROUTES = [
    register_form,
    upload_register,
    register_report,
    register_rows,
    mark_rows_invited,
    whatsapp_invitation_opened,
]
