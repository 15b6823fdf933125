"""On the phone: a vendor adds a photo to a product on sale, buyers keep buying the approved version, the market
manager compares the two versions side by side and approves or rejects the change; the vendor may withdraw it.
The JSON API does the same through the same rules."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from backend.accounts.models import Role
from backend.clock import format_datetime_wib
from backend.moderation import service
from tests.conftest import csrf_token, found, jpeg_bytes, log_in, on_both_media_stores, submit
from tests.test_errors_and_health import api_token


async def act(database, action, **kwargs):
    async with database.sessionmaker() as session:
        result = await action(session=session, **kwargs)
        await session.commit()
        return result


@pytest.fixture
async def live(world, vendor, manager, database):
    """A vendor's nasi box, approved and on sale (its halal certificate verified)."""
    shop = await world.shop(vendor, verified=True)
    await act(database, service.approve_listing, now=world.now, actor=manager, product_id=shop.product.id)
    return shop


async def upload(client, product_id: int, width: int = 700):
    return await client.post(
        f"/vendor/products/{product_id}/photos",
        data={"_csrf_token": await csrf_token(client)},
        files={"photo": ("IMG_2026.jpg", jpeg_bytes(width, width), "image/jpeg")},
        follow_redirects=False,
    )


def buyer_photos(html: str) -> list[str]:
    return re.findall(r'src="/media/(products/[^"]+)"', html)


@on_both_media_stores
async def test_a_new_photo_shows_to_buyers_only_once_the_manager_approves_it(
    client, other_client, world, vendor, manager, live
):
    await log_in(client, vendor)
    before = buyer_photos((await other_client.get(f"/products/{live.product.id}")).text)
    assert len(before) == 1

    added = await upload(client, live.product.id)

    assert added.status_code == 303
    page = (await client.get(f"/vendor/products/{live.product.id}")).text
    assert "Perubahan Anda menunggu pemeriksaan" in page and "Tarik perubahan" in page
    buyer_page = await other_client.get(f"/products/{live.product.id}")
    assert buyer_page.status_code == 200 and buyer_photos(buyer_page.text) == before
    assert "Nasi Box Ayam Bakar" in (await other_client.get("/catalogue")).text

    await log_in(other_client, manager)
    changes = await other_client.get("/manager/changes")
    assert changes.status_code == 200
    text = changes.text
    side_by_side = re.search(r'data-field="photos">.*?</section>', text, re.S)
    assert side_by_side is not None
    assert "Dijual sekarang" in side_by_side.group(0) and "Diusulkan" in side_by_side.group(0)
    assert len(re.findall(r'<img src="/media/products/', side_by_side.group(0))) == 3  # one now, two proposed
    assert "→" not in text
    revision_id = int(found(r'action="/manager/changes/(\d+)/approve"', text).group(1))

    approved = await other_client.post(
        f"/manager/changes/{revision_id}/approve",
        headers={"HX-Request": "true", "x-csrftoken": await csrf_token(other_client)},
    )

    assert approved.status_code == 200 and "Pembeli sekarang melihat perubahannya" in approved.text
    after = buyer_photos((await client.get(f"/products/{live.product.id}")).text)
    assert len(after) == 2 and after[0] == before[0]
    again = await submit(other_client, f"/manager/changes/{revision_id}/approve", {})
    assert "Sudah ada yang memutuskan ini" in (await other_client.get(again.headers["location"])).text


async def test_a_rejected_change_keeps_the_approved_name_and_needs_a_reason(
    client, other_client, world, vendor, manager, live
):
    await log_in(client, vendor)
    form = (await client.get(f"/vendor/products/{live.product.id}")).text
    fields = dict(
        re.findall(
            r'name="(name|price|min_order_qty|order_cutoff|tier_quantity_1|tier_price_1)"[^>]*value="([^"]*)"', form
        )
    )
    saved = await submit(
        client,
        f"/vendor/products/{live.product.id}",
        {
            **fields,
            "name": "Nasi Box Ayam Goreng",
            "category": "catering",
            "unit": "box",
            "fulfilment": "made_to_order",
            "certificate_ids": [str(live.certificates[0].id)],
        },
    )
    assert saved.status_code == 303, saved.text
    await log_in(other_client, manager)
    changes = (await other_client.get("/manager/changes")).text
    assert "Nasi Box Ayam Bakar" in changes and "Nasi Box Ayam Goreng" in changes
    revision_id = int(found(r'action="/manager/changes/(\d+)/reject"', changes).group(1))

    refused = await submit(other_client, f"/manager/changes/{revision_id}/reject", {"reason": ""})
    assert refused.status_code == 422 and "Tuliskan alasannya" in refused.text
    rejected = await submit(
        other_client, f"/manager/changes/{revision_id}/reject", {"reason": "Nama tidak sesuai foto."}
    )
    assert rejected.status_code == 303

    assert "Nasi Box Ayam Bakar" in (await client.get(f"/products/{live.product.id}")).text
    inbox = (await client.get("/inbox")).text
    assert "Nama tidak sesuai foto." in inbox
    audit = (await other_client.get("/manager/audit")).text
    assert "Perubahan produk ditolak: Nasi Box Ayam Bakar" in audit


async def test_the_vendor_withdraws_the_change_and_another_vendor_cannot(
    client, other_client, world, zone, vendor, manager, live
):
    await log_in(client, vendor)
    await upload(client, live.product.id)
    rival = await world.user(Role.VENDOR, zone=zone)
    await world.shop(rival, business_name="Usaha Lain")
    await log_in(other_client, rival)

    assert (await submit(other_client, f"/vendor/products/{live.product.id}/change/withdraw", {})).status_code == 404
    assert (await other_client.get(f"/vendor/products/{live.product.id}")).status_code == 404

    withdrawn = await submit(client, f"/vendor/products/{live.product.id}/change/withdraw", {})

    assert withdrawn.headers["location"] == f"/vendor/products/{live.product.id}?notice=change_withdrawn"
    page = (await client.get(withdrawn.headers["location"])).text
    assert "Perubahan Anda ditarik" in page and "Tarik perubahan" not in page
    async with world.database.sessionmaker() as session:
        assert await service.revisions_to_review(session=session, actor=manager) == []


async def test_the_changes_page_stays_within_five_queries(client, world, zone, manager, database, count_queries):
    for number in range(3):
        seller = await world.user(Role.VENDOR, zone=zone)
        shop = await world.shop(seller, business_name=f"Usaha {number}", verified=True)
        await act(database, service.approve_listing, now=world.now, actor=manager, product_id=shop.product.id)
        await log_in(client, seller)
        await upload(client, shop.product.id)
    await log_in(client, manager)
    count_queries.statements.clear()

    response = await client.get("/manager/changes")

    assert response.status_code == 200 and response.text.count('data-field="photos"') == 3
    assert count_queries.count <= 5, count_queries.statements


async def test_through_the_api_a_manager_of_the_zone_decides_a_change_and_another_zone_s_cannot(
    client, world, vendor, manager, live
):
    vendor_auth = await api_token(world, vendor)
    response = await client.post(
        f"/api/v1/vendor/products/{live.product.id}/photos",
        headers=vendor_auth,
        files={"photo": ("b.jpg", jpeg_bytes(500, 500), "image/jpeg")},
    )
    assert response.status_code == 201 or response.status_code == 200
    other_zone = await world.zone(code="KIW", name="Kawasan Industri Wijayakusuma")
    stranger = await api_token(world, await world.user(Role.MANAGER, zone=other_zone))
    own = await api_token(world, manager)

    assert (await client.get("/api/v1/manager/revisions", headers=stranger)).json() == []
    (item,) = (await client.get("/api/v1/manager/revisions", headers=own)).json()
    photos = next(change for change in item["changes"] if change["field"] == "photos")
    assert len(photos["before"]) == 1 and len(photos["after"]) == 2
    url = f"/api/v1/manager/revisions/{item['revision_id']}"
    assert (await client.post(f"{url}/approve", headers=stranger)).status_code == 404

    stale = await client.post(f"{url}/approve", headers=own, params={"seen": "2026-01-01T00:00:00+00:00"})
    assert stale.status_code == 409

    approved = await client.post(f"{url}/approve", headers=own, params={"seen": item["updated_at"]})

    assert approved.status_code == 200 and approved.json()["status"] == "live"
    assert (await client.post(f"{url}/reject", headers=own, json={"reason": "terlambat"})).status_code == 409
    product = (await client.get(f"/api/v1/vendor/products/{live.product.id}", headers=vendor_auth)).json()
    assert len(product["photos"]) == 2 and product["pending_revision"] is None


async def test_approving_a_change_the_vendor_edited_meanwhile_shows_it_again(
    client, other_client, world, vendor, manager, live
):
    await log_in(client, vendor)
    await upload(client, live.product.id)
    await log_in(other_client, manager)
    changes = (await other_client.get("/manager/changes")).text
    revision_id = int(found(r'action="/manager/changes/(\d+)/approve"', changes).group(1))
    seen = found(r'name="seen" value="([^"]+)"', changes).group(1)
    await upload(client, live.product.id, width=720)  # a third photo while the manager reads

    stale = await other_client.post(
        f"/manager/changes/{revision_id}/approve",
        data={"seen": seen},
        headers={"HX-Request": "true", "x-csrftoken": await csrf_token(other_client)},
    )

    assert stale.status_code == 200 and "Penjual mengubahnya" in stale.text
    assert len(buyer_photos((await client.get(f"/products/{live.product.id}")).text)) == 1
    fresh = (await other_client.get("/manager/changes")).text
    approved = await submit(
        other_client,
        f"/manager/changes/{revision_id}/approve",
        {"seen": found(r'name="seen" value="([^"]+)"', fresh).group(1)},
    )
    assert approved.headers["location"] == "/manager/changes?notice=change_approved"
    assert len(buyer_photos((await client.get(f"/products/{live.product.id}")).text)) == 3


async def reject_pending_change(database, manager, now, reason: str) -> None:
    async with database.sessionmaker() as session:
        (item,) = await service.revisions_to_review(session=session, actor=manager)
    await act(database, service.reject_revision, actor=manager, revision_id=item.revision.id, reason=reason, now=now)


async def test_the_vendor_reads_why_a_change_was_rejected_until_sending_another(
    client, world, vendor, manager, live, database
):
    await log_in(client, vendor)
    vendor_auth = await api_token(world, vendor)
    await upload(client, live.product.id)
    await reject_pending_change(database, manager, world.now, "Foto buram, ulangi di tempat terang.")

    page = await client.get(f"/vendor/products/{live.product.id}")
    product = (await client.get(f"/api/v1/vendor/products/{live.product.id}", headers=vendor_auth)).json()

    assert page.status_code == 200
    rejection = found(r'<div class="alert alert-error" id="rejected-change">(.*?)</div>', page.text, re.S).group(1)
    assert "Perubahan Anda ditolak" in rejection and "Foto buram, ulangi di tempat terang." in rejection
    assert format_datetime_wib(world.now, "id") in rejection
    assert "Tarik perubahan" not in page.text
    assert product["pending_revision"] is None
    assert product["rejected_revision"]["reason"] == "Foto buram, ulangi di tempat terang."
    assert datetime.fromisoformat(product["rejected_revision"]["decided_at"]) == world.now

    await upload(client, live.product.id)  # another change
    again = (await client.get(f"/vendor/products/{live.product.id}")).text
    product = (await client.get(f"/api/v1/vendor/products/{live.product.id}", headers=vendor_auth)).json()

    assert "Foto buram" not in again and "Perubahan Anda menunggu pemeriksaan" in again
    assert product["rejected_revision"] is None and product["pending_revision"] is not None


async def test_a_rejected_change_costs_the_vendor_page_no_query_of_its_own(
    client, world, vendor, manager, live, database, count_queries
):
    await log_in(client, vendor)
    await client.get(f"/vendor/products/{live.product.id}")
    count_queries.statements.clear()
    await client.get(f"/vendor/products/{live.product.id}")
    without = count_queries.count
    await upload(client, live.product.id)
    await reject_pending_change(database, manager, world.now, "Kategori salah.")
    count_queries.statements.clear()

    page = await client.get(f"/vendor/products/{live.product.id}")

    assert page.status_code == 200 and "Kategori salah." in page.text
    assert count_queries.count == without, count_queries.statements


def photo_forms(html: str) -> list[tuple[str, dict[str, str]]]:
    """Each photo's remove button as the page sends it: its address and its fields."""
    return [
        (action, dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', fields)))
        for action, fields in re.findall(r'<form method="post" action="([^"]+/delete)"[^>]*>(.*?)</form>', html, re.S)
    ]


async def test_a_photo_removed_from_a_page_loaded_before_the_change_opened_is_refused_not_mistaken(
    client, world, vendor, live
):
    await log_in(client, vendor)
    stale_page = (await client.get(f"/vendor/products/{live.product.id}")).text
    ((action, fields),) = photo_forms(stale_page)  # the approved photo, by its id
    await upload(client, live.product.id)  # another tab: a change opens, its photos get ids of their own
    await upload(client, live.product.id)
    before = buyer_photos((await client.get(f"/vendor/products/{live.product.id}")).text)
    assert len(before) == 3

    removed = await client.post(action, data=fields, follow_redirects=False)
    swapped = await client.post(action, data=fields, headers={"HX-Request": "true"}, follow_redirects=False)

    assert removed.status_code == 409
    assert "Foto produk ini sudah berubah sejak halaman ini dibuka" in removed.text
    assert buyer_photos(removed.text) == before  # the page as it is now, to start again from
    assert swapped.status_code == 409
    assert swapped.headers["HX-Redirect"] == f"/vendor/products/{live.product.id}?notice=photos_changed"
    reloaded = (await client.get(swapped.headers["HX-Redirect"])).text
    assert "Foto produk ini sudah berubah" in reloaded and buyer_photos(reloaded) == before

    fresh_action, fresh_fields = photo_forms(reloaded)[0]
    assert (await client.post(fresh_action, data=fresh_fields, follow_redirects=False)).status_code == 303
    assert len(buyer_photos((await client.get(f"/vendor/products/{live.product.id}")).text)) == 2


async def test_through_the_api_a_photo_named_from_the_approved_set_is_refused_once_a_change_is_open(
    client, world, vendor, live
):
    vendor_auth = await api_token(world, vendor)
    product = (await client.get(f"/api/v1/vendor/products/{live.product.id}", headers=vendor_auth)).json()
    approved_photo = product["photos"][0]["id"]
    await client.post(
        f"/api/v1/vendor/products/{live.product.id}/photos",
        headers=vendor_auth,
        files={"photo": ("b.jpg", jpeg_bytes(500, 500), "image/jpeg")},
    )
    url = f"/api/v1/vendor/products/{live.product.id}/photos/{approved_photo}"

    refused = await client.delete(url, headers=vendor_auth, params={"photos_of": "product"})

    assert refused.status_code == 409 and refused.json()["code"] == "conflict"
    product = (await client.get(f"/api/v1/vendor/products/{live.product.id}", headers=vendor_auth)).json()
    assert len(product["pending_revision"]["photos"]) == 2
    proposed = product["pending_revision"]["photos"][1]["id"]
    removed = await client.delete(
        f"/api/v1/vendor/products/{live.product.id}/photos/{proposed}",
        headers=vendor_auth,
        params={"photos_of": str(product["pending_revision"]["id"])},
    )
    assert removed.status_code == 200 and len(removed.json()["pending_revision"]["photos"]) == 1
