"""A market manager works through the queue on the phone: approve, reject with a reason, verify a
certificate after reading it, suspend a vendor, handle a buyer's report, read the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.accounts.models import Role
from backend.catalog.models import ListingStatus, Product
from backend.certification.models import Certificate, CertificateStatus
from backend.moderation.models import AuditEntry, ListingReport
from backend.moderation.service import approve_listing
from backend.vendors.models import Vendor, VendorStatus
from tests.conftest import csrf_token, log_in, on_both_media_stores, submit


async def product_status(database, product_id: int) -> str:
    async with database.sessionmaker() as session:
        return (await session.get(Product, product_id)).status


async def test_a_manager_approves_from_the_queue_with_htmx_without_reloading(client, world, vendor, manager, database):
    shop = await world.shop(vendor)
    await log_in(client, manager)
    queue = await client.get("/manager/queue")
    assert f'id="item-{shop.product.id}"' in queue.text
    assert "Nasi Box Ayam Bakar" in queue.text and "Catering Bu Sri" in queue.text

    response = await client.post(
        f"/manager/listings/{shop.product.id}/approve",
        headers={"HX-Request": "true", "x-csrftoken": await csrf_token(client)},
    )

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<article class="card decided"')
    assert await product_status(database, shop.product.id) == ListingStatus.LIVE
    async with database.sessionmaker() as session:
        entry = (await session.execute(select(AuditEntry))).scalar_one()
    assert (entry.action, entry.actor_id, entry.subject_id) == ("listing.approve", manager.id, shop.product.id)
    assert f'id="item-{shop.product.id}"' not in (await client.get("/manager/queue")).text


async def test_rejecting_needs_a_reason_and_the_vendor_reads_it(client, other_client, world, vendor, manager, database):
    shop = await world.shop(vendor)
    await log_in(client, manager)

    refused = await submit(client, f"/manager/listings/{shop.product.id}/reject", {"reason": ""})
    assert refused.status_code == 422
    assert "Tuliskan alasannya" in refused.text
    assert await product_status(database, shop.product.id) == ListingStatus.PENDING_REVIEW

    rejected = await submit(
        client,
        f"/manager/listings/{shop.product.id}/reject",
        {"reason": "Foto buram, mohon foto ulang di tempat terang."},
    )
    assert rejected.status_code == 303
    assert await product_status(database, shop.product.id) == ListingStatus.REJECTED
    await log_in(other_client, vendor)
    products = await other_client.get("/vendor/products")
    assert "Foto buram, mohon foto ulang di tempat terang." in products.text


@on_both_media_stores
async def test_a_manager_reads_the_document_then_verifies_the_certificate(client, world, vendor, manager, database):
    shop = await world.shop(vendor)
    certificate_id = shop.certificates[0].id
    await log_in(client, manager)
    page = await client.get("/manager/certificates")
    assert "ID33250000123450523" in page.text

    document = await client.get(f"/manager/certificates/{certificate_id}/document")
    assert document.status_code == 200
    assert document.headers["content-security-policy"] == "sandbox"
    response = await submit(client, f"/manager/certificates/{certificate_id}/verify", {})

    assert response.status_code == 303
    async with database.sessionmaker() as session:
        certificate = await session.get(Certificate, certificate_id)
    assert certificate.status == CertificateStatus.VERIFIED and certificate.verified_by_id == manager.id


async def test_a_manager_of_another_zone_gets_not_found_on_every_object_of_this_zone(client, world, vendor, database):
    shop = await world.shop(vendor)
    other_zone = await world.zone(code="KIW", name="Kawasan Industri Wijayakusuma")
    stranger = await world.user(Role.MANAGER, zone=other_zone)
    await log_in(client, stranger)

    assert f"item-{shop.product.id}" not in (await client.get("/manager/queue")).text
    for response in [
        await submit(client, f"/manager/listings/{shop.product.id}/approve", {}),
        await submit(client, f"/manager/certificates/{shop.certificates[0].id}/verify", {}),
        await client.get(f"/manager/certificates/{shop.certificates[0].id}/document"),
        await submit(client, f"/manager/vendors/{shop.vendor.id}/suspend", {"reason": "bukan wilayah saya"}),
    ]:
        assert response.status_code == 404
    assert await product_status(database, shop.product.id) == ListingStatus.PENDING_REVIEW


async def test_a_manager_suspends_a_vendor_with_a_reason(client, world, vendor, manager, database):
    shop = await world.shop(vendor)
    await log_in(client, manager)

    response = await submit(
        client, f"/manager/vendors/{shop.vendor.id}/suspend", {"reason": "Izin PIRT dicabut Dinkes."}
    )

    assert response.status_code == 303
    async with database.sessionmaker() as session:
        suspended = await session.get(Vendor, shop.vendor.id)
        entry = (
            await session.execute(select(AuditEntry).where(col(AuditEntry.action) == "vendor.suspend"))
        ).scalar_one()
    assert suspended.status == VendorStatus.SUSPENDED
    assert (entry.before, entry.after, entry.reason) == (
        {"status": "active"},
        {"status": "suspended"},
        "Izin PIRT dicabut Dinkes.",
    )


async def test_a_worker_reports_a_live_listing_and_the_manager_sees_it(
    client, other_client, world, vendor, worker, manager, database
):
    shop = await world.shop(vendor, verified=True)
    async with database.sessionmaker() as session:
        await approve_listing(session=session, actor=manager, product_id=shop.product.id, now=world.now)
        await session.commit()
    await log_in(other_client, worker)
    assert (await other_client.get(f"/listings/{shop.product.id}/report")).status_code == 200

    sent = await submit(
        other_client,
        f"/listings/{shop.product.id}/report",
        {"kind": "bad_quality", "details": "Nasi basi waktu sampai."},
    )

    assert sent.status_code == 303
    await log_in(client, manager)
    reports = await client.get("/manager/reports")
    assert "Nasi basi waktu sampai." in reports.text
    async with database.sessionmaker() as session:
        report = (await session.execute(select(ListingReport))).scalar_one()
    resolved = await submit(client, f"/manager/reports/{report.id}/resolve", {"reason": "Vendor ditegur."})
    assert resolved.status_code == 303
    assert "Nasi basi" not in (await client.get("/manager/reports")).text


async def test_the_audit_page_lists_actions_newest_first_and_filters_by_action(client, world, vendor, manager):
    shop = await world.shop(vendor)
    await log_in(client, manager)
    await submit(client, f"/manager/certificates/{shop.certificates[0].id}/verify", {})
    await submit(client, f"/manager/listings/{shop.product.id}/approve", {})

    everything = await client.get("/manager/audit")
    only_verifications = await client.get("/manager/audit?action=certificate.verify")

    # In words, at a glance: what was done to what, and what changed (no codes, no JSON).
    approved = f"<strong>Listing disetujui: {shop.product.name}</strong>"
    verified = f"<strong>Sertifikat diverifikasi: {shop.certificates[0].number}</strong>"
    assert everything.text.index(approved) < everything.text.index(verified)
    assert "<dt>Status</dt><dd>Menunggu verifikasi → Terverifikasi</dd>" in everything.text
    assert "<dt>Foto</dt><dd>— → 1 foto</dd>" in everything.text
    assert "{&#34;" not in everything.text and "listing.approve</strong>" not in everything.text
    assert approved not in only_verifications.text and verified in only_verifications.text


@pytest.mark.parametrize(
    "path",
    [
        "/manager",
        "/manager/queue",
        "/manager/certificates",
        "/manager/vendors",
        "/manager/reports",
        "/manager/audit",
        "/manager/register",
    ],
)
async def test_manager_pages_stay_within_five_queries(client, world, zone, manager, count_queries, path):
    for number in range(3):
        await world.shop(await world.user(Role.VENDOR, zone=zone), business_name=f"Usaha {number}")
    await log_in(client, manager)
    count_queries.statements.clear()

    response = await client.get(path)

    assert response.status_code == 200
    assert count_queries.count <= 5, count_queries.statements


async def test_a_worker_cannot_open_the_review_queue(client, worker):
    await log_in(client, worker)

    assert (await client.get("/manager/queue")).status_code == 403


async def test_a_certificate_rejected_without_a_reason_stays_unverified(client, world, vendor, manager, database):
    shop = await world.shop(vendor)
    certificate_id = shop.certificates[0].id
    await log_in(client, manager)

    plain = await submit(client, f"/manager/certificates/{certificate_id}/reject", {"reason": " "})
    with_htmx = await client.post(
        f"/manager/certificates/{certificate_id}/reject",
        data={"reason": ""},
        headers={"HX-Request": "true", "x-csrftoken": await csrf_token(client)},
    )
    rejected = await submit(
        client,
        f"/manager/certificates/{certificate_id}/reject",
        {"reason": "Nomor di dokumen berbeda dengan yang diketik."},
    )

    assert plain.status_code == 422
    assert with_htmx.status_code == 200 and "Tuliskan alasannya" in with_htmx.text
    assert rejected.status_code == 303
    async with database.sessionmaker() as session:
        certificate = await session.get(Certificate, certificate_id)
    assert certificate.status == CertificateStatus.REJECTED
    assert certificate.status_reason == "Nomor di dokumen berbeda dengan yang diketik."
