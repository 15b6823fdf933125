"""Stories of requests from buyers: a canteen near the zone, caterers who fit it and some who do not, on the
ordering stories' fixed clock (Monday 23 November 2026, 09.00 WIB)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.accounts.models import User
from backend.notifications.models import Notification
from backend.requests import service
from backend.requests.models import BuyerRequest, RequestOffer
from backend.requests.service import OfferInput, RequestInput
from tests.orders.conftest import NOW, catering, ordering  # noqa: F401  (fixtures)

TODAY = date(2026, 11, 23)
WEEKDAYS = [1, 2, 3, 4, 5]


def breakfast(**changes: Any) -> RequestInput:
    """300 box sarapan halal, Senin–Jumat, 06.00, ± Rp 12.000, from next Monday."""
    fields: dict[str, Any] = {
        "title": "Nasi box sarapan",
        "category": "catering",
        "quantity": 300,
        "unit": "box",
        "weekdays": WEEKDAYS,
        "slot": time(6, 0),
        "expected_price": 12000,
        "required_certificates": ["halal"],
        "start_date": TODAY + timedelta(days=7),
        "notes": "Untuk shift pagi",
        **changes,
    }
    return RequestInput(**fields)


@dataclass
class Requests:
    """Helpers acting as the people of a story, each step committed like a request."""

    database: Any

    async def post(self, canteen_staff: User, data: RequestInput | None = None, *, today: date = TODAY) -> BuyerRequest:
        async with self.database.sessionmaker() as session:
            request = await service.post_request(
                session=session, actor=canteen_staff, data=data or breakfast(), today=today, now=NOW
            )
            await session.commit()
            return request

    async def offer(self, seller: Any, request_id: int, *, today: date = TODAY, **fields: Any) -> RequestOffer:
        fields.setdefault("start_date", TODAY + timedelta(days=7))
        async with self.database.sessionmaker() as session:
            offer = await service.make_offer(
                session=session,
                vendor=seller.vendor,
                request_id=request_id,
                data=OfferInput(**fields),
                today=today,
                now=NOW,
            )
            await session.commit()
            return offer

    async def accept(self, canteen_staff: User, request_id: int, offer_id: int, *, today: date = TODAY) -> Any:
        async with self.database.sessionmaker() as session:
            try:
                standing = await service.accept_offer(
                    session=session,
                    actor=canteen_staff,
                    request_id=request_id,
                    offer_id=offer_id,
                    today=today,
                    now=NOW,
                )
            except BaseException:
                await session.rollback()
                raise
            await session.commit()
            return standing

    async def inbox(self, user: User) -> list[Notification]:
        async with self.database.sessionmaker() as session:
            return list(
                (
                    await session.execute(
                        select(Notification).where(col(Notification.user_id) == user.id).order_by(col(Notification.id))
                    )
                ).scalars()
            )

    async def get(self, model: Any, id_: int) -> Any:
        async with self.database.sessionmaker() as session:
            return await session.get(model, id_)


@pytest.fixture
def requests(database) -> Requests:
    return Requests(database=database)


@pytest.fixture
async def second_caterer(world, zone):
    """Dapur Mbak Rina, a second caterer near the zone: nasi box at Rp 12.500 (Rp 11.500 from 300)."""
    seller = await world.seller(zone, business_name="Dapur Mbak Rina", latitude=-6.9600, longitude=110.0400)
    product = await world.live_product(
        seller,
        "Nasi Box Sarapan Telur",
        price=12500,
        tiers=[{"min_quantity": 300, "unit_price": 11500}],
    )
    return seller, product


@pytest.fixture
async def far_caterer(world, zone):
    """A caterer in Semarang, 60 km away, with a 15 km radius: it does not reach the zone's canteens."""
    seller = await world.seller(zone, business_name="Katering Semarang", latitude=-7.0, longitude=110.45)
    product = await world.live_product(seller, "Nasi Box Semarang", price=10000)
    return seller, product


@pytest.fixture
async def tailor(world, zone):
    """A konveksi next door: near, but it sells uniforms, not food."""
    seller = await world.seller(zone, business_name="Konveksi Batang", certificates=("nib",))
    product = await world.live_product(seller, "Seragam Kerja", category="uniforms", unit="pcs", price=90000)
    return seller, product
