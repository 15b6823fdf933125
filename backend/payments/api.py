"""JSON API for card payments: a checkout's PaymentIntent for clients that confirm it with Stripe themselves
(procurement systems, phone apps), its status, and Stripe's webhook.

Amounts are whole rupiah, as everywhere in the API; Stripe itself counts IDR in hundredths (`stripe_amount`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, cast

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler
from pydantic import BaseModel, Field

from backend.accounts.auth import BEARER, UserRequest
from backend.clock import utcnow
from backend.config import Settings
from backend.db import DbSession, as_utc, keep_when_refused
from backend.guards import BUYERS
from backend.money import to_stripe_amount
from backend.payments import service
from backend.payments.models import Payment
from backend.payments.service import CheckoutToPay, PaymentUnavailable
from backend.payments.webhooks import WebhookOutcome, receive_event
from backend.problems import problem_response

# A stored payment's status (the table's CHECK constraint keeps it to PaymentStatus), or not_started before one.
PaymentState = Literal["not_started", "pending", "succeeded", "failed", "canceled"]


class PaymentPublic(BaseModel):
    checkout_id: int
    status: PaymentState = Field(
        description="not_started until the first POST; succeeded once Stripe confirmed the money (the orders are "
        "then placed); failed: the last attempt failed (try again while the orders wait); canceled: "
        "the orders were cancelled unpaid"
    )
    amount: int = Field(description="Rupiah")
    currency: Literal["idr"] = "idr"
    stripe_amount: int = Field(description="The amount as Stripe counts IDR (rupiah × 100)")
    payment_intent_id: str | None
    client_secret: str | None = Field(
        default=None,
        description="Confirm the PaymentIntent with Stripe.js or a Stripe mobile SDK using this and "
        "`publishable_key`; given by POST only, and only while there is something to pay",
    )
    publishable_key: str | None
    last_error: str | None = Field(description="Why the last attempt failed, as Stripe said it")
    pay_by: datetime | None = Field(description="Orders still unpaid then are cancelled (UTC)")
    order_ids: list[int] = Field(description="The orders this payment is for, one per vendor")

    @classmethod
    def of(
        cls, to_pay: CheckoutToPay, settings: Settings, payment: Payment | None = None, client_secret: str | None = None
    ) -> PaymentPublic:
        payment = payment or to_pay.payment
        amount = payment.amount if payment is not None else to_pay.checkout.total
        assert to_pay.checkout.id is not None
        return cls(
            checkout_id=to_pay.checkout.id,
            status=cast(PaymentState, payment.status) if payment is not None else "not_started",
            amount=amount,
            stripe_amount=to_stripe_amount(amount),
            payment_intent_id=payment.intent_id if payment is not None else None,
            client_secret=client_secret,
            publishable_key=settings.stripe_publishable_key,
            last_error=(payment.last_error or None) if payment is not None else None,
            pay_by=as_utc(to_pay.due_at),
            order_ids=[order.id for order, _ in to_pay.orders],
        )


class PaymentApi(Controller):
    path = "/api/v1/checkouts/{checkout_id:int}/payment"
    tags = ["payments"]
    guards = [BUYERS]
    security = BEARER

    @post(
        "",
        status_code=200,
        summary="Pay a card checkout: its PaymentIntent, to confirm with Stripe",
        description="Creates the checkout's PaymentIntent on the first call (one per checkout, whatever the "
        "retries) and answers with its `client_secret` and the `publishable_key` to confirm it "
        "with Stripe. The orders are placed when Stripe tells us the payment succeeded. 503 "
        "`payment_unavailable` when Stripe cannot be reached (the orders keep waiting: try again), "
        "409 when the orders were cancelled, 404 for another buyer's checkout.",
    )
    async def start(
        self,
        request: UserRequest,
        checkout_id: FromPath[int],
        db_session: DbSession,
        settings: NamedDependency[Settings],
    ) -> PaymentPublic:
        try:
            started = await service.start_intent_payment(
                session=db_session, settings=settings, actor=request.user, checkout_id=checkout_id, now=utcnow()
            )
        except PaymentUnavailable:
            keep_when_refused(request.scope)  # Stripe's reason stays on the payment for the next try and for staff
            raise
        to_pay = await service.checkout_to_pay(session=db_session, actor=request.user, checkout_id=checkout_id)
        return PaymentPublic.of(to_pay, settings, payment=started.payment, client_secret=started.client_secret)

    @get(
        "",
        summary="How the payment of a card checkout is doing",
        description="When the payment is not known to have succeeded, Stripe is asked; if it says the money is "
        "there, the orders are placed now rather than when the webhook arrives.",
    )
    async def status(
        self,
        request: UserRequest,
        checkout_id: FromPath[int],
        db_session: DbSession,
        settings: NamedDependency[Settings],
    ) -> PaymentPublic:
        to_pay = await service.confirm_with_stripe(
            session=db_session,
            settings=settings,
            actor=request.user,
            checkout_id=checkout_id,
            stripe_session_id=None,
            now=utcnow(),
        )
        return PaymentPublic.of(to_pay, settings)


class WebhookReceipt(BaseModel):
    received: bool = True
    outcome: WebhookOutcome = Field(
        description="rejected: signed, but not the payment we created (checked with Stripe); nothing changed, and "
        "the event is kept with the reason"
    )


# Stripe's events are as large as Stripe makes them (a session with many line items): more room than a client's JSON.
STRIPE_EVENT_BODY_LIMIT = 1024 * 1024


@post(
    "/api/v1/stripe/webhook",
    status_code=200,
    tags=["payments"],
    security=[],
    request_max_body_size=STRIPE_EVENT_BODY_LIMIT,
    summary="Stripe's webhook (Stripe calls it; signed with the endpoint's secret)",
    description="Verified with the `Stripe-Signature` header on the raw body: 400 when it is missing or wrong, "
    "or dated more than five minutes either way, and nothing changes. Each event acts once, however "
    "often and in whatever order it comes. A payment is read back from Stripe before any order is "
    "placed: 503 when Stripe cannot be asked (nothing changes; Stripe sends the event again).",
    responses={
        503: problem_response(
            503,
            "Stripe could not be asked to confirm the payment, or the database "
            "cannot be reached: nothing changed, send the event again later",
        )
    },
)
async def stripe_webhook(
    request: Request[Any, Any, Any], db_session: DbSession, settings: NamedDependency[Settings]
) -> WebhookReceipt:
    outcome = await receive_event(
        session=db_session,
        settings=settings,
        payload=await request.body(),
        signature=request.headers.get("stripe-signature"),
        now=utcnow(),
    )
    return WebhookReceipt(outcome=outcome)


API_ROUTES: list[ControllerRouterHandler] = [PaymentApi, stripe_webhook]
