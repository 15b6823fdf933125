"""JSON API for QRIS and virtual-account checkouts (a phone app shows the code or the account itself), and the
payment gateway's callback."""

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
from backend.payments import gateway
from backend.payments.gateway import CallbackOutcome, GatewayUnavailable
from backend.payments.service import CheckoutToPay
from backend.problems import problem_response

PaymentState = Literal["pending", "succeeded", "failed", "canceled"]


class GatewayPaymentPublic(BaseModel):
    checkout_id: int
    method: Literal["qris", "virtual_account"]
    status: PaymentState = Field(
        description="succeeded once the gateway confirmed the money (the orders are then placed); canceled: the "
        "orders were cancelled unpaid"
    )
    amount: int = Field(description="Rupiah: exactly this must be paid")
    reference: str = Field(description="The payment's reference, as the gateway knows it")
    qr_string: str | None = Field(description="QRIS: the code's content, to draw as a QR code")
    bank: str | None = Field(description="Virtual account: the bank's code (BNI, BRI, MANDIRI, ...)")
    virtual_account_number: str | None
    expires_at: datetime | None = Field(description="The code or account takes no payment after this (UTC)")
    pay_by: datetime | None = Field(description="Orders still unpaid then are cancelled (UTC)")
    last_error: str | None
    order_ids: list[int]

    @classmethod
    def of(cls, to_pay: CheckoutToPay) -> GatewayPaymentPublic:
        payment = to_pay.payment
        assert payment is not None and to_pay.checkout.id is not None  # made with the checkout
        return cls(
            checkout_id=to_pay.checkout.id,
            method=cast(Literal["qris", "virtual_account"], to_pay.checkout.payment_method),
            status=cast(PaymentState, payment.status),
            amount=payment.amount,
            reference=payment.reference or "",
            qr_string=payment.qr_string or None,
            bank=payment.va_bank or None,
            virtual_account_number=payment.va_number or None,
            expires_at=as_utc(payment.expires_at),
            pay_by=as_utc(to_pay.due_at),
            last_error=payment.last_error or None,
            order_ids=[order.id for order, _ in to_pay.orders],
        )


class GatewayPaymentApi(Controller):
    path = "/api/v1/checkouts/{checkout_id:int}/gateway-payment"
    tags = ["payments"]
    guards = [BUYERS]
    security = BEARER

    @post(
        "",
        status_code=200,
        summary="Pay a QRIS or virtual-account checkout: its QRIS code or virtual account",
        description="Makes the checkout's payment request at the gateway on the first call (one per checkout, "
        "whatever the retries), expiring when the orders' payment window closes. The orders are placed "
        "when the gateway's callback says the money arrived. 503 `payment_unavailable` when the gateway "
        "cannot be reached (the orders keep waiting: try again), 404 for another buyer's checkout.",
    )
    async def start(
        self,
        request: UserRequest,
        checkout_id: FromPath[int],
        db_session: DbSession,
        settings: NamedDependency[Settings],
    ) -> GatewayPaymentPublic:
        try:
            to_pay = await gateway.start_gateway_payment(
                session=db_session, settings=settings, actor=request.user, checkout_id=checkout_id, now=utcnow()
            )
        except GatewayUnavailable:
            keep_when_refused(request.scope)  # the gateway's reason stays on the payment for staff
            raise
        return GatewayPaymentPublic.of(to_pay)

    @get("", summary="How the payment of a QRIS or virtual-account checkout is doing")
    async def status(
        self, request: UserRequest, checkout_id: FromPath[int], db_session: DbSession
    ) -> GatewayPaymentPublic:
        to_pay = await gateway.gateway_checkout(session=db_session, actor=request.user, checkout_id=checkout_id)
        return GatewayPaymentPublic.of(to_pay)


class CallbackReceipt(BaseModel):
    received: bool = True
    outcome: CallbackOutcome = Field(
        description="rejected: with our token, but not a payment we asked for (checked with the gateway); nothing "
        "changed, and the callback is kept with the reason"
    )


CALLBACK_BODY_LIMIT = 256 * 1024


@post(
    "/api/v1/xendit/callback",
    status_code=200,
    tags=["payments"],
    security=[],
    request_max_body_size=CALLBACK_BODY_LIMIT,
    summary="The payment gateway's callback (Xendit calls it, with its callback token)",
    description="Verified with the `X-CALLBACK-TOKEN` header: 401 when it is missing or wrong, and nothing "
    "changes. Each callback acts once, however often and in whatever order it comes. The payment (or a vendor's "
    "payout, for payout.succeeded and payout.failed) is read back from the gateway before anything changes: 503 "
    "when it cannot be asked (nothing changes; the gateway sends the callback again).",
    responses={
        401: problem_response(401, "The callback token is missing or wrong: nothing changed"),
        503: problem_response(503, "The gateway could not be asked to confirm the payment: send it again later"),
    },
)
async def xendit_callback(
    request: Request[Any, Any, Any], db_session: DbSession, settings: NamedDependency[Settings]
) -> CallbackReceipt:
    outcome = await gateway.receive_callback(
        session=db_session,
        settings=settings,
        payload=await request.body(),
        token=request.headers.get("x-callback-token"),
        now=utcnow(),
    )
    return CallbackReceipt(outcome=outcome)


API_ROUTES: list[ControllerRouterHandler] = [GatewayPaymentApi, xendit_callback]
