"""Refunds of card payments and of bank transfers, and what becomes of a payment when its orders close.

A checkout's card payment covers all its vendors' orders. When one of them is cancelled or declined after the
payment succeeded, exactly that order's total is given back (a partial refund of the payment). The refund is
recorded in the same transaction as the cancellation, so neither exists without the other, and sent to Stripe
afterwards by `retry_pending_refunds` (the order jobs, every minute) with the idempotency key refund-order-<id>:
sending it twice, or again after a timeout whose answer was lost, refunds once. Stripe's answer, or its webhook,
moves the refund to succeeded or failed. A cancellation never waits for Stripe, and Stripe being down never
stops one: the refund waits, with the last error, and is tried again.

A bank transfer came to the platform's own account, so the platform's staff send it back by hand: its refund is
recorded the same way (and owed to the buyer in the ledger at once), waits on the staff's page of transfers, and
is marked sent with the bank's reference (payments.transfers). Nothing of it goes to Stripe. So does a virtual
account's payment, which the gateway cannot pull back.

A QRIS payment can be given back through the payment gateway, to the app or bank it was paid from: its refund is
sent by the same job (`send_gateway_refunds`, key refund-order-<id>), and the gateway's answer or callback moves
it on. When the gateway refuses it (the payer's issuer takes no QRIS refunds, or the refund window has passed) or
reports it failed, the refund becomes one the staff send back by hand, owed in the ledger from then on.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.config import Settings
from backend.db import is_postgres, run_after_commit, upsert_insert
from backend.orders.models import PAID_BEFORE_PLACING, Checkout, Order, OrderStatus, PaymentMethod
from backend.payments.gateway_client import GatewayCallFailed, XenditGateway
from backend.payments.ledger import enter_bank_refund
from backend.payments.models import LedgerAccount, LedgerEntry, Payment, PaymentStatus, Refund, RefundStatus
from backend.payments.stripe_client import StripeCallFailed, StripeGateway

logger = logging.getLogger("pasar_kawasan.payments")

CLOSED = (OrderStatus.CANCELLED, OrderStatus.DECLINED)
# Stripe's refund statuses; "pending" and "requires_action" leave ours pending.
STRIPE_REFUND_STATUS = {
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}


async def settle_closed_order(*, session: AsyncSession, order: Order, now: datetime) -> None:
    """An order was cancelled or declined (called by the order's state machine). If it was paid, by card or by a
    bank transfer, record the refund of its total; if its checkout (card or bank transfer) was never paid and nothing of it waits for
    payment any more, the payment is cancelled, so a late bank transfer can no longer be confirmed. Orders paid
    otherwise cost no query."""
    if order.payment_method not in PAID_BEFORE_PLACING:
        return
    # Locked: two orders of one unpaid checkout cancelled at once (the buyer and the unpaid-order job) then see
    # each other's cancellation, and the last one cancels the payment.
    payment = (
        await session.execute(select(Payment).where(col(Payment.checkout_id) == order.checkout_id).with_for_update())
    ).scalar_one_or_none()
    if payment is None:
        return
    if payment.status == PaymentStatus.SUCCEEDED:
        await record_refund(session=session, order=order, payment=payment, now=now)
        return
    # Unpaid: cancel the payment once no order of the checkout waits for it. Should the buyer still pay it at
    # Stripe, the payment becomes succeeded and each closed order is refunded (service.payment_succeeded).
    still_waiting = exists().where(
        col(Order.checkout_id) == order.checkout_id, col(Order.status) == OrderStatus.PENDING_PAYMENT
    )
    await session.execute(
        update(Payment)
        .where(
            col(Payment.id) == payment.id,
            col(Payment.status).in_([PaymentStatus.PENDING, PaymentStatus.FAILED]),
            ~still_waiting,
        )
        .values(status=PaymentStatus.CANCELED, updated_at=now)
        .execution_options(synchronize_session="fetch")
    )


async def record_refund(
    *, session: AsyncSession, order: Order, payment: Payment, now: datetime, amount: int | None = None
) -> bool:
    """A pending refund of the order's total (or of `amount`, the agreed part of a short or damaged delivery),
    once per order whatever retries or concurrent deliveries do; True when this call recorded it. A bank transfer's
    refund is owed to the buyer in the ledger from now on."""
    insert = upsert_insert(session)
    recorded = await session.execute(
        insert(Refund)
        .values(
            order_id=order.id,
            payment_id=payment.id,
            amount=order.total if amount is None else amount,
            status=RefundStatus.PENDING,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["order_id"])
        .returning(col(Refund.id), col(Refund.amount))
    )
    row = recorded.one_or_none()
    if row is None:
        return False
    if payment.reference is not None and not await refunded_through_gateway(session=session, payment=payment):
        # A bank transfer's money goes back by a transfer a person makes: owed in the ledger from now on.
        await enter_bank_refund(session=session, refund_id=row[0], amount=row[1], sent=False, now=now)
    else:
        run_after_commit(session, "send_refunds")
    return True


async def refunded_through_gateway(*, session: AsyncSession, payment: Payment) -> bool:
    """A QRIS payment the gateway knows: its refunds are sent through the gateway."""
    if payment.gateway_request_id is None:
        return False
    checkout = await session.get(Checkout, payment.checkout_id)
    return checkout is not None and checkout.payment_method == PaymentMethod.QRIS


async def retry_pending_refunds(*, session: AsyncSession, settings: Settings, now: datetime, limit: int = 20) -> int:
    """The job: send Stripe each refund not yet sent (recorded at a cancellation, or refused last time because
    Stripe was down). Returns how many Stripe accepted. Several workers may run it: each takes refunds the others
    are not sending. Then the QRIS refunds, through the payment gateway (`send_gateway_refunds`)."""
    sent = await _send_stripe_refunds(session=session, settings=settings, now=now, limit=limit)
    if settings.xendit_secret_key:
        sent += await send_gateway_refunds(session=session, settings=settings, now=now, limit=limit)
    return sent


async def _send_stripe_refunds(*, session: AsyncSession, settings: Settings, now: datetime, limit: int) -> int:
    if not settings.stripe_secret_key:
        return 0
    statement = (
        select(Refund, col(Payment.intent_id))
        .join(Payment, col(Payment.id) == col(Refund.payment_id))
        .where(
            col(Refund.status) == RefundStatus.PENDING,
            col(Refund.stripe_refund_id).is_(None),
            col(Payment.reference).is_(None),  # a bank transfer's refund is sent back by hand
        )
        .order_by(col(Refund.id))
        .limit(limit)
    )
    if is_postgres(session):
        statement = statement.with_for_update(of=Refund, skip_locked=True)
    due = (await session.execute(statement)).all()
    if not due:
        return 0
    sent = 0
    async with StripeGateway(settings) as stripe_api:
        for refund, intent_id in due:
            if await _send(stripe_api=stripe_api, refund=refund, intent_id=intent_id, now=now):
                sent += 1
    return sent


async def _send(*, stripe_api: StripeGateway, refund: Refund, intent_id: str | None, now: datetime) -> bool:
    refund.updated_at = now
    if intent_id is None:  # a succeeded payment always knows its intent; never guess one
        refund.status, refund.last_error = RefundStatus.FAILED, "The payment has no PaymentIntent to refund"
        return False
    try:
        answer = await stripe_api.create_refund(intent_id=intent_id, order_id=refund.order_id, amount=refund.amount)
    except StripeCallFailed as failure:
        refund.last_error = failure.reason
        if not failure.retryable:  # Stripe refused this refund itself: asking again cannot help, staff must look
            refund.status = RefundStatus.FAILED
        return False
    refund.stripe_refund_id = answer["id"]
    refund.last_error = ""
    _apply_status(refund, answer)
    return True


async def apply_stripe_refund(*, session: AsyncSession, stripe_refund: dict[str, Any], now: datetime) -> bool:
    """Stripe told us about a refund (refund.* and charge.refunded events): find ours by Stripe's id, else by
    the order it was made for, and move its status on. An older event never undoes a newer one."""
    refund = (
        await session.execute(select(Refund).where(col(Refund.stripe_refund_id) == stripe_refund.get("id")))
    ).scalar_one_or_none()
    order_id = str((stripe_refund.get("metadata") or {}).get("order_id", ""))
    if refund is None and order_id.isdigit():
        refund = (
            await session.execute(
                select(Refund).where(col(Refund.order_id) == int(order_id), col(Refund.stripe_refund_id).is_(None))
            )
        ).scalar_one_or_none()
    if refund is None:
        return False  # a refund made in Stripe's dashboard: not one of ours
    refund.stripe_refund_id = refund.stripe_refund_id or stripe_refund.get("id")
    refund.updated_at = now
    _apply_status(refund, stripe_refund)
    return True


def _apply_status(refund: Refund, stripe_refund: dict[str, Any]) -> None:
    """Pending → succeeded | failed. A failed refund stays failed (Stripe's failure is final); a succeeded one
    only becomes failed (Stripe reports refunds that fail after succeeding); pending never comes back."""
    target = STRIPE_REFUND_STATUS.get(str(stripe_refund.get("status", "")))
    if target is None or refund.status == RefundStatus.FAILED:
        return
    refund.status = target
    if target == RefundStatus.FAILED:
        refund.last_error = f"Stripe: {stripe_refund.get('failure_reason') or stripe_refund.get('status')}"[:300]
        logger.error("refund %s for order %s failed at Stripe: %s", refund.id, refund.order_id, refund.last_error)


# --- QRIS refunds through the payment gateway ------------------------------------------------------------

GATEWAY_REFUND_STATUS = {"SUCCEEDED": RefundStatus.SUCCEEDED, "FAILED": RefundStatus.FAILED}


def owed_by_hand(refund_id: Any) -> Any:
    """The refund is one the staff send back by hand: it is owed to the buyer in the ledger."""
    return exists().where(col(LedgerEntry.refund_id) == refund_id, col(LedgerEntry.account) == LedgerAccount.REFUNDS)


async def send_gateway_refunds(*, session: AsyncSession, settings: Settings, now: datetime, limit: int = 20) -> int:
    """The job's part for QRIS: send the gateway each refund of a QRIS payment not yet sent (nor turned into one
    sent by hand). Returns how many the gateway accepted. One the gateway refuses becomes owed by hand."""
    statement = (
        select(Refund, col(Payment.gateway_request_id))
        .join(Payment, col(Payment.id) == col(Refund.payment_id))
        .join(Checkout, col(Checkout.id) == col(Payment.checkout_id))
        .where(
            col(Refund.status) == RefundStatus.PENDING,
            col(Refund.gateway_refund_id).is_(None),
            col(Payment.gateway_request_id).is_not(None),
            col(Checkout.payment_method) == PaymentMethod.QRIS,
            ~owed_by_hand(col(Refund.id)),
        )
        .order_by(col(Refund.id))
        .limit(limit)
    )
    if is_postgres(session):
        statement = statement.with_for_update(of=Refund, skip_locked=True)
    due = (await session.execute(statement)).all()
    sent = 0
    for refund, request_id in due:
        assert request_id is not None  # selected so
        refund.updated_at = now
        try:
            answer = await XenditGateway(settings).create_refund(
                request_id=request_id, order_id=refund.order_id, amount=refund.amount
            )
        except GatewayCallFailed as failure:
            refund.last_error = failure.reason
            if not failure.retryable:  # the gateway will not give it back: the staff send it by hand
                await turn_to_hand(session=session, refund=refund, reason=failure.reason, now=now)
            continue
        refund.gateway_refund_id, refund.last_error = str(answer["id"])[:80], ""
        await apply_gateway_refund(session=session, refund=refund, status=str(answer.get("status") or ""), now=now)
        sent += 1
    return sent


async def apply_gateway_refund(*, session: AsyncSession, refund: Refund, status: str, now: datetime) -> bool:
    """The gateway says how a refund stands (its answer, or a refund callback): succeeded, or failed — then it is
    sent back by hand instead. Pending changes nothing; a refund settled already, or turned to one sent by hand,
    is left as it is."""
    target = GATEWAY_REFUND_STATUS.get(status)
    if target is None or refund.status != RefundStatus.PENDING:
        return False
    if (await session.execute(select(owed_by_hand(refund.id)))).scalar_one():
        return False  # failed before: the staff send it back by hand, whatever the gateway says later
    refund.updated_at = now
    if target == RefundStatus.SUCCEEDED:
        refund.status = RefundStatus.SUCCEEDED
    else:
        await turn_to_hand(session=session, refund=refund, reason="The gateway could not give it back", now=now)
    return True


async def turn_to_hand(*, session: AsyncSession, refund: Refund, reason: str, now: datetime) -> None:
    """A QRIS refund the gateway cannot make: owed to the buyer in the ledger, on the staff's page of transfers
    back, to be sent by hand and recorded like a bank transfer's."""
    refund.last_error = reason[:300]
    await enter_bank_refund(session=session, refund_id=refund.id, amount=refund.amount, sent=False, now=now)
    logger.error("refund %s for order %s goes back by hand: %s", refund.id, refund.order_id, refund.last_error)
