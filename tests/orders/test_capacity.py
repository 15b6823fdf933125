"""A vendor's daily capacity and a product's stock are held atomically: never oversold, whatever the concurrency."""

from __future__ import annotations

import asyncio
from datetime import date, time

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from backend.catalog.models import Category, Fulfilment, Product, Unit
from backend.clock import wib_to_utc
from backend.orders import capacity
from backend.orders.models import CapacityDay
from backend.vendors import service as vendor_service
from backend.vendors.models import Vendor
from backend.vendors.schemas import VendorProfileInput

MONDAY = date(2026, 11, 30)
# The vendor edits the profile the Friday before, mid-morning in the zone.
FRIDAY_MORNING = wib_to_utc(date(2026, 11, 27), time(9, 30))


async def remaining(database, vendor_id: int, day: date = MONDAY) -> int:
    async with database.sessionmaker() as session:
        return await capacity.remaining_capacity(session=session, vendor_id=vendor_id, day=day)


async def hold(database, vendor_id: int, quantity: int, day: date = MONDAY) -> bool:
    async with database.sessionmaker() as session:
        held = await capacity.hold_capacity(session=session, vendor_id=vendor_id, day=day, quantity=quantity)
        await session.commit()
        return held


async def test_a_canteen_ordering_200_box_takes_200_from_the_days_capacity(world, zone, database):
    seller = await world.seller(zone, business_name="Catering Bu Sri", daily_capacity=500)
    assert await remaining(database, seller.vendor.id) == 500
    assert await hold(database, seller.vendor.id, 200)
    assert await remaining(database, seller.vendor.id) == 300
    assert await remaining(database, seller.vendor.id, date(2026, 12, 1)) == 500  # another day is untouched


async def test_more_than_is_left_is_refused_and_nothing_is_held(world, zone, database):
    seller = await world.seller(zone, business_name="Catering Bu Sri", daily_capacity=500)
    assert await hold(database, seller.vendor.id, 450)
    assert not await hold(database, seller.vendor.id, 51)
    assert await remaining(database, seller.vendor.id) == 50
    async with database.sessionmaker() as session:
        await capacity.release_capacity(session=session, vendor_id=seller.vendor.id, day=MONDAY, quantity=450)
        await session.commit()
    assert await remaining(database, seller.vendor.id) == 500


async def test_the_database_itself_refuses_an_oversold_day(world, zone, database):
    seller = await world.seller(zone, business_name="Catering Bu Sri", daily_capacity=100)
    assert await hold(database, seller.vendor.id, 100)
    async with database.sessionmaker() as session:
        with pytest.raises(IntegrityError):
            await session.execute(update(CapacityDay).values(held=col(CapacityDay.held) + 1))


async def lower_capacity(database, seller, capacity: int, now) -> None:
    async with database.sessionmaker() as session:
        await vendor_service.save_profile(
            session=session,
            user=seller.user,
            now=now,
            data=VendorProfileInput(
                business_name="Catering Bu Sri",
                owner_name="Sri",
                whatsapp=seller.user.phone,
                kecamatan="Gringsing",
                desa="Krengseng",
                latitude=-6.9581,
                longitude=110.0195,
                daily_capacity=capacity,
            ),
        )
        await session.commit()


async def test_lowering_the_daily_capacity_below_what_is_held_accepts_nothing_more(world, zone, database):
    seller = await world.seller(zone, business_name="Catering Bu Sri", daily_capacity=500)
    assert await hold(database, seller.vendor.id, 300)
    await lower_capacity(database, seller, 200, now=FRIDAY_MORNING)
    assert await remaining(database, seller.vendor.id) == 0
    assert not await hold(database, seller.vendor.id, 1)
    async with database.sessionmaker() as session:
        day = (await session.execute(select(CapacityDay))).scalar_one()
        assert (day.capacity, day.held) == (300, 300)  # the 300 already promised stay promised


async def test_a_lower_capacity_set_on_friday_applies_from_that_friday_whatever_the_date_of_the_run(
    world, zone, database
):
    """The day the change starts from is the day of the `now` the vendor acted at, not the day the test runs."""
    seller = await world.seller(zone, business_name="Catering Bu Sri", daily_capacity=500)
    thursday, tuesday = date(2026, 11, 26), date(2026, 12, 1)
    assert await hold(database, seller.vendor.id, 300, day=thursday)  # delivered the day before: past
    assert await hold(database, seller.vendor.id, 300)  # the coming Monday's capacity row
    await lower_capacity(database, seller, 200, now=FRIDAY_MORNING)

    async with database.sessionmaker() as session:
        days = {row.day: (row.capacity, row.held) for row in (await session.execute(select(CapacityDay))).scalars()}
    assert days == {thursday: (500, 300), MONDAY: (300, 300)}  # a past day keeps its figure
    assert await remaining(database, seller.vendor.id) == 0
    assert await remaining(database, seller.vendor.id, tuesday) == 200  # a day without orders: the new figure


async def test_many_canteens_at_once_never_oversell_the_day(world, zone, database):
    seller = await world.seller(zone, business_name="Catering Bu Sri", daily_capacity=500)
    results = await asyncio.gather(*(hold(database, seller.vendor.id, 50) for _ in range(16)))
    assert results.count(True) == 10
    assert await remaining(database, seller.vendor.id) == 0


async def test_many_workers_at_once_never_oversell_the_stock(world, zone, database):
    seller = await world.seller(zone, business_name="Keripik Mbak Yuni", daily_capacity=None)
    product = await world.live_product(seller, "Keripik Tempe", category="snacks", fulfilment="ready_stock", stock=30)

    async def buy(quantity: int) -> bool:
        async with database.sessionmaker() as session:
            held = await capacity.hold_stock(session=session, product_id=product.id, quantity=quantity)
            await session.commit()
            return held

    results = await asyncio.gather(*(buy(4) for _ in range(12)))
    assert results.count(True) == 7
    async with database.sessionmaker() as session:
        assert (await session.get(Product, product.id)).stock == 2
        assert (await session.get(Vendor, seller.vendor.id)).daily_capacity is None


async def test_a_vendor_who_lowered_the_capacity_gets_no_more_than_the_new_figure_after_a_cancellation(
    world, zone, database
):
    seller = await world.seller(zone, business_name="Catering Bu Sri", daily_capacity=100)
    assert await hold(database, seller.vendor.id, 50)
    assert await hold(database, seller.vendor.id, 30)
    async with database.sessionmaker() as session:
        await capacity.change_daily_capacity(session=session, vendor_id=seller.vendor.id, capacity=50, from_day=MONDAY)
        await session.execute(update(Vendor).where(col(Vendor.id) == seller.vendor.id).values(daily_capacity=50))
        await session.commit()
    assert await remaining(database, seller.vendor.id) == 0  # 80 held against a new figure of 50

    async with database.sessionmaker() as session:
        await capacity.release_capacity(session=session, vendor_id=seller.vendor.id, day=MONDAY, quantity=30)
        await session.commit()
    assert await remaining(database, seller.vendor.id) == 0  # 50 held: the day is full at the new figure
    async with database.sessionmaker() as session:
        await capacity.release_capacity(session=session, vendor_id=seller.vendor.id, day=MONDAY, quantity=50)
        await session.commit()
    assert await remaining(database, seller.vendor.id) == 50


async def test_a_vendor_saving_an_old_product_form_does_not_put_ordered_stock_back_on_sale(world, zone, database):
    from backend.catalog import service as catalog_service
    from backend.catalog.schemas import ProductInput

    seller = await world.seller(zone, business_name="Keripik Mbak Rina", daily_capacity=None)
    chips = await world.live_product(
        seller, "Keripik Singkong", category="snacks", price=8000, unit="pack", fulfilment="ready_stock", stock=25
    )
    async with database.sessionmaker() as session:
        assert await capacity.hold_stock(session=session, product_id=chips.id, quantity=10)  # an order meanwhile
        await session.commit()

    async def save(**fields):
        async with database.sessionmaker() as session:
            vendor = await session.get_one(Vendor, seller.vendor.id)
            product = await catalog_service.update_product(
                session=session,
                vendor=vendor,
                product_id=chips.id,
                now=world.now,
                data=ProductInput(
                    name="Keripik Singkong",
                    category=Category.SNACKS,
                    unit=Unit.PACK,
                    price=8500,
                    fulfilment=Fulfilment.READY_STOCK,
                    certificate_ids=list(seller.certificate_ids.values()),
                    **fields,
                ),
            )
            await session.commit()
            return product.stock

    assert await save(stock=25, stock_seen=25) == 15  # only the price changed on a form showing 25
    assert await save(stock=40, stock_seen=15) == 40  # 25 more packs made
    async with database.sessionmaker() as session:
        assert await capacity.hold_stock(session=session, product_id=chips.id, quantity=30)
        await session.commit()
    from backend.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        await save(stock=0, stock_seen=40)  # "sold 40 elsewhere", but 30 were ordered meanwhile: only 10 are left
