"""What a checkout carries besides the goods: the canteen's delivery settings (address, receiving contact and phone,
usual notes) and its purchase-order number, written on every order it places."""

from __future__ import annotations

import pytest

from backend.accounts import service as accounts
from backend.accounts.models import Role
from backend.errors import Forbidden, ValidationFailed
from backend.reports import exports
from backend.reports import service as reports
from tests.orders.conftest import NEXT_MONDAY, NOW


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
    _, nasi_box = catering
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
    csv = exports.canteen_orders(listed).content.decode("utf-8-sig")
    assert '"nomor_po"' in csv.splitlines()[0]
    assert (
        f'"{order.number}","2026-11-23","2026-11-30","11:00","Catering Bu Sri","placed","PO-2026/117","2600000"' in csv
    )


async def test_a_po_number_longer_than_40_characters_is_refused_and_nothing_is_placed(ordering, catering):
    _, nasi_box = catering
    buyer = await ordering.canteen_buyer()
    await ordering.put_in_cart(buyer, nasi_box.id, 200)
    with pytest.raises(ValidationFailed) as refused:
        await ordering.checkout(buyer, po_number="P" * 41)
    assert [(e.field, e.params) for e in refused.value.errors] == [("po_number", {"limit": 40})]
    assert await ordering.count_orders() == 0
