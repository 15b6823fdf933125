"""Editing a live product never takes it off sale: the change to what a manager reviews (name, description, photos,
category, certificates) waits as a pending revision while buyers keep seeing and buying the approved version."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.accounts.models import Role, User
from backend.catalog import service as catalog
from backend.catalog.models import CatalogueEntry, ListingStatus, Product, ProductPhoto
from backend.catalog.schemas import ProductInput
from backend.catalog.service import visible_product_ids
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.media.images import process_photo
from backend.media.storage import FileSystemStorage
from backend.moderation import service
from backend.moderation.models import AuditEntry
from backend.notifications.service import list_inbox, notification_text
from backend.vendors.models import Vendor
from tests.conftest import jpeg_bytes


async def act(database, action, **kwargs):
    async with database.sessionmaker() as session:
        result = await action(session=session, **kwargs)
        await session.commit()
        return result


@pytest.fixture
def storage(settings):
    return FileSystemStorage(settings.media_dir)


@pytest.fixture
async def live(world, vendor, manager, database):
    """A vendor's nasi box, approved and on sale (its halal certificate verified)."""
    shop = await world.shop(vendor, verified=True)
    await act(database, service.approve_listing, now=world.now, actor=manager, product_id=shop.product.id)
    return shop


async def on_sale(database, world, product_id: int) -> CatalogueEntry | None:
    """The product's row in the catalogue's read model, when buyers can find and buy it."""
    async with database.sessionmaker() as session:
        entry = await session.get(CatalogueEntry, product_id)
        visible = product_id in await visible_product_ids(session=session, today=world.now.date())
        assert visible == (entry is not None)
        return entry


async def photo_keys(database, product_id: int) -> list[str]:
    async with database.sessionmaker() as session:
        rows = await session.execute(
            select(col(ProductPhoto.thumb_key))
            .where(col(ProductPhoto.product_id) == product_id)
            .order_by(col(ProductPhoto.position))
        )
        return list(rows.scalars())


async def add_new_photo(database, world, live, storage):
    async with database.sessionmaker() as session:
        vendor = await session.get_one(Vendor, live.vendor.id)
        await catalog.add_photo(
            session=session,
            vendor=vendor,
            product_id=live.product.id,
            photo=process_photo(jpeg_bytes(640, 640)),
            storage=storage,
            now=world.now,
        )
        await session.commit()


async def test_a_new_photo_on_a_live_product_waits_for_review_while_the_product_stays_on_sale(
    world, live, manager, database, storage
):
    approved_photos = await photo_keys(database, live.product.id)
    entry_before = await on_sale(database, world, live.product.id)
    assert entry_before is not None

    await add_new_photo(database, world, live, storage)

    async with database.sessionmaker() as session:
        product = await session.get_one(Product, live.product.id)
        assert product.status == ListingStatus.LIVE
    entry = await on_sale(database, world, live.product.id)
    assert entry is not None and entry.thumb_key == entry_before.thumb_key
    assert await photo_keys(database, live.product.id) == approved_photos

    async with database.sessionmaker() as session:
        changes = await service.revisions_to_review(session=session, actor=manager)
    assert len(changes) == 1
    photos = next(change for change in changes[0].changes if change.field == "photos")
    assert len(photos.before) == 1 and len(photos.after) == 2

    await act(database, service.approve_revision, now=world.now, actor=manager, revision_id=changes[0].revision.id)

    keys = await photo_keys(database, live.product.id)
    assert len(keys) == 2 and keys[0] == approved_photos[0]
    assert (await on_sale(database, world, live.product.id)) is not None
    async with database.sessionmaker() as session:
        assert await service.revisions_to_review(session=session, actor=manager) == []


def edited(product: Product, certificate_ids: list[int], **changes) -> ProductInput:
    """The vendor's form for the product, with some fields changed."""
    fields = {
        "name": product.name,
        "description": product.description,
        "category": product.category,
        "unit": product.unit,
        "price": product.price,
        "min_order_qty": product.min_order_qty,
        "fulfilment": product.fulfilment,
        "order_cutoff": product.order_cutoff,
        "tiers": [{"min_quantity": 50, "unit_price": 14000}],
        "certificate_ids": certificate_ids,
    }
    return ProductInput(**{**fields, **changes})


async def edit(database, world, live, **changes) -> None:
    async with database.sessionmaker() as session:
        vendor = await session.get_one(Vendor, live.vendor.id)
        product = await session.get_one(Product, live.product.id)
        data = edited(product, [c.id for c in live.certificates], **changes)
        await catalog.update_product(session=session, vendor=vendor, product_id=product.id, data=data, now=world.now)
        await session.commit()


async def pending_change(database, manager):
    async with database.sessionmaker() as session:
        (item,) = await service.revisions_to_review(session=session, actor=manager)
        return item


async def test_a_renamed_live_product_stays_on_sale_under_its_approved_name_while_a_new_price_applies_at_once(
    world, live, manager, database
):
    await edit(database, world, live, name="Nasi Box Ayam Goreng", description="Nasi, ayam goreng, sambal", price=14500)

    entry = await on_sale(database, world, live.product.id)
    assert entry is not None and (entry.name, entry.price) == ("Nasi Box Ayam Bakar", 14500)
    item = await pending_change(database, manager)
    assert [(c.field, c.before, c.after) for c in item.changes] == [
        ("name", "Nasi Box Ayam Bakar", "Nasi Box Ayam Goreng"),
        ("description", "", "Nasi, ayam goreng, sambal"),
    ]

    await act(database, service.approve_revision, now=world.now, actor=manager, revision_id=item.revision.id)

    entry = await on_sale(database, world, live.product.id)
    assert entry is not None and (entry.name, entry.price) == ("Nasi Box Ayam Goreng", 14500)
    assert "goreng" in entry.search_text


async def test_a_rejected_change_leaves_the_approved_version_on_sale_and_the_vendor_reads_why(
    world, live, manager, database, storage
):
    approved_photos = await photo_keys(database, live.product.id)
    await add_new_photo(database, world, live, storage)
    await edit(database, world, live, name="Nasi Box Spesial")
    item = await pending_change(database, manager)

    await act(
        database,
        service.reject_revision,
        now=world.now,
        actor=manager,
        revision_id=item.revision.id,
        reason="Foto kedua bukan nasi box.",
    )

    entry = await on_sale(database, world, live.product.id)
    assert entry is not None and entry.name == "Nasi Box Ayam Bakar"
    assert await photo_keys(database, live.product.id) == approved_photos
    async with database.sessionmaker() as session:
        assert await service.revisions_to_review(session=session, actor=manager) == []
        inbox = (await list_inbox(session=session, user=await session.get_one(User, live.vendor.user_id))).items
        entries = (
            (
                await session.execute(
                    select(AuditEntry).where(col(AuditEntry.action) == "revision.reject").order_by(col(AuditEntry.id))
                )
            )
            .scalars()
            .all()
        )
    assert "Foto kedua bukan nasi box." in notification_text(inbox[0])
    assert [(e.subject_id, e.reason, e.actor_id) for e in entries] == [
        (live.product.id, "Foto kedua bukan nasi box.", manager.id)
    ]


async def test_withdrawing_drops_the_pending_change_and_the_next_edit_starts_from_the_approved_version(
    world, live, manager, database, storage
):
    await add_new_photo(database, world, live, storage)
    await act(database, catalog.withdraw_revision, now=world.now, vendor=live.vendor, product_id=live.product.id)

    async with database.sessionmaker() as session:
        assert await service.revisions_to_review(session=session, actor=manager) == []
        view = await catalog.get_product(session=session, vendor=live.vendor, product_id=live.product.id)
        withdrawn = (
            (await session.execute(select(AuditEntry).where(col(AuditEntry.action) == "revision.withdraw")))
            .scalars()
            .one()
        )
    assert view.revision is None and len(view.editable_photos) == 1
    assert withdrawn.actor_id == live.vendor.user_id
    with pytest.raises(Conflict):
        await act(database, catalog.withdraw_revision, now=world.now, vendor=live.vendor, product_id=live.product.id)

    await edit(database, world, live, category="snacks")
    item = await pending_change(database, manager)
    assert [(c.field, c.before, c.after) for c in item.changes] == [("category", "catering", "snacks")]


async def test_a_change_is_decided_once(world, live, manager, admin, database, storage):
    await add_new_photo(database, world, live, storage)
    item = await pending_change(database, manager)

    await act(database, service.approve_revision, now=world.now, actor=manager, revision_id=item.revision.id)

    with pytest.raises(Conflict):
        await act(database, service.approve_revision, now=world.now, actor=admin, revision_id=item.revision.id)
    with pytest.raises(Conflict):
        await act(
            database,
            service.reject_revision,
            now=world.now,
            actor=admin,
            revision_id=item.revision.id,
            reason="terlambat",
        )
    with pytest.raises(Conflict):
        await act(database, catalog.withdraw_revision, now=world.now, vendor=live.vendor, product_id=live.product.id)
    assert len(await photo_keys(database, live.product.id)) == 2


async def test_another_zone_s_manager_and_another_vendor_cannot_reach_the_change(world, live, database, storage):
    await add_new_photo(database, world, live, storage)
    other_zone = await world.zone(code="KIW", name="Kawasan Industri Wijayakusuma")
    stranger = await world.user(Role.MANAGER, zone=other_zone)
    async with database.sessionmaker() as session:
        assert await service.revisions_to_review(session=session, actor=stranger) == []
        view = await catalog.get_product(session=session, vendor=live.vendor, product_id=live.product.id)
    assert view.revision is not None
    revision_id = view.revision.id

    with pytest.raises(NotFound):
        await act(database, service.approve_revision, now=world.now, actor=stranger, revision_id=revision_id)
    with pytest.raises(NotFound):
        await act(
            database, service.reject_revision, now=world.now, actor=stranger, revision_id=revision_id, reason="bukan"
        )
    rival = await world.shop(await world.user(Role.VENDOR, zone=other_zone), business_name="Usaha Lain")
    with pytest.raises(NotFound):
        await act(database, catalog.withdraw_revision, now=world.now, vendor=rival.vendor, product_id=live.product.id)
    with pytest.raises(NotFound):
        await act(
            database,
            catalog.get_product,
            vendor=rival.vendor,
            product_id=live.product.id,
        )
    async with database.sessionmaker() as session:
        view = await catalog.get_product(session=session, vendor=live.vendor, product_id=live.product.id)
    assert view.revision is not None and view.revision.id == revision_id


async def test_the_last_photo_of_a_listing_on_sale_cannot_be_removed_but_a_proposed_one_can(
    world, live, manager, database, storage
):
    async with database.sessionmaker() as session:
        view = await catalog.get_product(session=session, vendor=live.vendor, product_id=live.product.id)
    with pytest.raises(ValidationFailed):
        await act(
            database,
            catalog.remove_photo,
            now=world.now,
            vendor=live.vendor,
            product_id=live.product.id,
            photo_id=view.photos[0].id,
        )
    await add_new_photo(database, world, live, storage)
    async with database.sessionmaker() as session:
        view = await catalog.get_product(session=session, vendor=live.vendor, product_id=live.product.id)
    assert len(view.editable_photos) == 2

    await act(
        database,
        catalog.remove_photo,
        now=world.now,
        vendor=live.vendor,
        product_id=live.product.id,
        photo_id=view.editable_photos[0].id,
    )

    item = await pending_change(database, manager)
    photos = next(change for change in item.changes if change.field == "photos")
    assert [p.thumb_key for p in photos.after] == [view.editable_photos[1].thumb_key]
    assert len(await photo_keys(database, live.product.id)) == 1


async def test_an_approved_change_tells_the_vendor_and_is_in_the_audit_log(world, live, manager, database, storage):
    await add_new_photo(database, world, live, storage)
    item = await pending_change(database, manager)

    await act(database, service.approve_revision, now=world.now, actor=manager, revision_id=item.revision.id)

    async with database.sessionmaker() as session:
        inbox = (await list_inbox(session=session, user=await session.get_one(User, live.vendor.user_id))).items
        entry = (
            (await session.execute(select(AuditEntry).where(col(AuditEntry.action) == "revision.approve")))
            .scalars()
            .one()
        )
        waiting = await service.workload(session=session, actor=manager)
    assert "Nasi Box Ayam Bakar" in notification_text(inbox[0])
    assert (entry.subject_type, entry.subject_id, entry.actor_id) == ("product", live.product.id, manager.id)
    assert len(entry.before["photos"]) == 1 and len(entry.after["photos"]) == 2
    assert waiting.changes_to_review == 0


async def test_a_change_the_vendor_edited_after_the_manager_looked_is_not_approved_unseen(
    world, live, manager, database, storage
):
    await add_new_photo(database, world, live, storage)
    looked_at = await pending_change(database, manager)
    world.now += timedelta(minutes=1)
    await edit(database, world, live, name="Nasi Box Ayam Bakar Jumbo")

    with pytest.raises(Conflict) as refused:
        await act(
            database,
            service.approve_revision,
            now=world.now,
            actor=manager,
            revision_id=looked_at.revision.id,
            seen=looked_at.revision.updated_at,
        )
    assert refused.value.message == service.MSG_CHANGE_CHANGED

    looked_again = await pending_change(database, manager)
    await act(
        database,
        service.approve_revision,
        now=world.now,
        actor=manager,
        revision_id=looked_again.revision.id,
        seen=looked_again.revision.updated_at,
    )
    entry = await on_sale(database, world, live.product.id)
    assert entry is not None and entry.name == "Nasi Box Ayam Bakar Jumbo"
