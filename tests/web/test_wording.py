"""What pages say: counted units agree with their numbers, dates stand apart, and a reader gets one language."""

from __future__ import annotations

import re
from datetime import date

from backend.accounts.auth import LANGUAGE_COOKIE
from backend.accounts.models import Role
from backend.certification.models import Certificate
from tests.conftest import log_in


def words(html: str) -> str:
    """A page's text as a reader sees it: tags dropped, spaces collapsed."""
    body = html.split("<main", 1)[1] if "<main" in html else html
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


async def english(client) -> None:
    client.cookies.set(LANGUAGE_COOKIE, "en")


async def test_counted_units_agree_with_their_numbers_in_english(client, world, zone, canteen):
    seller = await world.seller(zone, business_name="Konveksi Subah", certificates=())
    await world.live_product(
        seller,
        "Seragam Kerja",
        category="uniforms",
        unit="pcs",
        price=165000,
        min_order_qty=12,
        tiers=[{"min_quantity": 200, "unit_price": 140000}],
        fulfilment="ready_stock",
        stock=1,
        certificates=(),
    )
    await world.live_product(
        seller, "Nasi Box", unit="box", price=15000, min_order_qty=1, fulfilment="ready_stock", stock=1, certificates=()
    )
    staff = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen)
    await log_in(client, staff)
    await english(client)

    catalogue = words((await client.get("/catalogue")).text)

    assert "from 200 pieces" in catalogue and "1 piece in stock" in catalogue
    assert "1 box in stock" in catalogue
    assert "200 pcs" not in catalogue and "1 pieces" not in catalogue


async def test_indonesian_pages_keep_the_short_unit_names(client, world, zone, canteen):
    seller = await world.seller(zone, business_name="Konveksi Subah", certificates=())
    await world.live_product(
        seller,
        "Seragam Kerja",
        category="uniforms",
        unit="pcs",
        price=165000,
        tiers=[{"min_quantity": 200, "unit_price": 140000}],
        certificates=(),
    )
    staff = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen)
    await log_in(client, staff)

    catalogue = words((await client.get("/catalogue")).text)

    assert "mulai 200 pcs" in catalogue


async def test_a_certificate_without_expiry_keeps_its_issue_date_apart(client, world, zone, database):
    seller = await world.seller(zone, business_name="Catering Bu Sri", certificates=("nib",))
    async with database.sessionmaker() as session:
        certificate = await session.get_one(Certificate, seller.certificate_ids["nib"])
        certificate.issued_on, certificate.expires_on = date(2025, 5, 20), None
        await session.commit()
    await log_in(client, seller.user)

    page = words((await client.get("/vendor/certificates")).text)

    assert "Terbit 20 Mei 2025 · Tanpa masa berlaku" in page


async def test_a_page_that_does_not_exist_speaks_the_readers_language(client):
    indonesian = await client.get("/no-such-page")
    await english(client)
    in_english = await client.get("/no-such-page")

    assert indonesian.status_code == in_english.status_code == 404
    assert "Halaman tidak ditemukan" in indonesian.text and "<title>Halaman tidak ditemukan ·" in indonesian.text
    assert '<html lang="en">' in in_english.text
    assert "Page not found" in in_english.text and "Halaman" not in in_english.text
