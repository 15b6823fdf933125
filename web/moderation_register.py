"""The manager's register import pages: upload a CSV, read the report of rejected rows."""

from __future__ import annotations

from litestar import get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest
from backend.accounts.models import Role
from backend.accounts.service import list_zones
from backend.clock import utcnow
from backend.db import DbSession, undone_if_refused
from backend.errors import N_, ValidationFailed
from backend.moderation import register
from backend.moderation.schemas import RegisterZoneInput
from web.forms import field_errors, form_values, read_form
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


PAGE_ROUTES = [register_form, upload_register, register_report]
