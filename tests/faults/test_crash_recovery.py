"""The server is killed (SIGKILL) while canteens are checking out, then started again.

Whatever the moment of the crash, each checkout is in the database whole (its orders, lines, history, invoice,
the vendor's notification, the cart emptied, the capacity held) or not at all; a canteen whose answer was lost
sends the same request again with the same Idempotency-Key and gets its checkout exactly once; and the
capacity held for the day is what the orders add up to, never more than the vendor can cook.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.accounts import service as accounts
from backend.accounts.models import Role, User, Zone
from backend.catalog.models import Product
from backend.clock import utcnow, wib_today
from backend.db import Database
from backend.notifications.models import Notification
from backend.orders import cart
from backend.orders.models import CapacityDay, CartLine, Checkout, Order, OrderEvent, OrderLine, OrderStatus
from backend.payments.models import Invoice
from tests.app_process import ServerProcess
from tests.conftest import World

CANTEENS = 24
# Catering Bu Sri cooks 60 boxes that day and every canteen asks for 5: twelve checkouts fit, whatever the
# order of arrival; the drinks vendor has room for all.
NASI_BOX_CAPACITY, NASI_BOXES = 60, 5
DRINKS_CAPACITY, DRINKS = 1000, 3
PLACED_IN_THE_END = NASI_BOX_CAPACITY // NASI_BOXES
# The server is killed as soon as this many canteens have had their answer: the others are still in flight.
KILL_AFTER_ANSWERS = 6
RELEASED = (OrderStatus.CANCELLED, OrderStatus.DECLINED)


@dataclass
class Canteen:
    staff: User
    token: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Idempotency-Key": self.key}


@pytest.mark.one_database
async def test_a_crash_in_the_middle_of_checkouts_leaves_each_one_whole_or_absent(
    world, zone, database, server: ServerProcess
):
    delivery_day = wib_today(utcnow()) + timedelta(days=2)
    catering = await world.seller(zone, business_name="Catering Bu Sri", daily_capacity=NASI_BOX_CAPACITY)
    nasi_box = await world.live_product(catering, "Nasi Box Ayam Bakar", price=15000)
    drinks = await world.seller(zone, business_name="Es Teh Pak Min", daily_capacity=DRINKS_CAPACITY)
    es_teh = await world.live_product(drinks, "Es Teh Manis", category="drinks", price=4000, unit="pcs")
    canteens = [
        await canteen_with_a_cart(world, zone, number, {nasi_box.id: NASI_BOXES, es_teh.id: DRINKS})
        for number in range(CANTEENS)
    ]
    checkout = {
        "delivery_day": delivery_day.isoformat(),
        "delivery_slot": "11:00",
        "delivery_kind": "canteen",
        "payment_method": "invoice",
    }

    server.start()
    before_crash = await check_out_until_killed(server, canteens, checkout)

    answered = {key: response for key, response in before_crash.items() if response is not None}
    lost = [canteen for canteen in canteens if before_crash[canteen.key] is None]
    assert len(answered) >= KILL_AFTER_ANSWERS and lost, "the crash should come while checkouts are in flight"
    assert {response.status_code for response in answered.values()} <= {201, 409}, server.log()

    # Right after the crash: what was answered "placed" is kept, what was refused left nothing, and every
    # checkout in the database is whole.
    kept = await assert_whole_or_absent(database, canteens, day=delivery_day)
    assert {key for key, response in answered.items() if response.status_code == 201} <= kept.keys()
    assert not {key for key, response in answered.items() if response.status_code == 409} & kept.keys()
    committed_but_unanswered = {canteen.key for canteen in lost} & kept.keys()

    # The canteens whose answer was lost send the same checkout again, with the same key, to the restarted app.
    server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
        retried = await asyncio.gather(
            *(client.post("/api/v1/checkouts", json=checkout, headers=canteen.headers) for canteen in lost)
        )
    for canteen, response in zip(lost, retried, strict=True):
        if canteen.key in committed_but_unanswered:
            # Placed before the crash: the canteen is told about that checkout, nothing is placed again.
            assert response.status_code == 200, response.text
            assert (response.json()["replayed"], response.json()["checkout_id"]) == (True, kept[canteen.key])
        else:
            assert response.status_code in (201, 409), response.text
            if response.status_code == 409:
                assert response.json()["code"] == "insufficient_capacity"

    final = {**answered, **{canteen.key: response for canteen, response in zip(lost, retried, strict=True)}}
    placed = {key for key, response in final.items() if response.status_code in (200, 201)}
    assert (await assert_whole_or_absent(database, canteens, day=delivery_day)).keys() == placed
    assert len(placed) == PLACED_IN_THE_END
    assert all(final[key].status_code == 409 for key in final.keys() - placed)
    async with database.sessionmaker() as session:
        held = dict(
            (
                await session.execute(
                    select(col(CapacityDay.vendor_id), col(CapacityDay.held)).where(
                        col(CapacityDay.day) == delivery_day
                    )
                )
            ).all()
        )
    assert held == {catering.vendor.id: NASI_BOX_CAPACITY, drinks.vendor.id: PLACED_IN_THE_END * DRINKS}

    print(  # noqa: T201  (the figures, shown with -s)
        f"\n[crash] {database.engine.dialect.name}: {len(answered)} answered before the kill "
        f"({sum(r.status_code == 201 for r in answered.values())} placed, "
        f"{sum(r.status_code == 409 for r in answered.values())} refused), {len(lost)} lost "
        f"({len(committed_but_unanswered)} of them committed before the crash); retried: "
        f"{sum(r.status_code == 200 for r in retried)} replayed, {sum(r.status_code == 201 for r in retried)} "
        f"placed, {sum(r.status_code == 409 for r in retried)} refused"
    )


async def canteen_with_a_cart(world: World, zone: Zone, number: int, lines: dict[int, int]) -> Canteen:
    organisation = await world.organisation(zone, name=f"Kantin PT Batang {number}")
    staff = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=organisation)
    async with world.database.sessionmaker() as session:
        token, _ = await accounts.create_api_token(session=session, user=staff, name="pengadaan")
        for product_id, quantity in lines.items():
            await cart.set_quantity(
                session=session, buyer=staff, product_id=product_id, quantity=quantity, today=wib_today(world.now)
            )
        await session.commit()
    return Canteen(staff=staff, token=token, key=f"checkout-kantin-{number}")


async def check_out_until_killed(
    server: ServerProcess, canteens: list[Canteen], checkout: dict[str, str]
) -> dict[str, httpx.Response | None]:
    """Every canteen checks out at once; the server is killed when the KILL_AFTER_ANSWERS-th answer arrives.
    A request whose answer never came (reset, refused) maps to None."""
    answers = 0

    async def check_out(client: httpx.AsyncClient, canteen: Canteen) -> httpx.Response | None:
        nonlocal answers
        try:
            response = await client.post("/api/v1/checkouts", json=checkout, headers=canteen.headers)
        except httpx.TransportError:
            return None
        answers += 1
        if answers == KILL_AFTER_ANSWERS:
            server.kill()
        return response

    async with httpx.AsyncClient(
        base_url=server.url, timeout=15, limits=httpx.Limits(max_connections=len(canteens))
    ) as client:
        results = await asyncio.gather(*(check_out(client, canteen) for canteen in canteens))
    return {canteen.key: result for canteen, result in zip(canteens, results, strict=True)}


async def assert_whole_or_absent(database: Database, canteens: list[Canteen], *, day: date) -> dict[str, int]:
    """Check every checkout in the database is complete and the capacity matches the orders; return the
    checkouts' ids by their Idempotency-Key."""
    async with database.sessionmaker() as session:
        checkouts = (await session.execute(select(Checkout))).scalars().all()
        orders = (await session.execute(select(Order))).scalars().all()
        lines = (await session.execute(select(OrderLine))).scalars().all()
        events = (await session.execute(select(col(OrderEvent.order_id)))).scalars().all()
        invoices = (await session.execute(select(Invoice))).scalars().all()
        notified = (await session.execute(select(col(Notification.order_id)))).scalars().all()
        cart_lines = (await session.execute(select(col(CartLine.user_id), col(CartLine.product_id)))).all()
        vendor_of = dict((await session.execute(select(col(Product.id), col(Product.vendor_id)))).all())
        capacity = {
            row.vendor_id: row
            for row in (await session.execute(select(CapacityDay).where(col(CapacityDay.day) == day))).scalars()
        }

    orders_of: dict[int, list[Order]] = defaultdict(list)
    for order in orders:
        orders_of[order.checkout_id].append(order)
    lines_of: dict[int, list[OrderLine]] = defaultdict(list)
    for line in lines:
        lines_of[line.order_id].append(line)
    invoice_of = {invoice.checkout_id: invoice for invoice in invoices}
    carts: dict[int, set[int]] = defaultdict(set)
    for user_id, product_id in cart_lines:
        carts[user_id].add(product_id)
    canteen_of = {canteen.staff.id: canteen for canteen in canteens}
    cart_vendors = set(vendor_of.values())

    assert len({checkout.buyer_id for checkout in checkouts}) == len(checkouts), "one checkout per canteen"
    for checkout in checkouts:
        assert checkout.idempotency_key == canteen_of[checkout.buyer_id].key
        its_orders = orders_of.pop(checkout.id, [])
        assert {order.vendor_id for order in its_orders} == cart_vendors, f"checkout {checkout.id} is not whole"
        for order in its_orders:
            its_lines = lines_of.pop(order.id, [])
            assert its_lines and {vendor_of[line.product_id] for line in its_lines} == {order.vendor_id}
            assert order.total == sum(line.line_total for line in its_lines)
            assert order.held_capacity == sum(line.quantity for line in its_lines)
        assert checkout.total == sum(order.total for order in its_orders)
        assert invoice_of.pop(checkout.id).amount == checkout.total
        assert carts.pop(checkout.buyer_id, set()) == set(), "a placed cart is emptied"
    assert not orders_of and not lines_of and not invoice_of, "nothing is left over from a checkout that failed"
    placed_orders = sorted(order.id for order in orders)
    assert None not in notified and sorted(events) == placed_orders
    assert sorted(order_id for order_id in notified if order_id is not None) == placed_orders
    # A canteen without a checkout still has its whole cart.
    assert all(products == set(vendor_of) for products in carts.values())
    assert set(carts) == set(canteen_of) - {checkout.buyer_id for checkout in checkouts}

    held_by_orders: Counter[int] = Counter()
    for order in orders:
        if order.status not in RELEASED and order.delivery_day == day:
            held_by_orders[order.vendor_id] += order.held_capacity
    for vendor_id, row in capacity.items():
        assert row.held == held_by_orders[vendor_id], f"vendor {vendor_id}: capacity held does not match the orders"
        assert row.held <= row.capacity
    assert set(held_by_orders) <= set(capacity)
    return {checkout.idempotency_key: checkout.id for checkout in checkouts}
