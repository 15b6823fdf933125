"""Standing weekly orders placed ahead through the normal path, reviews after completion, reordering."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.catalog.models import ListingStatus, Product
from backend.errors import Conflict, Forbidden, ValidationFailed
from backend.notifications.models import Notification
from backend.orders import cart, reviews, service
from backend.orders.models import CartLine, Order, OrderStatus, StandingOrderRun
from backend.orders.standing import StandingOrderInput, create_standing_order, place_standing_orders, set_active
from backend.orders.states import change_status
from backend.vendors.models import Vendor
from tests.orders.conftest import NEXT_MONDAY, NOW

SUNDAY_MORNING = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # 09.00 WIB, before the 15.00 cut-off for Monday
NEXT_WEEK = [date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3), date(2026, 12, 4)]


async def standing_order(database, actor, product_id, **fields):
    data = StandingOrderInput(
        product_id=product_id,
        quantity=fields.pop("quantity", 200),
        weekdays=fields.pop("weekdays", [1, 2, 3, 4, 5]),
        slot=time(11, 0),
        **fields,
    )
    async with database.sessionmaker() as session:
        standing = await create_standing_order(session=session, actor=actor, data=data, today=NOW.date())
        await session.commit()
        return standing


async def run_job(database, now=SUNDAY_MORNING):
    async with database.sessionmaker() as session:
        result = await place_standing_orders(session=session, now=now)
        await session.commit()
        return result


async def test_a_standing_order_places_next_weeks_orders_monday_to_friday(ordering, catering, canteen_staff, database):
    seller, nasi_box = catering
    await standing_order(database, canteen_staff, nasi_box.id)

    result = await run_job(database)

    assert (result.placed, result.refused) == (5, 0)
    async with database.sessionmaker() as session:
        orders = (await session.execute(select(Order).order_by(col(Order.delivery_day)))).scalars().all()
    assert [o.delivery_day for o in orders] == NEXT_WEEK
    assert {(o.delivery_slot, o.total, o.status, o.organisation_id) for o in orders} == {
        (time(11, 0), 200 * 13000, OrderStatus.PLACED, canteen_staff.organisation_id)
    }
    for day in NEXT_WEEK:
        assert await ordering.remaining(seller.vendor.id, day) == 300
    assert (await run_job(database)).placed == 0  # each day is tried once
    assert await ordering.count_orders() == 5


async def test_a_day_without_capacity_is_recorded_and_the_canteen_told_while_the_other_days_are_placed(
    ordering, catering, canteen_staff, database
):
    seller, nasi_box = catering
    rival = await ordering.canteen_buyer("Kantin Pesaing")
    await ordering.order(rival, nasi_box.id, 400, day=NEXT_WEEK[2])  # Wednesday: only 100 left
    await standing_order(database, canteen_staff, nasi_box.id)

    result = await run_job(database)

    assert (result.placed, result.refused) == (4, 1)
    assert await ordering.remaining(seller.vendor.id, NEXT_WEEK[2]) == 100  # the refused day holds nothing
    async with database.sessionmaker() as session:
        run = (
            await session.execute(select(StandingOrderRun).where(col(StandingOrderRun.delivery_day) == NEXT_WEEK[2]))
        ).scalar_one()
        assert run.order_id is None
        assert run.params == {"product": "Nasi Box Ayam Bakar", "requested": 200, "available": 100}
        told = (
            await session.execute(select(Notification).where(col(Notification.user_id) == canteen_staff.id))
        ).scalars()
        assert [n.url for n in told] == ["/canteen/standing-orders"]


async def test_a_paused_standing_order_places_nothing(catering, canteen_staff, database, ordering):
    _, nasi_box = catering
    standing = await standing_order(database, canteen_staff, nasi_box.id)
    async with database.sessionmaker() as session:
        await set_active(session=session, actor=canteen_staff, standing_order_id=standing.id, active=False, now=NOW)
        await session.commit()
    assert (await run_job(database)).placed == 0


async def test_a_standing_order_is_checked_when_it_is_set_up(world, zone, catering, canteen_staff, worker, database):
    _, nasi_box = catering
    with pytest.raises(ValidationFailed) as refused:
        await standing_order(database, canteen_staff, nasi_box.id, quantity=5, weekdays=[])
    assert {e.field for e in refused.value.errors} == {"quantity", "weekdays"}
    weekdays_only = await world.seller(zone, business_name="Catering Kerja", operating_days=(1, 2, 3, 4, 5))
    box = await world.live_product(weekdays_only, "Nasi Box Pindang", price=16000)
    with pytest.raises(ValidationFailed):
        await standing_order(database, canteen_staff, box.id, weekdays=[6])
    with pytest.raises(Forbidden):
        await standing_order(database, worker, nasi_box.id)


async def complete(database, order, seller, buyer):
    for target, actor in (
        (OrderStatus.ACCEPTED, seller.user),
        (OrderStatus.READY, seller.user),
        (OrderStatus.DELIVERED, seller.user),
        (OrderStatus.COMPLETED, buyer),
    ):
        async with database.sessionmaker() as session:
            await change_status(
                session=session, order_id=order.id, target=target, actor=actor, now=NOW, today=NEXT_MONDAY
            )
            await session.commit()


async def test_the_buyer_rates_a_completed_order_once_and_the_vendor_answers_once(
    ordering, catering, canteen_staff, database
):
    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 50)
    async with database.sessionmaker() as session:
        with pytest.raises(Conflict):  # not completed yet
            await reviews.review_order(session=session, now=NOW, actor=canteen_staff, order_id=order.id, rating=5)
    await complete(database, order, seller, canteen_staff)

    async with database.sessionmaker() as session:
        with pytest.raises(ValidationFailed):
            await reviews.review_order(session=session, now=NOW, actor=canteen_staff, order_id=order.id, rating=6)
        with pytest.raises(Forbidden):
            await reviews.review_order(session=session, now=NOW, actor=seller.user, order_id=order.id, rating=5)
        await reviews.review_order(
            session=session,
            now=NOW,
            actor=canteen_staff,
            order_id=order.id,
            rating=4,
            comment="Nasi pulen, lauk hangat.",
        )
        await session.commit()
    async with database.sessionmaker() as session:
        with pytest.raises(Conflict):
            await reviews.review_order(session=session, now=NOW, actor=canteen_staff, order_id=order.id, rating=1)
        vendor = await session.get(Vendor, seller.vendor.id)
        assert (vendor.rating_count, vendor.rating_sum) == (1, 4)

        answered = await reviews.reply_to_review(
            session=session, now=NOW, actor=seller.user, order_id=order.id, reply="Terima kasih, Bu!"
        )
        await session.commit()
        assert answered.reply == "Terima kasih, Bu!"
    async with database.sessionmaker() as session:
        with pytest.raises(Conflict):
            await reviews.reply_to_review(session=session, now=NOW, actor=seller.user, order_id=order.id, reply="Lagi")
        _, (shown,) = await reviews.vendor_reviews(session=session, vendor_id=seller.vendor.id)
        assert (shown.rating, shown.author, shown.reply) == (4, "Dewi", "Terima kasih, Bu!")


async def test_reorder_puts_a_past_orders_lines_back_in_the_cart_and_says_what_is_gone(
    ordering, world, catering, canteen_staff, database
):
    seller, nasi_box = catering
    tea = await world.live_product(seller, "Es Teh Manis", category="drinks", price=3000, unit="pcs")
    await ordering.put_in_cart(canteen_staff, nasi_box.id, 200)
    await ordering.put_in_cart(canteen_staff, tea.id, 200)
    order = (await ordering.checkout(canteen_staff)).orders[0]
    async with database.sessionmaker() as session:
        product = await session.get(Product, tea.id)
        product.status = ListingStatus.PAUSED
        await session.commit()

    async with database.sessionmaker() as session:
        result = await service.reorder(session=session, actor=canteen_staff, order_id=order.id, today=NOW.date())
        await session.commit()

    assert result.added == ["Nasi Box Ayam Bakar"]
    assert [error.params for error in result.left_out] == [{"product": "Es Teh Manis"}]
    async with database.sessionmaker() as session:
        lines = (await session.execute(select(col(CartLine.product_id), col(CartLine.quantity)))).all()
        assert lines == [(nasi_box.id, 200)]
        view = await cart.view_cart(session=session, buyer=canteen_staff, today=NOW.date())
        assert view.total == 200 * 13000


async def test_buyers_of_a_suspended_vendors_open_orders_are_told(ordering, catering, canteen_staff, manager, database):
    from backend.moderation.service import suspend_vendor

    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 50)
    async with database.sessionmaker() as session:
        await suspend_vendor(
            session=session, actor=manager, vendor_id=seller.vendor.id, reason="Sertifikat palsu", now=NOW
        )
        await session.commit()
    async with database.sessionmaker() as session:
        told = (
            await session.execute(select(Notification).where(col(Notification.user_id) == canteen_staff.id))
        ).scalars()
        assert [(n.url, n.params["vendor"]) for n in told] == [(f"/orders/{order.id}", "Catering Bu Sri")]


async def test_buyers_read_a_vendors_reviews_on_the_vendor_page_and_in_the_api(
    ordering, catering, canteen_staff, database, client
):
    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 50)
    await complete(database, order, seller, canteen_staff)
    async with database.sessionmaker() as session:
        await reviews.review_order(
            session=session, now=NOW, actor=canteen_staff, order_id=order.id, rating=5, comment="Enak <b>sekali</b>"
        )
        await reviews.reply_to_review(
            session=session, now=NOW, actor=seller.user, order_id=order.id, reply="Matur nuwun"
        )
        await session.commit()

    vendor_page = await client.get(f"/vendors/{seller.vendor.id}")
    assert f'hx-get="/vendors/{seller.vendor.id}/reviews"' in vendor_page.text
    fragment = await client.get(f"/vendors/{seller.vendor.id}/reviews", headers={"HX-Request": "true"})
    assert "Enak &lt;b&gt;sekali&lt;/b&gt;" in fragment.text and "Matur nuwun" in fragment.text
    assert "<html" not in fragment.text
    full = await client.get(f"/vendors/{seller.vendor.id}/reviews")
    assert "<html" in full.text and "Dewi" in full.text
    api = await client.get(f"/api/v1/catalogue/vendors/{seller.vendor.id}/reviews")
    assert [(r["rating"], r["author"], r["reply"]) for r in api.json()] == [(5, "Dewi", "Matur nuwun")]
    assert (await client.get("/api/v1/catalogue/vendors/999999/reviews")).status_code == 404
