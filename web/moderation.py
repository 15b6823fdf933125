"""The market manager's pages: review queue, certificate verification, vendors, buyers' reports, audit log;
and the buyer's form to report a listing.

Decisions work as plain forms (303 back to the list) and, with htmx, replace the decided card in place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

import anyio.to_thread
from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest
from backend.clock import utcnow
from backend.db import DbSession
from backend.errors import Conflict, ValidationFailed
from backend.media.routes import private_document_response
from backend.media.storage import Storage
from backend.moderation import service
from backend.moderation.audit import AuditFilter, list_entries
from web.forms import field_errors, form_values
from web.responses import page, page_or_fragment, see_other, wants_fragment
from web.roles import BUYERS, MANAGERS



def _decided(request: HTMXRequest, *, list_path: str, notice: str, errors: dict[str, str] | None = None,
             item_id: int | None = None) -> Template | Redirect:
    """With htmx the decided card is replaced in place; without, back to the list with a notice."""
    return page_or_fragment(request, see_other(list_path, notice=notice), "moderation/_decided.html", notice=notice,
                            errors=errors or {}, item_id=item_id)


async def _queue_page(request: UserRequest, db_session: AsyncSession, *, status_code: int = 200,
                      errors: dict[int, dict[str, str]] | None = None) -> Template:
    queue = await service.review_queue(session=db_session, actor=request.user)
    return page("moderation/queue.html", status_code=status_code, queue=queue, errors=errors or {},
                notice=request.query_params.get("notice"))


@get("/manager/queue", guards=MANAGERS)
async def queue_page(request: UserRequest, db_session: DbSession) -> Template:
    return await _queue_page(request, db_session)


@post("/manager/listings/{product_id:int}/approve", guards=MANAGERS)
async def approve(request: HTMXRequest, product_id: FromPath[int], db_session: DbSession
                  ) -> Template | Redirect:
    try:
        await service.approve_listing(session=db_session, actor=request.user, product_id=product_id, now=utcnow())
    except Conflict:
        return _decided(request, list_path="/manager/queue", notice="already_decided", item_id=product_id)
    return _decided(request, list_path="/manager/queue", notice="approved", item_id=product_id)


@post("/manager/listings/{product_id:int}/reject", guards=MANAGERS)
async def reject(request: HTMXRequest, product_id: FromPath[int], db_session: DbSession
                 ) -> Template | Redirect:
    async def decide(reason: str) -> None:
        await service.reject_listing(session=db_session, actor=request.user, product_id=product_id, reason=reason,
                                     now=utcnow())

    return await _reject(request, db_session, item_id=product_id, decide=decide, list_path="/manager/queue",
                         list_page=_queue_page)


async def _reject(request: HTMXRequest, db_session: AsyncSession, *, item_id: int,
                  decide: Callable[[str], Awaitable[None]], list_path: str,
                  list_page: Callable[..., Awaitable[Template]]) -> Template | Redirect:
    """A rejection needs a reason the vendor reads; a missing one comes back next to the form."""
    values = await form_values(request)
    try:
        await decide(values.get("reason", ""))
    except ValidationFailed as exc:
        await db_session.rollback()
        if wants_fragment(request):
            # htmx 2 does not swap 4xx answers: the reason's error comes back as a 200 fragment in place.
            return _decided(request, list_path=list_path, notice="reason_missing", errors=field_errors(exc),
                            item_id=item_id)
        return await list_page(request, db_session, status_code=422, errors={item_id: field_errors(exc)})
    except Conflict:
        return _decided(request, list_path=list_path, notice="already_decided", item_id=item_id)
    return _decided(request, list_path=list_path, notice="rejected", item_id=item_id)


async def _certificates_page(request: UserRequest, db_session: AsyncSession, *, status_code: int = 200,
                             errors: dict[int, dict[str, str]] | None = None) -> Template:
    pending = await service.certificates_to_verify(session=db_session, actor=request.user)
    return page("moderation/certificates.html", status_code=status_code, pending=pending, errors=errors or {},
                notice=request.query_params.get("notice"))


@get("/manager/certificates", guards=MANAGERS)
async def certificates_page(request: UserRequest, db_session: DbSession) -> Template:
    return await _certificates_page(request, db_session)


@get("/manager/certificates/{certificate_id:int}/document", guards=MANAGERS)
async def certificate_document(request: UserRequest, certificate_id: FromPath[int],
                               db_session: DbSession,
                               storage: NamedDependency[Storage]) -> Response[bytes]:
    certificate, _ = await service.certificate_for_manager(session=db_session, actor=request.user,
                                                           certificate_id=certificate_id)
    data = await anyio.to_thread.run_sync(storage.read, certificate.document_key)
    return private_document_response(data, certificate.document_media_type)


@post("/manager/certificates/{certificate_id:int}/verify", guards=MANAGERS)
async def verify(request: HTMXRequest, certificate_id: FromPath[int], db_session: DbSession
                 ) -> Template | Redirect:
    try:
        await service.verify_certificate(session=db_session, actor=request.user, certificate_id=certificate_id,
                                         now=utcnow())
    except Conflict:
        return _decided(request, list_path="/manager/certificates", notice="already_decided")
    return _decided(request, list_path="/manager/certificates", notice="verified")


@post("/manager/certificates/{certificate_id:int}/reject", guards=MANAGERS)
async def reject_certificate(request: HTMXRequest, certificate_id: FromPath[int],
                             db_session: DbSession) -> Template | Redirect:
    async def decide(reason: str) -> None:
        await service.reject_certificate(session=db_session, actor=request.user, certificate_id=certificate_id,
                                         reason=reason, now=utcnow())

    return await _reject(request, db_session, item_id=certificate_id, decide=decide,
                         list_path="/manager/certificates", list_page=_certificates_page)


async def _vendors_page(request: UserRequest, db_session: AsyncSession, *, status_code: int = 200,
                        errors: dict[int, dict[str, str]] | None = None) -> Template:
    vendors = await service.vendors_of_zone(session=db_session, actor=request.user)
    return page("moderation/vendors.html", status_code=status_code, vendors=vendors, errors=errors or {},
                notice=request.query_params.get("notice"))


@get("/manager/vendors", guards=MANAGERS)
async def vendors_page(request: UserRequest, db_session: DbSession) -> Template:
    return await _vendors_page(request, db_session)


@post("/manager/vendors/{vendor_id:int}/{decision:str}", guards=MANAGERS)
async def change_vendor(request: UserRequest, vendor_id: FromPath[int], decision: FromPath[str],
                        db_session: DbSession) -> Template | Redirect:
    action = {"suspend": service.suspend_vendor, "reinstate": service.reinstate_vendor}.get(decision)
    if action is None:
        return await _vendors_page(request, db_session, status_code=404)
    values = await form_values(request)
    try:
        await action(session=db_session, actor=request.user, vendor_id=vendor_id, reason=values.get("reason", ""),
                     now=utcnow())
    except ValidationFailed as exc:
        await db_session.rollback()
        return await _vendors_page(request, db_session, status_code=422, errors={vendor_id: field_errors(exc)})
    except Conflict:
        return see_other("/manager/vendors", notice="already_decided")
    return see_other("/manager/vendors", notice="suspended" if decision == "suspend" else "reinstated")


async def _reports_page(request: UserRequest, db_session: AsyncSession, *, status_code: int = 200,
                        errors: dict[int, dict[str, str]] | None = None) -> Template:
    reports = await service.open_reports(session=db_session, actor=request.user)
    return page("moderation/reports.html", status_code=status_code, reports=reports, errors=errors or {},
                notice=request.query_params.get("notice"))


@get("/manager/reports", guards=MANAGERS)
async def reports_page(request: UserRequest, db_session: DbSession) -> Template:
    return await _reports_page(request, db_session)


@post("/manager/reports/{report_id:int}/resolve", guards=MANAGERS)
async def resolve_report(request: UserRequest, report_id: FromPath[int],
                         db_session: DbSession) -> Template | Redirect:
    values = await form_values(request)
    try:
        await service.resolve_report(session=db_session, actor=request.user, report_id=report_id,
                                     resolution=values.get("reason", ""), now=utcnow())
    except ValidationFailed as exc:
        await db_session.rollback()
        return await _reports_page(request, db_session, status_code=422, errors={report_id: field_errors(exc)})
    except Conflict:
        return see_other("/manager/reports", notice="already_decided")
    return see_other("/manager/reports", notice="resolved")


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@get("/manager/audit", guards=MANAGERS)
async def audit_page(request: UserRequest, db_session: DbSession) -> Template:
    query = request.query_params
    before_id = query.get("before_id")
    filters = AuditFilter(action=query.get("action") or None, since=_date(query.get("since")),
                          until=_date(query.get("until")),
                          before_id=int(before_id) if before_id and before_id.isdigit() else None, limit=50)
    entries = await list_entries(session=db_session, actor=request.user, filters=filters)
    return page("moderation/audit.html", entries=entries, filters=filters,
                older=entries[-1][0].id if len(entries) == filters.limit else None)


@get("/listings/{product_id:int}/report", guards=BUYERS)
async def report_form(product_id: FromPath[int], db_session: DbSession,
                      request: UserRequest) -> Template:
    product = await service.reportable_listing(session=db_session, product_id=product_id)
    return page("moderation/report_listing.html", product=product, form={}, errors={},
                notice=request.query_params.get("notice"))


@post("/listings/{product_id:int}/report", guards=BUYERS)
async def report_listing(request: UserRequest, product_id: FromPath[int],
                         db_session: DbSession) -> Template | Redirect:
    values = await form_values(request)
    try:
        await service.report_listing(session=db_session, reporter=request.user, product_id=product_id,
                                     kind=values.get("kind", ""), details=values.get("details", ""))
    except ValidationFailed as exc:
        await db_session.rollback()
        product = await service.reportable_listing(session=db_session, product_id=product_id)
        return page("moderation/report_listing.html", status_code=422, product=product, form=values,
                    errors=field_errors(exc), notice=None)
    return see_other(f"/listings/{product_id}/report", notice="sent")


PAGE_ROUTES = [queue_page, approve, reject, certificates_page, certificate_document, verify, reject_certificate,
               vendors_page, change_vendor, reports_page, resolve_report, audit_page, report_form, report_listing]
