"""The worker killed in the middle of a job (SIGKILL to `python -m backend worker`) and started again: no push,
refund or payment-window expiry is lost, and none is done twice.

What the worker had finished is committed and not done again; what it was in the middle of is rolled back with
its connection and done by the next run. Stripe sees the refund asked for again under the same idempotency key
and refunds once; a push whose answer the worker never heard is sent again under the same Topic and tag, which
replace the first copy at the push service and on the phone."""

# ruff: noqa: F811  (fixtures imported from other folders are parameters of the tests)
from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlmodel import col

from backend.clock import utcnow
from backend.notifications import push
from backend.notifications.models import PushMessage
from backend.notifications.service import notify
from backend.orders.models import Order, OrderEvent, OrderStatus
from backend.payments.models import PaymentStatus, RefundStatus
from tests.conftest import log_in, submit
from tests.jobs.conftest import redis_url, worker_environment, workers  # noqa: F401  (fixtures)
from tests.notifications.conftest import Browser, push_service, vapid_keys  # noqa: F401  (fixtures)
from tests.payments.conftest import SECRET_KEY, deliver, orders_of, payment_of, refund_of, start_paying

pytestmark = [pytest.mark.postgres_only, pytest.mark.one_database, pytest.mark.xdist_group("redis")]

# Work left by a killed worker is picked up by its job's next scheduled run (a minute for refunds): on a busy
# machine that can take a while longer.
WAIT_SECONDS = 150


async def until(condition, what: str, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what}: not within {seconds} s")


@pytest.fixture(autouse=True)
def _postgres(settings):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("row locks and a second process on one database: PostgreSQL")


async def test_pushes_and_a_refund_in_flight_when_the_worker_dies_are_each_done_once(
    client,
    database,
    settings,
    card_checkout,
    fake_stripe,
    push_service,
    vapid_keys,
    redis_url,
    workers,
):
    # The canteen pays its two orders by card, then cancels the nasi box order: a refund waits to be sent.
    started = await start_paying(client, database, card_checkout)
    intent = fake_stripe.succeed_intent(started["payment_intent_id"])
    await deliver(client, fake_stripe.event("payment_intent.succeeded", intent))
    nasi, _snack = card_checkout.orders
    phones = {}
    push_settings = settings.model_copy(
        update={"vapid_public_key": vapid_keys.public_key, "vapid_private_key": vapid_keys.private_key}
    )
    people = {
        "buyer": card_checkout.buyer,
        "nasi": card_checkout.sellers[0].user,
        "snack": card_checkout.sellers[1].user,
    }
    async with database.sessionmaker() as session:
        for name, user in people.items():
            phones[name] = Browser()
            await push.subscribe(
                session=session,
                settings=push_settings,
                user=user,
                endpoint=push_service.endpoint(name),
                p256dh=phones[name].p256dh,
                auth=phones[name].auth,
            )
        await session.commit()
    await log_in(client, card_checkout.buyer)
    cancelled = await submit(client, f"/orders/{nasi.id}/status", {"target": "cancelled", "reason": "Acara batal"})
    assert cancelled.status_code == 303, cancelled.text
    async with database.sessionmaker() as session:  # and news for everybody's phone
        await notify(
            session=session,
            user_ids={user.id for user in people.values()},
            message="Expires on %(date)s. Renew it soon and upload the new one.",
            params={"date": "30 November 2026"},
            now=utcnow(),
        )
        await session.commit()
    async with database.sessionmaker() as session:
        messages = {
            message.id: message
            for message in (await session.execute(select(PushMessage).order_by(col(PushMessage.id)))).scalars()
        }
    assert len(messages) >= 3
    assert (await refund_of(database, nasi.id)).status == RefundStatus.PENDING

    # Stripe and the buyer's push service take the requests but are slow to answer.
    fake_stripe.slow(30)
    push_service.hold("buyer")
    worker = workers(
        worker_environment(
            settings,
            redis_url,
            STRIPE_SECRET_KEY=SECRET_KEY,
            STRIPE_API_BASE=fake_stripe.url,
            STRIPE_TIMEOUT_SECONDS="60",
            VAPID_PUBLIC_KEY=vapid_keys.public_key,
            VAPID_PRIVATE_KEY=vapid_keys.private_key,
        )
    )
    worker.start()

    async def in_flight() -> bool:
        async with database.sessionmaker() as session:
            unsent = await session.scalar(
                select(func.count()).select_from(PushMessage).where(col(PushMessage.sent_at).is_(None))
            )
        return (
            bool(fake_stripe.seen("POST", "/v1/refunds"))
            and bool(push_service.received_at("buyer"))
            and unsent == len(push_service.received_at("buyer"))  # every other push is answered and recorded
        )

    await until(in_flight, "the refund and the buyer's pushes in flight, the others recorded")
    worker.kill()

    fake_stripe.recover()
    push_service.release()
    worker.start()

    async def all_done() -> bool:
        async with database.sessionmaker() as session:
            unsent = await session.scalar(
                select(func.count()).select_from(PushMessage).where(col(PushMessage.sent_at).is_(None))
            )
        return unsent == 0 and (await refund_of(database, nasi.id)).status == RefundStatus.SUCCEEDED

    await until(all_done, "everything sent after the restart")
    worker.stop()

    # The refund: asked for again after the crash, under the same key, and made once.
    asked = fake_stripe.seen("POST", "/v1/refunds")
    assert len(asked) >= 2
    assert {request.idempotency_key for request in asked} == {f"refund-order-{nasi.id}"}
    assert [refund["amount"] for refund in fake_stripe.refunds.values()] == [nasi.total * 100]
    assert (await payment_of(database, card_checkout.checkout_id)).status == PaymentStatus.SUCCEEDED

    # The pushes answered before the crash were not sent again; the buyer's, never answered, were sent again
    # with the same Topic and the same tag, so the phone shows each of them once.
    for name in ("nasi", "snack"):
        deliveries = push_service.received_at(name)
        assert len({delivery.headers["topic"] for delivery in deliveries}) == len(deliveries) >= 1
    buyer = push_service.received_at("buyer")
    topics = [delivery.headers["topic"] for delivery in buyer]
    assert len(buyer) == 2 * len(set(topics)) and all(topics.count(topic) == 2 for topic in topics)
    shown = {phones["buyer"].decrypt(delivery.body)["tag"] for delivery in buyer}
    assert shown == set(topics)
    async with database.sessionmaker() as session:
        recorded = list((await session.execute(select(PushMessage))).scalars())
    assert all(message.sent_at is not None and message.attempts == 1 for message in recorded)
    assert len(recorded) == len(messages)
    assert "Traceback" not in worker.all_logs()


async def test_an_expiry_cut_short_by_the_crash_is_done_once_by_the_next_worker(
    client, database, settings, card_checkout, fake_stripe, redis_url, workers
):
    # The canteen started paying its card checkout but did not finish in time.
    await start_paying(client, database, card_checkout)
    async with database.sessionmaker() as session:
        await session.execute(
            update(Order)
            .where(col(Order.checkout_id) == card_checkout.checkout_id)
            .values(payment_due_at=utcnow() - timedelta(minutes=1))
        )
        await session.commit()
    worker = workers(worker_environment(settings, redis_url))

    # The worker starts cancelling them, and waits for the payment's row, which this test holds.
    holder = database.sessionmaker()
    payment = await payment_of(database, card_checkout.checkout_id)
    await holder.execute(text("SELECT id FROM payment WHERE id = :id FOR UPDATE"), {"id": payment.id})
    try:
        worker.start()

        async def worker_waits() -> bool:
            async with database.sessionmaker() as session:
                waiting = await session.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'"
                    )
                )
            return bool(waiting)

        await until(worker_waits, "the worker waiting for the payment's row")
        worker.kill()  # in the middle of the cancellation
    finally:
        await holder.rollback()
        await holder.close()
    assert [order.status for order in await orders_of(database, card_checkout.checkout_id)] == [
        OrderStatus.PENDING_PAYMENT,
        OrderStatus.PENDING_PAYMENT,
    ]

    worker.start()

    async def cancelled() -> bool:
        orders = await orders_of(database, card_checkout.checkout_id)
        return all(order.status == OrderStatus.CANCELLED for order in orders)

    await until(cancelled, "the orders cancelled after the restart")
    worker.stop()

    async with database.sessionmaker() as session:
        events = (
            await session.execute(
                select(col(OrderEvent.order_id), func.count())
                .where(
                    col(OrderEvent.order_id).in_([order.id for order in card_checkout.orders]),
                    col(OrderEvent.to_status) == OrderStatus.CANCELLED,
                )
                .group_by(col(OrderEvent.order_id))
            )
        ).all()
    assert sorted(count for _order, count in events) == [1, 1]  # each order cancelled once
    assert (await payment_of(database, card_checkout.checkout_id)).status == PaymentStatus.CANCELED
