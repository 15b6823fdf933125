"""Races as they happen in production: a server with several worker processes on PostgreSQL, and people whose
requests cross over real HTTP.

A cart checked out from two tabs (or a double tap through a flaky network, each try with a new key) is
consumed once: one checkout is placed, the others are told the cart was just checked out and where the orders
are. The same request sent five times at once gets one answer five times. Buyers checking out and cancelling
the same products all day never see a server error, and the stock and capacity held always match the orders.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from backend.accounts import service as accounts
from backend.accounts.models import Role, User, Zone
from backend.catalog.models import Product
from backend.clock import utcnow, wib_today
from backend.config import Settings
from backend.errors import CartCheckedOut
from backend.i18n import gettext, set_locale
from backend.orders import cart
from backend.orders.models import CapacityDay, CartLine, Checkout, Order, OrderLine, OrderStatus
from tests.app_process import ServerProcess, suite_environment
from tests.conftest import World

# The module's tests share one server: in one test process, so it starts once.
pytestmark = [pytest.mark.postgres_only, pytest.mark.one_database, pytest.mark.xdist_group("races_over_http")]

WORKERS = 3
TABS = 5
RELEASED = (OrderStatus.CANCELLED, OrderStatus.DECLINED)


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The app served by several worker processes on the database under test, for every test of the module."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("races between worker processes are tested on PostgreSQL")
    process = ServerProcess(
        log_dir=tmp_path_factory.mktemp("races-server"),
        workers=WORKERS,
        environment=suite_environment(
            settings,
            # Every request comes from 127.0.0.1: the per-address limit must not refuse them.
            API_RATE_LIMIT_PER_MINUTE="100000",
        ),
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


@dataclass
class ApiUser:
    user: User
    token: str

    def headers(self, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers


async def with_token(world: World, user: User) -> ApiUser:
    async with world.database.sessionmaker() as session:
        token, _ = await accounts.create_api_token(session=session, user=user, name="pengadaan")
        await session.commit()
    return ApiUser(user=user, token=token)


async def canteen(world: World, zone: Zone, number: int) -> ApiUser:
    organisation = await world.organisation(zone, name=f"Kantin PT Batang {number}")
    return await with_token(world, await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=organisation))


async def fill_cart(world: World, buyer: ApiUser, lines: dict[int, int]) -> None:
    async with world.database.sessionmaker() as session:
        for product_id, quantity in lines.items():
            await cart.set_quantity(
                session=session, buyer=buyer.user, product_id=product_id, quantity=quantity, today=wib_today(world.now)
            )
        await session.commit()


def checkout_body() -> dict[str, str]:
    return {
        "delivery_day": (wib_today(utcnow()) + timedelta(days=2)).isoformat(),
        "delivery_slot": "11:00",
        "delivery_kind": "canteen",
        "payment_method": "invoice",
    }


def client_for(server: ServerProcess, connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, timeout=30, limits=httpx.Limits(max_connections=connections))


async def in_use(client: httpx.AsyncClient, users: list[ApiUser]) -> None:
    """Each person's app has called the API before: a token's first use is written down (one UPDATE of the
    token, which would line up the first requests of a race behind each other)."""
    answers = await asyncio.gather(*(client.get("/api/v1/orders", headers=user.headers()) for user in users))
    assert {answer.status_code for answer in answers} == {200}


def problem_code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("code", ""))
    except ValueError:  # not even a problem body
        return ""


async def count_rows(world: World, table: type) -> int:
    async with world.database.sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(table))).scalar_one()


async def test_one_cart_checked_out_from_five_tabs_at_once_is_placed_once(world, zone, server: ServerProcess):
    catering = await world.seller(zone, business_name="Catering Bu Sri", daily_capacity=500)
    nasi_box = await world.live_product(catering, "Nasi Box Ayam Bakar", price=15000)
    chips = await world.live_product(
        catering, "Keripik Singkong", category="snacks", price=8000, unit="pack", fulfilment="ready_stock", stock=100
    )
    # Four canteens, each tapping "Pesan" in five tabs at once: every tab has its own key.
    buyers = [await canteen(world, zone, number) for number in range(4)]
    for buyer in buyers:
        await fill_cart(world, buyer, {nasi_box.id: 20, chips.id: 3})

    async with client_for(server, len(buyers) * TABS) as client:
        await in_use(client, buyers)
        answers = await asyncio.gather(
            *(
                client.post("/api/v1/checkouts", json=checkout_body(), headers=buyer.headers(f"tab-{tab}"))
                for buyer in buyers
                for tab in range(TABS)
            )
        )

    assert all(answer.status_code < 500 for answer in answers), server.log()
    set_locale("id")
    for number in range(len(buyers)):
        its_answers = answers[number * TABS : (number + 1) * TABS]
        placed = [answer for answer in its_answers if answer.status_code == 201]
        assert len(placed) == 1, [(answer.status_code, answer.text) for answer in its_answers]
        checkout_id = placed[0].json()["checkout_id"]
        for refused in (answer for answer in its_answers if answer.status_code != 201):
            assert refused.status_code == 409, refused.text
            problem = refused.json()
            assert problem["code"] == "cart_checked_out"
            assert problem["detail"] == gettext(CartCheckedOut.default_message)
            assert "Keranjang ini baru saja dipesan" in problem["detail"]
            # Where to look: the orders, and which checkout took the cart.
            assert (problem["orders"], problem["checkout_id"]) == ("/api/v1/orders", checkout_id)

    # Taken once per cart: four checkouts, four orders, the capacity and stock of four carts, empty carts.
    assert await count_rows(world, Checkout) == await count_rows(world, Order) == len(buyers)
    assert await count_rows(world, CartLine) == 0
    async with world.database.sessionmaker() as session:
        held = (await session.execute(select(func.sum(CapacityDay.held)))).scalar_one()
        stock = (await session.get(Product, chips.id)).stock
    assert (held, stock) == (len(buyers) * 20, 100 - len(buyers) * 3)


# The same request sent again and again while the first is still being placed: phones on a flaky network
# retrying every 10 to 55 ms, until after the first one has committed.
def tap_interval(number: int) -> float:
    return 0.01 + 0.004 * number


async def tap(client: httpx.AsyncClient, buyer: ApiUser, key: str, *, after: float) -> httpx.Response:
    await asyncio.sleep(after)
    return await client.post("/api/v1/checkouts", json=checkout_body(), headers=buyer.headers(key))


async def test_the_same_checkout_sent_five_times_while_the_first_is_placed_gets_one_answer(
    world, zone, server: ServerProcess
):
    catering = await world.seller(zone, business_name="Catering Bu Sri", daily_capacity=500)
    nasi_box = await world.live_product(catering, "Nasi Box Ayam Bakar", price=15000)
    chips = await world.live_product(
        catering, "Keripik Singkong", category="snacks", price=8000, unit="pack", fulfilment="ready_stock", stock=100
    )
    buyers = [await canteen(world, zone, number) for number in range(12)]
    for buyer in buyers:
        await fill_cart(world, buyer, {nasi_box.id: 20, chips.id: 3})

    async with client_for(server, len(buyers) * TABS) as client:
        await in_use(client, buyers)
        answers = await asyncio.gather(
            *(
                tap(client, buyer, f"double-tap-{number}", after=tab * tap_interval(number))
                for number, buyer in enumerate(buyers)
                for tab in range(TABS)
            )
        )

    for number in range(len(buyers)):
        its_answers = answers[number * TABS : (number + 1) * TABS]
        assert all(answer.status_code in (200, 201) for answer in its_answers), [
            (answer.status_code, answer.text) for answer in its_answers
        ]
        # The first answer placed it, the others replay it: one checkout, the same orders.
        assert sorted(answer.status_code for answer in its_answers) == [200] * (TABS - 1) + [201]
        assert len({answer.json()["checkout_id"] for answer in its_answers}) == 1
        assert len({tuple(order["id"] for order in answer.json()["orders"]) for answer in its_answers}) == 1
    assert await count_rows(world, Checkout) == await count_rows(world, Order) == len(buyers)
    assert await count_rows(world, CartLine) == 0
    async with world.database.sessionmaker() as session:
        assert (await session.get(Product, chips.id)).stock == 100 - len(buyers) * 3


# Sixteen canteens order from one kitchen all day: half of them a ready snack (its stock shared), the others a
# made-to-order nasi box (its daily capacity shared) with the snack. Each round every canteen fills its cart,
# checks out and, most of the time, cancels again; on some orders the kitchen declines at the very moment the
# canteen cancels.
CANTEENS, ROUNDS = 16, 10
CAPACITY, BOXES = 100, 10
STOCK, PACKS = 100, 4


def keeps(number: int, round_: int) -> bool:
    return (number + round_) % 11 == 0


def kitchen_declines_too(number: int, round_: int) -> bool:
    return (number + round_) % 3 == 0


async def test_checkouts_and_cancellations_interleaved_never_fail_and_hold_exactly_what_is_ordered(
    world, zone, server: ServerProcess
):
    kitchen = await world.seller(zone, business_name="Dapur Bu Sri", daily_capacity=CAPACITY)
    kitchen_api = await with_token(world, kitchen.user)
    nasi_box = await world.live_product(kitchen, "Nasi Box Ayam Bakar", price=15000)
    chips = await world.live_product(
        kitchen, "Keripik Singkong", category="snacks", price=8000, unit="pack", fulfilment="ready_stock", stock=STOCK
    )
    buyers = [await canteen(world, zone, number) for number in range(CANTEENS)]
    answers: dict[str, Counter[int]] = {
        "cart": Counter(),
        "checkout": Counter(),
        "cancel": Counter(),
        "decline": Counter(),
    }
    unexpected: list[str] = []

    def record(kind: str, response: httpx.Response, allowed: dict[int, set[str]]) -> None:
        answers[kind][response.status_code] += 1
        codes = allowed.get(response.status_code)
        code = problem_code(response) if response.status_code >= 400 else ""
        if codes is None or (codes and code not in codes):
            unexpected.append(f"{kind} {response.status_code} {response.text[:300]}")

    async def day_of(client: httpx.AsyncClient, number: int, buyer: ApiUser) -> None:
        lines = {chips.id: PACKS} if number % 2 else {nasi_box.id: BOXES, chips.id: PACKS}
        for round_ in range(ROUNDS):
            for product_id, quantity in lines.items():
                record(
                    "cart",
                    await client.put(
                        f"/api/v1/cart/lines/{product_id}", json={"quantity": quantity}, headers=buyer.headers()
                    ),
                    {200: set()},
                )
            placed = await client.post(
                "/api/v1/checkouts", json=checkout_body(), headers=buyer.headers(f"round-{round_}")
            )
            record("checkout", placed, {201: set(), 409: {"insufficient_capacity"}})
            if placed.status_code != 201 or keeps(number, round_):
                continue
            order_id = placed.json()["orders"][0]["id"]
            cancel = client.post(
                f"/api/v1/orders/{order_id}/transitions",
                headers=buyer.headers(),
                json={"status": "cancelled", "reason": "Jumlah karyawan berubah"},
            )
            if not kitchen_declines_too(number, round_):
                record("cancel", await cancel, {200: set()})
                continue
            decline = client.post(
                f"/api/v1/orders/{order_id}/transitions",
                headers=kitchen_api.headers(),
                json={"status": "declined", "reason": "Bahan habis"},
            )
            cancelled, declined = await asyncio.gather(cancel, decline)
            # Two people changing one order: one of them wins, the other is told what the order is now (409),
            # never a 500.
            record("cancel", cancelled, {200: set(), 409: {"conflict"}})
            record("decline", declined, {200: set(), 409: {"conflict"}})
            outcome = {cancelled.status_code: "cancelled", declined.status_code: "declined"}
            if sorted(outcome) != [200, 409]:
                unexpected.append(f"order {order_id}: cancel {cancelled.status_code}, decline {declined.status_code}")
                continue
            lost = cancelled if cancelled.status_code == 409 else declined
            if lost.json()["current_status"] != outcome[200]:
                unexpected.append(f"order {order_id}: the loser was not told it is {outcome[200]}: {lost.text}")

    async with client_for(server, CANTEENS * 2) as client:
        await in_use(client, [*buyers, kitchen_api])
        await asyncio.gather(*(day_of(client, number, buyer) for number, buyer in enumerate(buyers)))
    server_errors = sum(count for counter in answers.values() for status, count in counter.items() if status >= 500)
    assert server_errors == 0, ({kind: dict(counter) for kind, counter in answers.items()}, server.log()[-3000:])

    assert unexpected == [], (len(unexpected), unexpected[:5])
    assert answers["checkout"][201] > CAPACITY // BOXES, "most checkouts should find room again after a cancel"

    # What is held is exactly what the live orders hold: nothing oversold, nothing lost.
    async with world.database.sessionmaker() as session:
        live = col(Order.status).not_in(RELEASED)
        held_by_orders = (
            await session.execute(select(func.coalesce(func.sum(Order.held_capacity), 0)).where(live))
        ).scalar_one()
        packs_in_orders = (
            await session.execute(
                select(func.coalesce(func.sum(col(OrderLine.quantity)), 0))
                .join(Order, col(Order.id) == col(OrderLine.order_id))
                .where(live, OrderLine.product_id == chips.id)
            )
        ).scalar_one()
        day = (await session.execute(select(CapacityDay))).scalar_one()
        stock = (await session.get(Product, chips.id)).stock
    assert (day.held, day.capacity) == (held_by_orders, CAPACITY)
    assert stock + packs_in_orders == STOCK and stock >= 0
