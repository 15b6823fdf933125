"""Many buyers at once, on PostgreSQL: capacity and stock are never oversold and checkouts never deadlock."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.accounts.models import Role
from backend.errors import Conflict, InsufficientCapacity
from backend.orders.models import Order, OrderEvent, OrderStatus
from tests.orders.conftest import NEXT_MONDAY, NOW

pytestmark = pytest.mark.postgres_only


@pytest.fixture(autouse=True)
def postgres_only(database):
    if database.engine.dialect.name != "postgresql":
        pytest.skip("concurrency and locking are tested on PostgreSQL")


async def test_50_buyers_racing_for_the_last_100_portions_buy_exactly_100(ordering, catering):
    seller, nasi_box = catering
    early = await ordering.canteen_buyer("Kantin PT Awal")
    await ordering.order(early, nasi_box.id, 400)
    assert await ordering.remaining(seller.vendor.id) == 100

    buyers = [await ordering.canteen_buyer(f"Kantin {number}") for number in range(50)]
    for buyer in buyers:
        await ordering.put_in_cart(buyer, nasi_box.id, 10)
    results = await asyncio.gather(*(ordering.checkout(buyer) for buyer in buyers), return_exceptions=True)

    placed = [result for result in results if not isinstance(result, BaseException)]
    refused = [result for result in results if isinstance(result, BaseException)]
    assert len(placed) == 10
    assert len(refused) == 40
    assert all(isinstance(error, InsufficientCapacity) for error in refused), refused[:3]
    # Each refusal names the product and how much is left: nothing, by the time it was refused.
    assert {
        (e.shortages[0].product_name, e.shortages[0].available) for e in refused if isinstance(e, InsufficientCapacity)
    } == {("Nasi Box Ayam Bakar", 0)}
    assert await ordering.remaining(seller.vendor.id) == 0
    assert await ordering.count_orders() == 11


async def test_the_last_packs_of_stock_go_to_exactly_as_many_workers_as_there_are_packs(ordering, world, zone):
    seller = await world.seller(zone, business_name="Keripik Mbak Rina", daily_capacity=None)
    chips = await world.live_product(
        seller, "Keripik Singkong", category="snacks", price=8000, unit="pack", fulfilment="ready_stock", stock=25
    )
    gate = await ordering.gate()
    workers = [await world.user(Role.WORKER, zone=zone) for _ in range(30)]
    for worker in workers:
        await ordering.put_in_cart(worker, chips.id, 1)
    results = await asyncio.gather(*(ordering.checkout(w, point_id=gate.id) for w in workers), return_exceptions=True)
    assert sum(not isinstance(result, BaseException) for result in results) == 25, [
        r for r in results if isinstance(r, BaseException)
    ][:2]
    async with ordering.database.sessionmaker() as session:
        assert (await session.get(type(chips), chips.id)).stock == 0


async def test_checkouts_holding_the_same_vendors_in_any_order_do_not_deadlock(ordering, world, zone):
    vendors = [await world.seller(zone, business_name=f"Dapur {name}", daily_capacity=1000) for name in "ABCD"]
    products = [
        await world.live_product(vendor, f"Nasi Box {index}", price=15000) for index, vendor in enumerate(vendors)
    ]
    buyers = [await ordering.canteen_buyer(f"Kantin {number}") for number in range(16)]
    shuffle = random.Random(7)
    for buyer in buyers:
        for product in shuffle.sample(products, len(products)):
            await ordering.put_in_cart(buyer, product.id, 20)

    results = await asyncio.gather(*(ordering.checkout(buyer) for buyer in buyers), return_exceptions=True)

    assert [result for result in results if isinstance(result, BaseException)] == []
    for vendor in vendors:
        assert await ordering.remaining(vendor.vendor.id) == 1000 - 16 * 20


async def test_a_vendor_accepting_while_the_buyer_cancels_ends_in_one_state(
    ordering, catering, canteen_staff, database
):
    from backend.orders.states import change_status

    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 100)

    async def act(actor, target, reason=""):
        async with database.sessionmaker() as session:
            changed = await change_status(
                session=session,
                order_id=order.id,
                target=target,
                actor=actor,
                reason=reason,
                now=NOW,
                today=NEXT_MONDAY,
            )
            await session.commit()
            return changed.status

    results = await asyncio.gather(
        act(seller.user, OrderStatus.ACCEPTED),
        act(canteen_staff, OrderStatus.CANCELLED, "Salah tanggal"),
        return_exceptions=True,
    )
    succeeded = [result for result in results if not isinstance(result, BaseException)]
    refused = [result for result in results if isinstance(result, BaseException)]
    assert len(succeeded) >= 1
    assert all(isinstance(error, Conflict) for error in refused), refused  # "changed meanwhile", never a crash
    # Whatever the order of arrival, the history has exactly one step per change that went through, and the
    # capacity matches where the order ended.
    async with database.sessionmaker() as session:
        final = (await session.get(Order, order.id)).status
        steps = (
            (
                await session.execute(
                    select(col(OrderEvent.to_status))
                    .where(col(OrderEvent.order_id) == order.id)
                    .order_by(col(OrderEvent.id))
                )
            )
            .scalars()
            .all()
        )
    assert steps == ["placed", *succeeded]
    assert final == succeeded[-1]
    assert await ordering.remaining(seller.vendor.id) == (500 if final == OrderStatus.CANCELLED else 400)
