"""On PostgreSQL, at the same moment: one event delivered twice, the webhook and the buyer's return, a cancellation
racing the payment. Each ends in one consistent state, without deadlocks."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from backend.clock import utcnow, wib_today
from backend.errors import Conflict
from backend.orders.models import OrderEvent, OrderStatus
from backend.orders.states import change_status
from backend.payments import service
from backend.payments.models import PaymentStatus, RefundStatus, StripeEvent
from backend.payments.webhooks import receive_event
from tests.payments.conftest import has_refund, orders_of, payment_of, refund_of, start_paying, stripe_signature

pytestmark = pytest.mark.postgres_only
S = OrderStatus


@pytest.fixture(autouse=True)
def postgres_only(database):
    if database.engine.dialect.name != "postgresql":
        pytest.skip("concurrent deliveries are tested on PostgreSQL")


@pytest.fixture
async def paid_at_stripe(client, database, card_checkout, fake_stripe):
    started = await start_paying(client, database, card_checkout)
    return fake_stripe.succeed_intent(started["payment_intent_id"])


async def deliver_in_own_transaction(database, settings, event: dict) -> str:
    """One worker receiving one delivery: its own connection and transaction, committed at the end."""
    payload = json.dumps(event).encode()
    async with database.sessionmaker() as session:
        outcome = await receive_event(
            session=session, settings=settings, payload=payload, signature=stripe_signature(payload), now=utcnow()
        )
        await session.commit()
        return outcome


async def placements(database, checkout) -> int:
    async with database.sessionmaker() as session:
        return (
            await session.execute(
                select(func.count())
                .select_from(OrderEvent)
                .where(
                    col(OrderEvent.order_id).in_([order.id for order in checkout.orders]),
                    col(OrderEvent.to_status) == S.PLACED,
                )
            )
        ).scalar_one()


async def test_the_same_event_delivered_to_several_workers_at_once_acts_once(
    database, stripe_settings, card_checkout, fake_stripe, paid_at_stripe
):
    event = fake_stripe.event("payment_intent.succeeded", paid_at_stripe)
    outcomes = await asyncio.gather(*(deliver_in_own_transaction(database, stripe_settings, event) for _ in range(6)))
    assert sorted(outcomes) == ["duplicate"] * 5 + ["processed"]
    assert await placements(database, card_checkout) == 2
    async with database.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(StripeEvent))).scalar_one() == 1


async def test_two_events_with_the_same_news_and_the_buyers_return_at_once_place_the_orders_once(
    database, stripe_settings, card_checkout, fake_stripe, paid_at_stripe
):
    intent_event = fake_stripe.event("payment_intent.succeeded", paid_at_stripe)
    session_event = fake_stripe.event(
        "checkout.session.completed",
        {
            "id": "cs_test_same",
            "object": "checkout.session",
            "payment_status": "paid",
            "payment_intent": paid_at_stripe["id"],
            "amount_total": paid_at_stripe["amount"],
            "metadata": {"checkout_id": str(card_checkout.checkout_id)},
        },
    )

    async def buyer_returns() -> str:
        async with database.sessionmaker() as session:
            to_pay = await service.confirm_with_stripe(
                session=session,
                settings=stripe_settings,
                actor=card_checkout.buyer,
                checkout_id=card_checkout.checkout_id,
                stripe_session_id=None,
                now=utcnow(),
            )
            await session.commit()
            return "paid" if to_pay.paid else "waiting"

    results = await asyncio.gather(
        deliver_in_own_transaction(database, stripe_settings, intent_event),
        deliver_in_own_transaction(database, stripe_settings, session_event),
        buyer_returns(),
    )
    assert results[2] == "paid" or "processed" in results[:2]
    assert await placements(database, card_checkout) == 2
    assert (await payment_of(database, card_checkout.checkout_id)).status == PaymentStatus.SUCCEEDED


async def test_a_buyer_cancelling_while_the_payment_arrives_ends_paid_and_placed_or_cancelled_and_refunded(
    database, stripe_settings, card_checkout, fake_stripe, paid_at_stripe
):
    nasi, _ = card_checkout.orders
    event = fake_stripe.event("payment_intent.succeeded", paid_at_stripe)

    async def cancel() -> str:
        async with database.sessionmaker() as session:
            try:
                await change_status(
                    session=session,
                    order_id=nasi.id,
                    target=S.CANCELLED,
                    actor=card_checkout.buyer,
                    reason="Batal",
                    now=utcnow(),
                    today=wib_today(utcnow()),
                )
            except Conflict:
                await session.rollback()
                return "refused"
            await session.commit()
            return "cancelled"

    delivered, cancelled = await asyncio.gather(deliver_in_own_transaction(database, stripe_settings, event), cancel())
    assert delivered == "processed" and cancelled in ("cancelled", "refused")

    nasi_now, snack_now = await orders_of(database, card_checkout.checkout_id)
    assert snack_now.status == S.PLACED
    assert (await payment_of(database, card_checkout.checkout_id)).status == PaymentStatus.SUCCEEDED
    if nasi_now.status == S.CANCELLED:
        refund = await refund_of(database, nasi.id)
        assert refund.status == RefundStatus.PENDING and refund.amount == nasi.total
    else:
        assert nasi_now.status == S.PLACED and not await has_refund(database, nasi.id)
