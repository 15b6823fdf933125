"""Stripe's webhook: events verified with the endpoint's secret, each acted on once.

The event's id is stored in the same transaction as its effect (an INSERT that does nothing when the id is
there): a second delivery, even at the same moment on another worker, finds it and changes nothing, and an effect
that fails rolls the id back with it, so Stripe's next delivery tries again. Events may arrive in any order; each
effect checks the current state (a failure reported after a success changes nothing). Unknown types are stored
and acknowledged, nothing more.

A signature proves who sent an event, not that its content is the payment we asked for: a payment is read back
from Stripe and checked against the one we created (service). One that does not match is stored as rejected, with
the reason, logged, and acknowledged all the same, so Stripe stops sending it; when Stripe cannot be asked, the
answer is 503 and Stripe sends the event again later.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import stripe
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.config import Settings
from backend.db import upsert_insert
from backend.errors import N_, DomainError
from backend.metrics import record_webhook_reject
from backend.payments import service
from backend.payments.models import StripeEvent
from backend.payments.refunds import apply_stripe_refund
from backend.payments.service import PaymentRejected, PaymentUnavailable, StripePayment
from backend.payments.stripe_client import StripeCallFailed

logger = logging.getLogger("pasar_kawasan.payments")

MSG_SIGNATURE = N_("The event's signature could not be verified.")
# The SDK refuses a signature dated longer ago than this; one dated further ahead is refused here.
SIGNATURE_TOLERANCE = timedelta(seconds=stripe.Webhook.DEFAULT_TOLERANCE)


class SignatureRefused(DomainError):
    status_code = 400
    code = "bad_signature"
    default_message = MSG_SIGNATURE


StripeObject = dict[str, Any]
Handler = Callable[[AsyncSession, Settings, StripeObject, datetime], Awaitable[bool]]


WebhookOutcome = Literal["processed", "ignored", "rejected", "duplicate"]


async def receive_event(
    *, session: AsyncSession, settings: Settings, payload: bytes, signature: str | None, now: datetime
) -> WebhookOutcome:
    """Verify a webhook delivery (the raw body, exactly as received) and act on it once. Returns "processed",
    "ignored" (a type we do not act on, or nothing to do), "rejected" (not the payment we created: stored with
    the reason) or "duplicate"; raises SignatureRefused (400) for a missing, forged or stale signature, or one
    dated ahead, before anything is read or written, and PaymentUnavailable (503) when Stripe cannot be asked to
    confirm a payment."""
    if not settings.stripe_webhook_secret:
        logger.error("a Stripe webhook arrived but STRIPE_WEBHOOK_SECRET is not set: refused")
        record_webhook_reject("no_secret")
        raise SignatureRefused()
    try:
        event = stripe.Webhook.construct_event(payload, signature, settings.stripe_webhook_secret).to_dict()
    except (ValueError, stripe.SignatureVerificationError):
        record_webhook_reject("bad_signature")
        raise SignatureRefused() from None
    assert signature is not None
    if _signed_at(signature) > now + SIGNATURE_TOLERANCE:
        record_webhook_reject("signed_ahead")
        raise SignatureRefused()
    handler = HANDLERS.get(event.get("type", ""))
    if not await _first_delivery(session=session, event=event, now=now):
        return "duplicate"
    if handler is None:
        return "ignored"
    try:
        acted = await handler(session, settings, (event.get("data") or {}).get("object") or {}, now)
    except PaymentRejected as rejected:
        await session.execute(
            update(StripeEvent).where(col(StripeEvent.id) == _stored_id(event)).values(rejected_reason=rejected.reason)
        )
        logger.error("Stripe event %s (%s) rejected: %s", event["id"], event["type"], rejected.reason)
        record_webhook_reject("not_ours")
        return "rejected"
    except StripeCallFailed as failure:  # logged by the gateway; the event's row is rolled back with the answer
        raise PaymentUnavailable() from failure
    if not acted:
        # Nothing to do is a normal answer to events about other things or already handled; say so in the log.
        logger.info("Stripe event %s (%s) changed nothing", event["id"], event["type"])
    return "processed" if acted else "ignored"


def _signed_at(signature: str) -> datetime:
    """The time in a Stripe-Signature header the SDK accepted: its first t= (as the SDK reads it)."""
    stamp = next(value for key, _, value in (item.partition("=") for item in signature.split(",")) if key == "t")
    return datetime.fromtimestamp(int(stamp), UTC)


def _stored_id(event: StripeObject) -> str:
    return str(event["id"])[:80]


async def _first_delivery(*, session: AsyncSession, event: StripeObject, now: datetime) -> bool:
    insert = upsert_insert(session)
    acted_on = event.get("type") in HANDLERS
    stored = await session.execute(
        insert(StripeEvent)
        .values(
            id=_stored_id(event),
            type=str(event.get("type", ""))[:80],
            received_at=now,
            processed_at=now if acted_on else None,
        )
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(col(StripeEvent.id))
    )
    return stored.scalar_one_or_none() is not None


async def _intent_succeeded(session: AsyncSession, settings: Settings, intent: StripeObject, now: datetime) -> bool:
    checkout_id = await service.checkout_of_intent(session=session, intent=intent)
    if checkout_id is None:
        return False
    return await service.place_paid_intent(
        session=session, settings=settings, checkout_id=checkout_id, reported=StripePayment.of_intent(intent), now=now
    )


async def _intent_failed(session: AsyncSession, settings: Settings, intent: StripeObject, now: datetime) -> bool:
    checkout_id = await service.checkout_of_intent(session=session, intent=intent)
    if checkout_id is None:
        return False
    message = str((intent.get("last_payment_error") or {}).get("message") or "")
    return await service.payment_failed(
        session=session, settings=settings, checkout_id=checkout_id, intent_id=intent["id"], message=message, now=now
    )


async def _session_paid(session: AsyncSession, settings: Settings, hosted: StripeObject, now: datetime) -> bool:
    """checkout.session.completed (paid at once, as cards are) or async_payment_succeeded."""
    checkout_id = str((hosted.get("metadata") or {}).get("checkout_id", ""))
    if hosted.get("payment_status") != "paid" or not checkout_id.isdigit() or not hosted.get("id"):
        return False
    return await service.place_paid_session(
        session=session,
        settings=settings,
        checkout_id=int(checkout_id),
        reported=StripePayment.of_session(hosted),
        now=now,
    )


async def _charge_refunded(session: AsyncSession, settings: Settings, charge: StripeObject, now: datetime) -> bool:
    """The charge lists its refunds (when Stripe includes them)."""
    refunds = (charge.get("refunds") or {}).get("data") or []
    changed = [await apply_stripe_refund(session=session, stripe_refund=refund, now=now) for refund in refunds]
    return any(changed)


async def _refund_changed(session: AsyncSession, settings: Settings, refund: StripeObject, now: datetime) -> bool:
    return await apply_stripe_refund(session=session, stripe_refund=refund, now=now)


HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
    "checkout.session.completed": _session_paid,
    "checkout.session.async_payment_succeeded": _session_paid,
    "charge.refunded": _charge_refunded,
    "refund.created": _refund_changed,
    "refund.updated": _refund_changed,
    "refund.failed": _refund_changed,
}
