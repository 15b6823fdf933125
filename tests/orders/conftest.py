"""People and shops for ordering stories, on a fixed clock: Monday 23 November 2026, 09.00 WIB."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.accounts.models import Organisation, Role, User, Zone
from backend.orders import capacity, cart
from backend.orders.delivery import DeliveryChoice
from backend.orders.models import DeliveryKind, DeliveryPoint, Order, PaymentMethod, PointKind
from backend.orders.placement import Placement, place_checkout

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday, 09.00 WIB
NEXT_MONDAY = date(2026, 11, 30)
# The day the orders of these stories are delivered: an order is marked delivered on it (or later), never before.
ON_DELIVERY_DAY = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)  # Monday 30 November, 12.00 WIB
ELEVEN = time(11, 0)


@dataclass
class Ordering:
    """Helpers that act as the people of a story would, each step committed like a request."""

    world: Any
    database: Any
    zone: Zone
    keys: int = 0

    async def gate(self, name: str = "Gerbang 1 KITB") -> DeliveryPoint:
        async with self.database.sessionmaker() as session:
            point = DeliveryPoint(
                zone_id=self.zone.id, kind=PointKind.GATE, name=name, latitude=-6.9530, longitude=110.0300
            )
            session.add(point)
            await session.commit()
            return point

    async def put_in_cart(self, buyer: User, product_id: int, quantity: int) -> None:
        async with self.database.sessionmaker() as session:
            await cart.set_quantity(
                session=session, buyer=buyer, product_id=product_id, quantity=quantity, today=NOW.date()
            )
            await session.commit()

    async def checkout(
        self,
        buyer: User,
        *,
        day: date = NEXT_MONDAY,
        slot: time = ELEVEN,
        kind: DeliveryKind | None = None,
        point_id: int | None = None,
        key: str | None = None,
        payment: PaymentMethod | None = None,
        now: datetime = NOW,
        notes: str = "",
        po_number: str = "",
    ) -> Placement:
        if key is None:
            self.keys += 1
            key = f"key-{self.keys}"
        if kind is None:
            kind = DeliveryKind.CANTEEN if buyer.role == Role.CANTEEN_STAFF else DeliveryKind.ZONE_POINT
        if payment is None:
            payment = PaymentMethod.INVOICE if buyer.role == Role.CANTEEN_STAFF else PaymentMethod.CASH
        async with self.database.sessionmaker() as session:
            try:
                placement = await place_checkout(
                    session=session,
                    buyer=buyer,
                    idempotency_key=key,
                    payment_method=payment,
                    now=now,
                    gateway_payments=True,  # QRIS and virtual accounts are offered (the gateway's tests use them)
                    delivery=DeliveryChoice(
                        day=day, slot=slot, kind=kind, point_id=point_id, notes=notes, po_number=po_number
                    ),
                )
            except BaseException:
                await session.rollback()
                raise
            await session.commit()
            return placement

    async def order(self, buyer: User, product_id: int, quantity: int, **checkout: Any) -> Order:
        await self.put_in_cart(buyer, product_id, quantity)
        placement = await self.checkout(buyer, **checkout)
        return placement.orders[0]

    async def remaining(self, vendor_id: int, day: date = NEXT_MONDAY) -> int:
        async with self.database.sessionmaker() as session:
            return await capacity.remaining_capacity(session=session, vendor_id=vendor_id, day=day)

    async def count_orders(self) -> int:
        async with self.database.sessionmaker() as session:
            return (await session.execute(select(func.count()).select_from(Order))).scalar_one()

    async def canteen_buyer(self, name: str = "Kantin PT Sinar", *, invoice_terms_days: int | None = 30) -> User:
        organisation: Organisation = await self.world.organisation(
            self.zone, name=name, invoice_terms_days=invoice_terms_days
        )
        return await self.world.user(Role.CANTEEN_STAFF, zone=self.zone, organisation=organisation)


@pytest.fixture
async def ordering(world, database, zone) -> Ordering:
    return Ordering(world=world, database=database, zone=zone)


@pytest.fixture
async def catering(world, zone):
    """Catering Bu Sri: 500 box a day, nasi box at Rp 15.000, Rp 14.000 from 50, Rp 13.000 from 200; order by
    15.00 the day before."""
    seller = await world.seller(zone, business_name="Catering Bu Sri", daily_capacity=500)
    product = await world.live_product(
        seller,
        "Nasi Box Ayam Bakar",
        price=15000,
        min_order_qty=10,
        order_cutoff=time(15, 0),
        tiers=[{"min_quantity": 50, "unit_price": 14000}, {"min_quantity": 200, "unit_price": 13000}],
    )
    return seller, product


def in_days(days: int) -> date:
    return NOW.date() + timedelta(days=days)
