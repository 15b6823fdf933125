"""Cancelling or declining a paid card order gives back exactly that order's total — a partial refund of the
checkout's one payment — recorded with the cancellation, sent to Stripe by the order jobs (again after Stripe was
down), and shown on both sides' order pages. An order that was never paid is never refunded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from backend.jobs import run_order_jobs_once
from backend.orders.models import OrderStatus
from backend.orders.states import cancel_unpaid_orders
from backend.payments.models import PaymentStatus, Refund, RefundStatus
from backend.payments.refunds import retry_pending_refunds
from tests.conftest import log_in, submit
from tests.orders.conftest import NEXT_MONDAY, NOW
from tests.orders.test_order_api import bearer
from tests.payments.conftest import deliver, has_refund, orders_of, payment_of, refund_of, start_paying

S = OrderStatus


@pytest.fixture
async def paid(client, database, card_checkout, fake_stripe):
    """The canteen's two orders, paid with one PaymentIntent and placed by Stripe's webhook."""
    started = await start_paying(client, database, card_checkout)
    intent = fake_stripe.succeed_intent(started["payment_intent_id"])
    assert (await deliver(client, fake_stripe.event("payment_intent.succeeded", intent))).json()[
        "outcome"
    ] == "processed"
    return intent


async def refunds(database) -> list[Refund]:
    async with database.sessionmaker() as session:
        return list((await session.execute(select(Refund).order_by(col(Refund.id)))).scalars())


async def send_refunds(database, settings) -> int:
    return (await run_order_jobs_once(database, now=NOW, settings=settings)).refunds_sent


async def test_cancelling_one_vendors_order_refunds_exactly_its_part_and_both_sides_see_it(
    client, other_client, database, card_checkout, fake_stripe, paid, stripe_settings
):
    nasi, snack = card_checkout.orders
    await log_in(client, card_checkout.buyer)
    cancelled = await submit(client, f"/orders/{nasi.id}/status", {"target": "cancelled", "reason": "Acara batal"})
    assert cancelled.status_code == 303, cancelled.text

    # Recorded with the cancellation, for this order only; nothing sent to Stripe yet.
    refund = await refund_of(database, nasi.id)
    assert refund.status == RefundStatus.PENDING and refund.amount == 2_600_000 == nasi.total
    assert not await has_refund(database, snack.id)
    assert fake_stripe.seen("POST", "/v1/refunds") == []
    assert "Rp 2.600.000" in (await client.get(f"/orders/{nasi.id}")).text

    # The order jobs send it: that order's total, in Stripe's hundredths, against the checkout's payment.
    assert await send_refunds(database, stripe_settings) == 1
    (asked,) = fake_stripe.seen("POST", "/v1/refunds")
    assert asked.params == {"payment_intent": paid["id"], "amount": "260000000", "metadata": {"order_id": str(nasi.id)}}
    assert asked.idempotency_key == f"refund-order-{nasi.id}"
    refund = await refund_of(database, nasi.id)
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.stripe_refund_id is not None and refund.stripe_refund_id.startswith("re_")
    assert await send_refunds(database, stripe_settings) == 0  # sent once

    buyer_page = await client.get(f"/orders/{nasi.id}")
    assert 'data-refund="succeeded"' in buyer_page.text and "Rp 2.600.000" in buyer_page.text
    await log_in(other_client, card_checkout.sellers[0].user)
    vendor_page = await other_client.get(f"/vendor/orders/{nasi.id}")
    assert vendor_page.status_code == 200 and 'data-refund="succeeded"' in vendor_page.text
    # The other vendor's order is untouched and has no refund.
    assert [order.status for order in await orders_of(database, card_checkout.checkout_id)] == [S.CANCELLED, S.PLACED]
    assert "data-refund" not in (await client.get(f"/orders/{snack.id}")).text

    # Stripe's refund event afterwards changes nothing more.
    stripe_refund = fake_stripe.refunds[refund.stripe_refund_id]
    assert (await deliver(client, fake_stripe.event("refund.updated", stripe_refund))).status_code == 200
    assert (await refund_of(database, nasi.id)).status == RefundStatus.SUCCEEDED


async def test_a_vendor_declining_a_paid_order_refunds_it(
    client, database, card_checkout, paid, fake_stripe, stripe_settings
):
    _, snack = card_checkout.orders
    other = card_checkout.sellers[1]
    shop = await bearer(database, other.user)
    declined = await client.post(
        f"/api/v1/orders/{snack.id}/transitions", headers=shop, json={"status": "declined", "reason": "Bahan habis"}
    )
    assert declined.status_code == 200, declined.text
    assert await send_refunds(database, stripe_settings) == 1
    (asked,) = fake_stripe.seen("POST", "/v1/refunds")
    assert asked.params["amount"] == "40000000"  # Rp 400.000
    assert (await refund_of(database, snack.id)).status == RefundStatus.SUCCEEDED


async def test_a_refund_waits_while_stripe_is_down_and_is_sent_once_stripe_is_back(
    client, database, card_checkout, paid, fake_stripe, stripe_settings
):
    nasi, _ = card_checkout.orders
    canteen = await bearer(database, card_checkout.buyer)
    fake_stripe.outage()
    moved = await client.post(
        f"/api/v1/orders/{nasi.id}/transitions",
        headers=canteen,
        json={"status": "cancelled", "reason": "Salah tanggal"},
    )
    assert moved.status_code == 200  # the cancellation does not wait for Stripe
    assert (await orders_of(database, card_checkout.checkout_id))[0].status == S.CANCELLED

    assert await send_refunds(database, stripe_settings) == 0
    refund = await refund_of(database, nasi.id)
    assert refund.status == RefundStatus.PENDING and refund.stripe_refund_id is None
    assert "APIError 500" in refund.last_error
    assert len(fake_stripe.seen("POST", "/v1/refunds")) == 3  # the SDK tried three times

    fake_stripe.recover()
    assert await send_refunds(database, stripe_settings) == 1
    refund = await refund_of(database, nasi.id)
    assert refund.status == RefundStatus.SUCCEEDED and refund.last_error == ""
    keys = {request.idempotency_key for request in fake_stripe.seen("POST", "/v1/refunds")}
    assert keys == {f"refund-order-{nasi.id}"} and len(fake_stripe.refunds) == 1


async def test_a_refund_stripe_answers_pending_completes_with_its_webhook_even_out_of_order(
    client, database, card_checkout, paid, fake_stripe, stripe_settings
):
    nasi, _ = card_checkout.orders
    canteen = await bearer(database, card_checkout.buyer)
    await client.post(
        f"/api/v1/orders/{nasi.id}/transitions",
        headers=canteen,
        json={"status": "cancelled", "reason": "Salah tanggal"},
    )
    fake_stripe.refund_status = "pending"
    assert await send_refunds(database, stripe_settings) == 1
    refund = await refund_of(database, nasi.id)
    assert refund.status == RefundStatus.PENDING and refund.stripe_refund_id
    assert await send_refunds(database, stripe_settings) == 0  # known to Stripe: waits for its word, not resent

    at_stripe = fake_stripe.refunds[refund.stripe_refund_id]
    done = fake_stripe.event("refund.updated", {**at_stripe, "status": "succeeded"})
    older = fake_stripe.event("refund.updated", {**at_stripe, "status": "pending"})
    assert (await deliver(client, done)).json()["outcome"] == "processed"
    await deliver(client, older)
    assert (await refund_of(database, nasi.id)).status == RefundStatus.SUCCEEDED


async def test_a_refund_stripe_refuses_is_marked_failed_and_not_retried_forever(
    client, database, card_checkout, paid, fake_stripe, stripe_settings
):
    nasi, _ = card_checkout.orders
    # Somebody refunded the whole payment in Stripe's dashboard: nothing is left to refund.
    fake_stripe.refunds["re_dashboard"] = {
        "id": "re_dashboard",
        "payment_intent": paid["id"],
        "amount": paid["amount"],
        "status": "succeeded",
    }
    canteen = await bearer(database, card_checkout.buyer)
    await client.post(
        f"/api/v1/orders/{nasi.id}/transitions",
        headers=canteen,
        json={"status": "cancelled", "reason": "Salah tanggal"},
    )
    assert await send_refunds(database, stripe_settings) == 0
    refund = await refund_of(database, nasi.id)
    assert refund.status == RefundStatus.FAILED and "amount_too_large" in refund.last_error
    assert await send_refunds(database, stripe_settings) == 0
    assert len(fake_stripe.seen("POST", "/v1/refunds")) == 1

    await log_in(client, card_checkout.buyer)
    assert 'data-refund="failed"' in (await client.get(f"/orders/{nasi.id}")).text


async def test_the_unpaid_order_job_cancels_the_payment_and_never_refunds_what_was_not_paid(
    client, database, card_checkout, fake_stripe, stripe_settings
):
    await start_paying(client, database, card_checkout)  # an intent exists, never confirmed
    async with database.sessionmaker() as session:
        assert await cancel_unpaid_orders(session=session, now=NOW + timedelta(minutes=31)) == 2
        await session.commit()
    assert {order.status for order in await orders_of(database, card_checkout.checkout_id)} == {S.CANCELLED}
    assert (await payment_of(database, card_checkout.checkout_id)).status == PaymentStatus.CANCELED
    assert await refunds(database) == []
    async with database.sessionmaker() as session:
        assert await retry_pending_refunds(session=session, settings=stripe_settings, now=NOW) == 0
    assert fake_stripe.seen("POST", "/v1/refunds") == []


async def test_a_payment_that_succeeds_after_its_orders_expired_is_given_back_in_full(
    client, database, card_checkout, fake_stripe, stripe_settings
):
    started = await start_paying(client, database, card_checkout)
    async with database.sessionmaker() as session:
        await cancel_unpaid_orders(session=session, now=NOW + timedelta(minutes=31))
        await session.commit()
    # The buyer had the card confirmed at the last second; Stripe's event arrives after the job.
    late = fake_stripe.succeed_intent(started["payment_intent_id"])
    assert (await deliver(client, fake_stripe.event("payment_intent.succeeded", late))).json()["outcome"] == "processed"

    assert {order.status for order in await orders_of(database, card_checkout.checkout_id)} == {S.CANCELLED}
    assert (await payment_of(database, card_checkout.checkout_id)).status == PaymentStatus.SUCCEEDED
    assert sorted(refund.amount for refund in await refunds(database)) == [400_000, 2_600_000]
    assert await send_refunds(database, stripe_settings) == 2
    assert sum(int(request.params["amount"]) for request in fake_stripe.seen("POST", "/v1/refunds")) == 300_000_000


async def test_orders_paid_otherwise_cost_no_payment_query_when_cancelled(ordering, catering, canteen_staff, database):
    from backend.orders.states import change_status
    from tests.conftest import QueryCounter

    _, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 100)  # invoice
    async with database.sessionmaker() as session:
        with QueryCounter(database) as counter:
            await change_status(
                session=session,
                order_id=order.id,
                target=S.CANCELLED,
                actor=canteen_staff,
                reason="Batal",
                now=NOW,
                today=NEXT_MONDAY,
            )
        await session.commit()
    assert not any(
        "from payment" in statement.lower() or "update payment" in statement.lower() for statement in counter.statements
    )
    async with database.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Refund))).scalar_one() == 0
