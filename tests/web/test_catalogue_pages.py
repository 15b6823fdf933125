"""The catalogue as a buyer's phone gets it: full pages without JavaScript, fragments with htmx, few queries."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import col

from backend.accounts import service as account_service
from backend.accounts.models import Role
from backend.clock import utcnow, wib_today
from tests.conftest import QueryCounter, found, log_in, submit

PEKALONGAN = (-6.8886, 109.6753)


async def catalogue_of(world, zone):
    sri = await world.seller(zone, business_name="Catering Bu Sri", certificates=("halal", "pirt"))
    for number in range(23):
        await world.live_product(
            sri,
            f"Nasi Box Menu {number:02d}",
            price=12000 + number * 100,
            tiers=[{"min_quantity": 50, "unit_price": 11000}, {"min_quantity": 200, "unit_price": 10000}],
            certificates=("halal",),
        )
    yuni = await world.seller(zone, business_name="Keripik Mbak Yuni", certificates=("pirt",))
    await world.live_product(
        yuni, "Keripik Tempe <Pedas>", category="snacks", unit="pack", price=8000, fulfilment="ready_stock", stock=40
    )
    far = await world.seller(
        zone, business_name="Dapur Pekalongan", latitude=PEKALONGAN[0], longitude=PEKALONGAN[1], radius_km=10
    )
    await world.live_product(far, "Nasi Box Megono")
    return sri, yuni, far


async def api_token(database, user) -> str:
    async with database.sessionmaker() as session:
        raw, _ = await account_service.create_api_token(session=session, user=user, name="pengadaan")
        await session.commit()
        return raw


def product_names(html: str) -> list[str]:
    return re.findall(r'<a class="card-link" href="/products/\d+[^"]*"><strong>([^<]+)</strong>', html)


async def test_a_visitor_searches_and_pages_through_without_javascript(client, world, zone):
    await catalogue_of(world, zone)
    page = await client.get("/catalogue", params={"q": "nasi box", "sort": "price"})
    assert page.status_code == 200
    names = product_names(page.text)
    assert names == [f"Nasi Box Menu {n:02d}" for n in range(20)]  # Pekalongan's does not reach the zone
    assert "Rp 12.000" in page.text and "Rp 10.000" in page.text  # price and best bulk tier
    assert "Halal" in page.text
    more = found(r'<a class="button wide" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    assert "page=2" in more and "after=" in more and "q=nasi+box" in more
    second = await client.get(more)
    assert product_names(second.text) == ["Nasi Box Menu 20", "Nasi Box Menu 21", "Nasi Box Menu 22"]
    assert "Load more" not in second.text and "Muat" not in second.text
    assert "HX-Request" in page.headers["vary"]


async def test_typing_in_the_search_box_swaps_only_the_results(client, world, zone):
    await catalogue_of(world, zone)
    fragment = await client.get(
        "/catalogue", params={"q": "kerip"}, headers={"HX-Request": "true", "HX-Target": "results"}
    )
    assert fragment.text.lstrip().startswith('<div id="results"')
    assert "<html" not in fragment.text
    assert product_names(fragment.text) == ["Keripik Tempe &lt;Pedas&gt;"]  # escaped, never raw HTML


async def test_going_back_after_htmx_lost_its_copy_gives_the_whole_page(client, world, zone):
    """htmx pushed the search into the address bar; when its saved copy is gone it asks the server again, and a
    fragment alone would leave the phone with a page without its header, search box or styles."""
    await catalogue_of(world, zone)
    restored = await client.get(
        "/catalogue", params={"q": "kerip"}, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert restored.status_code == 200
    assert restored.text.lstrip().startswith("<!doctype html>")
    assert product_names(restored.text) == ["Keripik Tempe &lt;Pedas&gt;"]
    assert "HX-Request" in restored.headers["vary"]


async def test_load_more_with_htmx_returns_the_next_rows_only(client, world, zone):
    await catalogue_of(world, zone)
    first = await client.get("/catalogue", params={"q": "nasi", "sort": "price"})
    more = found(r'<a class="button wide" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
    rows = await client.get(more, headers={"HX-Request": "true", "HX-Target": "more-2"})
    assert rows.text.lstrip().startswith('<li class="item result"')
    assert product_names(rows.text) == ["Nasi Box Menu 20", "Nasi Box Menu 21", "Nasi Box Menu 22"]


async def test_filters_from_the_form_and_bad_input_explained_in_indonesian(client, world, zone):
    await catalogue_of(world, zone)
    halal_snacks = await client.get("/catalogue", params={"category": "snacks", "halal": "1"})
    assert product_names(halal_snacks.text) == []
    assert "Tidak ada yang ditemukan" in halal_snacks.text
    cheap = await client.get("/catalogue", params={"price_max": "8.000"})
    assert product_names(cheap.text) == ["Keripik Tempe &lt;Pedas&gt;"]
    bad = await client.get("/catalogue", params={"price_min": "murah", "date": "kemarin"})
    assert bad.status_code == 400
    assert "Tulis harga seperti 15000 atau 15.000." in bad.text
    past = await client.get("/catalogue", params={"date": (wib_today(utcnow()) - timedelta(days=1)).isoformat()})
    assert past.status_code == 400 and "Pilih hari ini atau tanggal setelahnya." in past.text
    # With htmx the message replaces the stale results (htmx swaps only 2xx answers).
    swapped = await client.get(
        "/catalogue",
        params={"price_min": "20000", "price_max": "100"},
        headers={"HX-Request": "true", "HX-Target": "results"},
    )
    assert swapped.status_code == 200 and 'role="alert"' in swapped.text
    assert "Harga terendah tidak boleh di atas harga tertinggi." in swapped.text
    assert product_names(swapped.text) == []


async def test_the_catalogue_page_costs_at_most_five_queries_whatever_the_number_of_products(
    client, world, zone, canteen, app
):
    await catalogue_of(world, zone)
    staff = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen)
    await log_in(client, staff)
    with QueryCounter(app.state.database) as queries:
        page = await client.get("/catalogue", params={"q": "nasi", "halal": "1"})
    assert page.status_code == 200 and len(product_names(page.text)) == 20
    assert queries.count <= 5, queries.statements


async def test_a_product_page_shows_tiers_certificates_and_what_is_left(client, world, zone, canteen, app):
    sri, _, _ = await catalogue_of(world, zone)
    product = await world.live_product(
        sri,
        "Tumpeng Mini",
        price=250000,
        unit="pcs",
        order_cutoff=None,
        lead_time_hours=24,
        description="Untuk syukuran\nisi 10 porsi",
    )
    staff = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen)
    await log_in(client, staff)
    day = wib_today(utcnow()) + timedelta(days=3)
    with QueryCounter(app.state.database) as queries:
        page = await client.get(f"/products/{product.id}", params={"date": day.isoformat()})
    assert page.status_code == 200
    assert queries.count <= 5, queries.statements
    assert "Tumpeng Mini" in page.text and "Rp 250.000" in page.text
    assert "500 pcs masih bisa dipesan" in page.text
    assert "https://wa.me/62" in page.text
    assert f"/listings/{product.id}/report" in page.text
    assert (await client.get("/products/999999")).status_code == 404


async def test_a_vendor_page_shows_verified_certificates_products_and_a_whatsapp_link(client, world, zone, app):
    sri, _, far = await catalogue_of(world, zone)
    worker = await world.user(Role.WORKER, zone=zone)
    await log_in(client, worker)
    with QueryCounter(app.state.database) as queries:
        page = await client.get(f"/vendors/{sri.vendor.id}")
    assert page.status_code == 200
    assert queries.count <= 5, queries.statements
    assert "Catering Bu Sri" in page.text
    assert 'Halal (BPJPH) <span class="muted">ID33250000123450523</span>' in page.text  # verified certificate
    assert len(product_names(page.text)) == 23
    assert "wa.me/62" in page.text
    far_page = await client.get(f"/vendors/{far.vendor.id}")
    assert "tidak mengantar ke lokasi Anda" in far_page.text
    assert (await client.get("/vendors/999999")).status_code == 404


async def test_the_api_offers_the_same_search_with_problem_bodies_for_bad_input(client, world, zone):
    _sri, yuni, _ = await catalogue_of(world, zone)
    found = await client.get("/api/v1/catalogue/products", params={"q": "keripik", "certified": "true"})
    assert found.status_code == 200
    body = found.json()
    assert [item["name"] for item in body["items"]] == ["Keripik Tempe <Pedas>"]
    assert body["items"][0]["badges"] == ["PIRT"] and body["items"][0]["available_quantity"] == 40
    wrong = await client.get("/api/v1/catalogue/products", params={"price_min": "20000", "price_max": "100"})
    assert wrong.status_code in (400, 422)
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert "price" in wrong.text.lower()
    vendor = (await client.get(f"/api/v1/catalogue/vendors/{yuni.vendor.id}")).json()
    assert vendor["business_name"] == "Keripik Mbak Yuni" and len(vendor["products"]) == 1
    assert vendor["whatsapp"] is None  # a visitor without a token does not get the vendor's number
    product_id = body["items"][0]["product_id"]
    detail = (await client.get(f"/api/v1/catalogue/products/{product_id}")).json()
    assert detail["available_quantity"] == 40 and detail["certificates"][0]["kind"] == "pirt"
    assert (await client.get("/api/v1/catalogue/products/999999")).status_code == 404


async def test_a_canteen_sets_its_factory_location_and_the_catalogue_measures_from_there(
    client, world, zone, canteen, database
):
    _, _, _far = await catalogue_of(world, zone)
    staff = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen)
    await log_in(client, staff)
    assert "Nasi Box Megono" not in product_names((await client.get("/catalogue")).text)

    refused = await submit(client, "/canteen/location", {"latitude": "-6,90", "longitude": "utara"})
    assert refused.status_code == 400
    assert "Tulis lokasi sebagai angka" in refused.text
    saved = await submit(client, "/canteen/location", {"latitude": "-6,8950", "longitude": "109,6800"})
    assert saved.status_code == 303 and saved.headers["location"] == "/canteen?notice=location"
    page = await client.get("/catalogue")
    assert "Nasi Box Megono" in product_names(page.text)  # Pekalongan is now a few hundred metres away
    assert "Jarak dihitung dari pabrik atau kawasan Anda." in page.text


async def test_the_factory_location_through_the_api_is_for_canteen_staff_only(client, world, zone, canteen, database):
    staff = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen)
    worker = await world.user(Role.WORKER, zone=zone)
    staff_token = await api_token(database, staff)
    response = await client.put(
        "/api/v1/canteen/location",
        json={"latitude": -6.95, "longitude": 110.04},
        headers={"Authorization": f"Bearer {staff_token}"},
    )
    assert response.status_code == 200 and response.json() == {"latitude": -6.95, "longitude": 110.04}
    half = await client.put(
        "/api/v1/canteen/location", json={"latitude": -6.95}, headers={"Authorization": f"Bearer {staff_token}"}
    )
    assert half.status_code in (400, 422) and half.headers["content-type"].startswith("application/problem+json")
    worker_token = await api_token(database, worker)
    denied = await client.put(
        "/api/v1/canteen/location",
        json={"latitude": -6.95, "longitude": 110.04},
        headers={"Authorization": f"Bearer {worker_token}"},
    )
    assert denied.status_code == 403


async def test_a_vendor_who_has_not_set_a_location_has_a_page_that_says_so(client, world, zone, database):
    from sqlalchemy import update

    from backend.vendors.models import Vendor

    seller = await world.seller(zone, business_name="Warung Baru Bu Tini")
    async with database.sessionmaker() as session:
        await session.execute(
            update(Vendor).where(col(Vendor.id) == seller.vendor.id).values(latitude=None, longitude=None)
        )
        await session.commit()
    page = await client.get(f"/vendors/{seller.vendor.id}")
    assert page.status_code == 200
    assert "Penjual ini belum mengatur lokasinya." in page.text
