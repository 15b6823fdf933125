"""Card payments through Stripe: one payment for a whole checkout (all its vendors' orders), and its orders placed
only when Stripe says the money is there.

Two ways to pay, one Payment row per checkout:
- pages send the buyer to Stripe's hosted Checkout page (`start_hosted_payment`), so our pages need no Stripe.js;
- the API hands a procurement system or a phone app a PaymentIntent's client secret (`start_intent_payment`) to
  confirm with Stripe itself.
Whatever the way, the orders move from pending_payment to placed in `payment_succeeded`, called by the webhook or
after a verified read from Stripe (`confirm_with_stripe`), never because a browser came back to a success URL.
Creating the intent or the session uses an idempotency key derived from the checkout, so retries, double taps
and a second try after Stripe was down make one PaymentIntent.

Locks, on PostgreSQL: whoever changes both a checkout's orders and its payment locks the orders first, then the
payment (as the order state machine does when a cancellation touches the payment), so the webhook, the return
page, a cancellation and the unpaid-order job never deadlock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.models import Role, User
from backend.config import Settings
from backend.db import is_postgres, upsert_insert
from backend.errors import N_, Conflict, DomainError, NotFound
from backend.money import to_stripe_amount
from backend.orders.models import Checkout, Order, OrderStatus, PaymentMethod
from backend.orders.states import mark_checkout_paid
from backend.payments.models import Payment, PaymentStatus
from backend.payments.refunds import CLOSED, record_refund
from backend.payments.stripe_client import StripeCallFailed, StripeGateway
from backend.vendors.models import Vendor

logger = logging.getLogger("pasar_kawasan.payments")

MSG_NOT_FOUND = N_("We could not find this payment.")
MSG_CLOSED = N_("These orders can no longer be paid: they were cancelled.")
MSG_UNAVAILABLE = N_("Card payment cannot be processed right now. Your orders are kept; try again in a few "
                     "minutes.")
MAX_ERROR = 300


class PaymentUnavailable(DomainError):
    """Stripe could not be reached or refused to start the payment; the orders keep waiting for it."""

    status_code = 503
    code = "payment_unavailable"
    default_message = MSG_UNAVAILABLE


@dataclass
class CheckoutToPay:
    """A card checkout as its buyer sees it while paying: its orders with their vendors' names, and its payment
    (None until the buyer first tries to pay)."""

    checkout: Checkout
    orders: list[tuple[Order, str]]
    payment: Payment | None

    @property
    def paid(self) -> bool:
        return self.payment is not None and self.payment.status == PaymentStatus.SUCCEEDED

    @property
    def waiting(self) -> list[Order]:
        return [order for order, _ in self.orders if order.status == OrderStatus.PENDING_PAYMENT]

    @property
    def closed(self) -> list[Order]:
        """Orders cancelled or declined: refunded when the payment succeeds (or has succeeded)."""
        return [order for order, _ in self.orders if order.status in CLOSED]

    @property
    def due_at(self) -> datetime | None:
        """When the orders still waiting are cancelled if unpaid."""
        return min((order.payment_due_at for order in self.waiting if order.payment_due_at), default=None)

    @property
    def amount(self) -> int:
        return self.payment.amount if self.payment is not None else self.checkout.total


def _pays_for(actor: User, checkout: Checkout) -> bool:
    """The buyer, or for a canteen's checkout any of its staff (as for the orders themselves)."""
    return actor.id == checkout.buyer_id or (
        actor.role == Role.CANTEEN_STAFF and checkout.organisation_id is not None
        and actor.organisation_id == checkout.organisation_id)


async def checkout_to_pay(*, session: AsyncSession, actor: User, checkout_id: int) -> CheckoutToPay:
    """A card checkout of the actor's, with its orders and payment (two queries); NotFound for anyone else's."""
    row = (await session.execute(select(Checkout, Payment).outerjoin(Payment, Payment.checkout_id == Checkout.id)
                                 .where(Checkout.id == checkout_id))).one_or_none()
    if row is None or row[0].payment_method != PaymentMethod.CARD or not _pays_for(actor, row[0]):
        raise NotFound(MSG_NOT_FOUND)
    orders = (await session.execute(select(Order, Vendor.business_name).join(Vendor, Vendor.id == Order.vendor_id)
                                    .where(Order.checkout_id == checkout_id).order_by(Order.id))).all()
    return CheckoutToPay(checkout=row[0], orders=[(order, name) for order, name in orders], payment=row[1])


async def _ensure_payment(*, session: AsyncSession, checkout: Checkout, now: datetime) -> Payment:
    """The checkout's payment, created pending for its total on the first try (once, even for two at a time)."""
    insert = upsert_insert(session)
    await session.execute(insert(Payment).values(
        checkout_id=checkout.id, amount=checkout.total, status=PaymentStatus.PENDING, last_error="",
        created_at=now, updated_at=now).on_conflict_do_nothing(index_elements=["checkout_id"]))
    return (await session.execute(select(Payment).where(Payment.checkout_id == checkout.id)
                                  .execution_options(populate_existing=True))).scalar_one()


def _unavailable(payment: Payment, failure: StripeCallFailed, now: datetime) -> PaymentUnavailable:
    """Stripe failed: the payment stays as it was (pending) with the reason, for staff and the next try."""
    payment.last_error, payment.updated_at = failure.reason[:MAX_ERROR], now
    return PaymentUnavailable()


async def _payable(*, session: AsyncSession, actor: User, checkout_id: int,
                   now: datetime) -> tuple[CheckoutToPay, Payment | None]:
    """The checkout and its payment (created if need be), or None when it is paid already. Conflict when nothing
    is left to pay."""
    to_pay = await checkout_to_pay(session=session, actor=actor, checkout_id=checkout_id)
    if to_pay.paid:
        return to_pay, None
    if not to_pay.waiting:
        raise Conflict(MSG_CLOSED)
    return to_pay, to_pay.payment or await _ensure_payment(session=session, checkout=to_pay.checkout, now=now)


@dataclass
class IntentPayment:
    payment: Payment
    client_secret: str | None  # None once the payment has succeeded: there is nothing left to confirm


async def start_intent_payment(*, session: AsyncSession, settings: Settings, actor: User, checkout_id: int,
                               now: datetime) -> IntentPayment:
    """The checkout's PaymentIntent for a client that confirms the payment with Stripe itself: created on the
    first call, read back on the next ones. Raises PaymentUnavailable when Stripe fails (the caller keeps the
    reason written on the payment: db.keep_when_refused), Conflict when the orders were cancelled, NotFound for another buyer's checkout."""
    to_pay, payment = await _payable(session=session, actor=actor, checkout_id=checkout_id, now=now)
    if payment is None:
        assert to_pay.payment is not None
        return IntentPayment(payment=to_pay.payment, client_secret=None)
    try:
        async with StripeGateway(settings) as stripe_api:
            if payment.intent_id:
                intent = await stripe_api.retrieve_payment_intent(payment.intent_id)
            else:
                intent = await stripe_api.create_payment_intent(checkout_id=checkout_id, amount=payment.amount)
    except StripeCallFailed as failure:
        raise _unavailable(payment, failure, now) from failure
    if intent["status"] == "succeeded":
        await payment_succeeded(session=session, checkout_id=checkout_id, intent_id=intent["id"],
                                stripe_amount=intent["amount"], now=now)
        return IntentPayment(payment=payment, client_secret=None)
    payment.intent_id = payment.intent_id or intent["id"]
    payment.last_error, payment.updated_at = "", now
    return IntentPayment(payment=payment, client_secret=intent["client_secret"])



async def start_hosted_payment(*, session: AsyncSession, settings: Settings, actor: User, checkout_id: int,
                               return_url: str, cancel_url: str, now: datetime) -> str | None:
    """The address of Stripe's hosted payment page for the checkout (the same page on every try), or None when
    it is paid already. `return_url` may carry {CHECKOUT_SESSION_ID}: Stripe puts the session's id there.
    Raises like `start_intent_payment`."""
    to_pay, payment = await _payable(session=session, actor=actor, checkout_id=checkout_id, now=now)
    if payment is None:
        return None
    # One line per vendor's order; together they are the checkout's total, the payment's amount.
    lines = [(f"{order.number} · {vendor_name}", order.total) for order, vendor_name in to_pay.orders]
    try:
        async with StripeGateway(settings) as stripe_api:
            hosted = await stripe_api.create_checkout_session(checkout_id=checkout_id, lines=lines,
                                                              success_url=return_url, cancel_url=cancel_url)
    except StripeCallFailed as failure:
        raise _unavailable(payment, failure, now) from failure
    payment.last_error, payment.updated_at = "", now
    return str(hosted["url"])


async def confirm_with_stripe(*, session: AsyncSession, settings: Settings, actor: User, checkout_id: int,
                              stripe_session_id: str | None, now: datetime) -> CheckoutToPay:
    """After the buyer comes back from Stripe (or a client asks how its payment is doing): if the payment is not
    known to have succeeded, ask Stripe — the Checkout Session the buyer came back from, else the PaymentIntent —
    and only if Stripe says it succeeded, do what the webhook would do. When Stripe cannot be asked, nothing
    changes and the webhook will tell."""
    to_pay = await checkout_to_pay(session=session, actor=actor, checkout_id=checkout_id)
    payment = to_pay.payment
    if payment is None or payment.status == PaymentStatus.SUCCEEDED:
        return to_pay
    confirmed: tuple[str, int] | None = None
    try:
        async with StripeGateway(settings) as stripe_api:
            if stripe_session_id:
                hosted = await stripe_api.retrieve_checkout_session(stripe_session_id)
                if ((hosted.get("metadata") or {}).get("checkout_id") == str(checkout_id)
                        and hosted.get("payment_status") == "paid" and hosted.get("payment_intent")):
                    confirmed = (_object_id(hosted["payment_intent"]), int(hosted["amount_total"]))
            if confirmed is None and payment.intent_id:
                intent = await stripe_api.retrieve_payment_intent(payment.intent_id)
                if intent["status"] == "succeeded":
                    confirmed = (intent["id"], int(intent["amount"]))
    except StripeCallFailed:
        return to_pay  # logged by the gateway; the page keeps waiting for the webhook
    if confirmed is None:
        return to_pay
    await payment_succeeded(session=session, checkout_id=checkout_id, intent_id=confirmed[0],
                            stripe_amount=confirmed[1], now=now)
    return await checkout_to_pay(session=session, actor=actor, checkout_id=checkout_id)


def _object_id(value: object) -> str:
    """An id Stripe sent either as such or as the expanded object."""
    return str(value["id"]) if isinstance(value, dict) else str(value)


async def payment_succeeded(*, session: AsyncSession, checkout_id: int, intent_id: str, stripe_amount: int,
                            now: datetime) -> bool:
    """Stripe says the checkout's payment succeeded: the payment is marked so and the orders waiting for it are
    placed (their vendors are told); orders cancelled or declined meanwhile get their refund recorded. The one
    way a card order gets placed, and idempotent: a second call, a second event or a late one does nothing
    more. False when it did nothing."""
    orders_query = select(Order).where(Order.checkout_id == checkout_id).order_by(Order.id)
    payment_query = select(Payment).where(Payment.checkout_id == checkout_id)
    if is_postgres(session):
        # Orders first, then the payment: the order that cancellations take them in.
        orders_query = orders_query.with_for_update()
        payment_query = payment_query.with_for_update()
    orders = (await session.execute(orders_query.execution_options(populate_existing=True))).scalars().all()
    checkout = await session.get(Checkout, checkout_id)
    if checkout is None or checkout.payment_method != PaymentMethod.CARD:
        logger.error("Stripe reported payment %s for checkout %s, which is not a card checkout", intent_id,
                     checkout_id)
        return False
    payment = (await session.execute(payment_query.execution_options(populate_existing=True))).scalar_one_or_none()
    if payment is None:  # the intent was made, but the transaction that recorded it was lost
        payment = await _ensure_payment(session=session, checkout=checkout, now=now)
    if stripe_amount != to_stripe_amount(payment.amount):
        logger.error("Stripe reported payment %s of %s for checkout %s, which costs %s: not placing its orders",
                     intent_id, stripe_amount, checkout_id, to_stripe_amount(payment.amount))
        return False
    if payment.status == PaymentStatus.SUCCEEDED:
        if payment.intent_id != intent_id:
            logger.error("checkout %s was paid twice (%s, then %s): refund the second in Stripe's dashboard",
                         checkout_id, payment.intent_id, intent_id)
        return False
    payment.status, payment.intent_id, payment.succeeded_at = PaymentStatus.SUCCEEDED, intent_id, now
    payment.last_error, payment.updated_at = "", now
    await mark_checkout_paid(session=session, checkout_id=checkout_id, now=now)
    for order in orders:
        if order.status in CLOSED:  # cancelled while the payment was under way: the money goes back
            await record_refund(session=session, order=order, payment=payment, now=now)
    return True


async def payment_failed(*, session: AsyncSession, checkout_id: int, intent_id: str, message: str,
                         now: datetime) -> bool:
    """Stripe says an attempt to pay failed (a declined card): the payment is marked failed with Stripe's reason
    and the orders keep waiting until the unpaid-order job, so the buyer can try again. A payment that succeeded
    or was cancelled is left as it is, whatever order the events come in."""
    query = select(Payment).where(Payment.checkout_id == checkout_id).execution_options(populate_existing=True)
    if is_postgres(session):
        query = query.with_for_update()
    payment = (await session.execute(query)).scalar_one_or_none()
    if payment is None or payment.status not in (PaymentStatus.PENDING, PaymentStatus.FAILED):
        return False
    payment.status, payment.updated_at = PaymentStatus.FAILED, now
    payment.last_error = (message or "The card payment failed.")[:MAX_ERROR]
    payment.intent_id = payment.intent_id or intent_id
    return True


async def checkout_of_intent(*, session: AsyncSession, intent: dict) -> int | None:  # type: ignore[type-arg]
    """The checkout a PaymentIntent is for: from its metadata, else from the payment that recorded it."""
    from_metadata = str((intent.get("metadata") or {}).get("checkout_id", ""))
    if from_metadata.isdigit():
        return int(from_metadata)
    return (await session.execute(select(Payment.checkout_id).where(Payment.intent_id == intent.get("id")))
            ).scalar_one_or_none()
