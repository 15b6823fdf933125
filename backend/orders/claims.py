"""Short or damaged deliveries: the buyer reports, the vendor answers, the agreed difference is given back.

    open     → settled   the vendor accepts the claimed quantities
    open     → proposed  the vendor proposes other quantities, with a reason
    open     → disputed  either side asks the market manager, with a reason (the other does not answer)
    proposed → settled   the buyer accepts the proposal
    proposed → disputed  the buyer disagrees, or the vendor gets no answer; with a reason
    disputed → settled   the zone's manager sets the agreed quantities, with a reason

Neither side can hold the other up: whoever waits may hand the report to the manager.

A report is made by the buyer's side (the buyer, or any staff of the ordering canteen) on a delivered order, once;
until it is settled the order does not complete (orders.states). Settling gives back the agreed difference
(agreed quantity × the line's unit price, never more than the line's value) as the order was paid: a partial
refund of a card payment (sent to Stripe by the refund job), a transfer back of a bank-transfer payment (sent by
the platform's staff, owed in the ledger meanwhile), a credit note on a canteen's invoice, or cash the vendor
hands back. The ledger enters the order at completion with its total less that difference, so the vendor's
net and the platform's commission are both on what the buyer finally pays (payments.ledger).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import partial

import anyio.to_thread
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Role, User
from backend.accounts.service import organisation_staff_ids
from backend.db import matched_rows, upsert_insert
from backend.errors import N_, Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from backend.media.images import ProcessedPhoto
from backend.media.storage import Storage, content_key
from backend.moderation.audit import record
from backend.money import format_rupiah
from backend.notifications.service import Note, notify_each
from backend.orders.claim_models import (
    ClaimKind,
    ClaimState,
    CreditNote,
    DeliveryClaim,
    DeliveryClaimLine,
    Settlement,
)
from backend.orders.models import PAID_BEFORE_PLACING, Order, OrderLine, OrderStatus, PaymentMethod
from backend.orders.states import MSG_NOT_FOUND, Side, side_of
from backend.payments.models import Invoice, Payment, PaymentStatus
from backend.payments.refunds import record_refund
from backend.vendors.models import Vendor

C = ClaimState
MAX_NOTE = 300
MAX_REASON = 500


class ClaimAction(StrEnum):
    ACCEPT = "accept"  # the vendor accepts what the buyer claimed
    PROPOSE = "propose"  # the vendor proposes other quantities
    ACCEPT_PROPOSAL = "accept_proposal"  # the buyer accepts the vendor's proposal
    DISPUTE = "dispute"  # the buyer asks the market manager
    DECIDE = "decide"  # the manager sets the agreed quantities


@dataclass(frozen=True)
class Step:
    sources: frozenset[ClaimState]
    target: ClaimState
    sides: frozenset[Side]
    needs_reason: bool = False
    needs_quantities: bool = False


BUYER, VENDOR, MANAGER = frozenset({Side.BUYER}), frozenset({Side.VENDOR}), frozenset({Side.MANAGER})
STEPS: dict[ClaimAction, Step] = {
    ClaimAction.ACCEPT: Step(frozenset({C.OPEN}), C.SETTLED, VENDOR),
    ClaimAction.PROPOSE: Step(frozenset({C.OPEN}), C.PROPOSED, VENDOR, needs_reason=True, needs_quantities=True),
    ClaimAction.ACCEPT_PROPOSAL: Step(frozenset({C.PROPOSED}), C.SETTLED, BUYER),
    ClaimAction.DISPUTE: Step(frozenset({C.OPEN, C.PROPOSED}), C.DISPUTED, BUYER | VENDOR, needs_reason=True),
    ClaimAction.DECIDE: Step(frozenset({C.DISPUTED}), C.SETTLED, MANAGER, needs_reason=True, needs_quantities=True),
}

MSG_NOT_DELIVERED = N_("A short or damaged delivery can be reported once the order is delivered, before it completes.")
MSG_ALREADY_REPORTED = N_("A problem with this delivery was already reported.")
MSG_NO_REPORT = N_("Nothing was reported about this delivery.")
MSG_BUYERS_REPORT = N_("Only the buyer reports a problem with the delivery.")
MSG_NO_LINES = N_("Say for at least one product how many were short or damaged.")
MSG_LINE_UNKNOWN = N_("This product is not in the order.")
MSG_LINE_TWICE = N_("This product is named twice in the report.")
MSG_QUANTITY = N_("Type a whole number from %(low)s to %(high)s.")
MSG_KIND = N_("Choose short or damaged.")
MSG_NOTE_LONG = N_("Keep the note under 300 characters.")
MSG_REASON = N_("Say why, so the other side understands.")
MSG_NOT_NOW = N_("This report cannot be answered that way now: look at it again.")
MSG_NOT_YOUR_STEP = N_("This step is for the other side of the report.")
MSG_PHOTO_SETTLED = N_("The report is settled: its photos can no longer change.")

MSG_REPORTED = N_("Order %(number)s: the buyer reported a short or damaged delivery.")
MSG_PROPOSED = N_("Order %(number)s: the vendor proposed another quantity for your report.")
MSG_DISPUTED = N_("Order %(number)s: the delivery report needs the market manager's decision.")
MSG_SETTLED = N_("Order %(number)s: the delivery report is settled, %(amount)s given back.")


@dataclass(frozen=True)
class ReportedLine:
    """What the buyer says about one order line."""

    order_line_id: int
    kind: str
    quantity: int
    note: str = ""
    photo: ProcessedPhoto | None = None  # already validated and re-encoded (backend.media)


@dataclass
class ClaimLineView:
    line: DeliveryClaimLine
    order_line: OrderLine

    @property
    def agreed_amount(self) -> int:
        """The agreed quantity at the line's unit price: at most the line's value, as the quantity is at most its."""
        return (self.line.agreed_quantity or 0) * self.order_line.unit_price


@dataclass
class ClaimView:
    """A report as one of the order's parties sees it, with the steps open to them."""

    claim: DeliveryClaim
    order: Order
    side: Side
    vendor_user_id: int
    lines: list[ClaimLineView] = field(default_factory=list)

    @property
    def actions(self) -> list[ClaimAction]:
        return [
            action
            for action, step in STEPS.items()
            if self.side in step.sides and ClaimState(self.claim.state) in step.sources
        ]


def photo_key(photo: ProcessedPhoto) -> str:
    return content_key("claims", photo.detail.data, "webp")


async def _store_photo(storage: Storage, photo: ProcessedPhoto) -> str:
    key = photo_key(photo)
    await anyio.to_thread.run_sync(storage.save, key, photo.detail.data)
    return key


async def _order_lines(session: AsyncSession, order_id: int) -> dict[int, OrderLine]:
    rows = await session.execute(select(OrderLine).where(col(OrderLine.order_id) == order_id))
    return {line.id: line for line in rows.scalars()}


def _quantity_error(name: str, quantity: int, low: int, high: int) -> FieldError | None:
    if low <= quantity <= high:
        return None
    return FieldError(name, MSG_QUANTITY, {"low": low, "high": high})


def _checked_report(lines: list[ReportedLine], order_lines: dict[int, OrderLine]) -> list[ReportedLine]:
    """The lines worth recording (a quantity of 0 means nothing to report on that product); refused as a whole
    when one is wrong, each error on the line's own field."""
    errors: list[FieldError] = []
    kept = []
    seen: set[int] = set()
    for reported in lines:
        order_line = order_lines.get(reported.order_line_id)
        name = f"quantity-{reported.order_line_id}"
        if order_line is None or reported.order_line_id in seen:
            errors.append(FieldError(name, MSG_LINE_UNKNOWN if order_line is None else MSG_LINE_TWICE))
            continue
        seen.add(reported.order_line_id)
        if reported.quantity == 0:
            continue
        problem = _quantity_error(name, reported.quantity, 1, order_line.quantity)
        if problem is not None:
            errors.append(problem)
        if reported.kind not in tuple(ClaimKind):
            errors.append(FieldError(f"kind-{reported.order_line_id}", MSG_KIND))
        if len(reported.note.strip()) > MAX_NOTE:
            errors.append(FieldError(f"note-{reported.order_line_id}", MSG_NOTE_LONG))
        kept.append(reported)
    if not errors and not kept:
        errors.append(FieldError("lines", MSG_NO_LINES))
    if errors:
        raise ValidationFailed(errors)
    return kept


async def report_delivery_problem(
    *,
    session: AsyncSession,
    actor: User,
    order_id: int,
    lines: list[ReportedLine],
    storage: Storage | None = None,
    now: datetime,
) -> DeliveryClaim:
    """The buyer (or a colleague of the ordering canteen) reports, for a delivered order, how many of each
    product arrived short or damaged, with a note and optionally a photo each (kept in `storage`). Once per order
    (409 after); another buyer's order is not found (404). The vendor is told."""
    order, vendor_user_id, side, existing = await _load(session, actor, order_id)
    if side != Side.BUYER:
        raise Forbidden(MSG_BUYERS_REPORT)
    if existing is not None:
        raise Conflict(MSG_ALREADY_REPORTED)
    if order.status != OrderStatus.DELIVERED:
        raise Conflict(MSG_NOT_DELIVERED)
    kept = _checked_report(lines, await _order_lines(session, order.id))
    # Two of the canteen's staff reporting at once: one report is recorded, the other is told.
    claim_id = (
        await session.execute(
            upsert_insert(session)(DeliveryClaim)
            .values(
                order_id=order.id,
                state=C.OPEN,
                reported_by_id=actor.id,
                answer_reason="",
                dispute_reason="",
                amount=0,
                settlement=Settlement.NONE,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["order_id"])
            .returning(col(DeliveryClaim.id))
        )
    ).scalar_one_or_none()
    if claim_id is None:
        raise Conflict(MSG_ALREADY_REPORTED)
    claim = await session.get_one(DeliveryClaim, claim_id)
    for reported in kept:
        session.add(
            DeliveryClaimLine(
                claim_id=claim.id,
                order_line_id=reported.order_line_id,
                kind=reported.kind,
                claimed_quantity=reported.quantity,
                note=reported.note.strip(),
                photo_key=await _store_photo(storage, reported.photo)
                if reported.photo is not None and storage is not None
                else None,
            )
        )
    await session.flush()
    await _tell(
        session=session, order=order, vendor_user_id=vendor_user_id, to_vendor=True, message=MSG_REPORTED, now=now
    )
    return claim


def _reported_line(view: ClaimView, order_line_id: int) -> ClaimLineView:
    item = next((item for item in view.lines if item.order_line.id == order_line_id), None)
    if item is None:
        raise NotFound(MSG_NO_REPORT)
    return item


async def attach_photo(
    *,
    session: AsyncSession,
    actor: User,
    order_id: int,
    order_line_id: int,
    photo: ProcessedPhoto,
    storage: Storage,
    now: datetime,
) -> ClaimView:
    """The buyer adds or replaces the photo of a reported line while the report is not settled (the API sends
    photos on their own)."""
    view = await claim_for(session=session, actor=actor, order_id=order_id)
    if view.side != Side.BUYER:
        raise Forbidden(MSG_BUYERS_REPORT)
    if view.claim.state == C.SETTLED:
        raise Conflict(MSG_PHOTO_SETTLED)
    item = _reported_line(view, order_line_id)
    item.line.photo_key = await _store_photo(storage, photo)
    view.claim.updated_at = now
    session.add_all([item.line, view.claim])
    await session.flush()
    return view


async def _load(session: AsyncSession, actor: User, order_id: int) -> tuple[Order, int, Side, DeliveryClaim | None]:
    """The order, its vendor's user id, the actor's side and the order's report, in one query; not found for
    anyone who is none of the order's parties."""
    row = (
        await session.execute(
            select(Order, col(Vendor.user_id), DeliveryClaim)
            .join(Vendor, col(Vendor.id) == col(Order.vendor_id))
            .outerjoin(DeliveryClaim, col(DeliveryClaim.order_id) == col(Order.id))
            .where(col(Order.id) == order_id)
        )
    ).one_or_none()
    side = None if row is None else side_of(row[0], row[1], actor)
    if row is None or side is None:
        raise NotFound(MSG_NOT_FOUND)
    return row[0], row[1], side, row[2]


async def _view(
    session: AsyncSession, order: Order, vendor_user_id: int, side: Side, claim: DeliveryClaim
) -> ClaimView:
    rows = await session.execute(
        select(DeliveryClaimLine, OrderLine)
        .join(OrderLine, col(OrderLine.id) == col(DeliveryClaimLine.order_line_id))
        .where(col(DeliveryClaimLine.claim_id) == claim.id)
        .order_by(col(OrderLine.id))
    )
    return ClaimView(
        claim=claim,
        order=order,
        side=side,
        vendor_user_id=vendor_user_id,
        lines=[ClaimLineView(line=line, order_line=order_line) for line, order_line in rows],
    )


async def claim_for(*, session: AsyncSession, actor: User, order_id: int) -> ClaimView:
    """The order's report with its lines for one of the order's parties (buyer side, vendor, zone manager);
    not found for anyone else, or when nothing was reported. Two queries."""
    order, vendor_user_id, side, claim = await _load(session, actor, order_id)
    if claim is None:
        raise NotFound(MSG_NO_REPORT)
    return await _view(session, order, vendor_user_id, side, claim)


@dataclass
class ReportForm:
    """What the buyer's report form shows: the order and its lines."""

    order: Order
    lines: list[OrderLine]

    @property
    def can_report(self) -> bool:
        return self.order.status == OrderStatus.DELIVERED


async def claim_or_report_form(*, session: AsyncSession, actor: User, order_id: int) -> ClaimView | ReportForm:
    """For the buyer's side: the report when there is one, else what its form needs; two queries. Not found for
    anyone else without a report."""
    order, vendor_user_id, side, claim = await _load(session, actor, order_id)
    if claim is not None:
        return await _view(session, order, vendor_user_id, side, claim)
    if side != Side.BUYER:
        raise NotFound(MSG_NO_REPORT)
    lines = await _order_lines(session, order.id)
    return ReportForm(order=order, lines=[lines[line_id] for line_id in sorted(lines)])


def _checked_quantities(view: ClaimView, quantities: Mapping[int, int]) -> dict[int, int]:
    """A quantity from 0 to the ordered quantity for each reported line."""
    errors = []
    chosen = {}
    for item in view.lines:
        name = f"quantity-{item.order_line.id}"
        quantity = quantities.get(item.order_line.id)
        if quantity is None:
            errors.append(FieldError(name, MSG_QUANTITY, {"low": 0, "high": item.order_line.quantity}))
            continue
        problem = _quantity_error(name, quantity, 0, item.order_line.quantity)
        if problem is not None:
            errors.append(problem)
        chosen[item.line.id] = quantity
    if errors:
        raise ValidationFailed(errors)
    return chosen


async def act_on_claim(
    *,
    session: AsyncSession,
    actor: User,
    order_id: int,
    action: ClaimAction,
    quantities: Mapping[int, int] | None = None,
    reason: str = "",
    now: datetime,
) -> ClaimView:
    """One step of the report (see the table above): refused with 403 when it is the other side's step, 409 when
    the report is no longer where the step starts (a second tap, or the other side moved first), 422 for a missing
    reason or a quantity outside 0..ordered (keyed by the order line's id). Settling gives the agreed difference
    back once; the other side is told at each step."""
    view = await claim_for(session=session, actor=actor, order_id=order_id)
    step = STEPS[action]
    if view.side not in step.sides:
        raise Forbidden(MSG_NOT_YOUR_STEP)
    current = ClaimState(view.claim.state)
    if current not in step.sources:
        raise Conflict(MSG_NOT_NOW)
    reason = " ".join(reason.split())[:MAX_REASON]
    errors = [FieldError("reason", MSG_REASON)] if step.needs_reason and not reason else []
    chosen: dict[int, int] = {}
    if step.needs_quantities:
        try:
            chosen = _checked_quantities(view, quantities or {})
        except ValidationFailed as refused:
            errors += refused.errors
    if errors:
        raise ValidationFailed(errors)
    values: dict[str, object] = {"state": step.target, "updated_at": now}
    if action == ClaimAction.DISPUTE:
        values["dispute_reason"] = reason
    elif reason:
        values["answer_reason"] = reason
    # A double tap, or both sides at once: one moves the report, the other is told.
    moved = await session.execute(
        update(DeliveryClaim)
        .where(col(DeliveryClaim.id) == view.claim.id, col(DeliveryClaim.state) == current)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if matched_rows(moved) != 1:
        raise Conflict(MSG_NOT_NOW)
    for name, value in values.items():
        setattr(view.claim, name, value)
    for item in view.lines:
        if action == ClaimAction.PROPOSE:
            item.line.proposed_quantity = chosen[item.line.id]
        elif action == ClaimAction.ACCEPT:
            item.line.agreed_quantity = item.line.claimed_quantity
        elif action == ClaimAction.ACCEPT_PROPOSAL:
            item.line.agreed_quantity = item.line.proposed_quantity
        elif action == ClaimAction.DECIDE:
            item.line.agreed_quantity = chosen[item.line.id]
        session.add(item.line)
    if step.target == C.SETTLED:
        await _settle(session=session, view=view, now=now)
    await session.flush()
    if action == ClaimAction.DECIDE:  # what a manager does is kept in the audit log
        await record(
            session,
            actor,
            "claim.decide",
            view.claim,
            view.order.zone_id,
            reason=reason,
            after={
                "agreed": ", ".join(
                    f"{item.line.agreed_quantity} {item.order_line.unit} {item.order_line.product_name}"
                    for item in view.lines
                ),
                "amount": view.claim.amount,
            },
        )
    await _announce(session=session, view=view, action=action, actor=actor, now=now)
    return view


async def _settle(*, session: AsyncSession, view: ClaimView, now: datetime) -> None:
    """Give the agreed difference back as the order was paid; nothing when it was agreed at zero."""
    claim, order = view.claim, view.order
    amount = sum(item.agreed_amount for item in view.lines)
    claim.amount, claim.settled_at = amount, now
    claim.settlement = Settlement.NONE
    if amount > 0:
        claim.settlement = await _give_back(session=session, order=order, claim=claim, amount=amount, now=now)
    session.add(claim)


async def _give_back(
    *, session: AsyncSession, order: Order, claim: DeliveryClaim, amount: int, now: datetime
) -> Settlement:
    if order.payment_method in PAID_BEFORE_PLACING:
        payment = (
            await session.execute(
                select(Payment).where(
                    col(Payment.checkout_id) == order.checkout_id, col(Payment.status) == PaymentStatus.SUCCEEDED
                )
            )
        ).scalar_one()  # a delivered card or transfer order was paid: it was placed by the payment's success
        await record_refund(session=session, order=order, payment=payment, amount=amount, now=now)
        # The card is refunded through Stripe; a transfer (or a QRIS or virtual-account payment, which the gateway
        # settles to the platform) is sent back by the platform, which holds the money.
        return Settlement.CARD_REFUND if order.payment_method == PaymentMethod.CARD else Settlement.BANK_REFUND
    if order.payment_method == PaymentMethod.INVOICE:
        invoice = (
            await session.execute(select(Invoice).where(col(Invoice.checkout_id) == order.checkout_id))
        ).scalar_one()
        session.add(
            CreditNote(
                number=credit_note_number(now.year, claim.id),
                invoice_id=invoice.id,
                order_id=order.id,
                amount=amount,
                created_at=now,
            )
        )
        return Settlement.CREDIT_NOTE
    return Settlement.CASH_REFUND


def credit_note_number(year: int, claim_id: int) -> str:
    """CN-2026-000042: the year it was issued and the report's id (one credit note per report)."""
    return f"CN-{year}-{claim_id:06d}"


# --- who is told ----------------------------------------------------------------------------------------------


async def _buyer_side(session: AsyncSession, order: Order) -> set[int]:
    users = {order.buyer_id}
    if order.organisation_id is not None:
        users |= await organisation_staff_ids(session=session, organisation_id=order.organisation_id)
    return users


async def _zone_managers(session: AsyncSession, zone_id: int) -> set[int]:
    rows = await session.execute(
        select(col(User.id)).where(
            col(User.role) == Role.MANAGER, col(User.zone_id) == zone_id, col(User.is_active).is_(True)
        )
    )
    return set(rows.scalars())


def claim_url(order_id: int, side: Side) -> str:
    return {
        Side.VENDOR: f"/vendor/orders/{order_id}/claim",
        Side.MANAGER: f"/manager/claims/{order_id}",
    }.get(side, f"/orders/{order_id}/claim")


async def _tell(
    *,
    session: AsyncSession,
    order: Order,
    vendor_user_id: int,
    message: str,
    now: datetime,
    to_vendor: bool = False,
    to_buyer: bool = False,
    to_managers: bool = False,
    params: dict[str, object] | None = None,
    actor_id: int | None = None,
) -> None:
    recipients: dict[int, Side] = {}
    if to_managers:
        recipients |= dict.fromkeys(await _zone_managers(session, order.zone_id), Side.MANAGER)
    if to_buyer:
        recipients |= dict.fromkeys(await _buyer_side(session, order), Side.BUYER)
    if to_vendor:
        recipients[vendor_user_id] = Side.VENDOR
    recipients.pop(actor_id or 0, None)
    await notify_each(
        session=session,
        now=now,
        notes=[
            Note(
                user_id=user_id,
                message=message,
                params={"number": order.number, **(params or {})},
                url=claim_url(order.id, side),
                order_id=order.id,
            )
            for user_id, side in sorted(recipients.items())
        ],
    )


async def _announce(*, session: AsyncSession, view: ClaimView, action: ClaimAction, actor: User, now: datetime) -> None:
    tell = partial(_tell, session=session, order=view.order, vendor_user_id=view.vendor_user_id, now=now)
    if action == ClaimAction.PROPOSE:
        await tell(to_buyer=True, message=MSG_PROPOSED)
    elif action == ClaimAction.DISPUTE:
        await tell(to_vendor=True, to_buyer=True, to_managers=True, message=MSG_DISPUTED, actor_id=actor.id)
    else:
        amount = format_rupiah(view.claim.amount)
        await tell(to_vendor=True, to_buyer=True, message=MSG_SETTLED, params={"amount": amount}, actor_id=actor.id)


# --- the manager's queue ----------------------------------------------------------------------------------------


@dataclass
class DisputedClaim:
    claim: DeliveryClaim
    order: Order


async def disputed_claims(*, session: AsyncSession, actor: User) -> list[DisputedClaim]:
    """Reports waiting for a manager's decision: the zone's for its manager, every zone's for an admin; one query,
    the oldest first."""
    if actor.role not in (Role.MANAGER, Role.ADMIN):
        raise Forbidden(MSG_NOT_YOUR_STEP)
    query = (
        select(DeliveryClaim, Order)
        .join(Order, col(Order.id) == col(DeliveryClaim.order_id))
        .where(col(DeliveryClaim.state) == C.DISPUTED)
        .order_by(col(DeliveryClaim.updated_at), col(DeliveryClaim.id))
    )
    if actor.role == Role.MANAGER:
        query = query.where(col(Order.zone_id) == actor.zone_id)
    return [DisputedClaim(claim=claim, order=order) for claim, order in (await session.execute(query)).all()]


async def claim_photo(
    *, session: AsyncSession, actor: User, order_id: int, order_line_id: int, storage: Storage
) -> bytes:
    """The photo of a reported line, for the order's parties only; not found when there is none."""
    key = _reported_line(await claim_for(session=session, actor=actor, order_id=order_id), order_line_id).line.photo_key
    if key is None:
        raise NotFound(MSG_NO_REPORT)
    try:
        return await anyio.to_thread.run_sync(storage.read, key)
    except FileNotFoundError:
        raise NotFound(MSG_NO_REPORT) from None
