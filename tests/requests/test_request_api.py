"""The requests API: the same rules as the pages, for canteens' procurement systems and vendors' apps."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from backend.accounts import service as account_service
from backend.accounts.models import Role
from backend.clock import utcnow, wib_today
from backend.moderation.models import AuditEntry
from backend.orders.models import StandingOrder


async def bearer(database, user) -> dict[str, str]:
    async with database.sessionmaker() as session:
        raw, _ = await account_service.create_api_token(session=session, user=user, name="pengadaan")
        await session.commit()
    return {"Authorization": f"Bearer {raw}"}


def request_body(**changes) -> dict:
    return {
        "title": "Nasi box sarapan",
        "category": "catering",
        "quantity": 300,
        "unit": "box",
        "weekdays": [1, 2, 3, 4, 5],
        "slot": "06:00",
        "expected_price": 12000,
        "required_certificates": ["halal"],
        "start_date": (wib_today(utcnow()) + timedelta(days=7)).isoformat(),
        **changes,
    }


async def test_a_request_is_posted_answered_compared_and_accepted_over_the_api(
    client, database, canteen_staff, catering, second_caterer, far_caterer
):
    canteen = await bearer(database, canteen_staff)
    created = await client.post("/api/v1/requests", json=request_body(), headers=canteen)
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    assert created.json()["weekdays"] == [1, 2, 3, 4, 5] and created.json()["slot"] == "06:00"

    start = created.json()["start_date"]
    seller, product = catering
    vendor = await bearer(database, seller.user)
    fitting = await client.get("/api/v1/vendor/requests", headers=vendor)
    assert [item["id"] for item in fitting.json()] == [request_id]
    offered = await client.put(
        f"/api/v1/vendor/requests/{request_id}/offer",
        json={"start_date": start, "product_id": product.id},
        headers=vendor,
    )
    assert offered.status_code == 200 and offered.json()["unit_price"] == 13000
    rival = await bearer(database, second_caterer[0].user)
    other = await client.put(
        f"/api/v1/vendor/requests/{request_id}/offer",
        json={"start_date": start, "product_id": second_caterer[1].id},
        headers=rival,
    )
    withdrawn = await client.delete(f"/api/v1/vendor/requests/{request_id}/offer", headers=rival)
    assert withdrawn.json()["status"] == "withdrawn"

    far = await bearer(database, far_caterer[0].user)
    assert (await client.get(f"/api/v1/vendor/requests/{request_id}", headers=far)).status_code == 404

    detail = (await client.get(f"/api/v1/requests/{request_id}", headers=canteen)).json()
    assert [(offer["vendor_name"], offer["certificates"]) for offer in detail["offers"]] == [
        ("Catering Bu Sri", ["halal"])
    ]
    refused = await client.post(f"/api/v1/requests/{request_id}/offers/{other.json()['id']}/accept", headers=canteen)
    assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"
    accept_url = f"/api/v1/requests/{request_id}/offers/{offered.json()['id']}/accept"
    # Naming the offer as seen: a price the offer no longer has is refused, and nothing is decided.
    product_id = offered.json()["product_id"]
    stale = await client.post(accept_url, params={"unit_price": 12500, "product_id": product_id}, headers=canteen)
    assert stale.status_code == 409 and stale.headers["content-type"] == "application/problem+json"
    bad = await client.post(accept_url, params={"unit_price": -1, "product_id": product_id}, headers=canteen)
    assert bad.status_code in (400, 422)
    seen = {"unit_price": offered.json()["unit_price"], "product_id": product_id}
    accepted = await client.post(accept_url, params=seen, headers=canteen)
    assert accepted.status_code == 200, accepted.text
    again = await client.post(f"/api/v1/requests/{request_id}/offers/{offered.json()['id']}/accept", headers=canteen)
    assert again.status_code == 409
    async with database.sessionmaker() as session:
        (standing,) = (await session.execute(select(StandingOrder))).scalars()
    assert standing.id == accepted.json()["standing_order_id"]
    # The offer's price is the standing order's agreed price.
    (listed,) = (await client.get("/api/v1/standing-orders", headers=canteen)).json()
    assert (listed["id"], listed["max_unit_price"]) == (standing.id, 13000)


async def test_bad_input_is_a_problem_naming_the_fields_and_saves_nothing(client, database, canteen_staff, worker):
    canteen = await bearer(database, canteen_staff)
    refused = await client.post(
        "/api/v1/requests",
        json=request_body(start_date=wib_today(utcnow()).isoformat(), quantity=0),
        headers=canteen,
    )
    # The shape is checked first (400, the field named); the rules after (422).
    assert refused.status_code == 400 and [error["field"] for error in refused.json()["errors"]] == ["quantity"]
    too_soon = await client.post(
        "/api/v1/requests", json=request_body(start_date=wib_today(utcnow()).isoformat()), headers=canteen
    )
    assert too_soon.status_code == 422 and [error["field"] for error in too_soon.json()["errors"]] == ["start_date"]
    assert (await client.get("/api/v1/requests", headers=canteen)).json() == []
    # A worker's request names the gate or dormitory where the group receives.
    no_point = await client.post("/api/v1/requests", json=request_body(), headers=await bearer(database, worker))
    assert no_point.status_code == 422 and [error["field"] for error in no_point.json()["errors"]] == [
        "delivery_point_id"
    ]


async def test_a_manager_hides_a_request_over_the_api(client, world, database, canteen_staff, manager):
    created = await client.post("/api/v1/requests", json=request_body(), headers=await bearer(database, canteen_staff))
    request_id = created.json()["id"]
    boss = await bearer(database, manager)
    assert [item["id"] for item in (await client.get("/api/v1/manager/requests", headers=boss)).json()] == [request_id]
    hidden = await client.post(
        f"/api/v1/manager/requests/{request_id}/hide", json={"reason": "Bukan permintaan nyata"}, headers=boss
    )
    assert hidden.status_code == 200 and hidden.json()["status"] == "hidden"
    again = await client.post(
        f"/api/v1/manager/requests/{request_id}/hide", json={"reason": "Bukan permintaan nyata"}, headers=boss
    )
    assert again.status_code == 409
    elsewhere = await world.user(Role.MANAGER, zone=await world.zone(code="KIW", name="Wijayakusuma"))
    assert (
        await client.post(
            f"/api/v1/manager/requests/{request_id}/hide",
            json={"reason": "Bukan permintaan nyata"},
            headers=await bearer(database, elsewhere),
        )
    ).status_code == 404
    async with database.sessionmaker() as session:
        assert len((await session.execute(select(AuditEntry))).all()) == 1
