"""Besides new orders, a vendor with a linked number is sent the changes of their orders and the managers'
decisions on their products; a vendor without one gets none, and sending stays within the rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.jobs import run_job
from backend.moderation import service as moderation
from backend.orders.models import OrderStatus, PaymentMethod
from backend.orders.states import change_status, mark_checkout_paid
from backend.whatsapp.outbox import SendRate
from tests.app_process import redis_url_for_this_process
from tests.orders.conftest import NOW
from tests.whatsapp.conftest import link_number

NUMBER = "+6281390001234"
REDIS_URL = redis_url_for_this_process()


def templates_to(graph, phone: str) -> list[tuple[str, list[str]]]:
    return [
        (m["template"]["name"], [p["text"] for p in m["template"]["components"][0]["parameters"]])
        for m in graph.sent_to(phone, lambda m: m["type"] == "template")
    ]


async def test_a_listing_decision_reaches_the_vendor_in_indonesian(
    app, database, whatsapp_settings, world, vendor, manager, graph
):
    shop = await world.shop(vendor, verified=True)
    await link_number(database, whatsapp_settings, vendor, NUMBER)
    async with database.sessionmaker() as session:
        await moderation.reject_listing(
            session=session, actor=manager, product_id=shop.product.id, reason="Fotonya buram.", now=NOW
        )
        await session.commit()
    await run_job("send_whatsapp", database=database, settings=whatsapp_settings, now=NOW)

    [(name, [text])] = templates_to(graph, NUMBER)
    assert name == "pk_keputusan_pengelola"
    assert shop.product.name in text and "Fotonya buram." in text and "tidak disetujui" in text


async def test_a_buyers_cancellation_reaches_the_vendor(
    app, database, whatsapp_settings, ordering, catering, canteen_staff, graph
):
    seller, nasi_box = catering
    await link_number(database, whatsapp_settings, seller.user, NUMBER)
    order = await ordering.order(canteen_staff, nasi_box.id, 200)
    async with database.sessionmaker() as session:
        await change_status(
            session=session,
            order_id=order.id,
            target=OrderStatus.CANCELLED,
            actor=canteen_staff,
            reason="Acara batal",
            now=NOW,
            today=NOW.date(),
        )
        await session.commit()
    await run_job("send_whatsapp", database=database, settings=whatsapp_settings, now=NOW)

    assert templates_to(graph, NUMBER)[-1] == ("pk_status_pesanan", [order.number, "dibatalkan"])


async def test_a_vendor_without_a_linked_number_gets_no_whatsapp(
    app, database, whatsapp_settings, ordering, catering, canteen_staff, graph
):
    _seller, nasi_box = catering
    await ordering.order(canteen_staff, nasi_box.id, 200)
    await run_job("send_whatsapp", database=database, settings=whatsapp_settings, now=NOW)
    assert graph.accepted == []


async def test_a_throttled_send_waits_and_the_rest_wait_for_the_next_run(
    app, database, whatsapp_settings, ordering, catering, canteen_staff, graph
):
    seller, nasi_box = catering
    await link_number(database, whatsapp_settings, seller.user, NUMBER)
    await ordering.order(canteen_staff, nasi_box.id, 200)
    await ordering.order(canteen_staff, nasi_box.id, 100)
    graph.failures.append((429, 130429))  # Cloud API: rate limit hit
    await run_job("send_whatsapp", database=database, settings=whatsapp_settings, now=NOW)
    assert graph.requests == 1 and graph.accepted == []  # the second message was not tried meanwhile

    await run_job("send_whatsapp", database=database, settings=whatsapp_settings, now=NOW + timedelta(minutes=2))
    assert len(graph.accepted) == 2


async def test_the_rate_limit_holds_messages_to_so_many_a_second():
    moments = iter([100.1, 100.2, 100.3, 101.0, 101.1])
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 1))

    rate = SendRate(per_second=2, key="test", clock=lambda: next(moments), sleep=sleep)
    for _ in range(3):
        await rate.take()
    assert slept == [0.7]  # the third message of second 100 waited for second 101


@pytest.mark.one_database
@pytest.mark.xdist_group("redis")
@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
async def test_two_workers_share_the_rate_limit_through_redis():
    import redis.asyncio as redis

    assert REDIS_URL is not None
    client = redis.from_url(REDIS_URL)
    await client.delete(*[f"test-shared:{second}" for second in (100, 101)])
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 1))

    moments = iter([100.1, 100.2, 100.3, 101.0])
    first, second = (
        SendRate(per_second=2, key="test-shared", redis=client, clock=lambda: next(moments), sleep=sleep)
        for _ in range(2)
    )
    await first.take()
    await second.take()
    await first.take()  # the third in second 100, counting both workers' messages: waits for second 101
    await client.aclose()
    assert slept == [0.7]


async def test_a_card_order_reaches_the_vendor_with_its_buttons_once_paid(
    app, database, whatsapp_settings, ordering, catering, canteen_staff, graph
):
    seller, nasi_box = catering
    await link_number(database, whatsapp_settings, seller.user, NUMBER)
    order = await ordering.order(canteen_staff, nasi_box.id, 200, payment=PaymentMethod.CARD)
    await run_job("send_whatsapp", database=database, settings=whatsapp_settings, now=NOW)
    assert graph.accepted == []  # not paid yet: nothing to accept

    async with database.sessionmaker() as session:
        await mark_checkout_paid(session=session, checkout_id=order.checkout_id, now=NOW)
        await session.commit()
    await run_job("send_whatsapp", database=database, settings=whatsapp_settings, now=NOW)

    [message] = graph.sent_to(NUMBER)
    assert message["template"]["name"] == "pk_pesanan_baru"
    assert message["template"]["components"][1]["parameters"][0]["payload"] == f"accept:{order.id}"
