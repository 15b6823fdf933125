"""What a canteen or a worker finds in the catalogue: only what may be sold to them, found the way they type."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col

from backend.accounts.models import Role
from backend.catalog import service as catalog_service
from backend.catalog.entries import refresh_entries
from backend.catalog.models import Category, Fulfilment, Unit
from backend.catalog.schemas import ProductInput
from backend.catalog.search import CatalogueQuery, Place, Sort, buyer_location, search_catalogue
from backend.certification.models import Certificate, CertificateStatus
from backend.errors import ValidationFailed
from backend.moderation import service as moderation
from backend.orders import capacity
from backend.vendors.models import Vendor
from tests.conftest import QueryCounter

# Monday 23 November 2026, 14:00 WIB.
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)
FACTORY = Place(-6.9545, 110.0322)  # KITB
PEKALONGAN = (-6.8886, 109.6753)  # about 40 km west of the zone


async def find(database, *, now: datetime = NOW, **filters) -> list[str]:
    page = await search(database, now=now, **filters)
    return [item.name for item in page.items]


async def search(database, *, now: datetime = NOW, **filters):
    filters.setdefault("near", FACTORY)
    async with database.sessionmaker() as session:
        return await search_catalogue(session=session, query=CatalogueQuery(**filters), now=now)


async def test_only_live_certified_listings_of_vendors_who_deliver_here_appear(world, zone, database):
    near = await world.seller(zone, business_name="Catering Bu Sri")
    await world.live_product(near, "Nasi Box Ayam Bakar")
    far = await world.seller(
        zone, business_name="Dapur Pekalongan", latitude=PEKALONGAN[0], longitude=PEKALONGAN[1], radius_km=10
    )
    await world.live_product(far, "Nasi Box Megono")
    far_but_wide = await world.seller(
        zone, business_name="Katering Keliling", latitude=PEKALONGAN[0], longitude=PEKALONGAN[1], radius_km=50
    )
    await world.live_product(far_but_wide, "Nasi Box Pindang")
    unverified = await world.seller(zone, business_name="Warung Baru")
    await world.live_product(unverified, "Nasi Box Telur")
    async with database.sessionmaker() as session:
        await session.execute(
            update(Certificate)
            .where(col(Certificate.vendor_id) == unverified.vendor.id)
            .values(status=CertificateStatus.UNVERIFIED)
        )
        await refresh_entries(session, vendor_id=unverified.vendor.id)  # as the certificates' services do
        await session.commit()
    expired = await world.seller(zone, business_name="Dapur Lama")
    await world.live_product(expired, "Nasi Box Rendang")
    async with database.sessionmaker() as session:
        await session.execute(
            update(Certificate)
            .where(col(Certificate.vendor_id) == expired.vendor.id)
            .values(expires_on=TODAY - timedelta(days=1))
        )
        await refresh_entries(session, vendor_id=expired.vendor.id)
        await session.commit()
    async with database.sessionmaker() as session:
        vendor = await session.get_one(Vendor, near.vendor.id)
        draft = await catalog_service.create_product(
            session=session,
            vendor=vendor,
            data=ProductInput(
                name="Nasi Box Draft",
                category=Category.CATERING,
                unit=Unit.BOX,
                price=9000,
                fulfilment=Fulfilment.MADE_TO_ORDER,
            ),
        )
        await session.commit()

    names = await find(database, text="nasi box")
    assert sorted(names) == ["Nasi Box Ayam Bakar", "Nasi Box Pindang"]
    page = await search(database, sort=Sort.DISTANCE)
    assert [item.name for item in page.items] == ["Nasi Box Ayam Bakar", "Nasi Box Pindang"]
    assert page.items[0].distance_km == pytest.approx(1.5, abs=0.2)
    assert page.items[1].distance_km == pytest.approx(39.5, abs=1.5)
    assert draft.id not in [item.product_id for item in page.items]


async def test_a_certificate_that_expired_yesterday_hides_the_listing_today_not_before(world, zone, database):
    seller = await world.seller(zone, business_name="Catering Bu Sri")
    await world.live_product(seller, "Nasi Box Ayam Bakar")
    async with database.sessionmaker() as session:
        await session.execute(update(Certificate).values(expires_on=TODAY))
        await refresh_entries(session, vendor_id=seller.vendor.id)
        await session.commit()
    assert await find(database, now=NOW) == ["Nasi Box Ayam Bakar"]
    assert await find(database, now=NOW + timedelta(days=1)) == []


async def test_a_suspended_vendors_products_are_gone_and_come_back_when_reinstated(world, zone, manager, database):
    seller = await world.seller(zone, business_name="Catering Bu Sri")
    await world.live_product(seller, "Nasi Box Ayam Bakar")
    other = await world.seller(zone, business_name="Keripik Mbak Yuni")
    await world.live_product(other, "Keripik Tempe", category="snacks", price=8000)
    async with database.sessionmaker() as session:
        await moderation.suspend_vendor(
            session=session,
            actor=manager,
            vendor_id=seller.vendor.id,
            reason="Foto produk bukan milik sendiri",
            now=world.now,
        )
        await session.commit()
    assert await find(database) == ["Keripik Tempe"]
    assert await find(database, text="nasi") == []
    async with database.sessionmaker() as session:
        await moderation.reinstate_vendor(
            session=session, actor=manager, vendor_id=seller.vendor.id, reason="Sudah diperbaiki", now=world.now
        )
        await session.commit()
    assert sorted(await find(database)) == ["Keripik Tempe", "Nasi Box Ayam Bakar"]


async def test_indonesian_search_matches_prefixes_without_case_or_accents(world, zone, database):
    sri = await world.seller(zone, business_name="Catering Bu Sri")
    await world.live_product(sri, "Nasi Box Ayam Bakar", description="Nasi putih, ayam bakar madu, lalapan")
    yuni = await world.seller(zone, business_name="Keripik Mbak Yuni")
    await world.live_product(
        yuni, "Kripik Tempe Pédas", category="snacks", price=8000, unit="pack", fulfilment="ready_stock", stock=40
    )
    jamu = await world.seller(zone, business_name="Jamu Sehat Bandar")
    await world.live_product(
        jamu,
        "Kunyit Asam",
        category="drinks",
        price=5000,
        unit="pcs",
        description="Segar, tanpa pengawet",
        fulfilment="ready_stock",
        stock=100,
    )

    assert await find(database, text="na") == ["Nasi Box Ayam Bakar"]  # typing: two letters already find it
    assert await find(database, text="NASI ayam bak") == ["Nasi Box Ayam Bakar"]
    assert await find(database, text="kripik pedas") == ["Kripik Tempe Pédas"]  # no accent typed
    assert await find(database, text="  PÉDAS!! ") == ["Kripik Tempe Pédas"]
    assert await find(database, text="bu sri") == ["Nasi Box Ayam Bakar"]  # the vendor's name
    assert await find(database, text="minuman") == ["Kunyit Asam"]  # the category
    assert await find(database, text="pengawet") == ["Kunyit Asam"]  # the description
    assert await find(database, text="rendang") == []
    assert await find(database, text="ayam rendang") == []  # every word must match
    assert sorted(await find(database, text="")) == ["Kripik Tempe Pédas", "Kunyit Asam", "Nasi Box Ayam Bakar"]
    # Search syntax typed by accident is just punctuation around the words: no error, the words still count.
    assert await find(database, text='"nasi"* (-ayam^') == ["Nasi Box Ayam Bakar"]
    assert await find(database, text='"nasi"* (-ayam^ AND') == []  # "and" is a word like any other here
    assert await find(database, text="kunyit 😀") == ["Kunyit Asam"]
    assert await find(database, text="😀 ﾅｼ") == []  # no word to look for: nothing, not everything


async def test_a_hit_in_the_name_ranks_above_a_hit_in_the_description(world, zone, database):
    seller = await world.seller(zone, business_name="Dapur Wulan")
    await world.live_product(seller, "Sayur Asem Kotak", description="Pelengkap untuk nasi box ayam")
    await world.live_product(seller, "Ayam Goreng Kremes", description="Satu potong dengan sambal")
    assert await find(database, text="ayam") == ["Ayam Goreng Kremes", "Sayur Asem Kotak"]


async def test_filters_and_sorts_combine(world, zone, database):
    near = await world.seller(zone, business_name="Catering Bu Sri", certificates=("halal", "pirt", "nib"))
    await world.live_product(
        near,
        "Nasi Box Ayam",
        price=15000,
        certificates=("halal",),
        tiers=[{"min_quantity": 50, "unit_price": 14000}, {"min_quantity": 200, "unit_price": 13000}],
    )
    await world.live_product(near, "Nasi Box Hemat", price=11000, certificates=("halal", "pirt"))
    await world.live_product(near, "Bakso Frozen", category="frozen", price=30000, unit="pack", certificates=("pirt",))
    await world.live_product(near, "Nasi Kuning Tanpa Sertifikat", price=9000, certificates=("nib",))
    further = await world.seller(
        zone, business_name="Katering Subah", latitude=-6.9725, longitude=109.8823, radius_km=40
    )
    await world.live_product(further, "Nasi Box Ikan", price=12000)

    assert await find(database, category="catering", halal_only=True, sort=Sort.PRICE) == [
        "Nasi Box Hemat",
        "Nasi Box Ikan",
        "Nasi Box Ayam",
    ]
    assert await find(database, category="catering", halal_only=True, price_max=12000, sort=Sort.PRICE) == [
        "Nasi Box Hemat",
        "Nasi Box Ikan",
    ]
    assert await find(database, price_min=12000, price_max=15000, sort=Sort.PRICE) == ["Nasi Box Ikan", "Nasi Box Ayam"]
    assert await find(database, certified_only=True, sort=Sort.PRICE) == [
        "Nasi Box Hemat",
        "Nasi Box Ikan",
        "Nasi Box Ayam",
        "Bakso Frozen",
    ]  # an NIB alone is not a badge
    assert (await find(database, text="nasi", sort=Sort.DISTANCE))[-1] == "Nasi Box Ikan"
    assert await find(database, text="nasi box", halal_only=True, price_min=14000) == ["Nasi Box Ayam"]

    ayam = (await search(database, text="ayam")).items[0]
    assert (ayam.best_tier_quantity, ayam.best_tier_price) == (200, 13000)
    assert ayam.badges == ["Halal"]
    hemat = (await search(database, text="hemat")).items[0]
    assert hemat.badges == ["Halal", "PIRT"] and hemat.best_tier_price is None

    async with database.sessionmaker() as session:  # reviews of completed orders keep these figures
        await session.execute(
            update(Vendor).where(col(Vendor.id) == further.vendor.id).values(rating_count=2, rating_sum=9)
        )
        await session.execute(
            update(Vendor).where(col(Vendor.id) == near.vendor.id).values(rating_count=4, rating_sum=14)
        )
        for seller in (near, further):
            await refresh_entries(session, vendor_id=seller.vendor.id)
        await session.commit()
    rated = (await search(database, sort=Sort.RATING)).items
    assert rated[0].name == "Nasi Box Ikan" and rated[0].rating_average == 4.5
    assert {item.rating_average for item in rated[1:]} == {3.5}


async def test_bad_filters_are_refused_with_a_reason(database):
    cases: list[tuple[dict[str, Any], str]] = [
        ({"price_min": 20000, "price_max": 10000}, "price_min"),
        ({"available_on": TODAY - timedelta(days=1)}, "available_on"),
        ({"available_on": TODAY + timedelta(days=90)}, "available_on"),
        ({"page": 0}, "page"),
        ({"near": Place(123.0, 10.0)}, "near"),
    ]
    for filters, field in cases:
        with pytest.raises(ValidationFailed) as refused:
            await search(database, **filters)
        assert refused.value.errors[0].field == field


async def test_available_for_a_date_honours_capacity_left(world, zone, database):
    seller = await world.seller(zone, business_name="Catering Bu Sri", daily_capacity=500)
    await world.live_product(seller, "Nasi Box Ayam", min_order_qty=100)
    await world.live_product(seller, "Snack Box", min_order_qty=20, price=8000)
    wednesday, thursday = TODAY + timedelta(days=2), TODAY + timedelta(days=3)
    async with database.sessionmaker() as session:  # another canteen has ordered 450 box for Wednesday
        assert await capacity.hold_capacity(session=session, vendor_id=seller.vendor.id, day=wednesday, quantity=450)
        await session.commit()

    on_wednesday = (await search(database, available_on=wednesday)).items
    assert [(item.name, item.available_quantity) for item in on_wednesday] == [("Snack Box", 50)]
    on_thursday = (await search(database, available_on=thursday, sort=Sort.PRICE)).items
    assert [(item.name, item.available_quantity) for item in on_thursday] == [
        ("Snack Box", 500),
        ("Nasi Box Ayam", 500),
    ]


async def test_available_for_a_date_honours_stock_and_working_days(world, zone, database):
    weekdays_only = await world.seller(zone, business_name="Keripik Mbak Yuni", operating_days=(1, 2, 3, 4, 5))
    await world.live_product(
        weekdays_only, "Keripik Tempe", category="snacks", fulfilment="ready_stock", stock=30, min_order_qty=5
    )
    await world.live_product(
        weekdays_only, "Keripik Singkong", category="snacks", fulfilment="ready_stock", stock=3, min_order_qty=5
    )
    saturday, tuesday = TODAY + timedelta(days=5), TODAY + timedelta(days=1)
    page = await search(database, available_on=tuesday)
    assert [(item.name, item.available_quantity) for item in page.items] == [("Keripik Tempe", 30)]
    assert await find(database, available_on=saturday) == []
    # Without a date, ready goods still show their stock.
    assert {item.available_quantity for item in (await search(database)).items} == {30, 3}


async def test_available_for_a_date_honours_the_order_before_time_and_the_lead_time(world, zone, database):
    seller = await world.seller(zone, business_name="Catering Bu Sri")
    await world.live_product(seller, "Nasi Box Ayam", order_cutoff=time(15, 0))  # order before 15:00 the day before
    await world.live_product(seller, "Tumpeng Mini", lead_time_hours=48)
    await world.live_product(seller, "Gorengan", category="snacks", lead_time_hours=2)
    tomorrow, day_after = TODAY + timedelta(days=1), TODAY + timedelta(days=2)

    at_two_pm, at_four_pm = NOW, NOW + timedelta(hours=2)
    assert sorted(await find(database, available_on=tomorrow, now=at_two_pm)) == ["Gorengan", "Nasi Box Ayam"]
    assert await find(database, available_on=tomorrow, now=at_four_pm) == ["Gorengan"]  # missed the 15:00 cut-off
    assert sorted(await find(database, available_on=day_after, now=at_four_pm)) == [
        "Gorengan",
        "Nasi Box Ayam",
        "Tumpeng Mini",
    ]
    assert await find(database, available_on=TODAY, now=at_two_pm) == ["Gorengan"]  # 10 hours left today
    late_evening = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # 22:30 WIB: 1.5 hours left today
    assert await find(database, available_on=TODAY, now=late_evening) == []


async def test_pages_of_twenty_with_a_next_page_and_two_queries_whatever_the_size(world, zone, database):
    seller = await world.seller(zone, business_name="Catering Bu Sri", certificates=("halal", "pirt"))
    for number in range(25):
        await world.live_product(
            seller,
            f"Nasi Box Menu {number:02d}",
            price=10000 + number * 100,
            tiers=[{"min_quantity": 50, "unit_price": 9000}],
        )
    with QueryCounter(database) as queries:
        first = await search(
            database, sort=Sort.PRICE, text="nasi", halal_only=True, available_on=TODAY + timedelta(days=2)
        )
    assert queries.count == 2  # the words, then the page's rows with everything their cards show
    second = await search(database, sort=Sort.PRICE, page=2, after=first.next_cursor)
    assert len(first.items) == 20 and first.has_more
    assert [item.name for item in second.items] == [f"Nasi Box Menu {n:02d}" for n in range(20, 25)]
    assert not second.has_more


async def test_near_me_is_the_phone_then_the_factory_then_the_zone(world, zone, canteen, database):
    staff = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen)
    worker = await world.user(Role.WORKER, zone=zone)
    async with database.sessionmaker() as session:
        assert await buyer_location(session=session, user=worker) == Place(zone.latitude, zone.longitude)
        assert await buyer_location(session=session, user=staff) == Place(zone.latitude, zone.longitude)
        assert await buyer_location(session=session, user=None) == Place(zone.latitude, zone.longitude)
        assert await buyer_location(session=session, user=worker, latitude=-6.9, longitude=110.0) == Place(-6.9, 110.0)
        canteen.latitude, canteen.longitude = -6.95, 110.04
        session.add(canteen)
        await session.commit()
        assert await buyer_location(session=session, user=staff) == Place(-6.95, 110.04)


async def test_names_that_grow_when_normalised_still_fit_their_columns(world, zone, database):
    seller = await world.seller(zone, business_name="㎯" * 120)  # "㎯" becomes "rad s2": six times longer
    await world.live_product(seller, "⑳" * 120)
    assert await find(database, text="2020") == ["⑳" * 120]
