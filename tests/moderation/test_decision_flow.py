"""After a decision the manager lands back in the queue on the next item, and an approval says what buyers will
actually see: which canteens, gates and dormitories the listing is on sale to, or that nobody sees it yet."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from backend.accounts import service as account_service
from backend.accounts.models import Role
from backend.orders.models import DeliveryPoint, PointKind
from backend.vendors import service as vendor_service
from backend.vendors.models import Vendor
from tests.conftest import csrf_token, log_in, submit


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


@pytest.fixture
async def places(world, database, zone):
    """The zone's canteen (where the zone is) and two gates, a little over a kilometre from the shops."""
    await world.organisation(zone, name="Kantin PT Garmen Nusantara")
    async with database.sessionmaker() as session:
        for name in ("Gerbang 1", "Gerbang 2"):
            session.add(
                DeliveryPoint(zone_id=zone.id, kind=PointKind.GATE, name=name, latitude=-6.9530, longitude=110.0300)
            )
        await session.commit()


async def two_shops(world, zone, vendor, *, verified: bool):
    first = await world.shop(vendor, verified=verified)
    second = await world.shop(await world.user(Role.VENDOR, zone=zone), verified=verified, business_name="Dapur Ani")
    return first, second


async def test_approving_lands_on_the_next_listing_and_says_who_buys_it(client, world, zone, vendor, manager, places):
    first, second = await two_shops(world, zone, vendor, verified=True)
    await log_in(client, manager)

    approved = await submit(client, f"/manager/listings/{first.product.id}/approve", {})

    assert approved.status_code == 303
    location = urlsplit(approved.headers["location"])
    assert location.path == "/manager/queue" and location.fragment == f"item-{second.product.id}"
    assert parse_qs(location.query)["next"] == [str(second.product.id)]
    queue = await client.get(f"{location.path}?{location.query}")
    assert "Nasi Box Ayam Bakar kini tayang untuk 1 kantin dan 2 gerbang." in text_of(queue.text)
    assert 'data-approval="on_sale"' in queue.text
    assert f'id="item-{second.product.id}" data-next' in queue.text


async def test_an_approval_warns_when_the_vendor_reaches_nobody(client, database, world, zone, vendor, manager, places):
    shop = await world.shop(vendor, verified=True)
    async with database.sessionmaker() as session:  # the vendor moved to Limpung, 22 km away, keeping 15 km
        moved = vendor_service.profile_input(
            await session.get_one(Vendor, shop.vendor.id), latitude=-7.15, longitude=110.0322
        )
        await vendor_service.save_profile(session=session, user=vendor, data=moved, now=shop.vendor.updated_at)
        await session.commit()
    await log_in(client, manager)

    answer = await client.post(
        f"/manager/listings/{shop.product.id}/approve",
        headers={"HX-Request": "true", "x-csrftoken": await csrf_token(client)},
    )

    assert answer.status_code == 200
    assert 'data-approval="unseen"' in answer.text
    assert "tidak ada pembeli yang melihatnya" in text_of(answer.text)


async def test_an_approval_with_certificates_still_unverified_says_buyers_wait(
    client, world, zone, vendor, manager, places
):
    shop = await world.shop(vendor, verified=False)
    await log_in(client, manager)

    approved = await submit(client, f"/manager/listings/{shop.product.id}/approve", {})
    queue = await client.get(approved.headers["location"])

    assert 'data-approval="unseen"' in queue.text
    assert "setelah sertifikatnya diverifikasi" in text_of(queue.text)
    assert "#item-" not in approved.headers["location"]  # nothing else waits: the top of the queue


async def test_verifying_a_certificate_lands_on_the_next_certificate(client, world, zone, vendor, manager):
    first, second = await two_shops(world, zone, vendor, verified=False)
    await log_in(client, manager)

    verified = await submit(client, f"/manager/certificates/{first.certificates[0].id}/verify", {})

    assert verified.status_code == 303
    location = urlsplit(verified.headers["location"])
    assert location.path == "/manager/certificates"
    assert location.fragment == f"certificate-{second.certificates[0].id}"
    page = await client.get(f"{location.path}?{location.query}")
    assert f'id="certificate-{second.certificates[0].id}" data-next' in page.text


async def test_with_htmx_the_decided_card_points_to_the_next_item(client, world, zone, vendor, manager, places):
    first, second = await two_shops(world, zone, vendor, verified=True)
    await log_in(client, manager)

    answer = await client.post(
        f"/manager/listings/{first.product.id}/approve",
        headers={"HX-Request": "true", "x-csrftoken": await csrf_token(client)},
    )

    assert answer.status_code == 200
    assert f'href="#item-{second.product.id}" data-next="{second.product.id}"' in answer.text
    assert 'data-approval="on_sale"' in answer.text


async def test_the_api_approval_says_what_buyers_see(client, database, world, zone, vendor, manager, places):
    shop = await world.shop(vendor, verified=True)
    async with database.sessionmaker() as session:
        raw, _ = await account_service.create_api_token(session=session, user=manager, name="dinas")
        await session.commit()

    answer = await client.post(
        f"/api/v1/manager/listings/{shop.product.id}/approve", headers={"Authorization": f"Bearer {raw}"}
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["status"], body["on_sale"], body["canteens"], body["gates"], body["dormitories"]) == (
        "live",
        True,
        1,
        2,
        0,
    )
    assert body["message"]


async def test_a_crafted_link_cannot_make_the_queue_announce_an_approval(client, world, zone, vendor, manager, places):
    """The approval's figures travel in the redirect, signed for the manager who decided: the same figures typed
    into a link (or one manager's link opened by another) are not announced."""
    first, second = await two_shops(world, zone, vendor, verified=True)
    await log_in(client, manager)
    approved = await submit(client, f"/manager/listings/{first.product.id}/approve", {})
    signed = parse_qs(urlsplit(approved.headers["location"]).query)

    crafted = {key: values[0] for key, values in signed.items() if key != "proof"}
    crafted["canteens"] = "4000"
    odd = await client.get("/manager/queue", params={**crafted, "proof": "é"})
    assert odd.status_code == 200 and "data-approval" not in odd.text
    forged = await client.get("/manager/queue", params=crafted)
    tampered = await client.get("/manager/queue", params={**crafted, "proof": signed["proof"][0]})

    for queue in (forged, tampered):
        assert queue.status_code == 200
        assert "data-approval" not in queue.text
        assert "4000" not in text_of(queue.text)
    other_manager = await world.user(Role.MANAGER, zone=zone)
    await log_in(client, other_manager)
    borrowed = await client.get("/manager/queue", params={key: values[0] for key, values in signed.items()})
    assert "data-approval" not in borrowed.text
