"""A vendor who linked their WhatsApp number is sent new orders as templates, and accepts or declines them by
answering; forged, replayed and stray messages change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from backend.config import Settings
from backend.db import Database
from backend.jobs import run_job
from backend.notifications.models import Notification
from backend.orders.models import Order, OrderEvent, OrderStatus
from backend.whatsapp.models import WhatsAppInbound, WhatsAppMessage
from tests.orders.conftest import NOW
from tests.whatsapp.conftest import (
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    button_from,
    deliver,
    delivery,
    link_number,
    run_whatsapp_jobs,
    text_from,
)
from tests.whatsapp.graph_standin import GraphStandIn

BU_SRI_WHATSAPP = "+6281390001234"


@pytest.fixture
async def linked_order(app, database, whatsapp_settings, ordering, catering, canteen_staff, graph):
    """Catering Bu Sri linked her WhatsApp number; a canteen then ordered 200 nasi box from her (order 1)."""
    seller, nasi_box = catering
    await link_number(database, whatsapp_settings, seller.user, BU_SRI_WHATSAPP)
    order = await ordering.order(canteen_staff, nasi_box.id, 200)
    return seller, order


async def status_of(database: Database, order_id: int) -> tuple[OrderStatus, str]:
    async with database.sessionmaker() as session:
        order = await session.get(Order, order_id)
        assert order is not None
        return OrderStatus(order.status), order.status_reason


async def events_of(database: Database, order_id: int) -> int:
    async with database.sessionmaker() as session:
        return (
            await session.execute(
                select(func.count()).select_from(OrderEvent).where(col(OrderEvent.order_id) == order_id)
            )
        ).scalar_one()


async def test_a_new_order_reaches_the_vendor_as_a_template_with_buttons(
    linked_order, database: Database, whatsapp_settings: Settings, graph: GraphStandIn
) -> None:
    _seller, order = linked_order
    await run_job("send_whatsapp", database=database, settings=whatsapp_settings, now=NOW)

    [message] = graph.sent_to(BU_SRI_WHATSAPP)
    template = message["template"]
    assert message["type"] == "template"
    assert template["name"] == "pk_pesanan_baru"
    assert template["language"] == {"code": "id"}
    body, accept, decline = template["components"]
    assert [p["text"] for p in body["parameters"]] == [order.number, "30 November 2026", "11.00"]
    assert (accept["sub_type"], accept["index"], accept["parameters"][0]["payload"]) == (
        "quick_reply",
        "0",
        f"accept:{order.id}",
    )
    assert (decline["index"], decline["parameters"][0]["payload"]) == ("1", f"decline:{order.id}")


async def test_terima_with_the_order_number_accepts_the_order(linked_order, client, database, whatsapp_settings, graph):
    _seller, order = linked_order
    answer = await deliver(client, delivery(text_from(BU_SRI_WHATSAPP, f"terima {order.id}")))
    assert answer.status_code == 200
    assert answer.json() == {"received": 1}
    await run_whatsapp_jobs(database, whatsapp_settings)

    assert await status_of(database, order.id) == (OrderStatus.ACCEPTED, "")
    assert graph.texts_to(BU_SRI_WHATSAPP) == [f"Pesanan {order.number} diterima. Pembeli sudah diberi tahu."]


async def test_tolak_with_a_reason_declines_the_order_and_tells_the_buyer(
    linked_order, client, database, whatsapp_settings, graph, canteen_staff
):
    _seller, order = linked_order
    await deliver(client, delivery(text_from(BU_SRI_WHATSAPP, "TOLAK PK-000001 habis")))
    await run_whatsapp_jobs(database, whatsapp_settings)

    assert await status_of(database, order.id) == (OrderStatus.DECLINED, "habis")
    assert graph.texts_to(BU_SRI_WHATSAPP) == [f"Pesanan {order.number} ditolak (habis). Pembeli sudah diberi tahu."]
    async with database.sessionmaker() as session:
        told = await session.scalar(
            select(func.count()).select_from(Notification).where(col(Notification.user_id) == canteen_staff.id)
        )
    assert told == 1


async def test_tolak_without_a_reason_asks_for_one_and_changes_nothing(
    linked_order, client, database, whatsapp_settings, graph
):
    _seller, order = linked_order
    await deliver(client, delivery(text_from(BU_SRI_WHATSAPP, f"TOLAK {order.id}")))
    await run_whatsapp_jobs(database, whatsapp_settings)

    assert await status_of(database, order.id) == (OrderStatus.PLACED, "")
    [reply] = graph.texts_to(BU_SRI_WHATSAPP)
    assert f"TOLAK {order.id} stok habis" in reply


async def test_the_accept_button_accepts_the_order(linked_order, client, database, whatsapp_settings):
    _seller, order = linked_order
    await deliver(client, delivery(button_from(BU_SRI_WHATSAPP, f"accept:{order.id}")))
    await run_whatsapp_jobs(database, whatsapp_settings)
    assert (await status_of(database, order.id))[0] == OrderStatus.ACCEPTED


async def test_a_forged_delivery_is_refused_and_changes_nothing(linked_order, client, database, whatsapp_settings):
    _seller, order = linked_order
    body = delivery(text_from(BU_SRI_WHATSAPP, f"TERIMA {order.id}"))

    forged = await deliver(client, body, signed_with="not-the-app-secret")
    unsigned = await deliver(client, body, signed_with=None)
    assert (forged.status_code, unsigned.status_code) == (401, 401)
    await run_whatsapp_jobs(database, whatsapp_settings)

    assert await status_of(database, order.id) == (OrderStatus.PLACED, "")
    async with database.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(WhatsAppInbound)) == 0


async def test_a_replayed_message_changes_nothing_the_second_time(
    linked_order, client, database, whatsapp_settings, graph
):
    _seller, order = linked_order
    body = delivery(text_from(BU_SRI_WHATSAPP, f"TERIMA {order.id}"))
    assert (await deliver(client, body)).json() == {"received": 1}
    await run_whatsapp_jobs(database, whatsapp_settings)
    events = await events_of(database, order.id)

    again = await deliver(client, body)
    assert again.status_code == 200
    assert again.json() == {"received": 0}
    await run_whatsapp_jobs(database, whatsapp_settings, now=NOW + timedelta(minutes=1))

    assert (await status_of(database, order.id))[0] == OrderStatus.ACCEPTED
    assert await events_of(database, order.id) == events
    assert len(graph.texts_to(BU_SRI_WHATSAPP)) == 1  # one answer, to the first delivery only


async def test_another_vendors_order_is_refused_politely(
    linked_order, client, database, whatsapp_settings, world, zone, graph
):
    _seller, order = linked_order
    other = await world.seller(zone, business_name="Dapur Pak Joko")
    await link_number(database, whatsapp_settings, other.user, "+6281390005678")

    await deliver(client, delivery(text_from("+6281390005678", f"TOLAK {order.id} sengaja")))
    await run_whatsapp_jobs(database, whatsapp_settings)

    assert await status_of(database, order.id) == (OrderStatus.PLACED, "")
    assert graph.texts_to("+6281390005678") == [
        f"Pesanan {order.number} bukan pesanan Anda. Periksa nomor pada pesanan."
    ]


async def test_a_number_not_linked_is_told_how_to_link_it(linked_order, client, database, whatsapp_settings, graph):
    _seller, order = linked_order
    await deliver(client, delivery(text_from("+6281390009999", f"TERIMA {order.id}")))
    await run_whatsapp_jobs(database, whatsapp_settings)

    assert (await status_of(database, order.id))[0] == OrderStatus.PLACED
    [reply] = graph.texts_to("+6281390009999")
    assert "belum terhubung" in reply


async def test_unclear_words_get_the_list_of_commands(linked_order, client, database, whatsapp_settings, graph):
    await deliver(client, delivery(text_from(BU_SRI_WHATSAPP, "halo, pesanan saya gimana?")))
    await run_whatsapp_jobs(database, whatsapp_settings)
    [reply] = graph.texts_to(BU_SRI_WHATSAPP)
    assert "TERIMA 1234" in reply and "TOLAK 1234 stok habis" in reply


async def test_a_chatty_number_not_linked_gets_one_answer_not_one_per_message(
    linked_order, client, database, whatsapp_settings, graph
):
    """An auto-responder or a spammer: one answer within three hours, so the messages per second stay for
    vendors' orders; three hours later, one more."""
    for text in ("halo", "halo?", "P", "promo murah!"):
        await deliver(client, delivery(text_from("+6281390009999", text)))
        await run_whatsapp_jobs(database, whatsapp_settings)
    assert len(graph.texts_to("+6281390009999")) == 1
    await deliver(client, delivery(text_from("+6281390009999", "halo lagi")))
    await run_whatsapp_jobs(database, whatsapp_settings, now=NOW + timedelta(hours=4))
    assert len(graph.texts_to("+6281390009999")) == 2


async def test_a_message_to_another_business_number_is_ignored(linked_order, client, database, whatsapp_settings):
    _seller, order = linked_order
    body = delivery(text_from(BU_SRI_WHATSAPP, f"TERIMA {order.id}")).replace(PHONE_NUMBER_ID.encode(), b"999999999999")
    assert (await deliver(client, body)).json() == {"received": 0}


async def test_sending_is_tried_again_after_the_cloud_api_fails(linked_order, database, whatsapp_settings, graph):
    graph.failures.append((500, 1))
    await run_job("send_whatsapp", database=database, settings=whatsapp_settings, now=NOW)
    assert graph.sent_to(BU_SRI_WHATSAPP) == []
    async with database.sessionmaker() as session:
        [message] = (await session.execute(select(WhatsAppMessage))).scalars().all()
    assert (message.attempts, message.sent_at, message.given_up_at) == (1, None, None)

    await run_job("send_whatsapp", database=database, settings=whatsapp_settings, now=NOW + timedelta(seconds=30))
    assert graph.sent_to(BU_SRI_WHATSAPP) == []  # not due yet: the first retry waits a minute

    await run_job("send_whatsapp", database=database, settings=whatsapp_settings, now=NOW + timedelta(minutes=2))
    assert len(graph.sent_to(BU_SRI_WHATSAPP)) == 1
    async with database.sessionmaker() as session:
        [message] = (await session.execute(select(WhatsAppMessage))).scalars().all()
    assert message.attempts == 2 and message.sent_at is not None and message.provider_id.startswith("wamid.")


async def test_meta_verifies_the_webhook_with_our_token(client) -> None:
    ok = await client.get(
        "/api/v1/whatsapp/webhook",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    wrong = await client.get(
        "/api/v1/whatsapp/webhook",
        params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"},
    )
    assert wrong.status_code == 404


async def test_a_message_that_cannot_be_acted_on_is_answered_and_does_not_block_the_next(
    linked_order, client, database, whatsapp_settings, graph, monkeypatch
):
    _seller, order = linked_order

    async def broken(**_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("backend.whatsapp.inbound.change_status", broken)
    await deliver(client, delivery(text_from(BU_SRI_WHATSAPP, f"TERIMA {order.id}")))
    await run_whatsapp_jobs(database, whatsapp_settings)
    monkeypatch.undo()
    await deliver(client, delivery(text_from(BU_SRI_WHATSAPP, f"TERIMA {order.id}")))
    await run_whatsapp_jobs(database, whatsapp_settings)

    assert (await status_of(database, order.id))[0] == OrderStatus.ACCEPTED
    first, second = graph.texts_to(BU_SRI_WHATSAPP)
    assert "belum bisa diproses" in first and "diterima" in second
