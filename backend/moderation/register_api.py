"""JSON API for the UMKM register import."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from litestar import get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.types import ControllerRouterHandler
from pydantic import BaseModel

from backend.accounts.auth import BEARER, UserRequest, requires_role
from backend.accounts.models import Role
from backend.clock import utcnow
from backend.db import DbSession
from backend.i18n import gettext
from backend.moderation import register
from backend.moderation.models import RegisterImport

MANAGERS = [requires_role(Role.MANAGER, Role.ADMIN)]


@dataclass
class RegisterUpload:
    register: UploadFile
    zone_id: int | None = None


class RejectedRowPublic(BaseModel):
    line: int
    reason: str


class RegisterReport(BaseModel):
    id: int
    zone_id: int
    filename: str
    total_rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    rejected_rows: list[RejectedRowPublic]
    created_at: datetime

    @classmethod
    def of(cls, report: RegisterImport) -> RegisterReport:
        assert report.id is not None
        return cls(
            id=report.id,
            zone_id=report.zone_id,
            filename=report.filename,
            total_rows=report.total_rows,
            created=report.created_count,
            updated=report.updated_count,
            unchanged=report.unchanged_count,
            rejected=report.rejected_count,
            created_at=report.created_at,
            rejected_rows=[_rejected(row) for row in report.rejected_rows],
        )


def _rejected(row: dict[str, Any]) -> RejectedRowPublic:
    message, params = row["reason"], row["params"]  # a stored gettext id, translated for the reader
    return RejectedRowPublic(line=row["line"], reason=gettext(message, **params))


@post(
    "/api/v1/manager/register",
    tags=["moderation"],
    guards=MANAGERS,
    security=BEARER,
    request_max_body_size=register.MAX_FILE_BYTES + 64 * 1024,
    summary="Import the district's UMKM register (CSV); valid rows become vendor invitations",
    description="Multipart: `register` is the CSV file (comma or semicolon separated, Indonesian or English "
    "headers); `zone_id` is required for an admin and ignored for a manager (their own zone).",
)
async def import_register_api(
    request: UserRequest,
    data: Annotated[RegisterUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    db_session: DbSession,
) -> RegisterReport:
    user = request.user
    zone_id = data.zone_id if user.role == Role.ADMIN else user.zone_id
    report = await register.import_register(
        session=db_session,
        manager=user,
        zone_id=zone_id,
        filename=data.register.filename or "register.csv",
        data=await data.register.read(),
        now=utcnow(),
    )
    return RegisterReport.of(report)


@get(
    "/api/v1/manager/register/{import_id:int}",
    tags=["moderation"],
    guards=MANAGERS,
    security=BEARER,
    summary="The report of one register import",
)
async def import_report_api(request: UserRequest, import_id: FromPath[int], db_session: DbSession) -> RegisterReport:
    return RegisterReport.of(await register.get_import(session=db_session, actor=request.user, import_id=import_id))


API_ROUTES: list[ControllerRouterHandler] = [import_register_api, import_report_api]
