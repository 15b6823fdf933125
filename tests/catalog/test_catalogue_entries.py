"""The catalogue's read model stays in step with what buyers may see, and its pages follow a cursor: every
change shows in the next search, and paging through a list gives each product once, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.catalog import search as catalogue_search
from backend.catalog import service as catalog_service
from backend.catalog.entries import refresh_entries
from backend.catalog.models import Category, Fulfilment, ListingStatus, Product, Unit
from backend.catalog.schemas import ProductInput, TierInput
from backend.catalog.search import CatalogueQuery, Sort, search_catalogue
from backend.certification import service as certification_service
from backend.certification.formats import CertificateKind
from backend.certification.schemas import CertificateInput
from backend.media.storage import FileSystemStorage
from backend.moderation import service as moderation
from backend.vendors import service as vendor_service
from backend.vendors.models import Vendor
from backend.vendors.schemas import VendorProfileInput
from tests.catalog.test_search import FACTORY, NOW, PEKALONGAN, TODAY, find
from tests.conftest import EXAMPLE_NUMBERS, processed_document


async def test_a_certificate_expiring_today_shows_today_and_is_gone_tomorrow_without_a_write(
    world, zone, manager, database, settings
):
    seller = await world.seller(zone, business_name="Catering Bu Sri")
    await world.live_product(seller, "Nasi Box Ayam Bakar")
    async with database.sessionmaker() as session:  # the vendor renews the number; the manager checks it
        vendor = await session.get_one(Vendor, seller.vendor.id)
        await certification_service.update_certificate(
            session=session,
            vendor=vendor,
            certificate_id=seller.certificate_ids["halal"],
            data=CertificateInput(
                kind=CertificateKind.HALAL, number=EXAMPLE_NUMBERS["halal"], issuer="BPJPH", expires_on=TODAY
            ),
            document=processed_document(300, 200),
            storage=FileSystemStorage(settings.media_dir),
            now=NOW,
        )
        await session.commit()
    assert await find(database) == []  # waiting for verification again
    async with database.sessionmaker() as session:
        await moderation.verify_certificate(
            session=session, actor=manager, certificate_id=seller.certificate_ids["halal"], now=NOW
        )
        await session.commit()
    assert await find(database) == ["Nasi Box Ayam Bakar"]
    assert await find(database, now=NOW + timedelta(days=1)) == []


async def test_pausing_resuming_and_approving_show_in_the_next_search(world, zone, manager, database):
    seller = await world.seller(zone, business_name="Catering Bu Sri")
    live = await world.live_product(seller, "Nasi Box Ayam Bakar")
    async with database.sessionmaker() as session:
        vendor = await session.get_one(Vendor, seller.vendor.id)
        await catalog_service.pause_listing(session=session, vendor=vendor, product_id=live.id, now=NOW)
        draft = await catalog_service.create_product(
            session=session,
            vendor=vendor,
            data=ProductInput(
                name="Tumpeng Mini",
                category=Category.CATERING,
                unit=Unit.BOX,
                price=25000,
                fulfilment=Fulfilment.MADE_TO_ORDER,
            ),
        )
        await session.commit()
    assert await find(database) == []
    async with database.sessionmaker() as session:
        vendor = await session.get_one(Vendor, seller.vendor.id)
        await catalog_service.resume_listing(session=session, vendor=vendor, product_id=live.id, now=NOW)
        product = await session.get_one(Product, draft.id)
        catalog_service.change_listing_status(product, ListingStatus.PENDING_REVIEW, now=NOW)
        await moderation.approve_listing(session=session, actor=manager, product_id=draft.id, now=NOW)
        await session.commit()
    assert await find(database, sort=Sort.PRICE) == ["Nasi Box Ayam Bakar", "Tumpeng Mini"]


async def test_a_new_price_changes_the_card_and_the_cheapest_first_order(world, zone, database):
    seller = await world.seller(zone, business_name="Catering Bu Sri")
    ayam = await world.live_product(seller, "Nasi Box Ayam", price=15000)
    await world.live_product(seller, "Nasi Box Hemat", price=12000)
    assert await find(database, sort=Sort.PRICE) == ["Nasi Box Hemat", "Nasi Box Ayam"]
    async with database.sessionmaker() as session:
        vendor = await session.get_one(Vendor, seller.vendor.id)
        await catalog_service.update_product(
            session=session,
            vendor=vendor,
            product_id=ayam.id,
            data=ProductInput(
                name="Nasi Box Ayam",
                category=Category.CATERING,
                unit=Unit.BOX,
                price=11000,
                fulfilment=Fulfilment.MADE_TO_ORDER,
                certificate_ids=[seller.certificate_ids["halal"]],
                tiers=[TierInput(min_quantity=50, unit_price=10000)],
            ),
            now=NOW,
        )
        await session.commit()
    async with database.sessionmaker() as session:
        page = await search_catalogue(session=session, query=CatalogueQuery(near=FACTORY, sort=Sort.PRICE), now=NOW)
    first = page.items[0]
    assert (first.name, first.price, first.best_tier_quantity, first.best_tier_price) == (
        "Nasi Box Ayam",
        11000,
        50,
        10000,
    )


async def test_a_vendor_who_moves_out_of_reach_leaves_the_list_and_comes_back_with_a_wider_radius(
    world, zone, database
):
    seller = await world.seller(zone, business_name="Catering Bu Sri")
    await world.live_product(seller, "Nasi Box Ayam Bakar")

    async def move(latitude: float, longitude: float, radius_km: float) -> None:
        async with database.sessionmaker() as session:
            await vendor_service.save_profile(
                session=session,
                user=seller.user,
                data=VendorProfileInput(
                    business_name="Catering Bu Sri",
                    owner_name=seller.user.full_name,
                    whatsapp=seller.user.phone,
                    kecamatan="Pekalongan Utara",
                    desa="Krapyak",
                    latitude=latitude,
                    longitude=longitude,
                    delivery_radius_km=radius_km,
                    daily_capacity=500,
                    operating_days=[1, 2, 3, 4, 5, 6, 7],
                ),
                now=NOW,
            )
            await session.commit()

    await move(*PEKALONGAN, radius_km=10)
    assert await find(database) == []
    await move(*PEKALONGAN, radius_km=50)
    assert await find(database) == ["Nasi Box Ayam Bakar"]


async def a_market(world, zone) -> None:
    """Three vendors at different distances and ratings, fifteen products with prices that tie."""
    places = [("Dekat", -6.9581, 110.0195, 15), ("Tengah", -6.9725, 109.8823, 40), ("Jauh", -6.8886, 109.6753, 50)]
    for number, (name, latitude, longitude, radius) in enumerate(places):
        seller = await world.seller(
            zone, business_name=f"Warung {name}", latitude=latitude, longitude=longitude, radius_km=radius
        )
        for item in range(5):
            await world.live_product(seller, f"Nasi {name} {item}", price=10000 + 1000 * ((item + number) % 3))
        async with world.database.sessionmaker() as session:  # reviews of completed orders keep these figures
            vendor = await session.get_one(Vendor, seller.vendor.id)
            vendor.rating_count, vendor.rating_sum = 2, 2 * (3 + number % 2)
            await refresh_entries(session, vendor_id=vendor.id)
            await session.commit()


async def every_page(database, **filters) -> list[str]:
    """Page after page of four, following each page's cursor, as "load more" does."""
    names: list[str] = []
    query = CatalogueQuery(near=FACTORY, **filters)
    while True:
        async with database.sessionmaker() as session:
            page = await search_catalogue(session=session, query=query, now=NOW, per_page=4)
        names += [item.name for item in page.items]
        if not page.has_more:
            return names
        query = CatalogueQuery(near=FACTORY, **filters, page=page.page + 1, after=page.next_cursor)


@pytest.mark.parametrize("sort", [Sort.DISTANCE, Sort.PRICE, Sort.RATING, Sort.RELEVANCE])
async def test_paging_by_cursor_gives_every_product_once_in_the_order_of_one_long_page(world, zone, database, sort):
    await a_market(world, zone)
    text = "nasi" if sort == Sort.RELEVANCE else ""
    paged = await every_page(database, sort=sort, text=text)
    async with database.sessionmaker() as session:
        whole = await search_catalogue(
            session=session, query=CatalogueQuery(near=FACTORY, sort=sort, text=text), now=NOW, per_page=100
        )
    assert len(paged) == 15 and len(set(paged)) == 15
    assert paged == [item.name for item in whole.items]


async def test_both_databases_and_both_ways_of_finding_words_give_the_same_answers(world, zone, database, monkeypatch):
    """A fixed market answers the same on SQLite and PostgreSQL (this test runs on each), whether the words are
    looked up in the text index or matched while walking the nearest vendors."""
    await a_market(world, zone)
    expected = {
        Sort.DISTANCE: [f"Nasi Dekat {n}" for n in range(5)] + [f"Nasi Tengah {n}" for n in range(5)],
        Sort.PRICE: ["Nasi Dekat 0", "Nasi Dekat 3", "Nasi Tengah 2", "Nasi Jauh 1", "Nasi Jauh 4"],
        Sort.RATING: [f"Nasi Tengah {n}" for n in range(5)] + [f"Nasi Dekat {n}" for n in range(5)],
    }
    for sort, names in expected.items():
        assert (await find(database, sort=sort))[: len(names)] == names, sort
    by_index = await find(database, text="tengah")
    monkeypatch.setattr(catalogue_search, "INDEX_LIMIT", -1)  # every word counts as common: walk the vendors
    assert await find(database, text="tengah") == by_index == [f"Nasi Tengah {n}" for n in range(5)]
    assert await find(database, text="nasi", halal_only=True, sort=Sort.PRICE) == await find(database, sort=Sort.PRICE)
    monkeypatch.undo()  # and from the text index, paging by rating
    assert await every_page(database, text="tengah", sort=Sort.RATING) == [f"Nasi Tengah {n}" for n in range(5)]
