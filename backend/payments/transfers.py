"""Bank transfers to the platform's account: a way to pay open to every buyer, with a reference per checkout.

A bank-transfer checkout is paid like a card checkout, in the same shape: its orders wait in pending_payment
until the payment window closes (the unpaid-order job then cancels them, and the payment with them), and its
Payment row, made when the checkout is placed, carries the amount and a short payment reference (PK-7F3K2Q)
that the buyer writes in the transfer's description. A manager of the buyer's zone, or an admin, finds the
transfer on the bank statement by that reference and confirms it for the amount received: the payment is then
succeeded and the orders placed exactly as after a card payment (`mark_checkout_paid`), and they enter the
ledger as card orders do when they complete. Confirming twice does nothing more; a different amount is refused.

Money that came in by transfer and must go back (an order cancelled or declined after its transfer was confirmed,
an order cancelled while the transfer was under way, the agreed part of a short or damaged delivery) is a Refund
of the payment, owed to the buyer in the ledger at once (payments.refunds). The same people send it back by hand,
to the account the transfer came from, and record it with the bank's reference: the refund is then sent, once,
and the ledger says so; the buyer is told.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Organisation, Role, User
from backend.db import is_postgres, matched_rows
from backend.errors import N_, Conflict, NotFound, ValidationFailed
from backend.metrics import record_payment_confirmed
from backend.moderation.audit import record
from backend.money import format_rupiah
from backend.notifications.service import notify
from backend.orders.models import Checkout, Order, OrderStatus, PaymentMethod
from backend.orders.states import mark_checkout_paid
from backend.payments.ledger import enter_bank_refund
from backend.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from backend.payments.refunds import CLOSED, owed_by_hand, record_refund

# Letters and digits that cannot be mistaken for one another when read out or typed (no 0/O, 1/I).
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
REFERENCE_PREFIX = "PK-"
REFERENCE_LENGTH = 6
REFERENCE = re.compile(rf"{REFERENCE_PREFIX}[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}")

MSG_REFERENCE = N_("Type the payment reference as it is written, for example PK-7F3K2Q.")
MSG_NOT_FOUND = N_("No bank transfer waits with this payment reference.")
MSG_WRONG_AMOUNT = N_(
    "The transfer for %(reference)s must be exactly %(expected)s; %(received)s was typed. Check the bank statement."
)
MSG_REFUND_NOT_FOUND = N_("No transfer back to a buyer waits with this number.")
MSG_REFUND_SENT = N_("This transfer back to the buyer was already recorded as sent.")
MSG_SENT_REFERENCE = N_("Type the reference of your transfer to the buyer (3 to 120 characters).")
NOTE_REFUND_SENT = N_(
    "%(amount)s for order %(number)s was transferred back to your bank account (reference %(reference)s)."
)


def new_reference() -> str:
    """A fresh payment reference such as PK-7F3K2Q: six characters, at least one a letter, so it never reads like
    an order number (PK-000123). About 10⁹ of them: the unique constraint is the last word."""
    while True:
        code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
        if not code.isdigit():
            return REFERENCE_PREFIX + code


def normalise_reference(text: str) -> str:
    """A reference as people type it ("pk 7f3k2q", "7F3K-2Q") in its written form PK-7F3K2Q; ValidationFailed
    for anything that cannot be one."""
    code = re.sub(r"[\s\-.]", "", text or "").upper().removeprefix("PK")
    reference = REFERENCE_PREFIX + code
    if not REFERENCE.fullmatch(reference):
        raise ValidationFailed.single("reference", MSG_REFERENCE)
    return reference


async def open_transfer(*, session: AsyncSession, checkout: Checkout, now: datetime) -> None:
    """The payment a bank-transfer checkout waits for, with its reference (called when the checkout is placed;
    one statement)."""
    await session.execute(
        insert(Payment).values(
            checkout_id=checkout.id,
            reference=new_reference(),
            amount=checkout.total,
            status=PaymentStatus.PENDING,
            last_error="",
            created_at=now,
            updated_at=now,
        )
    )


def may_confirm(actor: User, zone_id: int | None) -> bool:
    """The managers of the buyer's zone and the admins confirm that a transfer arrived."""
    return actor.role == Role.ADMIN or (actor.role == Role.MANAGER and zone_id is not None and actor.zone_id == zone_id)


@dataclass
class TransferToConfirm:
    """A bank transfer still awaited, as the manager looks for it on the bank statement."""

    payment: Payment
    buyer_name: str
    canteen_name: str | None
    pay_by: datetime | None

    @property
    def reference(self) -> str:
        return self.payment.reference or ""


async def transfers_to_confirm(*, session: AsyncSession, actor: User) -> list[TransferToConfirm]:
    """The bank transfers awaited from the buyers of the manager's zone (every zone's for an admin), the
    soonest cancelled first; one query."""
    pay_by = (
        select(func.min(col(Order.payment_due_at)))
        .where(col(Order.checkout_id) == col(Payment.checkout_id), col(Order.status) == OrderStatus.PENDING_PAYMENT)
        .correlate(Payment)
        .scalar_subquery()
    )
    query = (
        select(Payment, col(User.full_name), col(Organisation.name), pay_by)
        .join(Checkout, col(Checkout.id) == col(Payment.checkout_id))
        .join(User, col(User.id) == col(Checkout.buyer_id))
        .outerjoin(Organisation, col(Organisation.id) == col(Checkout.organisation_id))
        .where(
            col(Checkout.payment_method) == PaymentMethod.BANK_TRANSFER,
            col(Payment.reference).is_not(None),
            col(Payment.status) == PaymentStatus.PENDING,
        )
        .order_by(pay_by, col(Payment.id))
    )
    if actor.role != Role.ADMIN:
        query = query.where(col(User.zone_id) == actor.zone_id)
    return [
        TransferToConfirm(payment=payment, buyer_name=buyer, canteen_name=canteen, pay_by=due)
        for payment, buyer, canteen, due in (await session.execute(query)).all()
    ]


@dataclass
class Confirmation:
    payment: Payment
    confirmed: bool  # False: it had been confirmed already, nothing changed
    owed_back: int = 0  # what this transfer brought in for orders cancelled meanwhile: to transfer back


async def confirm_transfer(
    *, session: AsyncSession, actor: User, reference: str, amount: int, now: datetime
) -> Confirmation:
    """The manager (of the buyer's zone) or an admin saw `amount` rupiah arrive with `reference`: the payment
    succeeds and the orders are placed, as after a card payment, and the decision is audited. Orders cancelled
    meanwhile (by the buyer, or unpaid in time before the money arrived) are not placed: what they cost is owed
    back to the buyer (`owed_back`, a refund each). Confirming again changes nothing (`confirmed` False). Refused:
    another amount (ValidationFailed on "amount"); NotFound for a reference unknown or outside the actor's
    zone."""
    written = normalise_reference(reference)
    found = (
        await session.execute(
            select(col(Payment.checkout_id), col(User.zone_id))
            .join(Checkout, col(Checkout.id) == col(Payment.checkout_id))
            .join(User, col(User.id) == col(Checkout.buyer_id))
            .where(col(Payment.reference) == written, col(Checkout.payment_method) == PaymentMethod.BANK_TRANSFER)
        )
    ).one_or_none()
    if found is None or not may_confirm(actor, found[1]):
        raise NotFound(MSG_NOT_FOUND)
    checkout_id, zone_id = found
    payment = await _locked_payment(session=session, checkout_id=checkout_id)
    if payment.status == PaymentStatus.SUCCEEDED:
        return Confirmation(payment=payment, confirmed=False)
    if amount != payment.amount:
        raise ValidationFailed.single(
            "amount",
            MSG_WRONG_AMOUNT,
            reference=written,
            expected=format_rupiah(payment.amount),
            received=format_rupiah(amount),
        )
    payment.status, payment.succeeded_at, payment.updated_at = PaymentStatus.SUCCEEDED, now, now
    payment.confirmed_by_id = actor.id
    await mark_checkout_paid(session=session, checkout_id=checkout_id, now=now)
    # An order of the checkout cancelled while the money was on its way (even all of them, the transfer arriving
    # after the payment window): what it cost goes back to the buyer.
    closed = (
        await session.execute(select(Order).where(col(Order.checkout_id) == checkout_id, col(Order.status).in_(CLOSED)))
    ).scalars()
    owed_back = 0
    for order in closed:
        if await record_refund(session=session, order=order, payment=payment, now=now):
            owed_back += order.total
    await record(
        session=session,
        actor=actor,
        action="payment.transfer_confirmed",
        subject=payment,
        zone_id=zone_id,
        after={"reference": written, "amount": amount},
    )
    record_payment_confirmed("bank_transfer")
    return Confirmation(payment=payment, confirmed=True, owed_back=owed_back)


async def _locked_payment(*, session: AsyncSession, checkout_id: int) -> Payment:
    """The checkout's payment as it is now. On PostgreSQL its orders are locked first, then the payment (the order
    payments.service and cancellations take them in), so a confirmation and the unpaid-order job never both
    act."""
    payment_query = select(Payment).where(col(Payment.checkout_id) == checkout_id)
    if is_postgres(session):
        await session.execute(
            select(col(Order.id)).where(col(Order.checkout_id) == checkout_id).order_by(col(Order.id)).with_for_update()
        )
        payment_query = payment_query.with_for_update()
    return (await session.execute(payment_query.execution_options(populate_existing=True))).scalar_one()


# --- transfers back to buyers ------------------------------------------------------------------------------


@dataclass
class RefundToSend:
    """Money a bank transfer brought in that goes back to the buyer, as the manager sends it from the bank."""

    refund: Refund
    order_id: int
    transfer_reference: str  # the reference the buyer's transfer carried: it finds their account on the statement
    buyer_name: str
    canteen_name: str | None

    @property
    def order_number(self) -> str:
        return f"PK-{self.order_id:06d}"


async def refunds_to_send(*, session: AsyncSession, actor: User) -> list[RefundToSend]:
    """The bank refunds owed to the buyers of the manager's zone (every zone's for an admin), the oldest first;
    one query."""
    query = (
        select(Refund, col(Payment.reference), col(User.full_name), col(Organisation.name))
        .join(Payment, col(Payment.id) == col(Refund.payment_id))
        .join(Checkout, col(Checkout.id) == col(Payment.checkout_id))
        .join(User, col(User.id) == col(Checkout.buyer_id))
        .outerjoin(Organisation, col(Organisation.id) == col(Checkout.organisation_id))
        .where(
            col(Payment.reference).is_not(None),
            col(Refund.status) == RefundStatus.PENDING,
            owed_by_hand(col(Refund.id)),  # not a QRIS refund the gateway gives back
        )
        .order_by(col(Refund.created_at), col(Refund.id))
    )
    if actor.role != Role.ADMIN:
        query = query.where(col(User.zone_id) == actor.zone_id)
    return [
        RefundToSend(
            refund=refund,
            order_id=refund.order_id,
            transfer_reference=reference or "",
            buyer_name=buyer,
            canteen_name=canteen,
        )
        for refund, reference, buyer, canteen in (await session.execute(query)).all()
    ]


async def record_refund_sent(
    *, session: AsyncSession, actor: User, refund_id: int, reference: str, now: datetime
) -> Refund:
    """The manager (of the buyer's zone) or an admin transferred a bank refund back to the buyer: recorded once
    with the bank's reference, entered in the ledger (refunds −amount, clearing +amount), audited, and the buyer
    told. NotFound for a refund unknown, of a card or outside the actor's zone; Conflict when already recorded;
    ValidationFailed ("reference") without a reference."""
    found = (
        await session.execute(
            select(Refund, col(Checkout.buyer_id), col(User.zone_id))
            .join(Payment, col(Payment.id) == col(Refund.payment_id))
            .join(Checkout, col(Checkout.id) == col(Payment.checkout_id))
            .join(User, col(User.id) == col(Checkout.buyer_id))
            .where(col(Refund.id) == refund_id, col(Payment.reference).is_not(None), owed_by_hand(col(Refund.id)))
        )
    ).one_or_none()
    if found is None or not may_confirm(actor, found[2]):
        raise NotFound(MSG_REFUND_NOT_FOUND)
    refund, buyer_id, zone_id = found
    written = " ".join((reference or "").split())
    if not 3 <= len(written) <= 120:
        raise ValidationFailed.single("reference", MSG_SENT_REFERENCE)
    # Conditional: of two staff recording the same transfer at once, one does.
    sent = await session.execute(
        update(Refund)
        .where(col(Refund.id) == refund.id, col(Refund.status) == RefundStatus.PENDING)
        .values(status=RefundStatus.SUCCEEDED, sent_reference=written, sent_by_id=actor.id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not matched_rows(sent):
        raise Conflict(MSG_REFUND_SENT)
    await session.refresh(refund)
    await enter_bank_refund(session=session, refund_id=refund.id, amount=refund.amount, sent=True, now=now)
    await record(
        session,
        actor,
        "payment.refund_sent",
        refund,
        zone_id,
        reason=written,
        after={"order_id": refund.order_id, "amount": refund.amount, "reference": written},
    )
    await notify(
        session=session,
        user_ids={buyer_id},
        message=NOTE_REFUND_SENT,
        params={"amount": format_rupiah(refund.amount), "number": f"PK-{refund.order_id:06d}", "reference": written},
        url=f"/orders/{refund.order_id}",
        order_id=refund.order_id,
        now=now,
    )
    return refund
