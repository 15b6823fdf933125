"""Invoice pages: a canteen's invoices, the printable invoice, the manager's open and overdue invoices with "mark
paid", and the manager's canteens with their invoice terms and NPWP.

Plain forms answered by a 303; a refusal comes back on the same page with its message and the status that says
why. The rules live in backend.payments.invoices.
"""

from __future__ import annotations

from datetime import date

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest, requires_role
from backend.accounts.models import Role
from backend.administration import service as administration
from backend.clock import utcnow, wib_today
from backend.config import Settings
from backend.db import DbSession, undone_if_refused
from backend.errors import Conflict, ValidationFailed
from backend.payments import invoices
from backend.payments.invoices import INVOICE_TERMS, InvoiceState
from backend.payments.ledger_schemas import InvoiceTermsInput, PaidInput
from web.forms import FIRST_OPENED, FormState, RowRefusal, form_values, page_number, read_form, row_forms
from web.responses import page, see_other
from web.roles import CANTEEN_STAFF, MANAGERS

READERS = [requires_role(Role.CANTEEN_STAFF, Role.MANAGER, Role.ADMIN)]
# The manager's list: what is still to be paid by default.
MANAGER_FILTERS = {
    "unpaid": (InvoiceState.OPEN, InvoiceState.OVERDUE),
    "overdue": (InvoiceState.OVERDUE,),
    "paid": (InvoiceState.PAID,),
    "void": (InvoiceState.VOID,),
}


# --- the canteen's invoices and the printable invoice ------------------------------------------------------


@get("/canteen/invoices", guards=CANTEEN_STAFF, name="canteen_invoices")
async def canteen_invoices(request: UserRequest, db_session: DbSession) -> Template:
    """The canteen's invoices, newest first: open, overdue (in red), paid, void (two queries)."""
    listing = await invoices.list_invoices(
        session=db_session,
        actor=request.user,
        today=wib_today(utcnow()),
        page=page_number(request.query_params.get("page")),
    )
    return page("invoices/list.html", listing=listing)


async def _invoice_page(
    request: UserRequest,
    db_session: AsyncSession,
    settings: Settings,
    invoice_id: int,
    today: date,
    state: FormState = FIRST_OPENED,
) -> Template:
    detail = await invoices.invoice_detail(session=db_session, actor=request.user, invoice_id=invoice_id, today=today)
    return page(
        "invoices/detail.html",
        detail=detail,
        invoice=detail.invoice,
        bank=await administration.platform_bank(session=db_session, configured=settings.platform_bank),
        may_mark_paid=invoices.may_manage(request.user, detail.organisation.zone_id),
        notice=request.query_params.get("notice"),
        **state.context(),
    )


@get("/invoices/{invoice_id:int}", guards=READERS, name="invoice")
async def invoice_page(
    request: UserRequest, invoice_id: FromPath[int], db_session: DbSession, settings: NamedDependency[Settings]
) -> Template:
    """The printable invoice, for the canteen's staff, the zone's managers and the admins, with where to pay
    (four queries)."""
    return await _invoice_page(request, db_session, settings, invoice_id, wib_today(utcnow()))


# --- managers: open and overdue invoices, mark paid -------------------------------------------------------


async def _manager_list(
    request: UserRequest, db_session: AsyncSession, today: date, *, refusal: RowRefusal | None = None
) -> Template:
    shown = request.query_params.get("state", "unpaid")
    shown = shown if shown in MANAGER_FILTERS else "unpaid"
    listing = await invoices.list_invoices(
        session=db_session,
        actor=request.user,
        today=today,
        states=MANAGER_FILTERS[shown],
        page=page_number(request.query_params.get("page")),
    )
    return page(
        "invoices/manage.html",
        listing=listing,
        shown=shown,
        notice=request.query_params.get("notice"),
        **row_forms(refusal),
    )


@get("/manager/invoices", guards=MANAGERS, name="manager_invoices")
async def manager_invoices(request: UserRequest, db_session: DbSession) -> Template:
    """The zone's unpaid invoices (every zone's for an admin), the earliest due first, each with "mark paid"."""
    return await _manager_list(request, db_session, wib_today(utcnow()))


@post("/manager/invoices/{invoice_id:int}/paid", guards=MANAGERS)
async def mark_paid(
    request: UserRequest, invoice_id: FromPath[int], db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    """Record the canteen's payment with its reference; `back=invoice` returns to the invoice's page."""
    values = await form_values(request)
    on_invoice = values.get("back") == "invoice"
    now = utcnow()
    try:
        paid = read_form(PaidInput, values)
        async with undone_if_refused(db_session):
            await invoices.mark_invoice_paid(
                session=db_session,
                actor=request.user,
                invoice_id=invoice_id,
                payment_reference=paid.payment_reference,
                now=now,
            )
    except (ValidationFailed, Conflict) as refused:
        status_code = 400 if isinstance(refused, ValidationFailed) else 409
        if on_invoice:
            state = FormState.refused(values, refused, status_code=status_code)
            return await _invoice_page(request, db_session, settings, invoice_id, wib_today(now), state)
        return await _manager_list(
            request, db_session, wib_today(now), refusal=RowRefusal(invoice_id, refused, values, status_code)
        )
    if on_invoice:
        return see_other(f"/invoices/{invoice_id}", notice="paid")
    return see_other("/manager/invoices", notice="paid")


# --- managers: canteens' invoice terms and NPWP ------------------------------------------------------------


async def _canteens_page(
    request: UserRequest, db_session: AsyncSession, *, refusal: RowRefusal | None = None
) -> Template:
    canteens = await invoices.canteens_for_terms(session=db_session, actor=request.user)
    return page(
        "invoices/canteens.html",
        canteens=canteens,
        terms=INVOICE_TERMS,
        notice=request.query_params.get("notice"),
        saved=request.query_params.get("canteen", ""),
        **row_forms(refusal),
    )


@get("/manager/canteens", guards=MANAGERS, name="manager_canteens")
async def canteens_page(request: UserRequest, db_session: DbSession) -> Template:
    """The zone's canteens with their invoice terms and NPWP, a form for each (two queries)."""
    return await _canteens_page(request, db_session)


@post("/manager/canteens/{organisation_id:int}/invoice-terms", guards=MANAGERS)
async def save_invoice_terms(
    request: UserRequest, organisation_id: FromPath[int], db_session: DbSession
) -> Template | Redirect:
    values = await form_values(request)
    try:
        # The form's first choice, "no invoice terms", is sent empty: the API's null.
        terms = read_form(InvoiceTermsInput, {**values, "invoice_terms_days": values.get("invoice_terms_days") or None})
        async with undone_if_refused(db_session):
            await invoices.set_invoice_terms(
                session=db_session,
                actor=request.user,
                organisation_id=organisation_id,
                terms_days=terms.invoice_terms_days,
                npwp=terms.npwp,
            )
    except ValidationFailed as refused:
        return await _canteens_page(request, db_session, refusal=RowRefusal(organisation_id, refused, values))
    return see_other(f"/manager/canteens?notice=saved&canteen={organisation_id}#canteen-{organisation_id}")


PAGE_ROUTES = [canteen_invoices, invoice_page, manager_invoices, mark_paid, canteens_page, save_invoice_terms]
