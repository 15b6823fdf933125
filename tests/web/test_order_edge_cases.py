"""What a careless thumb, an old bookmark or a crafted request sends: refused with a clear answer, never a 500;
and the details people notice: links that open, messages that add up, chats that read right."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.accounts.service import create_api_token
from backend.catalog.models import ListingStatus, Product
from backend.clock import utcnow
from backend.notifications.models import Notification
from backend.orders.models import OrderStatus
from backend.orders.standing import StandingOrderInput, create_standing_order, place_standing_orders
from tests.conftest import log_in, submit
from tests.orders.conftest import NEXT_MONDAY, NOW
from tests.web.test_order_pages import checkout_form, in_cart, place


async def token_for(database, user) -> dict[str, str]:
    async with database.sessionmaker() as session:
        raw, _ = await create_api_token(session=session, user=user, name="test")
        await session.commit()
    return {"Authorization": f"Bearer {raw}"}


async def test_impossible_days_and_odd_numbers_are_refused_not_crashed_on(client, database, canteen_staff, catering):
    _, product = catering
    await log_in(client, canteen_staff)
    await in_cart(client, product.id, 20)
    page = await client.get("/cart")
    for day in ("0001-01-01", "9999-12-31"):
        refused = await submit(
            client, "/checkout", checkout_form(page.text, delivery_day=day, delivery_place="canteen")
        )
        assert refused.status_code == 400, (day, refused.status_code)
    for form in (
        {"product_id": "²", "quantity": "10"},
        {"product_id": str(product.id), "quantity": "１０"},  # noqa: RUF001  (full-width digits)
        {"product_id": "9" * 30, "quantity": "10"},
    ):
        assert (await submit(client, "/cart/lines", form)).status_code in (400, 404), form
    for path in ("/orders?page=²", "/orders?page=" + "9" * 30, "/orders/" + "9" * 30, "/orders/3000000000"):
        assert (await client.get(path)).status_code in (200, 404), path

    headers = await token_for(database, canteen_staff)
    api = await client.post(
        "/api/v1/checkouts",
        headers={**headers, "Idempotency-Key": "k"},
        json={
            "delivery_day": "0001-01-01",
            "delivery_slot": "11:00",
            "delivery_kind": "canteen",
            "payment_method": "invoice",
        },
    )
    assert api.status_code in (400, 422) and api.headers["content-type"].startswith("application/problem+json")
    for path in ("/api/v1/orders/" + "9" * 30, "/api/v1/orders/3000000000"):
        answer = await client.get(path, headers=headers)
        assert answer.status_code == 404, (path, answer.status_code)


async def test_adding_a_product_just_taken_off_sale_with_htmx_says_so_in_place(
    client, database, canteen_staff, catering
):
    _, product = catering
    await log_in(client, canteen_staff)
    async with database.sessionmaker() as session:
        (await session.get(Product, product.id)).status = ListingStatus.PAUSED
        await session.commit()
    answer = await submit(
        client, "/cart/lines", {"product_id": product.id, "quantity": 20}, headers={"HX-Request": "true"}
    )
    assert answer.status_code == 200  # htmx swaps 2xx answers only
    assert 'id="add-to-cart"' in answer.text and "<html" not in answer.text


async def test_each_side_follows_the_notification_to_its_own_page_of_the_order(
    client, database, canteen_staff, catering
):
    seller, product = catering
    order = await place(database, canteen_staff, product.id, 20)
    await log_in(client, canteen_staff)
    await submit(client, f"/orders/{order.id}/status", {"target": "cancelled", "reason": "Pabrik libur"})
    async with database.sessionmaker() as session:
        links = dict(
            (
                await session.execute(
                    select(col(Notification.user_id), col(Notification.url)).where(
                        col(Notification.message) == "Order %(number)s: %(status)s"
                    )
                )
            ).all()
        )
    assert links[seller.user.id] == f"/vendor/orders/{order.id}"


async def test_a_shortage_across_two_products_of_one_vendor_adds_them_up(ordering, world, catering, canteen_staff):
    from backend.errors import InsufficientCapacity

    seller, nasi_box = catering
    soto = await world.live_product(seller, "Soto Ayam Box", price=12000)
    await ordering.order(await ordering.canteen_buyer(), nasi_box.id, 400)  # 100 left
    await ordering.put_in_cart(canteen_staff, nasi_box.id, 80)
    await ordering.put_in_cart(canteen_staff, soto.id, 80)
    with pytest.raises(InsufficientCapacity) as refused:
        await ordering.checkout(canteen_staff)
    (shortage,) = refused.value.shortages
    assert (shortage.product_name, shortage.requested, shortage.available) == (
        "Nasi Box Ayam Bakar, Soto Ayam Box",
        160,
        100,
    )


async def test_a_whatsapp_message_reads_as_typed(client, database, world, zone, canteen_staff):
    seller = await world.seller(zone, business_name="Dapur Ibu & Anak's")
    product = await world.live_product(seller, "Nasi Box Pecel", price=12000)
    order = await place(database, canteen_staff, product.id, 10)
    await log_in(client, canteen_staff)
    page = (await client.get(f"/orders/{order.id}")).text
    assert "Dapur%20Ibu%20%26%20Anak%27s" in page
    assert "%26amp%3B" not in page and "%26%2339%3B" not in page


async def test_a_suspended_vendor_can_only_decline_or_cancel(ordering, catering, canteen_staff, manager, database):
    from backend.errors import Forbidden
    from backend.moderation.service import suspend_vendor
    from backend.orders.states import change_status

    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 50)
    async with database.sessionmaker() as session:
        await suspend_vendor(
            session=session, actor=manager, vendor_id=seller.vendor.id, reason="Sertifikat palsu", now=utcnow()
        )
        await session.commit()
    async with database.sessionmaker() as session:
        with pytest.raises(Forbidden):
            await change_status(
                session=session,
                order_id=order.id,
                target=OrderStatus.ACCEPTED,
                actor=seller.user,
                now=NOW,
                today=NEXT_MONDAY,
            )
    async with database.sessionmaker() as session:
        await change_status(
            session=session,
            order_id=order.id,
            target=OrderStatus.DECLINED,
            actor=seller.user,
            reason="Toko dibekukan",
            now=NOW,
            today=NEXT_MONDAY,
        )
        await session.commit()
    assert await ordering.remaining(seller.vendor.id) == 500


async def test_two_workers_running_the_standing_order_job_at_once_place_each_day_once(
    ordering, catering, canteen_staff, database
):
    if database.engine.dialect.name != "postgresql":
        pytest.skip("two workers at once need PostgreSQL")
    _, nasi_box = catering
    async with database.sessionmaker() as session:
        await create_standing_order(
            session=session,
            actor=canteen_staff,
            today=NOW.date(),
            data=StandingOrderInput(
                product_id=nasi_box.id,
                quantity=100,
                weekdays=[1, 2, 3, 4, 5],
                slot=nasi_box.order_cutoff.replace(hour=11),
            ),
        )
        await session.commit()

    async def job():
        async with database.sessionmaker() as session:
            result = await place_standing_orders(session=session, now=NOW + timedelta(days=6))
            await session.commit()
            return result

    results = await asyncio.gather(job(), job())
    assert sum(result.placed for result in results) == 5
    assert await ordering.count_orders() == 5


async def test_a_standing_order_whose_author_left_the_canteen_is_refused_and_the_canteen_told(
    ordering, catering, canteen_staff, database, world, zone, canteen
):
    from backend.accounts.models import Role, User

    _, nasi_box = catering
    colleague = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen)
    async with database.sessionmaker() as session:
        await create_standing_order(
            session=session,
            actor=canteen_staff,
            today=NOW.date(),
            data=StandingOrderInput(
                product_id=nasi_box.id, quantity=100, weekdays=[1], slot=nasi_box.order_cutoff.replace(hour=11)
            ),
        )
        (await session.get(User, canteen_staff.id)).is_active = False
        await session.commit()
    async with database.sessionmaker() as session:
        result = await place_standing_orders(session=session, now=NOW + timedelta(days=6))
        await session.commit()
        told = (await session.execute(select(col(Notification.user_id)))).scalars().all()
    assert (result.placed, result.refused) == (0, 1)
    assert colleague.id in told
