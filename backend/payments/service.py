"""Card payments through Stripe: one payment for a whole checkout (all its vendors' orders), and its orders placed
only when Stripe says the money is there.

Two ways to pay, one Payment row per checkout:
- pages send the buyer to Stripe's hosted Checkout page (`start_hosted_payment`), so our pages need no Stripe.js;
- the API hands a procurement system or a phone app a PaymentIntent's client secret (`start_intent_payment`) to
  confirm with Stripe itself.
Whatever the way, the orders move from pending_payment to placed in `payment_succeeded`, called by the webhook or
after a verified read from Stripe (`confirm_with_stripe`), never because a browser came back to a success URL.
A signed event is news, not proof: what is paid is read back from Stripe by id, and it must be the intent or the
session we created for that checkout, succeeded, in rupiah, for the payment's amount; anything else is
`PaymentRejected` and places nothing.
Creating the intent or the session uses an idempotency key derived from the checkout, so retries, double taps
and a second try after Stripe was down make one PaymentIntent.

Locks, on PostgreSQL: whoever changes both a checkout's orders and its payment locks the orders first, then the
payment (as the order state machine does when a cancellation touches the payment), so the webhook, the return
page, a cancellation and the unpaid-order job never deadlock.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Role, User
from backend.config import Settings
from backend.db import is_postgres, upsert_insert
from backend.errors import N_, Conflict, DomainError, NotFound
from backend.metrics import record_payment_confirmed
from backend.money import to_stripe_amount
from backend.orders.models import Checkout, Order, OrderStatus, PaymentMethod
from backend.orders.states import mark_checkout_paid
from backend.payments.models import Payment, PaymentStatus
from backend.payments.refunds import CLOSED, record_refund
from backend.payments.stripe_client import CURRENCY, StripeCallFailed, StripeGateway
from backend.vendors.models import Vendor

logger = logging.getLogger("pasar_kawasan.payments")

MSG_NOT_FOUND = N_("We could not find this payment.")
MSG_CLOSED = N_("These orders can no longer be paid: they were cancelled.")
MSG_UNAVAILABLE = N_("Card payment cannot be processed right now. Your orders are kept; try again in a few minutes.")
MAX_ERROR = 300


class PaymentUnavailable(DomainError):
    """Stripe could not be reached or refused to start the payment; the orders keep waiting for it."""

    status_code = 503
    code = "payment_unavailable"
    default_message = MSG_UNAVAILABLE


class PaymentRejected(Exception):
    """What Stripe reports is not the payment we created for the checkout (another intent or session, currency or
    amount, or not paid after all): nothing changes. `reason` says which, for the log and the stored event."""

    def __init__(self, reason: str) -> None:
        self.reason = reason[:MAX_ERROR]
        super().__init__(self.reason)


@dataclass(frozen=True)
class StripePayment:
    """A payment as one Stripe object describes it (a PaymentIntent, or a Checkout Session and the intent it was
    paid with), in the terms it is checked against the Payment we created."""

    kind: str  # "PaymentIntent" or "Checkout Session", for the reasons
    intent_id: str | None
    session_id: str | None  # the Checkout Session it was paid through, when it was
    status: str  # Stripe's: an intent's status, a session's payment_status
    paid: bool
    stripe_amount: int
    currency: str
    checkout_named: str  # the checkout id its metadata names, "" when none

    @classmethod
    def of_intent(cls, intent: dict[str, Any]) -> StripePayment:
        status = str(intent.get("status") or "")
        return cls(
            kind="PaymentIntent",
            intent_id=str(intent.get("id") or "") or None,
            session_id=None,
            status=status,
            paid=status == "succeeded",
            stripe_amount=int(intent.get("amount_received") or intent.get("amount") or 0),
            currency=str(intent.get("currency") or ""),
            checkout_named=_checkout_named(intent),
        )

    @classmethod
    def of_session(cls, hosted: dict[str, Any]) -> StripePayment:
        status = str(hosted.get("payment_status") or "")
        intent = hosted.get("payment_intent")
        return cls(
            kind="Checkout Session",
            intent_id=_object_id(intent) if intent else None,
            session_id=str(hosted.get("id") or "") or None,
            status=status,
            paid=status == "paid",
            stripe_amount=int(hosted.get("amount_total") or 0),
            currency=str(hosted.get("currency") or ""),
            checkout_named=_checkout_named(hosted),
        )

    @property
    def name(self) -> str:
        return f"{self.kind} {self.session_id if self.kind == 'Checkout Session' else self.intent_id}"

    def differences(self, other: StripePayment) -> list[str]:
        """What an event's copy says otherwise than Stripe does now (the status may have moved on since)."""
        fields = ("intent_id", "session_id", "stripe_amount", "currency", "checkout_named")
        return [
            f"{field} {getattr(self, field)!r} (Stripe: {getattr(other, field)!r})"
            for field in fields
            if getattr(self, field) != getattr(other, field)
        ]


def _checkout_named(stripe_object: dict[str, Any]) -> str:
    return str((stripe_object.get("metadata") or {}).get("checkout_id") or "")


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
        actor.role == Role.CANTEEN_STAFF
        and checkout.organisation_id is not None
        and actor.organisation_id == checkout.organisation_id
    )


async def checkout_to_pay(
    *,
    session: AsyncSession,
    actor: User,
    checkout_id: int,
    methods: tuple[PaymentMethod, ...] = (PaymentMethod.CARD,),
) -> CheckoutToPay:
    """A checkout of the actor's paid by one of `methods` (card unless said), with its orders and payment (two
    queries); NotFound for anyone else's."""
    row = (
        await session.execute(
            select(Checkout, Payment)
            .outerjoin(Payment, col(Payment.checkout_id) == col(Checkout.id))
            .where(col(Checkout.id) == checkout_id)
        )
    ).one_or_none()
    if row is None or row[0].payment_method not in methods or not _pays_for(actor, row[0]):
        raise NotFound(MSG_NOT_FOUND)
    orders = (
        await session.execute(
            select(Order, col(Vendor.business_name))
            .join(Vendor, col(Vendor.id) == col(Order.vendor_id))
            .where(col(Order.checkout_id) == checkout_id)
            .order_by(col(Order.id))
        )
    ).all()
    return CheckoutToPay(checkout=row[0], orders=[(order, name) for order, name in orders], payment=row[1])


async def _ensure_payment(*, session: AsyncSession, checkout: Checkout, now: datetime) -> Payment:
    """The checkout's payment, created pending for its total on the first try (once, even for two at a time)."""
    insert = upsert_insert(session)
    await session.execute(
        insert(Payment)
        .values(
            checkout_id=checkout.id,
            amount=checkout.total,
            status=PaymentStatus.PENDING,
            last_error="",
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["checkout_id"])
    )
    return (
        await session.execute(
            select(Payment).where(col(Payment.checkout_id) == checkout.id).execution_options(populate_existing=True)
        )
    ).scalar_one()


def _unavailable(payment: Payment, failure: StripeCallFailed, now: datetime) -> PaymentUnavailable:
    """Stripe failed: the payment stays as it was (pending) with the reason, for staff and the next try."""
    payment.last_error, payment.updated_at = failure.reason[:MAX_ERROR], now
    return PaymentUnavailable()


async def _payable(
    *, session: AsyncSession, actor: User, checkout_id: int, now: datetime
) -> tuple[CheckoutToPay, Payment | None]:
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


async def start_intent_payment(
    *, session: AsyncSession, settings: Settings, actor: User, checkout_id: int, now: datetime
) -> IntentPayment:
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
    payment.intent_id = payment.intent_id or intent["id"]
    payment.last_error, payment.updated_at = "", now
    if intent["status"] == "succeeded":
        await _place_if_ours(session=session, checkout_id=checkout_id, paid=StripePayment.of_intent(intent), now=now)
        return IntentPayment(payment=payment, client_secret=None)
    return IntentPayment(payment=payment, client_secret=intent["client_secret"])


async def start_hosted_payment(
    *,
    session: AsyncSession,
    settings: Settings,
    actor: User,
    checkout_id: int,
    return_url: str,
    cancel_url: str,
    now: datetime,
) -> str | None:
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
            hosted = await stripe_api.create_checkout_session(
                checkout_id=checkout_id, lines=lines, success_url=return_url, cancel_url=cancel_url
            )
    except StripeCallFailed as failure:
        raise _unavailable(payment, failure, now) from failure
    # The same session while Stripe keeps the idempotency key (a day, as long as a session lives), then a new
    # one: the session the buyer can still pay is the one whose payment we believe.
    payment.session_id = str(hosted["id"])
    payment.last_error, payment.updated_at = "", now
    return str(hosted["url"])


async def confirm_with_stripe(
    *,
    session: AsyncSession,
    settings: Settings,
    actor: User,
    checkout_id: int,
    stripe_session_id: str | None,
    now: datetime,
) -> CheckoutToPay:
    """After the buyer comes back from Stripe (or a client asks how its payment is doing): if the payment is not
    known to have succeeded, ask Stripe — the Checkout Session we created for it, else the PaymentIntent — and
    only if Stripe says it is paid as we asked, do what the webhook would do. `stripe_session_id` is the session
    the buyer says they come back from: when it is not the one we created, only the intent is asked about. When
    Stripe cannot be asked, nothing changes and the webhook will tell."""
    to_pay = await checkout_to_pay(session=session, actor=actor, checkout_id=checkout_id)
    payment = to_pay.payment
    if payment is None or payment.status == PaymentStatus.SUCCEEDED:
        return to_pay
    session_to_ask = payment.session_id if stripe_session_id in (None, payment.session_id) else None
    paid: StripePayment | None = None
    try:
        async with StripeGateway(settings) as stripe_api:
            if session_to_ask:
                paid = StripePayment.of_session(await stripe_api.retrieve_checkout_session(session_to_ask))
            if (paid is None or not paid.paid) and payment.intent_id:
                paid = StripePayment.of_intent(await stripe_api.retrieve_payment_intent(payment.intent_id))
    except StripeCallFailed:
        return to_pay  # logged by the gateway; the page keeps waiting for the webhook
    if paid is None or not paid.paid:
        return to_pay
    if not await _place_if_ours(session=session, checkout_id=checkout_id, paid=paid, now=now):
        return to_pay
    return await checkout_to_pay(session=session, actor=actor, checkout_id=checkout_id)


async def _place_if_ours(*, session: AsyncSession, checkout_id: int, paid: StripePayment, now: datetime) -> bool:
    """`payment_succeeded` for a payment read from Stripe by our own request; a mismatch is logged, not raised."""
    try:
        return await payment_succeeded(session=session, checkout_id=checkout_id, paid=paid, now=now)
    except PaymentRejected as rejected:
        logger.error("Stripe's answer about checkout %s does not match its payment: %s", checkout_id, rejected.reason)
        return False


def _object_id(value: object) -> str:
    """An id Stripe sent either as such or as the expanded object."""
    return str(value["id"]) if isinstance(value, dict) else str(value)


async def place_paid_intent(
    *, session: AsyncSession, settings: Settings, checkout_id: int, reported: StripePayment, now: datetime
) -> bool:
    """Stripe's event says a PaymentIntent for the checkout succeeded (`reported` is the event's copy): the intent
    is read back from Stripe, and its orders are placed if it is the one we created for the checkout (or the one
    our Checkout Session was paid with), succeeded as Stripe says now, in rupiah, for the payment's amount.
    Raises PaymentRejected otherwise, StripeCallFailed when Stripe cannot be asked."""
    assert reported.intent_id is not None
    payment = await _payment_of(session=session, checkout_id=checkout_id)
    async with StripeGateway(settings) as stripe_api:
        said = StripePayment.of_intent(
            await _read(stripe_api.retrieve_payment_intent, reported.name, reported.intent_id)
        )
        through = await _session_paid_with(stripe_api=stripe_api, payment=payment, intent_id=reported.intent_id)
    _same_as_stripe(reported, said)
    return await payment_succeeded(
        session=session, checkout_id=checkout_id, paid=replace(said, session_id=through), now=now
    )


async def place_paid_session(
    *, session: AsyncSession, settings: Settings, checkout_id: int, reported: StripePayment, now: datetime
) -> bool:
    """Stripe's event says a Checkout Session for the checkout was paid (`reported` is the event's copy): as
    `place_paid_intent`, for the session we created."""
    assert reported.session_id is not None
    async with StripeGateway(settings) as stripe_api:
        said = StripePayment.of_session(
            await _read(stripe_api.retrieve_checkout_session, reported.name, reported.session_id)
        )
    _same_as_stripe(reported, said)
    return await payment_succeeded(session=session, checkout_id=checkout_id, paid=said, now=now)


async def _read(retrieve: Callable[[str], Awaitable[dict[str, Any]]], name: str, stripe_id: str) -> dict[str, Any]:
    """A Stripe object by id; one Stripe does not have is no payment of ours."""
    try:
        return await retrieve(stripe_id)
    except StripeCallFailed as failure:
        if failure.missing:
            raise PaymentRejected(f"Stripe has no {name}") from failure
        raise


async def _session_paid_with(*, stripe_api: StripeGateway, payment: Payment | None, intent_id: str) -> str | None:
    """The Checkout Session we created for the payment, when Stripe says it is paid with `intent_id` (an intent
    Stripe made for the session, not us); None otherwise, or when that is no question (the intent is the
    payment's own)."""
    if payment is None or not payment.session_id or payment.intent_id == intent_id:
        return None
    try:
        hosted = await stripe_api.retrieve_checkout_session(payment.session_id)
    except StripeCallFailed as failure:
        if failure.missing:
            return None
        raise
    paid_with = hosted.get("payment_intent")
    return payment.session_id if paid_with and _object_id(paid_with) == intent_id else None


def _same_as_stripe(reported: StripePayment, said: StripePayment) -> None:
    if differences := reported.differences(said):
        raise PaymentRejected(f"the event's {reported.name} differs from Stripe's: {', '.join(differences)}")


async def _payment_of(*, session: AsyncSession, checkout_id: int) -> Payment | None:
    return (await session.execute(select(Payment).where(col(Payment.checkout_id) == checkout_id))).scalar_one_or_none()


def _check_ours(*, paid: StripePayment, payment: Payment, checkout_id: int) -> None:
    """Raise PaymentRejected unless `paid` is the payment we created for the checkout, paid as we asked."""
    if paid.checkout_named != str(checkout_id):
        raise PaymentRejected(f"{paid.name} names checkout {paid.checkout_named or 'none'}, not {checkout_id}")
    ours = (paid.intent_id is not None and paid.intent_id == payment.intent_id) or (
        paid.session_id is not None and paid.session_id == payment.session_id
    )
    if not ours or paid.intent_id is None:
        raise PaymentRejected(
            f"{paid.name} is not what we created for checkout {checkout_id} (PaymentIntent "
            f"{payment.intent_id or 'none'}, Checkout Session {payment.session_id or 'none'})"
        )
    if not paid.paid:
        raise PaymentRejected(f"Stripe says {paid.name} is {paid.status or 'unknown'}, not paid")
    if paid.currency != CURRENCY:
        raise PaymentRejected(f"{paid.name} is in {paid.currency or 'no currency'}, not {CURRENCY}")
    if paid.stripe_amount != to_stripe_amount(payment.amount):
        raise PaymentRejected(
            f"{paid.name} is for {paid.stripe_amount}, the checkout costs {to_stripe_amount(payment.amount)}"
        )


async def _checkout_holding(*, session: AsyncSession, intent_id: str, checkout_id: int) -> int | None:
    """Another checkout whose payment already has this intent (an intent pays one checkout)."""
    return (
        await session.execute(
            select(col(Payment.checkout_id)).where(
                col(Payment.intent_id) == intent_id, col(Payment.checkout_id) != checkout_id
            )
        )
    ).scalar_one_or_none()


async def payment_succeeded(*, session: AsyncSession, checkout_id: int, paid: StripePayment, now: datetime) -> bool:
    """Stripe says the checkout's payment succeeded (`paid`, as read from Stripe itself): once it is checked to be
    the payment we created (`PaymentRejected` otherwise), the payment is marked so and the orders waiting for it
    are placed (their vendors are told); orders cancelled or declined meanwhile get their refund recorded. The
    one way a card order gets placed, and idempotent: a second call, a second event or a late one does nothing
    more. False when it did nothing."""
    orders_query = select(Order).where(col(Order.checkout_id) == checkout_id).order_by(col(Order.id))
    payment_query = select(Payment).where(col(Payment.checkout_id) == checkout_id)
    if is_postgres(session):
        # Orders first, then the payment: the order that cancellations take them in.
        orders_query = orders_query.with_for_update()
        payment_query = payment_query.with_for_update()
    orders = (await session.execute(orders_query.execution_options(populate_existing=True))).scalars().all()
    checkout = await session.get(Checkout, checkout_id)
    if checkout is None or checkout.payment_method != PaymentMethod.CARD:
        raise PaymentRejected(f"{paid.name} is for checkout {checkout_id}, which is not a card checkout")
    payment = (await session.execute(payment_query.execution_options(populate_existing=True))).scalar_one_or_none()
    if payment is None:  # no intent or session was ever made for it: whatever was paid, we did not ask for it
        raise PaymentRejected(f"{paid.name} is for checkout {checkout_id}, whose payment was never started")
    _check_ours(paid=paid, payment=payment, checkout_id=checkout_id)
    assert paid.intent_id is not None
    if payment.status == PaymentStatus.SUCCEEDED:
        if payment.intent_id != paid.intent_id:
            logger.error(
                "checkout %s was paid twice (%s, then %s): refund the second in Stripe's dashboard",
                checkout_id,
                payment.intent_id,
                paid.intent_id,
            )
        return False
    if paid.intent_id != payment.intent_id and (
        other := await _checkout_holding(session=session, intent_id=paid.intent_id, checkout_id=checkout_id)
    ):
        raise PaymentRejected(
            f"{paid.name} is paid with PaymentIntent {paid.intent_id}, the payment of checkout {other}"
        )
    payment.status, payment.intent_id, payment.succeeded_at = PaymentStatus.SUCCEEDED, paid.intent_id, now
    payment.last_error, payment.updated_at = "", now
    await mark_checkout_paid(session=session, checkout_id=checkout_id, now=now)
    for order in orders:
        if order.status in CLOSED:  # cancelled while the payment was under way: the money goes back
            await record_refund(session=session, order=order, payment=payment, now=now)
    record_payment_confirmed("card")
    return True


async def payment_failed(
    *, session: AsyncSession, settings: Settings, checkout_id: int, intent_id: str, message: str, now: datetime
) -> bool:
    """Stripe says an attempt to pay failed (a declined card): if the intent is the payment's (ours, or the one
    our Checkout Session is paid with; `PaymentRejected` otherwise), the payment is marked failed with Stripe's
    reason and the orders keep waiting until the unpaid-order job, so the buyer can try again. A payment that
    succeeded or was cancelled is left as it is, whatever order the events come in. Raises StripeCallFailed when
    Stripe cannot be asked about the session."""
    payment = await _payment_of(session=session, checkout_id=checkout_id)
    if payment is None:
        raise PaymentRejected(
            f"PaymentIntent {intent_id} failed for checkout {checkout_id}, whose payment was never started"
        )
    if payment.intent_id != intent_id:
        async with StripeGateway(settings) as stripe_api:
            through = await _session_paid_with(stripe_api=stripe_api, payment=payment, intent_id=intent_id)
        if through is None:
            raise PaymentRejected(
                f"PaymentIntent {intent_id} is not what we created for checkout {checkout_id} "
                f"(PaymentIntent {payment.intent_id or 'none'}, Checkout Session "
                f"{payment.session_id or 'none'})"
            )
    query = select(Payment).where(col(Payment.checkout_id) == checkout_id).execution_options(populate_existing=True)
    if is_postgres(session):
        query = query.with_for_update()
    payment = (await session.execute(query)).scalar_one()
    if payment.status not in (PaymentStatus.PENDING, PaymentStatus.FAILED):
        return False
    if payment.intent_id is None and (
        other := await _checkout_holding(session=session, intent_id=intent_id, checkout_id=checkout_id)
    ):
        raise PaymentRejected(f"PaymentIntent {intent_id} is the payment of checkout {other}")
    payment.status, payment.updated_at = PaymentStatus.FAILED, now
    payment.last_error = (message or "The card payment failed.")[:MAX_ERROR]
    payment.intent_id = payment.intent_id or intent_id
    return True


async def checkout_of_intent(*, session: AsyncSession, intent: dict[str, Any]) -> int | None:
    """The checkout a PaymentIntent is for: from its metadata, else from the payment that recorded it."""
    from_metadata = str((intent.get("metadata") or {}).get("checkout_id", ""))
    if from_metadata.isdigit():
        return int(from_metadata)
    return (
        await session.execute(select(col(Payment.checkout_id)).where(col(Payment.intent_id) == intent.get("id")))
    ).scalar_one_or_none()
