"""QRIS and virtual accounts through the payment gateway (Xendit's Payment Request API): a checkout paid by
either waits in pending_payment like a card checkout, and is placed only when the gateway says the money arrived.

The checkout's Payment row is made when it is placed, with a reference (PK-7F3K2Q, as for a bank transfer) that
the gateway knows the payment by (its reference_id). The first time the buyer opens the payment page, a payment
request is made at the gateway for exactly the checkout's total, expiring when the orders' payment window closes
(`start_gateway_payment`): a dynamic QRIS code, or a virtual account at the platform's bank for a canteen. Its
idempotency key is derived from the checkout, so a double tap or a retry after a lost answer makes one request.

The gateway's callback (`receive_callback`) is believed only with the callback token from the gateway's
dashboard (compared in constant time); without it the answer is 401 and nothing is read or written. A callback
is news, not proof: the payment request is read back from the gateway by id, and it must be for our reference,
succeeded, in rupiah, for the payment's amount (and the one we stored, when we stored one); anything else is
stored as rejected, with the reason, and acknowledged. Each callback is stored by its event and payment id in the
transaction of its effect, so a second delivery changes nothing; and the effect itself is idempotent
(`gateway_payment_succeeded`), whatever order callbacks come in: one arriving before our own request's answer was
stored finds the payment by its reference; one arriving after the window closed (the orders were cancelled
unpaid) still marks the payment succeeded, and what the cancelled orders cost is given back to the buyer (a
refund each, as for a late bank transfer). Refunds: a QRIS payment's go back through the gateway (refunds.py;
its refund.succeeded and refund.failed callbacks settle them), a virtual account's are sent back by the
platform's staff and recorded (payments.transfers), like a bank transfer's. Vendors' payouts sent through the
gateway are settled by its payout.succeeded and payout.failed callbacks, verified and stored once the same way
(payments.payouts).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Organisation, User
from backend.config import Settings
from backend.db import is_postgres, upsert_insert
from backend.errors import N_, DomainError
from backend.metrics import record_payment_confirmed, record_webhook_reject
from backend.orders.models import THROUGH_GATEWAY, Checkout, Order, PaymentMethod
from backend.orders.states import mark_checkout_paid
from backend.payments.gateway_client import CURRENCY, GatewayCallFailed, XenditGateway
from backend.payments.models import GatewayCallback, Payment, PaymentStatus, Refund, RefundStatus
from backend.payments.payouts import gateway_payout_changed
from backend.payments.refunds import CLOSED, apply_gateway_refund, record_refund
from backend.payments.service import CheckoutToPay, PaymentRejected, checkout_to_pay

logger = logging.getLogger("pasar_kawasan.payments")

MSG_TOKEN = N_("The callback's token could not be verified.")
MSG_UNAVAILABLE = N_(
    "QRIS and virtual accounts cannot be prepared right now. Your orders are kept; try again in a few minutes."
)
MAX_ERROR = 300
# A payment request that expires sooner than this is no use to the buyer; the gateway needs a little ahead too.
MIN_VALIDITY = timedelta(minutes=1)

CallbackOutcome = Literal["processed", "ignored", "rejected", "duplicate"]


class CallbackRefused(DomainError):
    """A callback without the gateway's token (or while none is set): 401, nothing read or written."""

    status_code = 401
    code = "bad_callback_token"
    default_message = MSG_TOKEN


class NotPaidYet(PaymentRejected):
    """The gateway, asked itself, does not (yet) say the payment request a callback names was paid."""


class GatewayUnavailable(DomainError):
    """The gateway could not be reached or refused to make the payment request; the orders keep waiting."""

    status_code = 503
    code = "payment_unavailable"
    default_message = MSG_UNAVAILABLE


# --- the buyer's side ------------------------------------------------------------------------------------


async def gateway_checkout(*, session: AsyncSession, actor: User, checkout_id: int) -> CheckoutToPay:
    """A QRIS or virtual-account checkout of the actor's (or their canteen's), with its orders and payment (two
    queries); NotFound for anyone else's."""
    return await checkout_to_pay(session=session, actor=actor, checkout_id=checkout_id, methods=THROUGH_GATEWAY)


async def start_gateway_payment(
    *, session: AsyncSession, settings: Settings, actor: User, checkout_id: int, now: datetime
) -> CheckoutToPay:
    """The checkout with what the buyer pays with: on the first call the gateway's payment request is made (a
    QRIS code, or a virtual account), expiring when the payment window closes; later calls change nothing.
    Nothing is asked of the gateway once the checkout is paid or nothing of it waits any more. Raises
    GatewayUnavailable when the gateway fails (its reason is kept on the payment: the caller keeps it with
    db.keep_when_refused), NotFound for another buyer's checkout."""
    to_pay = await gateway_checkout(session=session, actor=actor, checkout_id=checkout_id)
    return await prepare_gateway_payment(session=session, settings=settings, actor=actor, to_pay=to_pay, now=now)


async def prepare_gateway_payment(
    *, session: AsyncSession, settings: Settings, actor: User, to_pay: CheckoutToPay, now: datetime
) -> CheckoutToPay:
    """`start_gateway_payment` for a checkout already read (`gateway_checkout`)."""
    checkout_id = to_pay.checkout.id
    payment, due_at = to_pay.payment, to_pay.due_at
    if payment is None or payment.gateway_request_id or to_pay.paid or due_at is None:
        return to_pay
    if due_at - now < MIN_VALIDITY:
        return to_pay  # the unpaid-order job is about to cancel the orders: nothing left worth paying
    assert payment.reference is not None  # made with the checkout
    try:
        gateway = XenditGateway(settings)
        if to_pay.checkout.payment_method == PaymentMethod.QRIS:
            request = await gateway.create_qris(
                checkout_id=checkout_id, reference=payment.reference, amount=payment.amount, expires_at=due_at
            )
        else:
            request = await gateway.create_virtual_account(
                checkout_id=checkout_id,
                reference=payment.reference,
                amount=payment.amount,
                bank=settings.xendit_va_bank,
                customer_name=await _customer_name(session=session, checkout=to_pay.checkout, actor=actor),
                expires_at=due_at,
            )
    except GatewayCallFailed as failure:
        payment.last_error, payment.updated_at = failure.reason[:MAX_ERROR], now
        raise GatewayUnavailable() from failure
    _remember(payment, request, due_at)
    payment.last_error, payment.updated_at = "", now
    return to_pay


def _remember(payment: Payment, request: dict[str, Any], due_at: datetime) -> None:
    """What the buyer pays with, as the gateway made it. A callback may have stored the request's id already."""
    method = request.get("payment_method") or {}
    qr_code = (method.get("qr_code") or {}).get("channel_properties") or {}
    account = method.get("virtual_account") or {}
    payment.gateway_request_id = payment.gateway_request_id or str(request["id"])
    payment.qr_string = str(qr_code.get("qr_string") or "")
    payment.va_bank = str(account.get("channel_code") or "")[:20]
    payment.va_number = str((account.get("channel_properties") or {}).get("virtual_account_number") or "")[:40]
    payment.expires_at = due_at


async def _customer_name(*, session: AsyncSession, checkout: Checkout, actor: User) -> str:
    """The name the bank shows the payer for a virtual account: the canteen's."""
    if checkout.organisation_id is not None:
        organisation = await session.get(Organisation, checkout.organisation_id)
        if organisation is not None:
            return organisation.name
    return actor.full_name or "Pasar Kawasan"


# --- the gateway's callbacks -----------------------------------------------------------------------------


def token_matches(settings: Settings, token: str | None) -> bool:
    """The X-CALLBACK-TOKEN header is the dashboard's token (compared in constant time)."""
    expected = settings.xendit_callback_token
    if not expected or not token:
        return False
    return hmac.compare_digest(token.encode(), expected.encode())


async def receive_callback(
    *, session: AsyncSession, settings: Settings, payload: bytes, token: str | None, now: datetime
) -> CallbackOutcome:
    """A callback of the gateway (the raw body and its X-CALLBACK-TOKEN), acted on once. Returns "processed",
    "ignored" (an event we do not act on, or nothing left to do), "rejected" (not a payment we asked for: stored
    with the reason) or "duplicate"; raises CallbackRefused (401) without the right token, before anything is
    read or written, and GatewayUnavailable (503) when the gateway cannot be asked to confirm a payment (the
    gateway sends the callback again later)."""
    if not token_matches(settings, token):
        record_webhook_reject("bad_token")
        raise CallbackRefused()
    try:
        callback = json.loads(payload)
        event, data = str(callback["event"]), callback["data"]
        object_id = str(data["id"])
    except (ValueError, KeyError, TypeError):
        logger.error("a gateway callback with the right token could not be read: ignored")
        return "ignored"
    callback_id = f"{event}:{object_id}"[:160]
    if not await _first_delivery(session=session, callback_id=callback_id, event=event, now=now):
        return "duplicate"
    try:
        if event in ("payout.succeeded", "payout.failed"):
            outcome = await gateway_payout_changed(session=session, settings=settings, data=data, now=now)
            if outcome == "early":  # not settled at the gateway yet: the real callback, when it comes, must act
                await session.execute(delete(GatewayCallback).where(col(GatewayCallback.id) == callback_id))
            acted = outcome == "settled"
        elif event in ("refund.succeeded", "refund.failed"):
            acted = await _refund_changed(session=session, settings=settings, data=data, now=now)
        elif event == "payment.succeeded":
            acted = await _payment_succeeded(session=session, settings=settings, data=data, now=now)
        else:
            return "ignored"
    except NotPaidYet as passing:
        # The gateway's own read of the payment request or refund does not agree yet (not SUCCEEDED, or not
        # found): a callback refused for good here would leave a real payment unplaced and not owed back.
        # Answered 503, nothing kept, so the gateway sends it again; a forged one changes nothing either way.
        logger.warning("gateway callback %s not acted on yet: %s", callback_id, passing.reason)
        raise GatewayUnavailable() from passing
    except PaymentRejected as rejected:
        await _reject(session=session, callback_id=callback_id, reason=rejected.reason)
        return "rejected"
    except GatewayCallFailed as failure:  # the callback's row is rolled back with the answer
        raise GatewayUnavailable() from failure
    return "processed" if acted else "ignored"


async def _reject(*, session: AsyncSession, callback_id: str, reason: str) -> None:
    """The callback carried our token but is not about anything we asked for: kept with the reason."""
    await session.execute(
        update(GatewayCallback).where(col(GatewayCallback.id) == callback_id).values(rejected_reason=reason)
    )
    logger.error("gateway callback %s rejected: %s", callback_id, reason)
    record_webhook_reject("not_ours")


async def _refund_changed(*, session: AsyncSession, settings: Settings, data: dict[str, Any], now: datetime) -> bool:
    """A QRIS refund we sent succeeded or failed (a failed one is then sent back by hand). The refund is read back
    from the gateway, and its word is taken, not the callback's: the token proves who sent a callback, not what
    happened, and a forged "failed" would have the staff send back by hand what the gateway also gives back."""
    query = select(Refund).where(col(Refund.gateway_refund_id) == str(data.get("id") or ""))
    if is_postgres(session):
        query = query.with_for_update()
    refund = (await session.execute(query)).scalar_one_or_none()
    if refund is None:
        if await _refund_being_sent(session=session, reference=str(data.get("reference_id") or "")):
            # Ours, and the refunds job that sent it has not yet committed the gateway's id (it sends a batch in
            # one transaction): answered 503 with this callback's row rolled back, so the gateway sends it again
            # once the id is there. Answered "ignored", the refund would wait for a callback already spent.
            raise GatewayUnavailable()
        return False  # a refund made in the gateway's dashboard: not one of ours
    read = await XenditGateway(settings).refund(str(refund.gateway_refund_id))
    name = f"refund {refund.gateway_refund_id}"
    if read.get("reference_id") != f"refund-order-{refund.order_id}" or int(read.get("amount") or 0) != refund.amount:
        raise PaymentRejected(f"the gateway's {name} is not the one sent for order {refund.order_id}")
    status = str(read.get("status") or "")
    if status != str(data.get("status") or ""):
        raise NotPaidYet(f"the gateway says {name} is {status or 'unknown'}, the callback {data.get('status')}")
    return await apply_gateway_refund(session=session, refund=refund, status=status, now=now)


_OUR_REFUND = re.compile(r"refund-order-(\d{1,18})")


async def _refund_being_sent(*, session: AsyncSession, reference: str) -> bool:
    """Whether `reference` names one of our refunds still waiting for the gateway's id (refund-order-<order id>)."""
    ours = _OUR_REFUND.fullmatch(reference)
    if ours is None:
        return False
    waiting = await session.execute(
        select(col(Refund.id)).where(
            col(Refund.order_id) == int(ours.group(1)),
            col(Refund.status) == RefundStatus.PENDING,
            col(Refund.gateway_refund_id).is_(None),
        )
    )
    return waiting.first() is not None


async def _first_delivery(*, session: AsyncSession, callback_id: str, event: str, now: datetime) -> bool:
    insert = upsert_insert(session)
    stored = await session.execute(
        insert(GatewayCallback)
        .values(id=callback_id, event=event[:60], received_at=now)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(col(GatewayCallback.id))
    )
    return stored.scalar_one_or_none() is not None


async def _payment_succeeded(*, session: AsyncSession, settings: Settings, data: dict[str, Any], now: datetime) -> bool:
    """The callback says a payment succeeded: read its payment request back from the gateway, check it is the one
    for our reference, and act on it."""
    reference = str(data.get("reference_id") or "")
    request_id = str(data.get("payment_request_id") or "")
    found = (
        await session.execute(
            select(col(Payment.checkout_id), col(Payment.gateway_request_id))
            .join(Checkout, col(Checkout.id) == col(Payment.checkout_id))
            .where(col(Payment.reference) == reference, col(Checkout.payment_method).in_(THROUGH_GATEWAY))
        )
    ).one_or_none()
    if found is None:
        raise PaymentRejected(f"payment {data.get('id')} names reference {reference!r}, no payment of ours")
    checkout_id, stored_request_id = found
    if not request_id:
        raise PaymentRejected(f"payment {data.get('id')} names no payment request")
    try:
        request = await XenditGateway(settings).payment_request(request_id)
    except GatewayCallFailed as failure:
        if failure.missing:
            raise NotPaidYet(f"the gateway has no payment request {request_id}") from failure
        raise
    return await gateway_payment_succeeded(
        session=session,
        checkout_id=checkout_id,
        request=request,
        payment_id=str(data.get("id") or ""),
        expected_request_id=stored_request_id,
        now=now,
    )


def _check_ours(*, request: dict[str, Any], payment: Payment, expected_request_id: str | None) -> None:
    name = f"payment request {request.get('id')}"
    if request.get("reference_id") != payment.reference:
        raise PaymentRejected(f"{name} is for reference {request.get('reference_id')!r}, not {payment.reference}")
    if expected_request_id and request.get("id") != expected_request_id:
        raise PaymentRejected(f"{name} is not the one made for {payment.reference} ({expected_request_id})")
    if request.get("status") != "SUCCEEDED":
        raise NotPaidYet(f"the gateway says {name} is {request.get('status') or 'unknown'}, not paid")
    if request.get("currency") != CURRENCY:
        raise PaymentRejected(f"{name} is in {request.get('currency') or 'no currency'}, not {CURRENCY}")
    if int(request.get("amount") or 0) != payment.amount:
        raise PaymentRejected(f"{name} is for {request.get('amount')}, the checkout costs {payment.amount}")


async def gateway_payment_succeeded(
    *,
    session: AsyncSession,
    checkout_id: int,
    request: dict[str, Any],
    payment_id: str,
    expected_request_id: str | None,
    now: datetime,
) -> bool:
    """The gateway says the checkout's payment request was paid (`request`, as read from the gateway itself): once
    it is checked to be ours (PaymentRejected otherwise), the payment succeeds and the orders still waiting are
    placed (their vendors told); orders cancelled meanwhile, even all of them after the window closed, have what
    they cost owed back to the buyer (a refund each, in the ledger). Idempotent: a second call does nothing more
    (False)."""
    # Orders first, then the payment: the order cancellations and the card payments take them in.
    orders_query = select(Order).where(col(Order.checkout_id) == checkout_id).order_by(col(Order.id))
    payment_query = select(Payment).where(col(Payment.checkout_id) == checkout_id)
    if is_postgres(session):
        orders_query = orders_query.with_for_update()
        payment_query = payment_query.with_for_update()
    orders = (await session.execute(orders_query.execution_options(populate_existing=True))).scalars().all()
    payment = (await session.execute(payment_query.execution_options(populate_existing=True))).scalar_one()
    _check_ours(request=request, payment=payment, expected_request_id=expected_request_id)
    if payment.status == PaymentStatus.SUCCEEDED:
        if payment.gateway_payment_id and payment_id and payment.gateway_payment_id != payment_id:
            logger.error(
                "checkout %s was paid twice through the gateway (%s, then %s): send the second back",
                checkout_id,
                payment.gateway_payment_id,
                payment_id,
            )
        return False
    payment.status, payment.succeeded_at, payment.updated_at = PaymentStatus.SUCCEEDED, now, now
    payment.gateway_request_id = payment.gateway_request_id or str(request["id"])
    payment.gateway_payment_id = payment_id[:80] or None
    payment.last_error = ""
    await mark_checkout_paid(session=session, checkout_id=checkout_id, now=now)
    for order in orders:
        if order.status in CLOSED:  # cancelled while the money was on its way: it goes back to the buyer
            await record_refund(session=session, order=order, payment=payment, now=now)
    checkout = await session.get(Checkout, checkout_id)
    record_payment_confirmed(checkout.payment_method if checkout is not None else "gateway")
    return True
