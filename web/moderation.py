"""The market manager's pages: review queue, certificate verification, vendors, buyers' reports, audit log;
and the buyer's form to report a listing.

Decisions work as plain forms (303 back to the list) and, with htmx, replace the decided card in place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread
from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest
from backend.accounts.models import User
from backend.clock import utcnow, wib_today
from backend.db import DbSession, undone_if_refused
from backend.errors import Conflict, ValidationFailed
from backend.media.routes import private_document_response
from backend.media.storage import Storage
from backend.moderation import service
from backend.moderation.audit import AuditFilter, list_entries
from backend.moderation.schemas import ReasonInput, ReportInput
from backend.moderation.service import ApprovalOutcome
from backend.vendors.models import Vendor
from backend.vendors.readiness import Readiness, readiness_of_vendors
from web.forms import field_errors, form_values, query_date, read_form, whole_number
from web.responses import page, page_or_fragment, see_other, wants_fragment
from web.roles import BUYERS, MANAGERS
from web.signing import signature, signed
from web.synonyms import PAGE_ROUTES as SYNONYM_PAGE_ROUTES


@dataclass(frozen=True)
class DecisionList:
    """One of the manager's lists of things to decide on: where it is, its template, what it lists (the service
    function and the name the template knows the rows by), and the keywords its decisions take the item's id and
    the written reason by."""

    path: str
    template: str
    rows_name: str
    rows: Callable[..., Awaitable[Any]]
    item_key: str
    reason_key: str = "reason"
    # Where the manager goes on after a decision: the id of the item the list now shows first, and the prefix of
    # the ids of its cards ("item-12"); lists without one stay at the top.
    next_item: Callable[..., Awaitable[int | None]] | None = None
    anchor: str = "item-"

    async def page(
        self,
        request: UserRequest,
        db_session: AsyncSession,
        *,
        status_code: int = 200,
        errors: dict[int, dict[str, str]] | None = None,
    ) -> Template:
        """The list, with a refused decision's message next to its item (`errors` by item id), and the message of
        the last approval (what buyers see of the listing) when the manager was sent back here after one."""
        rows = await self.rows(session=db_session, actor=request.user)
        return page(
            self.template,
            status_code=status_code,
            errors=errors or {},
            notice=request.query_params.get("notice"),
            approval=approval_from_query(request.query_params, secret_key=_secret(request), manager_id=request.user.id),
            next_id=whole_number(request.query_params.get("next")),
            **{self.rows_name: rows},
        )

    def decided(
        self,
        request: HTMXRequest,
        *,
        notice: str,
        item_id: int,
        errors: dict[str, str] | None = None,
        next_id: int | None = None,
        approval: ApprovalOutcome | None = None,
    ) -> Template | Redirect:
        """With htmx the decided card is replaced in place (the next one follows it); without, back to the list
        with a notice, on the next item."""
        query: dict[str, str] = {
            "notice": notice,
            **approval_query(approval, secret_key=_secret(request), manager_id=request.user.id),
        }
        if next_id is not None:
            query["next"] = str(next_id)
        target = f"{self.path}?{urlencode(query)}" + (f"#{self.anchor}{next_id}" if next_id is not None else "")
        return page_or_fragment(
            request,
            Redirect(target, status_code=303),
            "moderation/_decided.html",
            notice=notice,
            errors=errors or {},
            item_id=item_id,
            next_id=next_id,
            anchor=self.anchor,
            approval=approval,
        )

    async def decide(
        self,
        request: HTMXRequest,
        db_session: AsyncSession,
        decision: Callable[..., Awaitable[object]],
        *,
        item_id: int,
        notice: str,
        with_reason: bool = False,
        outcome: Callable[..., Awaitable[ApprovalOutcome]] | None = None,
    ) -> Template | Redirect:
        """The manager's `decision` (a service function) on the item. A reason someone reads (the vendor, the buyer
        who reported), where one is asked, comes back next to the form when missing; someone else may have decided
        first. `outcome` tells what buyers now see of the decided item, for the message."""
        decide = partial(decision, session=db_session, actor=request.user, now=utcnow(), **{self.item_key: item_id})
        approval: ApprovalOutcome | None = None
        try:
            if with_reason:
                decide = partial(decide, **{self.reason_key: read_form(ReasonInput, await form_values(request)).reason})
            async with undone_if_refused(db_session):
                decided = await decide()
                if outcome is not None:
                    approval = await outcome(session=db_session, product=decided)
        except ValidationFailed as refused:
            if not with_reason:
                raise
            if wants_fragment(request):
                # htmx 2 does not swap 4xx answers: the reason's error comes back as a 200 fragment in place.
                return self.decided(request, notice="reason_missing", errors=field_errors(refused), item_id=item_id)
            return await self.page(request, db_session, status_code=422, errors={item_id: field_errors(refused)})
        except Conflict as conflict:
            changed = conflict.message == service.MSG_CHANGE_CHANGED
            return self.decided(request, notice="changed_meanwhile" if changed else "already_decided", item_id=item_id)
        next_id = await self.next_item(session=db_session, actor=request.user) if self.next_item else None
        return self.decided(request, notice=notice, item_id=item_id, next_id=next_id, approval=approval)


def approval_query(approval: ApprovalOutcome | None, *, secret_key: str, manager_id: int) -> dict[str, str]:
    """An approval's outcome as the redirect back to the queue carries it, so the queue says it without asking
    the database again. The figures come with a proof (an HMAC for the manager who decided), so a link typed or
    sent by someone else cannot make a manager's queue announce made-up figures."""
    if approval is None:
        return {}
    figures = {
        "listing": approval.product,
        "on_sale": "1" if approval.on_sale else "0",
        "canteens": str(approval.canteens),
        "gates": str(approval.gates),
        "dormitories": str(approval.dormitories),
    }
    return {**figures, "proof": signature(secret_key, _proof_purpose(manager_id), _proof_message(figures))}


def approval_from_query(query: Mapping[str, str], *, secret_key: str, manager_id: int) -> ApprovalOutcome | None:
    """The approval the query carries, when its proof holds for this manager; None otherwise."""
    if query.get("notice") != "approved" or not query.get("listing"):
        return None
    figures = {name: query.get(name, "") for name in _APPROVAL_FIGURES}
    if not signed(secret_key, _proof_purpose(manager_id), _proof_message(figures), query.get("proof", "")):
        return None
    return ApprovalOutcome(
        product=figures["listing"][:120],
        on_sale=figures["on_sale"] == "1",
        canteens=whole_number(figures["canteens"]) or 0,
        gates=whole_number(figures["gates"]) or 0,
        dormitories=whole_number(figures["dormitories"]) or 0,
    )


_APPROVAL_FIGURES = ("listing", "on_sale", "canteens", "gates", "dormitories")


def _secret(request: UserRequest | HTMXRequest) -> str:
    return str(request.app.state["settings"].secret_key)


def _proof_purpose(manager_id: int) -> str:
    """A proof made for one manager holds for no other."""
    return f"approval|{manager_id}"


def _proof_message(figures: Mapping[str, str]) -> str:
    return "\x1f".join(figures[name] for name in _APPROVAL_FIGURES)


QUEUE = DecisionList(
    "/manager/queue",
    "moderation/queue.html",
    "queue",
    service.review_queue,
    "product_id",
    next_item=service.next_listing_to_review,
)
CHANGES = DecisionList(
    "/manager/changes", "moderation/changes.html", "changes", service.revisions_to_review, "revision_id"
)
CERTIFICATES = DecisionList(
    "/manager/certificates",
    "moderation/certificates.html",
    "pending",
    service.certificates_to_verify,
    "certificate_id",
    next_item=service.next_certificate_to_verify,
    anchor="certificate-",
)


async def _vendors_with_readiness(*, session: AsyncSession, actor: User) -> list[tuple[Vendor, Readiness]]:
    """The zone's vendors, each with how far along the readiness checklist they are (as of today, WIB)."""
    vendors = await service.vendors_of_zone(session=session, actor=actor)
    return await readiness_of_vendors(session=session, vendors=vendors, today=wib_today(utcnow()))


VENDORS = DecisionList("/manager/vendors", "moderation/vendors.html", "vendors", _vendors_with_readiness, "vendor_id")
REPORTS = DecisionList(
    "/manager/reports", "moderation/reports.html", "reports", service.open_reports, "report_id", "resolution"
)


# --- listings in review ------------------------------------------------------------------------------------


@get("/manager/queue", guards=MANAGERS)
async def queue_page(request: UserRequest, db_session: DbSession) -> Template:
    return await QUEUE.page(request, db_session)


@post("/manager/listings/{product_id:int}/approve", guards=MANAGERS)
async def approve(request: HTMXRequest, product_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    return await QUEUE.decide(
        request,
        db_session,
        service.approve_listing,
        item_id=product_id,
        notice="approved",
        outcome=service.approval_outcome,
    )


@post("/manager/listings/{product_id:int}/reject", guards=MANAGERS)
async def reject(request: HTMXRequest, product_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    return await QUEUE.decide(
        request, db_session, service.reject_listing, item_id=product_id, notice="rejected", with_reason=True
    )


# --- changes to live listings ---------------------------------------------------------------------------------


@get("/manager/changes", guards=MANAGERS)
async def changes_page(request: UserRequest, db_session: DbSession) -> Template:
    """Changes to listings on sale, each field before and after (photos side by side); approving shows them to
    buyers, rejecting keeps the listing as it was."""
    return await CHANGES.page(request, db_session)


@post("/manager/changes/{revision_id:int}/approve", guards=MANAGERS)
async def approve_change(
    request: HTMXRequest, revision_id: FromPath[int], db_session: DbSession
) -> Template | Redirect:
    """Approve the change as the manager saw it (`seen`, its updated_at on the page): one the vendor changed since
    is shown again instead."""
    seen = _seen_at((await form_values(request)).get("seen"))
    approve = partial(service.approve_revision, seen=seen)
    return await CHANGES.decide(request, db_session, approve, item_id=revision_id, notice="change_approved")


def _seen_at(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


@post("/manager/changes/{revision_id:int}/reject", guards=MANAGERS)
async def reject_change(request: HTMXRequest, revision_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    return await CHANGES.decide(
        request, db_session, service.reject_revision, item_id=revision_id, notice="change_rejected", with_reason=True
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
    return await CERTIFICATES.decide(
        request, db_session, service.verify_certificate, item_id=certificate_id, notice="verified"
    )


@post("/manager/certificates/{certificate_id:int}/reject", guards=MANAGERS)
async def reject_certificate(
    request: HTMXRequest, certificate_id: FromPath[int], db_session: DbSession
) -> Template | Redirect:
    return await CERTIFICATES.decide(
        request, db_session, service.reject_certificate, item_id=certificate_id, notice="rejected", with_reason=True
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
    notice = "suspended" if decision == "suspend" else "reinstated"
    return await VENDORS.decide(request, db_session, action, item_id=vendor_id, notice=notice, with_reason=True)


@get("/manager/reports", guards=MANAGERS)
async def reports_page(request: UserRequest, db_session: DbSession) -> Template:
    return await REPORTS.page(request, db_session)


@post("/manager/reports/{report_id:int}/resolve", guards=MANAGERS)
async def resolve_report(request: HTMXRequest, report_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    """Closing a report needs a resolution, written and checked like a reason."""
    return await REPORTS.decide(
        request, db_session, service.resolve_report, item_id=report_id, notice="resolved", with_reason=True
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
    changes_page,
    approve_change,
    reject_change,
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
