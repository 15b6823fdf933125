"""JSON API for market managers (and admins), and for buyers reporting a listing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import BEARER, UserRequest, requires_role
from backend.accounts.models import Role
from backend.catalog.models import Product, ProductRevision
from backend.certification.models import Certificate
from backend.clock import utcnow
from backend.db import DbSession
from backend.moderation import service
from backend.moderation.audit import AuditFilter, list_entries
from backend.moderation.schemas import (
    ApprovalPublic,
    AuditEntryPublic,
    DecisionPublic,
    QueueItemPublic,
    ReasonInput,
    ReportInput,
    ReportPublic,
    RevisionItemPublic,
)
from backend.vendors.models import Vendor


async def _decide(
    decision: Callable[..., Awaitable[Product | Certificate | Vendor | ProductRevision]],
    request: UserRequest,
    db_session: AsyncSession,
    **item: Any,
) -> DecisionPublic:
    """A manager's decision (a service function) on the item named in `item`, answered with the item's new state."""
    return DecisionPublic.of(await decision(session=db_session, actor=request.user, now=utcnow(), **item))


class ModerationApi(Controller):
    path = "/api/v1/manager"
    tags = ["moderation"]
    guards = [requires_role(Role.MANAGER, Role.ADMIN)]
    security = BEARER

    @get("/queue", summary="Listings waiting for review in my zone, oldest first, with what changed")
    async def queue(self, request: UserRequest, db_session: DbSession) -> list[QueueItemPublic]:
        return [QueueItemPublic.of(item) for item in await service.review_queue(session=db_session, actor=request.user)]

    @post(
        "/listings/{product_id:int}/approve",
        summary="Approve a listing; the answer says what buyers now see of it",
        status_code=200,
    )
    async def approve(self, request: UserRequest, product_id: FromPath[int], db_session: DbSession) -> ApprovalPublic:
        product = await service.approve_listing(
            session=db_session, actor=request.user, product_id=product_id, now=utcnow()
        )
        outcome = await service.approval_outcome(session=db_session, product=product)
        return ApprovalPublic(
            **DecisionPublic.of(product).model_dump(),
            on_sale=outcome.on_sale,
            canteens=outcome.canteens,
            gates=outcome.gates,
            dormitories=outcome.dormitories,
            message=outcome.message(),
        )

    @post("/listings/{product_id:int}/reject", summary="Reject a listing with a reason", status_code=200)
    async def reject(
        self, request: UserRequest, product_id: FromPath[int], data: JSONBody[ReasonInput], db_session: DbSession
    ) -> DecisionPublic:
        return await _decide(service.reject_listing, request, db_session, product_id=product_id, reason=data.reason)

    @get("/revisions", summary="Changes to listings on sale in my zone, oldest first, each field before and after")
    async def revisions(self, request: UserRequest, db_session: DbSession) -> list[RevisionItemPublic]:
        items = await service.revisions_to_review(session=db_session, actor=request.user)
        return [RevisionItemPublic.of(item) for item in items]

    @post(
        "/revisions/{revision_id:int}/approve",
        summary="Approve a change to a listing on sale: buyers see it at once (answers the listing)",
        status_code=200,
    )
    async def approve_revision(
        self,
        request: UserRequest,
        revision_id: FromPath[int],
        db_session: DbSession,
        seen: FromQuery[datetime | None] = None,
    ) -> DecisionPublic:
        """`seen`: the change's updated_at as you reviewed it; refused (409) if the vendor changed it since."""
        return await _decide(service.approve_revision, request, db_session, revision_id=revision_id, seen=seen)

    @post(
        "/revisions/{revision_id:int}/reject",
        summary="Reject a change with a reason; the listing stays on sale as it was (answers the change)",
        status_code=200,
    )
    async def reject_revision(
        self, request: UserRequest, revision_id: FromPath[int], data: JSONBody[ReasonInput], db_session: DbSession
    ) -> DecisionPublic:
        return await _decide(service.reject_revision, request, db_session, revision_id=revision_id, reason=data.reason)

    @post("/certificates/{certificate_id:int}/verify", summary="Verify a certificate", status_code=200)
    async def verify(
        self, request: UserRequest, certificate_id: FromPath[int], db_session: DbSession
    ) -> DecisionPublic:
        return await _decide(service.verify_certificate, request, db_session, certificate_id=certificate_id)

    @post("/certificates/{certificate_id:int}/reject", summary="Reject a certificate with a reason", status_code=200)
    async def reject_certificate(
        self, request: UserRequest, certificate_id: FromPath[int], data: JSONBody[ReasonInput], db_session: DbSession
    ) -> DecisionPublic:
        return await _decide(
            service.reject_certificate, request, db_session, certificate_id=certificate_id, reason=data.reason
        )

    @post("/vendors/{vendor_id:int}/suspend", summary="Suspend a vendor with a reason", status_code=200)
    async def suspend(
        self, request: UserRequest, vendor_id: FromPath[int], data: JSONBody[ReasonInput], db_session: DbSession
    ) -> DecisionPublic:
        return await _decide(service.suspend_vendor, request, db_session, vendor_id=vendor_id, reason=data.reason)

    @post("/vendors/{vendor_id:int}/reinstate", summary="Reinstate a suspended vendor", status_code=200)
    async def reinstate(
        self, request: UserRequest, vendor_id: FromPath[int], data: JSONBody[ReasonInput], db_session: DbSession
    ) -> DecisionPublic:
        decided = await _decide(service.reinstate_vendor, request, db_session, vendor_id=vendor_id, reason=data.reason)
        # A reinstatement's reason is the audit log's, not the vendor's to read: the answer gives it back.
        return decided.model_copy(update={"reason": data.reason})

    @get("/reports", summary="Open reports from buyers")
    async def reports(self, request: UserRequest, db_session: DbSession) -> list[ReportPublic]:
        return [
            ReportPublic.of(report)
            for report, _, _ in await service.open_reports(session=db_session, actor=request.user)
        ]

    @post("/reports/{report_id:int}/resolve", summary="Resolve a report", status_code=200)
    async def resolve(
        self, request: UserRequest, report_id: FromPath[int], data: JSONBody[ReasonInput], db_session: DbSession
    ) -> ReportPublic:
        return ReportPublic.of(
            await service.resolve_report(
                session=db_session, actor=request.user, report_id=report_id, resolution=data.reason, now=utcnow()
            )
        )

    @get("/audit", summary="The audit log, newest first (read-only)")
    async def audit(
        self,
        request: UserRequest,
        db_session: DbSession,
        action: FromQuery[str | None] = None,
        since: FromQuery[date | None] = None,
        until: FromQuery[date | None] = None,
        before_id: FromQuery[int | None] = None,
        limit: FromQuery[int] = 100,
    ) -> list[AuditEntryPublic]:
        filters = AuditFilter(action=action, since=since, until=until, before_id=before_id, limit=limit)
        entries = await list_entries(session=db_session, actor=request.user, filters=filters)
        return [AuditEntryPublic.of(entry, name) for entry, name in entries]


@post(
    "/api/v1/listings/{product_id:int}/reports",
    tags=["catalogue"],
    summary="Report a listing to the managers",
    guards=[requires_role(Role.CANTEEN_STAFF, Role.WORKER)],
    security=BEARER,
)
async def report_listing(
    request: UserRequest, product_id: FromPath[int], data: JSONBody[ReportInput], db_session: DbSession
) -> ReportPublic:
    report = await service.report_listing(
        session=db_session, reporter=request.user, product_id=product_id, kind=data.kind, details=data.details
    )
    return ReportPublic.of(report)


API_ROUTES: list[ControllerRouterHandler] = [ModerationApi, report_listing]
