"""Stripe's HTTP API through the official SDK, for the few calls the app makes: create and read a PaymentIntent,
create and read a hosted Checkout Session, create a refund.

This is Stripe's edge: amounts go in as rupiah and leave as Stripe's hundredths (backend.money), answers come
back as plain dicts, and every failure (unreachable, timed out, 5xx after the SDK's retries, refused) comes out as
one `StripeCallFailed` with a short reason that may be stored and shown to staff. Each call has a short timeout
(`STRIPE_TIMEOUT_SECONDS`) and two retries by the SDK, which reuse the idempotency key of the call.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from types import TracebackType
from typing import Any

import stripe

from backend.config import Settings
from backend.money import to_stripe_amount

logger = logging.getLogger("pasar_kawasan.stripe")

CURRENCY = "idr"
MAX_NETWORK_RETRIES = 2
MAX_REASON = 300


class StripeCallFailed(Exception):
    """Stripe did not do what was asked. `retryable` is False when asking again cannot help (the request itself
    was refused: a 4xx other than 409/429), True when Stripe was down, slow or busy; `missing` when Stripe has
    no object with the id asked for (a 404)."""

    def __init__(self, reason: str, *, retryable: bool, missing: bool = False) -> None:
        self.reason = reason[:MAX_REASON]
        self.retryable = retryable
        self.missing = missing
        super().__init__(self.reason)


def intent_idempotency_key(checkout_id: int) -> str:
    return f"checkout-{checkout_id}-intent"


def session_idempotency_key(checkout_id: int) -> str:
    return f"checkout-{checkout_id}-session"


def refund_idempotency_key(order_id: int) -> str:
    return f"refund-order-{order_id}"


class _HTTPXClient(stripe.HTTPXClient):
    """The SDK's async HTTP client, sending the encoded form as httpx's `content`: the SDK passes it as `data`,
    which httpx deprecates for a body that is already encoded (a DeprecationWarning on every call)."""

    def _get_request_args_kwargs(self, method: str, url: str, headers: Any, post_data: Any) -> Any:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        body = kwargs.pop("data", None)
        if body:
            kwargs["content"] = body
        return args, kwargs


class StripeGateway:
    """One conversation with Stripe: `async with StripeGateway(settings) as stripe_api: ...` (its HTTP connections
    are closed at the end, so a gateway never outlives the event loop that used it)."""

    def __init__(self, settings: Settings) -> None:
        if not settings.stripe_secret_key:
            raise StripeCallFailed("Stripe is not configured (STRIPE_SECRET_KEY)", retryable=False)
        self._http: stripe.HTTPXClient = _HTTPXClient(timeout=settings.stripe_timeout_seconds)
        self._client = stripe.StripeClient(
            settings.stripe_secret_key,
            base_addresses={"api": settings.stripe_api_base} if settings.stripe_api_base else None,
            max_network_retries=MAX_NETWORK_RETRIES,
            http_client=self._http,
        )

    async def __aenter__(self) -> StripeGateway:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self._http.close_async()

    async def create_payment_intent(self, *, checkout_id: int, amount: int) -> dict[str, Any]:
        """A PaymentIntent for a checkout's `amount` rupiah, created once whatever the retries."""
        return await self._call(
            "create payment intent",
            self._client.v1.payment_intents.create_async(
                params={
                    "amount": to_stripe_amount(amount),
                    "currency": CURRENCY,
                    "allowed_payment_method_types": ["card"],
                    "metadata": {"checkout_id": str(checkout_id)},
                    "description": f"Pasar Kawasan checkout {checkout_id}",
                },
                options={"idempotency_key": intent_idempotency_key(checkout_id)},
            ),
        )

    async def retrieve_payment_intent(self, intent_id: str) -> dict[str, Any]:
        return await self._call("retrieve payment intent", self._client.v1.payment_intents.retrieve_async(intent_id))

    async def create_checkout_session(
        self, *, checkout_id: int, lines: list[tuple[str, int]], success_url: str, cancel_url: str
    ) -> dict[str, Any]:
        """Stripe's hosted payment page for a checkout: one line per (name, rupiah) pair, created once. Its
        parameters must not change between tries (Stripe refuses a key reused with other parameters), so the page
        keeps Stripe's default life; a payment made after the orders expired is refunded (service)."""
        metadata = {"checkout_id": str(checkout_id)}
        return await self._call(
            "create checkout session",
            self._client.v1.checkout.sessions.create_async(
                params={
                    "mode": "payment",
                    "allowed_payment_method_types": ["card"],
                    "client_reference_id": str(checkout_id),
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                    "metadata": metadata,
                    "payment_intent_data": {"metadata": metadata},
                    "line_items": [
                        {
                            "quantity": 1,
                            "price_data": {
                                "currency": CURRENCY,
                                "unit_amount": to_stripe_amount(amount),
                                "product_data": {"name": name},
                            },
                        }
                        for name, amount in lines
                    ],
                },
                options={"idempotency_key": session_idempotency_key(checkout_id)},
            ),
        )

    async def retrieve_checkout_session(self, session_id: str) -> dict[str, Any]:
        return await self._call(
            "retrieve checkout session", self._client.v1.checkout.sessions.retrieve_async(session_id)
        )

    async def create_refund(self, *, intent_id: str, order_id: int, amount: int) -> dict[str, Any]:
        """Give back `amount` rupiah of a payment for one order (a partial refund), once per order."""
        return await self._call(
            "create refund",
            self._client.v1.refunds.create_async(
                params={
                    "payment_intent": intent_id,
                    "amount": to_stripe_amount(amount),
                    "metadata": {"order_id": str(order_id)},
                },
                options={"idempotency_key": refund_idempotency_key(order_id)},
            ),
        )

    async def _call(self, what: str, request: Awaitable[stripe.StripeObject]) -> dict[str, Any]:
        try:
            answer = await request
        except stripe.StripeError as error:
            retryable = isinstance(error, (stripe.APIConnectionError, stripe.RateLimitError)) or (
                error.http_status is None or error.http_status >= 500 or error.http_status == 409
            )
            reason = _reason(error)
            (logger.warning if retryable else logger.error)("Stripe: %s failed: %s", what, reason)
            raise StripeCallFailed(reason, retryable=retryable, missing=error.http_status == 404) from error
        return answer.to_dict()


def _reason(error: stripe.StripeError) -> str:
    """Short and free of secrets: the kind of error, Stripe's status and code, and its message."""
    message = " ".join((error.user_message or str(error) or "").split())
    status = f" {error.http_status}" if error.http_status else ""
    code = f" {error.code}" if error.code else ""
    return f"{type(error).__name__}{status}{code}: {message}"[:MAX_REASON]
