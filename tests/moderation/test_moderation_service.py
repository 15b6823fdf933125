"""Managers approve and reject listings, verify certificates, suspend vendors; the audit log keeps it all;
the daily expiry job hides listings the day after a certificate expires."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import col

from backend.accounts.models import Role
from backend.catalog.models import ListingStatus, Product
from backend.catalog.service import visible_product_ids
from backend.certification.models import Certificate, CertificateStatus
from backend.clock import wib_today
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.i18n import set_locale
from backend.moderation import service
from backend.moderation.audit import AuditFilter, list_entries
from backend.moderation.models import AuditEntry, CertificateNotice
from backend.notifications.service import list_inbox, notification_text
from backend.vendors.models import Vendor

# The expiry stories run on a fixed clock: Monday 23 November 2026, 09.00 WIB.
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
TODAY = wib_today(NOW)


async def act(database, action, **kwargs):
    async with database.sessionmaker() as session:
        result = await action(session=session, **kwargs)
        await session.commit()
        return result


async def visible(database, product_id: int, today: date = TODAY) -> bool:
    async with database.sessionmaker() as session:
        return product_id in await visible_product_ids(session=session, today=today)


async def test_a_manager_approves_a_listing_and_buyers_see_it_once_its_certificate_is_verified(
    world, vendor, manager, database
):
    shop = await world.shop(vendor)
    assert not await visible(database, shop.product.id)

    product = await act(database, service.approve_listing, now=world.now, actor=manager, product_id=shop.product.id)
    assert product.status == ListingStatus.LIVE
    assert not await visible(database, shop.product.id)  # the halal certificate is not verified yet

    await act(
        database, service.verify_certificate, now=world.now, actor=manager, certificate_id=shop.certificates[0].id
    )
    assert await visible(database, shop.product.id)


async def test_the_queue_lists_pending_listings_oldest_first_with_what_changed(world, zone, manager, database):
    first_vendor = await world.user(Role.VENDOR, zone=zone)
    second_vendor = await world.user(Role.VENDOR, zone=zone)
    first = await world.shop(first_vendor, business_name="Catering Pertama")
    second = await world.shop(second_vendor, business_name="Catering Kedua", verified=True)
    await act(database, service.approve_listing, now=world.now, actor=manager, product_id=second.product.id)
    async with database.sessionmaker() as session:  # the vendor renames the approved listing
        product = await session.get(Product, second.product.id)
        product.name, product.status = "Nasi Box Ayam Goreng", ListingStatus.PENDING_REVIEW
        await session.commit()

    async with database.sessionmaker() as session:
        queue = await service.review_queue(session=session, actor=manager)

    assert [item.product.id for item in queue] == [first.product.id, second.product.id]
    assert queue[0].first_review and queue[0].changes == []
    assert [(c.field, c.before, c.after) for c in queue[1].changes] == [
        ("name", "Nasi Box Ayam Bakar", "Nasi Box Ayam Goreng")
    ]
    assert len(queue[1].photos) == 1 and queue[1].certificates[0].status == CertificateStatus.VERIFIED


async def test_rejecting_needs_a_reason_which_the_vendor_reads(world, vendor, manager, database):
    shop = await world.shop(vendor)

    with pytest.raises(ValidationFailed):
        await act(
            database, service.reject_listing, now=world.now, actor=manager, product_id=shop.product.id, reason=" "
        )
    product = await act(
        database,
        service.reject_listing,
        now=world.now,
        actor=manager,
        product_id=shop.product.id,
        reason="Foto buram, ganti dengan foto nasi box yang jelas.",
    )

    assert product.status == ListingStatus.REJECTED
    assert product.status_reason == "Foto buram, ganti dengan foto nasi box yang jelas."
    with pytest.raises(Conflict):  # decided once
        await act(database, service.approve_listing, now=world.now, actor=manager, product_id=shop.product.id)


async def test_a_manager_of_another_zone_cannot_touch_this_zone(world, vendor, database):
    shop = await world.shop(vendor)
    other_zone = await world.zone(code="KIW", name="Kawasan Industri Wijayakusuma")
    stranger = await world.user(Role.MANAGER, zone=other_zone)

    for action, kwargs in [
        (service.approve_listing, {"product_id": shop.product.id}),
        (service.reject_listing, {"product_id": shop.product.id, "reason": "bukan wilayah saya"}),
        (service.verify_certificate, {"certificate_id": shop.certificates[0].id}),
        (service.suspend_vendor, {"vendor_id": shop.vendor.id, "reason": "bukan wilayah saya"}),
    ]:
        with pytest.raises(NotFound):
            await act(database, action, actor=stranger, now=world.now, **kwargs)
    async with database.sessionmaker() as session:
        assert await service.review_queue(session=session, actor=stranger) == []
        product = await session.get(Product, shop.product.id)
    assert product.status == ListingStatus.PENDING_REVIEW


async def test_an_admin_moderates_every_zone(world, vendor, admin, database):
    shop = await world.shop(vendor)

    product = await act(database, service.approve_listing, now=world.now, actor=admin, product_id=shop.product.id)

    assert product.status == ListingStatus.LIVE


async def test_suspending_a_vendor_hides_their_listings_and_reinstating_shows_them(world, vendor, manager, database):
    shop = await world.shop(vendor, verified=True)
    await act(database, service.approve_listing, now=world.now, actor=manager, product_id=shop.product.id)
    assert await visible(database, shop.product.id)

    await act(
        database,
        service.suspend_vendor,
        now=world.now,
        actor=manager,
        vendor_id=shop.vendor.id,
        reason="Laporan keracunan sedang diperiksa Dinkes.",
    )
    assert not await visible(database, shop.product.id)
    async with database.sessionmaker() as session:
        assert (await session.get(Vendor, shop.vendor.id)).status_reason.startswith("Laporan keracunan")

    await act(
        database,
        service.reinstate_vendor,
        now=world.now,
        actor=manager,
        vendor_id=shop.vendor.id,
        reason="Hasil lab aman.",
    )
    assert await visible(database, shop.product.id)


async def test_the_vendor_is_told_of_every_decision_in_the_managers_own_words(world, zone, vendor, manager, database):
    shop = await world.shop(vendor)
    second = await world.user(Role.VENDOR, zone=zone)
    rejected = await world.shop(second, business_name="Dapur Kedua")
    await act(database, service.approve_listing, now=world.now, actor=manager, product_id=shop.product.id)
    await act(
        database,
        service.reject_listing,
        now=world.now,
        actor=manager,
        product_id=rejected.product.id,
        reason="Foto buram, tolong foto ulang dengan cahaya terang.",
    )
    certificate_id = shop.certificates[0].id
    await act(database, service.verify_certificate, now=world.now, actor=manager, certificate_id=certificate_id)
    await act(
        database,
        service.reject_certificate,
        now=world.now,
        actor=manager,
        certificate_id=rejected.certificates[0].id,
        reason="Nomor tidak terbaca.",
    )
    vendor_id = shop.product.vendor_id
    suspend = {"actor": manager, "vendor_id": vendor_id, "now": world.now}
    await act(database, service.suspend_vendor, reason="Laporan pembeli: produk basi.", **suspend)
    await act(database, service.reinstate_vendor, reason="Sudah diperiksa ke dapur, aman.", **suspend)

    async with database.sessionmaker() as session:
        inbox = await list_inbox(session=session, user=vendor)
        other = await list_inbox(session=session, user=second)
    set_locale("id")
    told = [notification_text(note) for note in reversed(inbox.items)]
    assert told == [
        f"{shop.product.name} disetujui dan dijual kepada pembeli dalam jangkauan antar Anda.",
        f"Sertifikat Anda {shop.certificates[0].number} sudah diverifikasi: lencananya tampil di produk Anda.",
        (
            "Toko Anda dibekukan: Laporan pembeli: produk basi. Pembeli tidak bisa melihat produk Anda sampai toko "
            "dipulihkan."
        ),
        "Toko Anda dipulihkan: pembeli bisa melihat produk Anda yang tayang lagi.",  # not the audit log's reason
    ]
    assert [notification_text(note) for note in reversed(other.items)] == [
        f"{rejected.product.name} tidak disetujui: Foto buram, tolong foto ulang dengan cahaya terang.",
        f"Sertifikat Anda {rejected.certificates[0].number} ditolak: Nomor tidak terbaca.",
    ]
    assert inbox.items[-1].url == f"/vendor/products/{shop.product.id}"


async def test_the_audit_log_records_each_action_with_who_why_and_before_after(world, vendor, manager, database):
    shop = await world.shop(vendor)
    await act(
        database, service.verify_certificate, now=world.now, actor=manager, certificate_id=shop.certificates[0].id
    )
    await act(database, service.approve_listing, now=world.now, actor=manager, product_id=shop.product.id)
    await act(
        database, service.suspend_vendor, now=world.now, actor=manager, vendor_id=shop.vendor.id, reason="Izin dicabut."
    )

    async with database.sessionmaker() as session:
        entries = await list_entries(session=session, actor=manager, filters=AuditFilter())
        suspensions = await list_entries(session=session, actor=manager, filters=AuditFilter(action="vendor.suspend"))

    assert [entry.action for entry, _ in entries] == ["vendor.suspend", "listing.approve", "certificate.verify"]
    assert all(name == manager.full_name and entry.actor_id == manager.id for entry, name in entries)
    suspension = suspensions[0][0]
    assert suspension.reason == "Izin dicabut."
    assert suspension.before == {"status": "active"} and suspension.after == {"status": "suspended"}
    verified = entries[2][0]
    assert verified.before is not None and verified.after is not None
    assert verified.before["status"] == "unverified" and verified.after["status"] == "verified"


async def test_the_audit_log_cannot_be_edited(world, vendor, manager, database):
    shop = await world.shop(vendor)
    entry = await act(database, service.approve_listing, now=world.now, actor=manager, product_id=shop.product.id)
    async with database.sessionmaker() as session:
        entry_id = (await session.execute(select(col(AuditEntry.id)))).scalar_one()
        with pytest.raises((IntegrityError, DBAPIError)) as refused:
            await session.execute(update(AuditEntry).where(col(AuditEntry.id) == entry_id).values(reason="dihapus"))
        assert "append-only" in str(refused.value)
    assert entry.status == ListingStatus.LIVE


async def test_a_manager_sees_only_their_zones_audit_entries(world, vendor, manager, database):
    shop = await world.shop(vendor)
    await act(database, service.approve_listing, now=world.now, actor=manager, product_id=shop.product.id)
    other_zone = await world.zone(code="KIW", name="Kawasan Industri Wijayakusuma")
    stranger = await world.user(Role.MANAGER, zone=other_zone)

    async with database.sessionmaker() as session:
        assert await list_entries(session=session, actor=stranger, filters=AuditFilter()) == []


async def live_shop_with_halal_expiring(world, vendor, manager, database, expires_on: date):
    world.now = NOW  # the certificate is added on TODAY, so an expiry date after it is accepted
    shop = await world.shop(vendor, verified=True, expires_on=expires_on)
    await act(database, service.approve_listing, now=world.now, actor=manager, product_id=shop.product.id)
    return shop


async def test_expiry_hides_a_listing_exactly_the_day_after_its_certificate_expires(world, vendor, manager, database):
    expiry = TODAY + timedelta(days=40)
    shop = await live_shop_with_halal_expiring(world, vendor, manager, database, expiry)

    assert await visible(database, shop.product.id, today=expiry)
    assert not await visible(database, shop.product.id, today=expiry + timedelta(days=1))

    on_expiry_day = await act(database, service.run_certificate_expiry, today=expiry)
    assert on_expiry_day.expired == 0 and on_expiry_day.listings_hidden == 0
    day_after = await act(database, service.run_certificate_expiry, today=expiry + timedelta(days=1))
    assert day_after.expired == 1 and day_after.listings_hidden == 1
    async with database.sessionmaker() as session:
        hidden = (
            await session.execute(
                select(AuditEntry).where(col(AuditEntry.action) == "listing.hidden_expired_certificate")
            )
        ).scalar_one()
    assert hidden.subject_id == shop.product.id and hidden.actor_id is None and hidden.actor_role == "system"


async def test_expiry_warns_30_and_7_days_ahead_and_a_second_run_changes_nothing(world, vendor, manager, database):
    expiry = TODAY + timedelta(days=60)
    await live_shop_with_halal_expiring(world, vendor, manager, database, expiry)

    assert (await act(database, service.run_certificate_expiry, today=expiry - timedelta(days=31))).warned_30 == 0
    thirty = await act(database, service.run_certificate_expiry, today=expiry - timedelta(days=30))
    again = await act(database, service.run_certificate_expiry, today=expiry - timedelta(days=30))
    later = await act(database, service.run_certificate_expiry, today=expiry - timedelta(days=20))
    seven = await act(database, service.run_certificate_expiry, today=expiry - timedelta(days=7))

    assert (thirty.warned_30, again.warned_30, later.warned_30) == (1, 0, 0)
    assert seven.warned_7 == 1
    async with database.sessionmaker() as session:
        notices = (
            await session.execute(select(col(CertificateNotice.kind)).order_by(col(CertificateNotice.id)))
        ).scalars()
        assert list(notices) == ["warn_30", "warn_7"]
        audit_count = (await session.execute(select(func.count(col(AuditEntry.id))))).scalar_one()
    second = await act(database, service.run_certificate_expiry, today=expiry + timedelta(days=1))
    third = await act(database, service.run_certificate_expiry, today=expiry + timedelta(days=1))
    assert (second.expired, third.expired, third.listings_hidden) == (1, 0, 0)
    async with database.sessionmaker() as session:
        assert (await session.execute(select(func.count(col(AuditEntry.id))))).scalar_one() == audit_count + 1


async def test_a_renewed_certificate_gets_new_warnings(world, vendor, manager, database):
    expiry = TODAY + timedelta(days=20)
    shop = await live_shop_with_halal_expiring(world, vendor, manager, database, expiry)
    await act(database, service.run_certificate_expiry, today=TODAY)
    async with database.sessionmaker() as session:
        await session.execute(
            update(Certificate)
            .where(col(Certificate.id) == shop.certificates[0].id)
            .values(expires_on=expiry + timedelta(days=365))
        )
        await session.commit()

    renewed = await act(database, service.run_certificate_expiry, today=expiry + timedelta(days=365 - 30))

    assert renewed.warned_30 == 1


async def test_buyers_report_a_live_listing_and_managers_resolve_it(world, vendor, worker, manager, database):
    shop = await world.shop(vendor, verified=True)
    with pytest.raises(NotFound):  # not live yet
        await act(
            database, service.report_listing, reporter=worker, product_id=shop.product.id, kind="not_halal", details=""
        )
    await act(database, service.approve_listing, now=world.now, actor=manager, product_id=shop.product.id)

    report = await act(
        database,
        service.report_listing,
        reporter=worker,
        product_id=shop.product.id,
        kind="not_halal",
        details="Ada label babi di kemasan.",
    )
    async with database.sessionmaker() as session:
        reports = await service.open_reports(session=session, actor=manager)
    assert [(r.id, p.id) for r, p, _ in reports] == [(report.id, shop.product.id)]

    await act(
        database,
        service.resolve_report,
        now=world.now,
        actor=manager,
        report_id=report.id,
        resolution="Sudah dicek: label kemasan lama, vendor mengganti.",
    )
    async with database.sessionmaker() as session:
        assert await service.open_reports(session=session, actor=manager) == []


async def test_the_moderation_api_approves_and_rejects(client, world, vendor, manager, database):
    from tests.vendors.test_vendor_api import make_token

    shop = await world.shop(vendor)
    auth = await make_token(client, manager)

    queue = (await client.get("/api/v1/manager/queue", headers=auth)).json()
    assert [item["product_id"] for item in queue] == [shop.product.id]
    refused = await client.post(f"/api/v1/manager/listings/{shop.product.id}/reject", json={"reason": ""}, headers=auth)
    assert refused.status_code == 400
    rejected = await client.post(
        f"/api/v1/manager/listings/{shop.product.id}/reject", json={"reason": "Harga tidak wajar"}, headers=auth
    )
    assert rejected.json() == {"id": shop.product.id, "status": "rejected", "reason": "Harga tidak wajar"}
    audit = (await client.get("/api/v1/manager/audit", headers=auth)).json()
    assert [entry["action"] for entry in audit] == ["listing.reject"]


async def test_a_worker_cannot_use_the_moderation_api(client, worker):
    from tests.vendors.test_vendor_api import make_token

    auth = await make_token(client, worker)

    assert (await client.get("/api/v1/manager/queue", headers=auth)).status_code == 403


async def test_the_moderation_api_answers_each_decision_with_the_new_state(client, world, vendor, manager):
    from tests.vendors.test_vendor_api import make_token

    shop = await world.shop(vendor)
    certificate = shop.certificates[0]
    auth = await make_token(client, manager)

    verified = await client.post(f"/api/v1/manager/certificates/{certificate.id}/verify", headers=auth)
    approved = await client.post(f"/api/v1/manager/listings/{shop.product.id}/approve", headers=auth)
    suspended = await client.post(
        f"/api/v1/manager/vendors/{shop.vendor.id}/suspend", json={"reason": "Sertifikat palsu"}, headers=auth
    )
    reinstated = await client.post(
        f"/api/v1/manager/vendors/{shop.vendor.id}/reinstate", json={"reason": "Sudah dicek ulang"}, headers=auth
    )
    unknown = await client.post("/api/v1/manager/certificates/999999/verify", headers=auth)

    assert verified.json() == {"id": certificate.id, "status": "verified", "reason": ""}
    assert approved.json() == {
        "id": shop.product.id,
        "status": "live",
        "reason": "",
        # The zone has no canteen, gate or dormitory yet: nobody sees it, and the answer says so.
        "on_sale": True,
        "canteens": 0,
        "gates": 0,
        "dormitories": 0,
        "message": approved.json()["message"],
    }
    assert approved.json()["message"]
    assert suspended.json() == {"id": shop.vendor.id, "status": "suspended", "reason": "Sertifikat palsu"}
    assert reinstated.json() == {"id": shop.vendor.id, "status": "active", "reason": "Sudah dicek ulang"}
    assert unknown.status_code == 404
