"""JSON API for short or damaged deliveries: the buyer reports (and sends a photo per line), each side takes its step, the
zone's manager sees the disputed reports. The same service as the pages (backend.orders.claims), so the same
rules: only the order's parties see a report (404 for anyone else), each step belongs to one side (403), a step
taken twice or out of turn is refused (409)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody
from litestar.types import ControllerRouterHandler

from backend.accounts.auth import BEARER, UserRequest, requires_login
from backend.clock import utcnow
from backend.db import DbSession
from backend.guards import BUYERS, MANAGERS
from backend.media.routes import private_document_response
from backend.media.storage import Storage
from backend.media.uploads import UPLOAD_BODY_LIMIT, photo_from_upload
from backend.orders import claims
from backend.orders.claim_schemas import ClaimActionInput, ClaimPublic, ClaimReportInput, DisputedClaimPublic

MULTIPART = Body(media_type=RequestEncodingType.MULTI_PART)


@dataclass
class ClaimPhotoUpload:
    photo: UploadFile


class ClaimApi(Controller):
    path = "/api/v1/orders/{order_id:int}/claim"
    tags = ["delivery reports"]
    security = BEARER
    guards = [requires_login]

    @get("", summary="The report of a short or damaged delivery on one of my orders")
    async def get_claim(self, request: UserRequest, order_id: FromPath[int], db_session: DbSession) -> ClaimPublic:
        return ClaimPublic.of(await claims.claim_for(session=db_session, actor=request.user, order_id=order_id))

    @post(
        "",
        guards=[BUYERS],
        summary="Report a delivered order short or damaged, per line (once)",
        description="409 when the order is not delivered or was already reported; 422 for a quantity outside "
        "1..ordered. The order does not complete until the report is settled.",
    )
    async def report(
        self, request: UserRequest, order_id: FromPath[int], data: JSONBody[ClaimReportInput], db_session: DbSession
    ) -> ClaimPublic:
        now = utcnow()
        await claims.report_delivery_problem(
            session=db_session,
            actor=request.user,
            order_id=order_id,
            lines=[line.reported() for line in data.lines],
            now=now,
        )
        return ClaimPublic.of(await claims.claim_for(session=db_session, actor=request.user, order_id=order_id))

    @post(
        "/lines/{order_line_id:int}/photo",
        guards=[BUYERS],
        status_code=200,
        summary="Add or replace the photo of a reported line (JPEG, PNG or WebP; re-encoded)",
        request_max_body_size=UPLOAD_BODY_LIMIT,
    )
    async def put_photo(
        self,
        request: UserRequest,
        order_id: FromPath[int],
        order_line_id: FromPath[int],
        data: Annotated[ClaimPhotoUpload, MULTIPART],
        db_session: DbSession,
        storage: NamedDependency[Storage],
    ) -> ClaimPublic:
        photo = await photo_from_upload(await data.photo.read())
        return ClaimPublic.of(
            await claims.attach_photo(
                session=db_session,
                actor=request.user,
                order_id=order_id,
                order_line_id=order_line_id,
                photo=photo,
                storage=storage,
                now=utcnow(),
            )
        )

    @get("/lines/{order_line_id:int}/photo", summary="The photo of a reported line", media_type="image/webp")
    async def get_photo(
        self,
        request: UserRequest,
        order_id: FromPath[int],
        order_line_id: FromPath[int],
        db_session: DbSession,
        storage: NamedDependency[Storage],
    ) -> Response[bytes]:
        data = await claims.claim_photo(
            session=db_session, actor=request.user, order_id=order_id, order_line_id=order_line_id, storage=storage
        )
        return private_document_response(data, "image/webp")

    @post(
        "/actions",
        status_code=200,
        summary="Take a step: accept or propose (vendor), accept_proposal or dispute (buyer), decide (manager)",
        description="Settling gives the agreed difference back once: a partial card refund, a credit note on the "
        "invoice, or cash from the vendor. 403 for the other side's step, 409 out of turn, 422 for a missing "
        "reason or a quantity outside 0..ordered.",
    )
    async def act(
        self, request: UserRequest, order_id: FromPath[int], data: JSONBody[ClaimActionInput], db_session: DbSession
    ) -> ClaimPublic:
        return ClaimPublic.of(
            await claims.act_on_claim(
                session=db_session,
                actor=request.user,
                order_id=order_id,
                action=data.action,
                quantities=data.quantity_map(),
                reason=data.reason,
                now=utcnow(),
            )
        )


@get(
    "/api/v1/claims/disputed",
    tags=["delivery reports"],
    guards=[MANAGERS],
    security=BEARER,
    summary="Reports of short or damaged deliveries waiting for a manager's decision, the oldest first",
)
async def disputed_claims(request: UserRequest, db_session: DbSession) -> list[DisputedClaimPublic]:
    return [
        DisputedClaimPublic(
            order_id=item.order.id,
            order_number=item.order.number,
            dispute_reason=item.claim.dispute_reason,
            disputed_at=item.claim.updated_at,
        )
        for item in await claims.disputed_claims(session=db_session, actor=request.user)
    ]


API_ROUTES: list[ControllerRouterHandler] = [ClaimApi, disputed_claims]
