"""A vendor always knows whether buyers can reach them: the home and each live product say which of the zone's
canteens, gates and dormitories the delivery radius reaches, and when it reaches none, how far it must go, with
one tap to set it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.accounts import service as account_service
from backend.accounts.models import Role
from backend.orders.models import DeliveryPoint, PointKind
from backend.vendors.models import Vendor
from backend.vendors.reach import vendor_reach
from tests.conftest import log_in, submit

# The zone (KITB) is at -6.9545, 110.0322; Krengseng, where the nearby shops are, about 1.5 km west of it.
NEAR = {"latitude": -6.9581, "longitude": 110.0195}
# Limpung, about 22 km south of the zone.
FAR = {"latitude": -7.1500, "longitude": 110.0322}
PROFILE = {
    "business_name": "Keripik Bu Tini",
    "owner_name": "Tini Lestari",
    "whatsapp": "0812-7777-1234",
    "kecamatan": "Limpung",
    "desa": "Sempu",
    "operating_days": ["1", "2", "3", "4", "5", "6"],
}


@pytest.fixture
async def places(world, database, zone):
    """One canteen (no factory location: it is where the zone is), two gates and a dormitory of the zone, and a
    closed gate that does not count."""
    await world.organisation(zone, name="Kantin PT Garmen Nusantara")
    async with database.sessionmaker() as session:
        for kind, name, active in (
            (PointKind.GATE, "Gerbang 1", True),
            (PointKind.GATE, "Gerbang 2", True),
            (PointKind.DORMITORY, "Asrama A", True),
            (PointKind.GATE, "Gerbang Lama", False),
        ):
            session.add(
                DeliveryPoint(
                    zone_id=zone.id, kind=kind, name=name, latitude=-6.9530, longitude=110.0300, active=active
                )
            )
        await session.commit()


def reach_of(page: str) -> str:
    match = re.search(r'class="reach" data-reach="(\w+)"', page)
    assert match, "the page should say who sees the products"
    return match.group(1)


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


async def test_the_vendor_home_says_who_sees_the_shop(client, world, zone, places, count_queries):
    seller = await world.seller(zone, business_name="Catering Bu Sri", radius_km=10, **NEAR)
    await log_in(client, seller.user)

    count_queries.statements.clear()
    home = await client.get("/vendor")

    assert home.status_code == 200
    assert count_queries.count <= 5, count_queries.statements
    assert reach_of(home.text) == "ok"
    assert "Terlihat oleh 1 kantin, 2 gerbang dan 1 asrama dalam 10 km" in text_of(home.text)


async def test_a_radius_that_reaches_nobody_is_warned_and_fixed_with_one_tap(client, world, zone, places, database):
    seller = await world.seller(zone, business_name="Keripik Bu Tini", radius_km=5, **FAR)
    await log_in(client, seller.user)

    home = await client.get("/vendor")
    assert reach_of(home.text) == "none"
    assert "Radius antar 5 km tidak menjangkau" in text_of(home.text)
    assert "21,7 km" in home.text or "21.7 km" in home.text  # the canteen, where the zone is
    assert 'name="delivery_radius_km" value="22"' in home.text

    fixed = await submit(client, "/vendor/profile/radius", {"delivery_radius_km": "22", "next": "/vendor"})

    assert (fixed.status_code, fixed.headers["location"]) == (303, "/vendor?notice=radius_saved")
    async with database.sessionmaker() as session:
        vendor = await session.get(Vendor, seller.vendor.id)
        assert vendor.delivery_radius_km == 22
        assert vendor.business_name == "Keripik Bu Tini" and vendor.daily_capacity == 500  # the rest unchanged
        reach = await vendor_reach(session=session, vendor=vendor)
    assert (reach.canteens, reach.gates, reach.dormitories) == (1, 2, 1)
    again = await client.get("/vendor?notice=radius_saved")
    assert reach_of(again.text) == "ok" and "22 km" in again.text


async def test_the_one_tap_fix_needs_the_csrf_token_and_a_sane_distance(client, world, zone, places, database):
    seller = await world.seller(zone, business_name="Keripik Bu Tini", radius_km=5, **FAR)
    await log_in(client, seller.user)

    forged = await client.post("/vendor/profile/radius", data={"delivery_radius_km": "22"})
    too_far = await submit(client, "/vendor/profile/radius", {"delivery_radius_km": "500"})

    assert forged.status_code == 403
    assert too_far.status_code == 422
    async with database.sessionmaker() as session:
        assert (await session.get(Vendor, seller.vendor.id)).delivery_radius_km == 5


async def test_each_live_product_says_who_sees_it(client, world, zone, places, count_queries):
    seller = await world.seller(zone, business_name="Keripik Bu Tini", radius_km=5, **FAR)
    product = await world.live_product(seller, "Keripik Tempe", category="snacks", unit="pack")
    await log_in(client, seller.user)

    count_queries.statements.clear()
    listing = await client.get("/vendor/products")
    assert count_queries.count <= 5, count_queries.statements
    assert reach_of(listing.text) == "none"
    assert 'name="next" value="/vendor/products"' in listing.text

    count_queries.statements.clear()
    detail = await client.get(f"/vendor/products/{product.id}")
    assert count_queries.count <= 5, count_queries.statements
    assert reach_of(detail.text) == "none"

    await submit(client, "/vendor/profile/radius", {"delivery_radius_km": "22"})
    assert "Terlihat oleh 1 kantin, 2 gerbang dan 1 asrama dalam 22 km" in text_of(
        (await client.get("/vendor/products")).text
    )


async def test_a_product_not_on_sale_says_nothing_of_reach(client, world, zone, places):
    seller = await world.seller(zone, business_name="Keripik Bu Tini", radius_km=5, **FAR)
    await log_in(client, seller.user)
    assert 'data-reach="' not in (await client.get("/vendor/products")).text


async def test_a_new_vendors_default_radius_reaches_the_zone(client, other_client, world, zone, places, database):
    far = await world.user(Role.VENDOR, zone=zone)
    near = await world.user(Role.VENDOR, zone=zone)
    await log_in(client, far)
    await log_in(other_client, near)

    form = await client.get("/vendor/profile")
    assert re.search(r'name="delivery_radius_km"[^>]*value=""', form.text)  # left empty: the zone decides
    saved = await submit(client, "/vendor/profile", {**PROFILE, **{k: str(v) for k, v in FAR.items()}})
    near_saved = await submit(
        other_client,
        "/vendor/profile",
        {**PROFILE, "business_name": "Nasi Bu Ani", **{k: str(v) for k, v in NEAR.items()}},
    )

    assert saved.status_code == near_saved.status_code == 303
    async with database.sessionmaker() as session:
        far_vendor = (await session.execute(select(Vendor).where(col(Vendor.user_id) == far.id))).scalar_one()
        near_vendor = (await session.execute(select(Vendor).where(col(Vendor.user_id) == near.id))).scalar_one()
    assert far_vendor.delivery_radius_km == 22  # as far as the nearest canteen, in whole km
    assert near_vendor.delivery_radius_km == 10  # the usual radius already reaches the zone
    assert reach_of((await client.get("/vendor")).text) == "ok"


async def test_a_profile_saved_again_without_a_radius_keeps_it(client, database, world, zone, places):
    seller = await world.seller(zone, business_name="Keripik Bu Tini", radius_km=30, **FAR)
    token, _ = await _token(database, seller.user)
    body = {**PROFILE, "latitude": FAR["latitude"], "longitude": FAR["longitude"], "operating_days": [1, 2, 3]}
    answer = await client.put("/api/v1/vendor/profile", json=body, headers=token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["delivery_radius_km"] == 30


async def _token(database, user):
    async with database.sessionmaker() as session:
        raw, token = await account_service.create_api_token(session=session, user=user, name="kasir")
        await session.commit()
    return {"Authorization": f"Bearer {raw}"}, token


async def test_the_api_gives_the_reach_and_sets_the_needed_radius(client, database, world, zone, places):
    seller = await world.seller(zone, business_name="Keripik Bu Tini", radius_km=5, **FAR)
    auth, _ = await _token(database, seller.user)

    reach = await client.get("/api/v1/vendor/reach", headers=auth)
    assert reach.status_code == 200, reach.text
    body = reach.json()
    assert (body["reaches_any"], body["canteens"], body["gates"], body["dormitories"]) == (False, 0, 0, 0)
    assert (body["radius_km"], body["nearest_km"], body["needed_radius_km"]) == (5, 21.7, 22)

    fixed = await client.put(
        "/api/v1/vendor/profile/delivery-radius", json={"delivery_radius_km": body["needed_radius_km"]}, headers=auth
    )
    assert fixed.status_code == 200, fixed.text
    assert (fixed.json()["reaches_any"], fixed.json()["canteens"], fixed.json()["gates"]) == (True, 1, 2)
    refused = await client.put("/api/v1/vendor/profile/delivery-radius", json={"delivery_radius_km": 0}, headers=auth)
    assert refused.status_code == 400 and refused.headers["content-type"].startswith("application/problem+json")
