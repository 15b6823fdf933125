"""What a checkout carries besides the goods: the canteen's delivery settings (address, receiving contact and phone,
usual notes) and its purchase-order number, written on every order it places."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from backend.accounts import service as accounts
from backend.accounts.models import Organisation, Role
from backend.errors import Forbidden, ValidationFailed
from backend.money import format_rupiah
from backend.orders import cart as carts
from backend.orders.delivery import MSG_BEYOND_BANDS, MSG_LEAD_TIME, MSG_MINIMUM, buyer_place
from backend.orders.models import OrderStatus
from backend.orders.states import change_status
from backend.payments.models import Invoice
from backend.reports import exports
from backend.reports import service as reports
from backend.vendors.models import Vendor
from tests.orders.conftest import NEXT_MONDAY, NOW, in_days


async def save_settings(database, staff, **fields):
    values = {"delivery_address": "", "receiving_contact": "", "receiving_phone": "", "delivery_notes": ""}
    async with database.sessionmaker() as session:
        organisation = await accounts.save_canteen_settings(session=session, actor=staff, **{**values, **fields})
        await session.commit()
        return organisation


async def test_canteen_settings_keep_the_phone_in_e164_and_refuse_one_that_is_not_a_mobile(database, canteen_staff):
    saved = await save_settings(
        database,
        canteen_staff,
        delivery_address="Jl. Raya KITB Blok C-3, pintu dapur",
        receiving_contact="Bu Ani",
        receiving_phone="0812-3456-7890",
        delivery_notes="Lewat gerbang 2",
    )
    assert (saved.address, saved.receiving_phone) == ("Jl. Raya KITB Blok C-3, pintu dapur", "+6281234567890")
    with pytest.raises(ValidationFailed) as refused:
        await save_settings(database, canteen_staff, receiving_contact="Pak Budi", receiving_phone="021-555-1234")
    assert [error.field for error in refused.value.errors] == ["receiving_phone"]
    async with database.sessionmaker() as session:
        kept = await accounts.canteen_settings(session=session, actor=canteen_staff)
    assert (kept.receiving_contact, kept.receiving_phone) == ("Bu Ani", "+6281234567890")


async def test_only_a_canteens_own_staff_read_or_change_its_settings(database, world, zone, canteen_staff, worker):
    other = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=await world.organisation(zone, "Kantin B"))
    await save_settings(database, canteen_staff, receiving_contact="Bu Ani")
    async with database.sessionmaker() as session:
        assert (await accounts.canteen_settings(session=session, actor=other)).receiving_contact == ""
        with pytest.raises(Forbidden):
            await accounts.canteen_settings(session=session, actor=worker)


async def test_an_order_carries_the_receiving_contact_and_the_po_number_and_the_export_lists_it(
    ordering, database, catering
):
    seller, nasi_box = catering
    buyer = await ordering.canteen_buyer()
    await save_settings(
        database, buyer, delivery_address="Pintu dapur", receiving_contact="Bu Ani", receiving_phone="081234567890"
    )
    await ordering.put_in_cart(buyer, nasi_box.id, 200)
    order = (await ordering.checkout(buyer, po_number=" PO-2026/117 ")).orders[0]
    assert (order.receiving_contact, order.receiving_phone) == ("Bu Ani", "+6281234567890")
    assert order.po_number == "PO-2026/117" and order.delivery_address == "Kantin PT Sinar, Pintu dapur"

    async with database.sessionmaker() as session:
        listed = await reports.canteen_orders(
            session=session, actor=buyer, today=NOW.date(), start=NEXT_MONDAY, end=NEXT_MONDAY
        )
        sold = await reports.vendor_orders(
            session=session, vendor=seller.vendor, today=NOW.date(), start=NEXT_MONDAY, end=NEXT_MONDAY
        )
    vendor_csv = exports.vendor_orders(sold).content.decode("utf-8-sig")
    assert '"pembeli"' in vendor_csv and '"Kantin PT Sinar","placed","PO-2026/117"' in vendor_csv
    csv = exports.canteen_orders(listed).content.decode("utf-8-sig")
    assert '"nomor_po"' in csv.splitlines()[0]
    assert (
        f'"{order.number}","2026-11-23","2026-11-30","11:00","Catering Bu Sri","placed","PO-2026/117","0","0","2600000"'
        in csv
    )


async def test_a_po_number_longer_than_40_characters_is_refused_and_nothing_is_placed(ordering, catering):
    _, nasi_box = catering
    buyer = await ordering.canteen_buyer()
    await ordering.put_in_cart(buyer, nasi_box.id, 200)
    with pytest.raises(ValidationFailed) as refused:
        await ordering.checkout(buyer, po_number="P" * 41)
    assert [(e.field, e.params) for e in refused.value.errors] == [("po_number", {"limit": 40})]
    assert await ordering.count_orders() == 0


# --- the delivery times offered ----------------------------------------------------------------------------


async def open_between(database, vendor_id: int, opens: time, closes: time) -> None:
    async with database.sessionmaker() as session:
        await session.execute(
            update(Vendor).where(col(Vendor.id) == vendor_id).values(opens_at=opens, closes_at=closes)
        )
        await session.commit()


async def slots_for(database, buyer, day) -> list[time]:
    async with database.sessionmaker() as session:
        cart = await carts.view_cart(session=session, buyer=buyer, today=NOW.date())
    return cart.offered_slots(day=day, now=NOW)


async def test_only_slots_within_the_vendors_hours_and_lead_time_are_offered_and_placement_agrees(
    ordering, database, world, zone, catering
):
    seller, nasi_box = catering  # order by 15.00 the day before
    await open_between(database, seller.vendor.id, time(7), time(13))
    snacks = await world.seller(zone, business_name="Snack Bu Tini")
    risoles = await world.live_product(
        snacks, "Risoles", category="snacks", unit="pcs", fulfilment="ready_stock", stock=500, lead_time_hours=5
    )
    buyer = await ordering.canteen_buyer()
    await ordering.put_in_cart(buyer, nasi_box.id, 200)

    assert await slots_for(database, buyer, in_days(1)) == [time(hour) for hour in range(7, 14)]
    assert await slots_for(database, buyer, NOW.date()) == []  # today's cut-off was yesterday at 15.00
    await ordering.put_in_cart(buyer, risoles.id, 100)
    assert (await slots_for(database, buyer, in_days(1)))[:1] == [time(7)]

    async with database.sessionmaker() as session:  # ready goods alone: five hours from 09.00 is 14.00 today
        await carts.remove_line(session=session, buyer=buyer, product_id=nasi_box.id, today=NOW.date())
        await session.commit()
    assert await slots_for(database, buyer, NOW.date()) == [time(hour) for hour in range(14, 23)]
    with pytest.raises(ValidationFailed) as refused:  # 13.00 is not offered, and placing it is refused alike
        await ordering.checkout(buyer, day=NOW.date(), slot=time(13))
    assert [error.message for error in refused.value.errors] == [MSG_LEAD_TIME]
    assert (await ordering.checkout(buyer, day=NOW.date(), slot=time(14))).orders


async def test_the_checkout_proposes_the_first_day_the_cart_can_still_be_delivered(ordering, database, catering):
    _, nasi_box = catering
    buyer = await ordering.canteen_buyer()
    await ordering.put_in_cart(buyer, nasi_box.id, 200)
    async with database.sessionmaker() as session:
        cart = await carts.view_cart(session=session, buyer=buyer, today=NOW.date())
    assert cart.first_delivery_day(now=NOW) == in_days(1)  # Monday 09.00: before the 15.00 cut-off
    assert cart.first_delivery_day(now=NOW + timedelta(hours=7)) == in_days(2)  # Monday 16.00: too late for Tuesday


# --- a colleague's order for the same delivery -------------------------------------------------------------


async def warnings_for(database, buyer, day, slot):
    async with database.sessionmaker() as session:
        return await carts.colleague_order_warnings(session=session, buyer=buyer, day=day, slot=slot)


async def test_a_canteen_is_warned_of_a_colleagues_open_order_with_the_same_vendor_for_the_same_delivery(
    ordering, database, world, zone, catering
):
    seller, nasi_box = catering
    first = await ordering.canteen_buyer()
    colleague = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=await first_organisation(database, first))
    elsewhere = await ordering.canteen_buyer("Kantin PT Lain")
    placed = await ordering.order(first, nasi_box.id, 100)
    for buyer in (colleague, elsewhere, first):
        await ordering.put_in_cart(buyer, nasi_box.id, 50)

    [warning] = await warnings_for(database, colleague, NEXT_MONDAY, time(11))
    assert (warning.code, warning.order_id, warning.vendor_id) == ("colleague_order", placed.id, seller.vendor.id)
    assert warning.params == {"name": first.full_name, "number": placed.number, "vendor": "Catering Bu Sri"}
    assert await warnings_for(database, colleague, NEXT_MONDAY, time(12)) == []  # another slot
    assert await warnings_for(database, elsewhere, NEXT_MONDAY, time(11)) == []  # another canteen
    assert await warnings_for(database, first, NEXT_MONDAY, time(11)) == []  # their own order

    assert (await ordering.checkout(colleague)).orders  # warned, not stopped
    async with database.sessionmaker() as session:
        await change_status(
            session=session,
            order_id=placed.id,
            target=OrderStatus.CANCELLED,
            actor=first,
            reason="Dobel",
            now=NOW,
            today=NEXT_MONDAY,
        )
        await session.commit()
    await ordering.put_in_cart(first, nasi_box.id, 50)
    [left] = await warnings_for(database, first, NEXT_MONDAY, time(11))  # the colleague's order is still open
    assert left.params["name"] == colleague.full_name


async def first_organisation(database, staff):
    async with database.sessionmaker() as session:
        return await session.get_one(Organisation, staff.organisation_id)


# --- delivery fees and minimum orders ---------------------------------------------------------------------

# 33 km north of the vendors' kitchen (-6.9581, 110.0195), as the crow flies.
FAR_LATITUDE = -6.9581 + 33 / 111.195


async def charging(database, vendor_id: int, **fields) -> None:
    async with database.sessionmaker() as session:
        await session.execute(update(Vendor).where(col(Vendor.id) == vendor_id).values(**fields))
        await session.commit()


async def far_canteen_buyer(ordering, database):
    buyer = await ordering.canteen_buyer("Kantin PT Jauh")
    async with database.sessionmaker() as session:
        await session.execute(
            update(Organisation)
            .where(col(Organisation.id) == buyer.organisation_id)
            .values(latitude=FAR_LATITUDE, longitude=110.0195)
        )
        await session.commit()
    return buyer


@pytest.fixture
async def chips(world, zone):
    """Keripik Mbak Yuni delivers up to 40 km: a pack of chips at Rp 8.000, ready goods."""
    seller = await world.seller(zone, business_name="Keripik Mbak Yuni", radius_km=40)
    product = await world.live_product(
        seller, "Keripik Singkong", category="snacks", unit="pack", price=8000, fulfilment="ready_stock", stock=100
    )
    return seller, product


async def test_a_2_pack_order_33_km_away_pays_the_vendors_fee_for_that_distance(ordering, database, chips):
    seller, product = chips
    bands = [{"up_to_km": 10, "fee": 5000}, {"up_to_km": 40, "fee": 25000}]
    await charging(database, seller.vendor.id, delivery_fee=3000, delivery_fee_bands=bands)
    buyer = await far_canteen_buyer(ordering, database)
    await ordering.put_in_cart(buyer, product.id, 2)
    async with database.sessionmaker() as session:
        cart = await carts.view_cart(session=session, buyer=buyer, today=NOW.date())
        place = await buyer_place(session=session, buyer=buyer)
    assert cart.charges(place)[seller.vendor.id].fee == 25000  # shown in the cart before checkout

    order = (await ordering.checkout(buyer)).orders[0]
    assert (order.goods_total, order.delivery_fee, order.total) == (16000, 25000, 41000)
    async with database.sessionmaker() as session:
        invoice = (await session.execute(select(Invoice))).scalar_one()
    assert invoice.amount == 41000


async def test_a_2_pack_order_33_km_away_is_refused_beyond_the_last_band_or_under_the_minimum(
    ordering, database, chips
):
    seller, product = chips
    await charging(database, seller.vendor.id, delivery_fee_bands=[{"up_to_km": 30, "fee": 20000}])
    buyer = await far_canteen_buyer(ordering, database)
    await ordering.put_in_cart(buyer, product.id, 2)
    with pytest.raises(ValidationFailed) as beyond:
        await ordering.checkout(buyer)
    [problem] = beyond.value.errors
    assert (problem.field, problem.message) == (f"vendor-{seller.vendor.id}", MSG_BEYOND_BANDS)
    assert problem.params["limit"] == "30" and problem.params["distance"] == "33.0"

    await charging(database, seller.vendor.id, delivery_fee_bands=[], delivery_fee=10000, min_order_value=50000)
    with pytest.raises(ValidationFailed) as too_small:
        await ordering.checkout(buyer)
    [problem] = too_small.value.errors
    assert problem.message == MSG_MINIMUM
    assert (problem.params["minimum"], problem.params["missing"]) == (format_rupiah(50000), format_rupiah(34000))
    assert await ordering.count_orders() == 0

    await ordering.put_in_cart(buyer, product.id, 7)  # Rp 56.000 of chips
    order = (await ordering.checkout(buyer)).orders[0]
    assert (order.delivery_fee, order.total) == (10000, 66000)
