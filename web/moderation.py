"""The market manager's pages: review queue, certificate verification, vendors, buyers' reports, audit log;
and the buyer's form to report a listing.

Decisions work as plain forms (303 back to the list) and, with htmx, replace the decided card in place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio.to_thread
from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest
from backend.clock import utcnow
from backend.db import DbSession, undone_if_refused
from backend.errors import Conflict, ValidationFailed
from backend.media.routes import private_document_response
from backend.media.storage import Storage
from backend.moderation import service
from backend.moderation.audit import AuditFilter, list_entries
from backend.moderation.schemas import ReasonInput, ReportInput
from web.forms import field_errors, form_values, query_date, read_form, whole_number
from web.responses import page, page_or_fragment, see_other, wants_fragment
from web.roles import BUYERS, MANAGERS
from web.synonyms import PAGE_ROUTES as SYNONYM_PAGE_ROUTES


@dataclass(frozen=True)
class DecisionList:
    """One of the manager's lists of things to decide on: where it is, its template, and what it lists (the
    service function and the name the template knows the rows by)."""

    path: str
    template: str
    rows_name: str
    rows: Callable[..., Awaitable[Any]]

    async def page(
        self,
        request: UserRequest,
        db_session: AsyncSession,
        *,
        status_code: int = 200,
        errors: dict[int, dict[str, str]] | None = None,
    ) -> Template:
        """The list, with a refused decision's message next to its item (`errors` by item id)."""
        rows = await self.rows(session=db_session, actor=request.user)
        return page(
            self.template,
            status_code=status_code,
            errors=errors or {},
            notice=request.query_params.get("notice"),
            **{self.rows_name: rows},
        )


QUEUE = DecisionList("/manager/queue", "moderation/queue.html", "queue", service.review_queue)
CERTIFICATES = DecisionList(
    "/manager/certificates", "moderation/certificates.html", "pending", service.certificates_to_verify
)
VENDORS = DecisionList("/manager/vendors", "moderation/vendors.html", "vendors", service.vendors_of_zone)
REPORTS = DecisionList("/manager/reports", "moderation/reports.html", "reports", service.open_reports)


def _decided(
    request: HTMXRequest, decisions: DecisionList, *, notice: str, item_id: int, errors: dict[str, str] | None = None
) -> Template | Redirect:
    """With htmx the decided card is replaced in place; without, back to the list with a notice."""
    return page_or_fragment(
        request,
        see_other(decisions.path, notice=notice),
        "moderation/_decided.html",
        notice=notice,
        errors=errors or {},
        item_id=item_id,
    )


async def _decide(
    request: HTMXRequest,
    db_session: AsyncSession,
    decisions: DecisionList,
    *,
    item_id: int,
    notice: str,
    decide: Callable[[], Awaitable[object]],
) -> Template | Redirect:
    """A decision without a reason (approve, verify); someone else may have decided first."""
    try:
        async with undone_if_refused(db_session):
            await decide()
    except Conflict:
        return _decided(request, decisions, notice="already_decided", item_id=item_id)
    return _decided(request, decisions, notice=notice, item_id=item_id)


async def _decide_with_reason(
    request: HTMXRequest,
    db_session: AsyncSession,
    decisions: DecisionList,
    *,
    item_id: int,
    notice: str,
    decide: Callable[..., Awaitable[object]],
) -> Template | Redirect:
    """A decision whose reason someone reads (the vendor, the buyer who reported): a missing one comes back
    next to the form; someone else may have decided first."""
    try:
        reason = read_form(ReasonInput, await form_values(request)).reason
        async with undone_if_refused(db_session):
            await decide(reason=reason)
    except ValidationFailed as refused:
        if wants_fragment(request):
            # htmx 2 does not swap 4xx answers: the reason's error comes back as a 200 fragment in place.
            return _decided(request, decisions, notice="reason_missing", errors=field_errors(refused), item_id=item_id)
        return await decisions.page(request, db_session, status_code=422, errors={item_id: field_errors(refused)})
    except Conflict:
        return _decided(request, decisions, notice="already_decided", item_id=item_id)
    return _decided(request, decisions, notice=notice, item_id=item_id)


# --- listings in review ------------------------------------------------------------------------------------


@get("/manager/queue", guards=MANAGERS)
async def queue_page(request: UserRequest, db_session: DbSession) -> Template:
    return await QUEUE.page(request, db_session)


@post("/manager/listings/{product_id:int}/approve", guards=MANAGERS)
async def approve(request: HTMXRequest, product_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    return await _decide(
        request,
        db_session,
        QUEUE,
        item_id=product_id,
        notice="approved",
        decide=partial(
            service.approve_listing, session=db_session, actor=request.user, product_id=product_id, now=utcnow()
        ),
    )


@post("/manager/listings/{product_id:int}/reject", guards=MANAGERS)
async def reject(request: HTMXRequest, product_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    return await _decide_with_reason(
        request,
        db_session,
        QUEUE,
        item_id=product_id,
        notice="rejected",
        decide=partial(
            service.reject_listing, session=db_session, actor=request.user, product_id=product_id, now=utcnow()
        ),
    )


# --- certificates to verify ----------------------------------------------------------------------------------


@get("/manager/certificates", guards=MANAGERS)
async def certificates_page(request: UserRequest, db_session: DbSession) -> Template:
    return await CERTIFICATES.page(request, db_session)


@get("/manager/certificates/{certificate_id:int}/document", guards=MANAGERS)
async def certificate_document(
    request: UserRequest, certificate_id: FromPath[int], db_session: DbSession, storage: NamedDependency[Storage]
) -> Response[bytes]:
    certificate, _ = await service.certificate_for_manager(
        session=db_session, actor=request.user, certificate_id=certificate_id
    )
    data = await anyio.to_thread.run_sync(storage.read, certificate.document_key)
    return private_document_response(data, certificate.document_media_type)


@post("/manager/certificates/{certificate_id:int}/verify", guards=MANAGERS)
async def verify(request: HTMXRequest, certificate_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    return await _decide(
        request,
        db_session,
        CERTIFICATES,
        item_id=certificate_id,
        notice="verified",
        decide=partial(
            service.verify_certificate,
            session=db_session,
            actor=request.user,
            certificate_id=certificate_id,
            now=utcnow(),
        ),
    )


@post("/manager/certificates/{certificate_id:int}/reject", guards=MANAGERS)
async def reject_certificate(
    request: HTMXRequest, certificate_id: FromPath[int], db_session: DbSession
) -> Template | Redirect:
    return await _decide_with_reason(
        request,
        db_session,
        CERTIFICATES,
        item_id=certificate_id,
        notice="rejected",
        decide=partial(
            service.reject_certificate,
            session=db_session,
            actor=request.user,
            certificate_id=certificate_id,
            now=utcnow(),
        ),
    )


# --- vendors and buyers' reports -----------------------------------------------------------------------------


@get("/manager/vendors", guards=MANAGERS)
async def vendors_page(request: UserRequest, db_session: DbSession) -> Template:
    return await VENDORS.page(request, db_session)


@post("/manager/vendors/{vendor_id:int}/{decision:str}", guards=MANAGERS)
async def change_vendor(
    request: HTMXRequest, vendor_id: FromPath[int], decision: FromPath[str], db_session: DbSession
) -> Template | Redirect:
    """Suspend a vendor (their listings leave the catalogue) or reinstate them, with the reason they read."""
    action = {"suspend": service.suspend_vendor, "reinstate": service.reinstate_vendor}.get(decision)
    if action is None:
        return await VENDORS.page(request, db_session, status_code=404)
    return await _decide_with_reason(
        request,
        db_session,
        VENDORS,
        item_id=vendor_id,
        notice="suspended" if decision == "suspend" else "reinstated",
        decide=partial(action, session=db_session, actor=request.user, vendor_id=vendor_id, now=utcnow()),
    )


@get("/manager/reports", guards=MANAGERS)
async def reports_page(request: UserRequest, db_session: DbSession) -> Template:
    return await REPORTS.page(request, db_session)


@post("/manager/reports/{report_id:int}/resolve", guards=MANAGERS)
async def resolve_report(request: HTMXRequest, report_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    """Closing a report needs a resolution, written and checked like a reason."""
    decide = partial(service.resolve_report, session=db_session, actor=request.user, report_id=report_id, now=utcnow())
    return await _decide_with_reason(
        request,
        db_session,
        REPORTS,
        item_id=report_id,
        notice="resolved",
        decide=lambda reason: decide(resolution=reason),
    )


# --- the audit log, and a buyer's report -------------------------------------------------------------------


@get("/manager/audit", guards=MANAGERS)
async def audit_page(request: UserRequest, db_session: DbSession) -> Template:
    query = request.query_params
    filters = AuditFilter(
        action=query.get("action") or None,
        since=query_date(query.get("since")),
        until=query_date(query.get("until")),
        before_id=whole_number(query.get("before_id")),
        limit=50,
    )
    entries = await list_entries(session=db_session, actor=request.user, filters=filters)
    return page(
        "moderation/audit.html",
        entries=entries,
        filters=filters,
        older=entries[-1][0].id if len(entries) == filters.limit else None,
    )


@get("/listings/{product_id:int}/report", guards=BUYERS)
async def report_form(product_id: FromPath[int], db_session: DbSession, request: UserRequest) -> Template:
    product = await service.reportable_listing(session=db_session, product_id=product_id)
    return page(
        "moderation/report_listing.html", product=product, form={}, errors={}, notice=request.query_params.get("notice")
    )


@post("/listings/{product_id:int}/report", guards=BUYERS)
async def report_listing(request: UserRequest, product_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    values = await form_values(request)
    try:
        report = read_form(ReportInput, values)
        async with undone_if_refused(db_session):
            await service.report_listing(
                session=db_session,
                reporter=request.user,
                product_id=product_id,
                kind=report.kind,
                details=report.details,
            )
    except ValidationFailed as exc:
        product = await service.reportable_listing(session=db_session, product_id=product_id)
        return page(
            "moderation/report_listing.html",
            status_code=422,
            product=product,
            form=values,
            errors=field_errors(exc),
            notice=None,
        )
    return see_other(f"/listings/{product_id}/report", notice="sent")


PAGE_ROUTES = [
    queue_page,
    approve,
    reject,
    certificates_page,
    certificate_document,
    verify,
    reject_certificate,
    vendors_page,
    change_vendor,
    reports_page,
    resolve_report,
    audit_page,
    report_form,
    report_listing,
    *SYNONYM_PAGE_ROUTES,  # registered with the manager's other pages (backend/app.py lists domains' routes)
]
