"""The vendor's home shows the top of the zone's "dicari" list in the vendor's categories; an entry starts a draft
product."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlmodel import col

from backend.catalog.models import ListingStatus, Product
from backend.clock import utcnow, wib_today
from backend.requests import demand
from tests.conftest import found, log_in, submit
from tests.requests.conftest import breakfast
from tests.requests.test_wanted import count
from tests.web.test_order_pages import t
from tests.web.test_vendor_pages import NASI_BOX


async def test_the_vendor_home_shows_what_its_categories_want_and_an_entry_starts_a_draft_product(
    app, client, world, zone, database, requests, canteen_staff, catering, count_queries
):
    today = wib_today(utcnow())
    for _ in range(demand.MIN_SEARCHES):
        await count(database, zone.id, "rendang", 0, today)  # a dish: no category of its own
        await count(database, zone.id, "seragam", 0, today)  # uniforms: not what a caterer sells
    await count(database, zone.id, "gudeg", 0, today)  # searched once: not listed
    await requests.post(canteen_staff, breakfast(start_date=today + timedelta(days=7)), today=today)
    seller, _ = catering
    await log_in(client, seller.user)

    count_queries.statements.clear()
    home = await client.get("/vendor")
    assert home.status_code == 200 and count_queries.count <= 5, count_queries.statements
    wanted_part = home.text.split('id="wanted"')[1].split("</section>")[0]
    assert "nasi box sarapan" in wanted_part and "rendang" in wanted_part
    assert "seragam" not in wanted_part and "gudeg" not in wanted_part
    assert t("Make a product") in wanted_part and 'href="/vendor/wanted"' in wanted_part

    # "Buat produk" on an entry opens the product form filled in from it; saved, it is the vendor's draft.
    link = found(r'href="(/vendor/products/new\?name=nasi\+box\+sarapan[^"]*)"', wanted_part).group(1)
    form = await client.get(link.replace("&amp;", "&"))
    assert form.status_code == 200 and 'value="nasi box sarapan"' in form.text
    found(r'<option value="catering"\s+selected', form.text)
    saved = await submit(client, "/vendor/products/new", {**NASI_BOX, "name": "nasi box sarapan"})
    assert saved.status_code == 303, saved.text
    async with database.sessionmaker() as session:
        product = (await session.execute(select(Product).where(col(Product.name) == "nasi box sarapan"))).scalar_one()
    assert (product.vendor_id, product.category, product.status) == (seller.vendor.id, "catering", ListingStatus.DRAFT)
