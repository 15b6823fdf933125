"""Invoices for canteens a market manager has verified: invoice terms and NPWP on the canteen, one invoice per
invoice checkout (issued when the checkout is placed, due 14 or 30 days later), the lists of open and overdue
invoices, the printable invoice, and "paid" recorded by a manager or an admin.

What is due is computed, never stored twice: the invoice keeps the checkout's total as issued, and the amount
due leaves out the orders that were cancelled or declined since. When all of them were, the invoice is void.
Managers act within their zone, admins everywhere; a canteen's staff see their own canteen's invoices. Anything
else is not found. Every manager's decision goes to the audit log in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, ScalarSelect, and_, case, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from backend.accounts.models import Organisation, Role, User, Zone
from backend.clock import wib_today
from backend.db import matched_rows, table_of
from backend.errors import N_, Conflict, NotFound, ValidationFailed
from backend.moderation.audit import record
from backend.orders.claim_models import CreditNote
from backend.orders.models import Order, OrderLine, OrderStatus
from backend.payments.models import Invoice
from backend.vendors.models import Vendor

INVOICE_TERMS = (14, 30)
# Orders that no longer count towards what the canteen owes.
VOID_STATUSES = (OrderStatus.CANCELLED, OrderStatus.DECLINED)
PER_PAGE = 30
MAX_REFERENCE = 120

MSG_NO_TERMS = N_("Your canteen does not have invoice terms yet: apply for them on the invoice terms page.")
MSG_TERMS = N_("Choose 14 or 30 days, or no invoice terms.")
MSG_NPWP = N_("Type the NPWP as 15 or 16 digits, for example 01.234.567.8-901.000.")
MSG_CANTEEN_NOT_FOUND = N_("We could not find this canteen.")
MSG_INVOICE_NOT_FOUND = N_("We could not find this invoice.")
MSG_REFERENCE = N_("Type the payment reference (3 to 120 characters), for example the bank transfer's number.")
MSG_ALREADY_PAID = N_("This invoice was already marked paid.")
MSG_VOID = N_("Every order on this invoice was cancelled: nothing is due.")


class InvoiceState(StrEnum):
    OPEN = "open"  # not paid, not yet due
    OVERDUE = "overdue"  # not paid, past its due date
    PAID = "paid"
    VOID = "void"  # every order was cancelled or declined: nothing is due


STATE_LABELS = {
    InvoiceState.OPEN: N_("Open"),
    InvoiceState.OVERDUE: N_("Overdue"),
    InvoiceState.PAID: N_("Paid"),
    InvoiceState.VOID: N_("Void"),
}


# --- invoice terms and NPWP (managers) --------------------------------------------------------------------


def may_manage(actor: User, zone_id: int) -> bool:
    """The zone's managers and the admins decide about a canteen's invoices."""
    return actor.role == Role.ADMIN or (actor.role == Role.MANAGER and actor.zone_id == zone_id)


def normalise_npwp(text: str) -> str:
    """An NPWP as people type it: the old 15 digits come back as 01.234.567.8-901.000, the new 16-digit one
    (the NIK) as digits; empty stays empty. Raises ValidationFailed for anything else."""
    digits = re.sub(r"[\s.\-]", "", text or "")
    if not digits:
        return ""
    if not digits.isdigit() or len(digits) not in (15, 16):
        raise ValidationFailed.single("npwp", MSG_NPWP)
    if len(digits) == 16:
        return digits
    return f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}.{digits[8]}-{digits[9:12]}.{digits[12:]}"


@dataclass
class CanteenTerms:
    organisation: Organisation
    zone_code: str
    staff: int


async def canteens_for_terms(*, session: AsyncSession, actor: User) -> list[CanteenTerms]:
    """The canteens (organisations) of the manager's zone, every zone's for an admin, with their terms; one
    query."""
    staff = (
        select(func.count(col(User.id)))
        .where(col(User.organisation_id) == col(Organisation.id), col(User.role) == Role.CANTEEN_STAFF)
        .correlate(Organisation)
        .scalar_subquery()
    )
    query = (
        select(Organisation, col(Zone.code), staff)
        .join(Zone, col(Zone.id) == col(Organisation.zone_id))
        .order_by(col(Zone.code), col(Organisation.name), col(Organisation.id))
    )
    if actor.role != Role.ADMIN:
        query = query.where(col(Organisation.zone_id) == actor.zone_id)
    return [
        CanteenTerms(organisation=organisation, zone_code=code, staff=count)
        for organisation, code, count in (await session.execute(query)).all()
    ]


async def set_invoice_terms(
    *, session: AsyncSession, actor: User, organisation_id: int, terms_days: int | None, npwp: str
) -> Organisation:
    """Grant (14 or 30 days), change or withdraw (None) a canteen's invoice terms and record its NPWP.

    Withdrawing stops new invoice checkouts only; invoices already issued stay due."""
    organisation = await session.get(Organisation, organisation_id)
    if organisation is None or not may_manage(actor, organisation.zone_id):
        raise NotFound(MSG_CANTEEN_NOT_FOUND)
    if terms_days is not None and terms_days not in INVOICE_TERMS:
        raise ValidationFailed.single("invoice_terms_days", MSG_TERMS)
    npwp = normalise_npwp(npwp)
    before = {"invoice_terms_days": organisation.invoice_terms_days, "npwp": organisation.npwp}
    after = {"invoice_terms_days": terms_days, "npwp": npwp}
    if before == after:
        return organisation
    organisation.invoice_terms_days, organisation.npwp = terms_days, npwp
    session.add(organisation)
    await record(
        session, actor, "organisation.invoice_terms", organisation, organisation.zone_id, before=before, after=after
    )
    return organisation


# --- issuing (from the placement) --------------------------------------------------------------------------


def invoice_number(year: int, checkout_id: int) -> str:
    """INV-2026-000123: the year it was issued and the checkout's id (one invoice per checkout), so the number
    is known before the row is written."""
    return f"INV-{year}-{checkout_id:06d}"


async def issue_invoice(
    *, session: AsyncSession, checkout_id: int, organisation_id: int | None, amount: int, now: datetime
) -> int:
    """The invoice of a checkout being placed on invoice, in the placement's transaction; its id. Issued on the
    day (WIB) it is placed, due after the canteen's terms, with the canteen's NPWP of today.

    One statement, which also checks the rule: the row is copied from the canteen only when it has invoice
    terms. Without them ValidationFailed (payment_method) is raised, and the caller rolls the placement back."""
    issued_on = wib_today(now)
    due_on = case(
        *[
            (col(Organisation.invoice_terms_days) == days, literal(issued_on + timedelta(days=days), Date))
            for days in INVOICE_TERMS
        ]
    )
    source = select(
        literal(checkout_id),
        col(Organisation.id),
        literal(invoice_number(issued_on.year, checkout_id)),
        literal(amount),
        literal(issued_on, Date),
        due_on,
        col(Organisation.npwp),
        literal(""),
        literal(now, table_of(Invoice).c.created_at.type),
    ).where(col(Organisation.id) == organisation_id, col(Organisation.invoice_terms_days).in_(INVOICE_TERMS))
    invoice_id = (
        await session.execute(
            insert(Invoice)
            .from_select(
                [
                    "checkout_id",
                    "organisation_id",
                    "number",
                    "amount",
                    "issued_on",
                    "due_on",
                    "npwp",
                    "payment_reference",
                    "created_at",
                ],
                source,
            )
            .returning(col(Invoice.id))
        )
    ).scalar_one_or_none()
    if invoice_id is None:
        raise ValidationFailed.single("payment_method", MSG_NO_TERMS)
    return invoice_id


# --- reading --------------------------------------------------------------------------------------------


def amount_due_column() -> ScalarSelect[int]:
    """What is still due on an invoice: its checkout's orders that were not cancelled or declined, less its credit
    notes (a correlated subquery, so a list costs one query)."""
    credited = (
        select(func.coalesce(func.sum(col(CreditNote.amount)), 0))
        .where(col(CreditNote.invoice_id) == col(Invoice.id))
        .correlate(Invoice)
        .scalar_subquery()
    )
    return (
        select(func.coalesce(func.sum(col(Order.total)), 0) - credited)
        .where(col(Order.checkout_id) == col(Invoice.checkout_id), col(Order.status).notin_(VOID_STATUSES))
        .correlate(Invoice)
        .scalar_subquery()
    )


def state_of(invoice: Invoice, amount_due: int, today: date) -> InvoiceState:
    if invoice.paid_at is not None:
        return InvoiceState.PAID
    if amount_due <= 0:
        return InvoiceState.VOID
    return InvoiceState.OVERDUE if invoice.due_on < today else InvoiceState.OPEN


@dataclass
class InvoiceSummary:
    invoice: Invoice
    organisation_name: str
    zone_id: int
    amount_due: int
    state: InvoiceState


@dataclass
class InvoiceList:
    invoices: list[InvoiceSummary]
    page: int
    has_more: bool


def _state_filter(state: InvoiceState, due: Any, today: date) -> Any:
    unpaid = col(Invoice.paid_at).is_(None)
    return {
        InvoiceState.PAID: col(Invoice.paid_at).is_not(None),
        InvoiceState.VOID: and_(unpaid, due <= 0),
        InvoiceState.OPEN: and_(unpaid, due > 0, col(Invoice.due_on) >= today),
        InvoiceState.OVERDUE: and_(unpaid, due > 0, col(Invoice.due_on) < today),
    }[state]


async def list_invoices(
    *, session: AsyncSession, actor: User, today: date, states: tuple[InvoiceState, ...] = (), page: int = 1
) -> InvoiceList:
    """Invoices the actor may see, in one query: a canteen's staff their canteen's (newest first); a manager
    their zone's, an admin every zone's (the earliest due first). `states` narrows the list; `today` (WIB)
    decides what is overdue."""
    due = amount_due_column()
    query = select(Invoice, col(Organisation.name), col(Organisation.zone_id), due).join(
        Organisation, col(Organisation.id) == col(Invoice.organisation_id)
    )
    if actor.role == Role.CANTEEN_STAFF:
        query = query.where(col(Invoice.organisation_id) == actor.organisation_id).order_by(
            col(Invoice.issued_on).desc(), col(Invoice.id).desc()
        )
    elif actor.role in (Role.MANAGER, Role.ADMIN):
        if actor.role == Role.MANAGER:
            query = query.where(col(Organisation.zone_id) == actor.zone_id)
        query = query.order_by(col(Invoice.due_on), col(Invoice.id))
    else:
        return InvoiceList(invoices=[], page=1, has_more=False)
    if states:
        query = query.where(or_(*(_state_filter(state, due, today) for state in states)))
    page = max(page, 1)
    rows = (await session.execute(query.limit(PER_PAGE + 1).offset((page - 1) * PER_PAGE))).all()
    return InvoiceList(
        invoices=[
            InvoiceSummary(
                invoice=invoice,
                organisation_name=name,
                zone_id=zone_id,
                amount_due=amount_due,
                state=state_of(invoice, amount_due, today),
            )
            for invoice, name, zone_id, amount_due in rows[:PER_PAGE]
        ],
        page=page,
        has_more=len(rows) > PER_PAGE,
    )


@dataclass
class InvoiceOrder:
    order: Order
    vendor_name: str
    lines: list[OrderLine] = field(default_factory=list)
    # The agreed difference of a short or damaged delivery, no longer asked for.
    credit_note: CreditNote | None = None

    @property
    def counts(self) -> bool:
        """False for an order cancelled or declined since: it is shown, struck out, and not due."""
        return self.order.status not in VOID_STATUSES


@dataclass
class InvoiceDetail:
    invoice: Invoice
    organisation: Organisation
    orders: list[InvoiceOrder]
    state: InvoiceState
    paid_recorded_by: str | None

    @property
    def amount_due(self) -> int:
        return sum(
            item.order.total - (item.credit_note.amount if item.credit_note else 0)
            for item in self.orders
            if item.counts
        )


def may_see(actor: User, organisation: Organisation) -> bool:
    return may_manage(actor, organisation.zone_id) or (
        actor.role == Role.CANTEEN_STAFF and actor.organisation_id == organisation.id
    )


async def invoice_detail(*, session: AsyncSession, actor: User, invoice_id: int, today: date) -> InvoiceDetail:
    """One invoice with its canteen, each vendor's order and its lines (three queries), for the canteen's staff,
    the zone's managers and the admins; not found for anyone else."""
    recorder = aliased(User)
    row = (
        await session.execute(
            select(Invoice, Organisation, col(recorder.full_name))
            .join(Organisation, col(Organisation.id) == col(Invoice.organisation_id))
            .outerjoin(recorder, col(recorder.id) == col(Invoice.paid_recorded_by_id))
            .where(col(Invoice.id) == invoice_id)
        )
    ).one_or_none()
    if row is None or not may_see(actor, row[1]):
        raise NotFound(MSG_INVOICE_NOT_FOUND)
    invoice, organisation, recorded_by = row
    orders = [
        InvoiceOrder(order=order, vendor_name=name, credit_note=credit_note)
        for order, name, credit_note in (
            await session.execute(
                select(Order, col(Vendor.business_name), CreditNote)
                .join(Vendor, col(Vendor.id) == col(Order.vendor_id))
                .outerjoin(CreditNote, col(CreditNote.order_id) == col(Order.id))
                .where(col(Order.checkout_id) == invoice.checkout_id)
                .order_by(col(Order.id))
            )
        ).all()
    ]
    by_id = {item.order.id: item for item in orders}
    if by_id:
        for line in (
            await session.execute(
                select(OrderLine).where(col(OrderLine.order_id).in_(by_id)).order_by(col(OrderLine.id))
            )
        ).scalars():
            by_id[line.order_id].lines.append(line)
    detail = InvoiceDetail(
        invoice=invoice, organisation=organisation, orders=orders, state=InvoiceState.OPEN, paid_recorded_by=recorded_by
    )
    detail.state = state_of(invoice, detail.amount_due, today)
    return detail


# --- paid ----------------------------------------------------------------------------------------------------


async def mark_invoice_paid(
    *, session: AsyncSession, actor: User, invoice_id: int, payment_reference: str, now: datetime
) -> Invoice:
    """Record that the canteen paid (a bank transfer's reference), once: a second mark is refused (409), a void
    invoice cannot be paid (409). The zone's managers and the admins only."""
    row = (
        await session.execute(
            select(Invoice, col(Organisation.zone_id), amount_due_column())
            .join(Organisation, col(Organisation.id) == col(Invoice.organisation_id))
            .where(col(Invoice.id) == invoice_id)
        )
    ).one_or_none()
    if row is None or not may_manage(actor, row[1]):
        raise NotFound(MSG_INVOICE_NOT_FOUND)
    invoice, zone_id, amount_due = row
    reference = " ".join((payment_reference or "").split())
    if not 3 <= len(reference) <= MAX_REFERENCE:
        raise ValidationFailed.single("payment_reference", MSG_REFERENCE)
    if invoice.paid_at is not None:
        raise Conflict(MSG_ALREADY_PAID)
    if amount_due <= 0:
        raise Conflict(MSG_VOID)
    # Two managers at once: the first one's mark stands, the second is told.
    marked = await session.execute(
        update(Invoice)
        .where(col(Invoice.id) == invoice.id, col(Invoice.paid_at).is_(None))
        .values(paid_at=now, paid_recorded_by_id=actor.id, payment_reference=reference)
        .execution_options(synchronize_session=False)
    )
    if matched_rows(marked) != 1:
        raise Conflict(MSG_ALREADY_PAID)
    invoice.paid_at, invoice.paid_recorded_by_id, invoice.payment_reference = now, actor.id, reference
    after = {"paid_at": now.isoformat(), "payment_reference": reference, "amount_due": amount_due}
    await record(
        session, actor, "invoice.paid", invoice, zone_id, reason=reference, before={"paid_at": None}, after=after
    )
    return invoice
