"""Checkout: one order per vendor, priced by the server, capacity and stock held atomically, nothing oversold."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine.interfaces import CacheStats
from sqlmodel import col

from backend.errors import Conflict, Forbidden, InsufficientCapacity, ValidationFailed
from backend.notifications.models import Notification
from backend.orders import cart
from backend.orders.models import CartLine, Checkout, DeliveryKind, OrderEvent, OrderLine, OrderStatus, PaymentMethod
from tests.orders.conftest import NEXT_MONDAY, NOW
from tests.orders.test_order_api import bearer, check_out


async def test_a_canteen_orders_200_box_and_the_vendors_capacity_drops_by_200(
    ordering, catering, canteen_staff, database
):
    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 200)

    assert order.status == OrderStatus.PLACED
    assert order.total == 200 * 13000  # the server applies the deepest tier reached
    assert order.delivery_kind == DeliveryKind.CANTEEN
    assert order.deliver_at == datetime(2026, 11, 30, 4, 0, tzinfo=UTC)  # 11.00 WIB
    assert await ordering.remaining(seller.vendor.id) == 300
    async with database.sessionmaker() as session:
        line = (await session.execute(select(OrderLine))).scalar_one()
        assert (line.quantity, line.unit_price, line.line_total) == (200, 13000, 2_600_000)
        event = (await session.execute(select(OrderEvent))).scalar_one()
        assert (event.from_status, event.to_status, event.actor_id) == (None, "placed", canteen_staff.id)
        inbox = (
            await session.execute(select(Notification).where(col(Notification.user_id) == seller.user.id))
        ).scalars()
        assert [n.url for n in inbox] == [f"/vendor/orders/{order.id}"]
        assert (await session.execute(select(func.count()).select_from(CartLine))).scalar_one() == 0


async def test_one_checkout_with_two_vendors_becomes_two_orders_paid_together(
    ordering, world, zone, catering, canteen_staff
):
    _, nasi_box = catering
    bakery = await world.seller(zone, business_name="Roti Bu Ani", daily_capacity=300)
    bread = await world.live_product(bakery, "Roti Sobek", category="snacks", price=5000, unit="pcs")
    await ordering.put_in_cart(canteen_staff, nasi_box.id, 100)
    await ordering.put_in_cart(canteen_staff, bread.id, 40)

    placement = await ordering.checkout(canteen_staff)

    assert sorted((o.vendor_id, o.total) for o in placement.orders) == sorted(
        [(nasi_box.vendor_id, 100 * 14000), (bakery.vendor.id, 40 * 5000)]
    )
    assert {o.checkout_id for o in placement.orders} == {placement.checkout.id}
    assert placement.checkout.total == 100 * 14000 + 40 * 5000
    assert await ordering.remaining(bakery.vendor.id) == 260


async def test_a_multi_vendor_checkout_where_one_vendor_lacks_capacity_holds_nothing(
    ordering, world, zone, catering, canteen_staff, database
):
    seller, nasi_box = catering
    small = await world.seller(zone, business_name="Dapur Pak Joko", daily_capacity=60)
    soto = await world.live_product(small, "Soto Ayam Box", price=12000)
    await ordering.put_in_cart(canteen_staff, nasi_box.id, 200)
    await ordering.put_in_cart(canteen_staff, soto.id, 80)

    with pytest.raises(InsufficientCapacity) as refused:
        await ordering.checkout(canteen_staff)

    (shortage,) = refused.value.shortages
    assert (shortage.product_name, shortage.requested, shortage.available) == ("Soto Ayam Box", 80, 60)
    assert await ordering.remaining(seller.vendor.id) == 500  # Bu Sri's 200 were not kept either
    assert await ordering.remaining(small.vendor.id) == 60
    assert await ordering.count_orders() == 0
    async with database.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Checkout))).scalar_one() == 0
        assert (await session.execute(select(func.count()).select_from(CartLine))).scalar_one() == 2  # cart kept


async def test_ready_goods_are_held_from_stock_and_never_oversold(ordering, world, zone, worker):
    seller = await world.seller(zone, business_name="Keripik Mbak Rina", daily_capacity=None)
    chips = await world.live_product(
        seller, "Keripik Singkong Pedas", category="snacks", price=8000, unit="pack", fulfilment="ready_stock", stock=30
    )
    gate = await ordering.gate()
    first = await ordering.order(worker, chips.id, 25, point_id=gate.id)
    assert first.held_capacity == 0

    await ordering.put_in_cart(worker, chips.id, 6)
    with pytest.raises(InsufficientCapacity) as refused:
        await ordering.checkout(worker, point_id=gate.id)
    assert refused.value.shortages[0].available == 5
    async with ordering.database.sessionmaker() as session:
        assert (await session.get(type(chips), chips.id)).stock == 5


async def test_a_replayed_placement_creates_one_order(ordering, catering, canteen_staff, database):
    _, nasi_box = catering
    await ordering.put_in_cart(canteen_staff, nasi_box.id, 200)
    first = await ordering.checkout(canteen_staff, key="tap-1")
    again = await ordering.checkout(canteen_staff, key="tap-1")

    assert again.replayed and not first.replayed
    assert [o.id for o in again.orders] == [o.id for o in first.orders]
    assert await ordering.count_orders() == 1
    assert await ordering.remaining(first.orders[0].vendor_id) == 300  # held once


async def test_a_reused_key_with_other_details_is_refused(ordering, catering, canteen_staff):
    _, nasi_box = catering
    await ordering.order(canteen_staff, nasi_box.id, 50, key="tap-1")
    await ordering.put_in_cart(canteen_staff, nasi_box.id, 50)
    with pytest.raises(Conflict):
        await ordering.checkout(canteen_staff, key="tap-1", slot=time(12, 0))
    assert await ordering.count_orders() == 1


@pytest.mark.postgres_only
async def test_a_double_tap_sent_twice_at_once_creates_one_order(ordering, catering, canteen_staff, database):
    if database.engine.dialect.name != "postgresql":
        pytest.skip("concurrency needs PostgreSQL")
    _, nasi_box = catering
    await ordering.put_in_cart(canteen_staff, nasi_box.id, 100)
    results = await asyncio.gather(
        *(ordering.checkout(canteen_staff, key="same-tap") for _ in range(5)), return_exceptions=True
    )
    placements = [result for result in results if not isinstance(result, BaseException)]
    assert len(placements) == len(results), results
    assert len({placement.checkout.id for placement in placements}) == 1
    assert await ordering.count_orders() == 1
    assert await ordering.remaining(nasi_box.vendor_id) == 400


async def test_the_minimum_order_is_enforced(ordering, catering, canteen_staff, database):
    _, nasi_box = catering
    async with database.sessionmaker() as session:
        with pytest.raises(ValidationFailed) as refused:
            await cart.set_quantity(
                session=session, buyer=canteen_staff, product_id=nasi_box.id, quantity=5, today=NOW.date()
            )
    assert refused.value.errors[0].params == {"product": "Nasi Box Ayam Bakar", "minimum": 10}


async def test_the_order_before_time_of_the_day_before_is_enforced(ordering, catering, canteen_staff):
    _, nasi_box = catering
    await ordering.put_in_cart(canteen_staff, nasi_box.id, 50)
    sunday_afternoon = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)  # 16.00 WIB, after the 15.00 cut-off
    with pytest.raises(ValidationFailed) as refused:
        await ordering.checkout(canteen_staff, now=sunday_afternoon)
    assert "before %(cutoff)s" in refused.value.errors[0].message
    sunday_lunch = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)  # 14.00 WIB
    assert (await ordering.checkout(canteen_staff, now=sunday_lunch)).orders


async def test_a_lead_time_in_hours_is_counted_to_the_slot(ordering, world, zone, canteen_staff):
    seller = await world.seller(zone, business_name="Kue Bu Tini")
    cake = await world.live_product(seller, "Kue Lapis", category="snacks", price=3000, lead_time_hours=24)
    await ordering.put_in_cart(canteen_staff, cake.id, 20)
    with pytest.raises(ValidationFailed):  # tomorrow 07.00 is 22 hours away
        await ordering.checkout(canteen_staff, day=NOW.date() + timedelta(days=1), slot=time(7, 0))
    assert await ordering.checkout(canteen_staff, day=NOW.date() + timedelta(days=1), slot=time(10, 0))


async def test_delivery_out_of_the_vendors_radius_is_refused(ordering, world, zone, canteen_staff):
    far = await world.seller(zone, business_name="Bakso Semarang", latitude=-6.99, longitude=110.42, radius_km=10)
    bakso = await world.live_product(far, "Bakso Urat Box", price=20000)
    await ordering.put_in_cart(canteen_staff, bakso.id, 10)
    with pytest.raises(ValidationFailed) as refused:
        await ordering.checkout(canteen_staff)
    assert refused.value.errors[0].params["vendor"] == "Bakso Semarang"
    # Picking the order up at the vendor is always possible.
    assert (await ordering.checkout(canteen_staff, kind=DeliveryKind.PICKUP)).orders


async def test_a_vendor_does_not_deliver_on_a_day_off(ordering, world, zone, canteen_staff):
    weekdays_only = await world.seller(zone, business_name="Catering Senin-Jumat", operating_days=(1, 2, 3, 4, 5))
    box = await world.live_product(weekdays_only, "Nasi Box Rendang", price=18000)
    await ordering.put_in_cart(canteen_staff, box.id, 10)
    with pytest.raises(ValidationFailed):
        await ordering.checkout(canteen_staff, day=NEXT_MONDAY - timedelta(days=1))  # Sunday


async def test_workers_pay_cash_and_canteens_by_invoice_and_only_canteens_deliver_to_a_canteen(
    ordering, catering, canteen_staff, worker
):
    _, nasi_box = catering
    await ordering.put_in_cart(worker, nasi_box.id, 10)
    with pytest.raises(ValidationFailed) as refused:
        await ordering.checkout(worker, kind=DeliveryKind.CANTEEN, payment=PaymentMethod.INVOICE)
    assert {error.field for error in refused.value.errors} >= {"payment_method"}
    gate = await ordering.gate()
    order = (await ordering.checkout(worker, point_id=gate.id)).orders[0]
    assert (order.delivery_kind, order.delivery_address, order.organisation_id) == ("zone_point", gate.name, None)


async def test_a_card_order_waits_for_payment_and_holds_capacity_meanwhile(ordering, catering, canteen_staff):
    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 100, payment=PaymentMethod.CARD)
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert order.payment_due_at == NOW + timedelta(minutes=30)
    assert await ordering.remaining(seller.vendor.id) == 400


async def test_only_buyers_order(ordering, catering, vendor, database):
    _, nasi_box = catering
    async with database.sessionmaker() as session:
        with pytest.raises(Forbidden) as refused:
            await cart.set_quantity(
                session=session, buyer=vendor, product_id=nasi_box.id, quantity=10, today=NOW.date()
            )
    assert refused.value.status_code == 403


async def test_a_checkout_request_costs_at_most_15_statements_and_compiles_nothing_new_from_1_to_20_lines(
    client, world, zone, canteen_staff, database, count_queries
):
    """The whole request is counted (the token check, the placement, the answer). Statements whose text changed
    with the number of lines or vendors (an IN list, a CASE with a WHEN per vendor) were compiled again for each
    new size: none may be compiled once the first checkouts have met each shape."""
    products = []
    for number in range(5):
        seller = await world.seller(zone, business_name=f"Vendor {number}", daily_capacity=1000)
        for item in range(4):
            fields = {"fulfilment": "ready_stock", "stock": 500} if item % 2 else {}
            products.append(await world.live_product(seller, f"Produk {number}-{item}", price=10000 + item, **fields))
    auth = await bearer(database, canteen_staff)
    compiled: list[str] = []
    counts: dict[int, int] = {}

    def note_compiled(_conn, _cursor, statement, _parameters, context, _many) -> None:
        if context.cache_hit == CacheStats.CACHE_MISS:
            compiled.append(statement)

    async def counted_checkout(lines: int) -> int:
        for product in products[:lines]:
            put = await client.put(f"/api/v1/cart/lines/{product.id}", json={"quantity": 10}, headers=auth)
            assert put.status_code == 200, put.text
        count_queries.statements.clear()
        compiled.clear()
        placed = await check_out(client, auth, f"lines-{lines}-{len(counts)}")
        assert placed.status_code == 201, placed.text
        assert len(placed.json()["orders"]) == (lines + 3) // 4
        return count_queries.count

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note_compiled)
    try:
        # First one line, then both kinds of goods (capacity and stock), then two vendors: a single row is
        # written with a statement of its own shape, several rows with another, whatever their number.
        for lines in (1, 2, 7):
            assert await counted_checkout(lines) <= 15, count_queries.statements
        for lines in (3, 12, 20, 1):
            counts[lines] = await counted_checkout(lines)
            assert not compiled, (lines, compiled)
    finally:
        event.remove(engine, "before_cursor_execute", note_compiled)
    assert max(counts.values()) <= 15, counts
    # One made-to-order line holds no stock (a statement less on SQLite, two on PostgreSQL); from 2 lines on, flat.
    assert len({counts[lines] for lines in (3, 12, 20)}) == 1, counts
