"""A worker posts what their group of workers needs ("20 porsi nasi bungkus, Senin–Jumat, 11.00") to a gate of
the zone; the caterers who deliver there answer; the worker accepts one offer, which goes into the cart for the
first day at the gate, to pay as usual. Pages and API on the real clock."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
from sqlalchemy import inspect, select
from sqlmodel import col

from backend.accounts.models import Role
from backend.clock import utcnow, wib_today
from backend.notifications.models import Notification
from backend.orders.models import CartLine, Order
from backend.requests.models import BuyerRequest, OfferStatus, RequestOffer, RequestStatus
from backend.requests.service import (
    MSG_NEW_OFFER,
    MSG_NEW_WORKER_REQUEST,
    MSG_POINT,
    MSG_WORKERS_ACCEPTED,
    MSG_WORKERS_NOT_CHOSEN,
)
from tests.conftest import found, log_in, submit
from tests.requests.test_request_api import bearer
from tests.web.test_order_pages import t


def group_form(point_id: int, **changes: object) -> dict[str, object]:
    """20 porsi nasi bungkus for the group, Senin–Jumat, 11.00, from a week on, delivered to the gate."""
    return {
        "title": "Nasi bungkus makan siang",
        "category": "catering",
        "quantity": "20",
        "unit": "porsi",
        "weekdays": ["1", "2", "3", "4", "5"],
        "slot": "11:00",
        "expected_price": "15.000",
        "start_date": (wib_today(utcnow()) + timedelta(days=7)).isoformat(),
        "expires_on": "",
        "notes": "Untuk regu las",
        "delivery_point_id": str(point_id),
        **changes,
    }


def first_weekday_from(day: date) -> date:
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return day


async def rows(database, model, *where) -> list:
    """The rows of `model` in the order they were made (a table's physical order is no order at all)."""
    async with database.sessionmaker() as session:
        return list(
            (await session.execute(select(model).where(*where).order_by(*inspect(model).primary_key))).scalars()
        )


async def inbox(database, user) -> list[str]:
    return [note.message for note in await rows(database, Notification, col(Notification.user_id) == user.id)]


async def post_for_group(client, worker, point_id: int, **changes: object) -> int:
    await log_in(client, worker)
    answer = await submit(client, "/worker/requests", group_form(point_id, **changes))
    assert answer.status_code == 303, answer.text
    return int(found(r"/worker/requests/(\d+)\?notice=posted", answer.headers["location"]).group(1))


async def offer_as(app, seller, request_id: int, product_id: int) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as browser:
        await log_in(browser, seller.user)
        form = {"product": str(product_id), "start_date": group_form(0)["start_date"], "notes": "Siap"}
        answer = await submit(browser, f"/vendor/requests/{request_id}/offer", form)
        assert answer.status_code == 303, answer.text


async def test_a_worker_posts_for_the_group_at_the_gate_and_an_accepted_offer_lands_in_the_cart(
    app,
    client,
    other_client,
    world,
    zone,
    database,
    worker,
    ordering,
    catering,
    second_caterer,
    far_caterer,
    count_queries,
):
    gate = await ordering.gate()
    await log_in(client, worker)
    count_queries.statements.clear()
    form_page = await client.get("/worker/requests")
    assert form_page.status_code == 200 and count_queries.count <= 5, count_queries.statements
    assert f'<option value="{gate.id}"' in form_page.text and "Gerbang 1 KITB" in form_page.text

    no_point = await submit(client, "/worker/requests", group_form(gate.id, delivery_point_id=""))
    assert no_point.status_code == 400 and t(MSG_POINT) in no_point.text
    request_id = await post_for_group(client, worker, gate.id)
    (posted,) = await rows(database, BuyerRequest)
    assert (posted.quantity, posted.unit, posted.delivery_point_id, posted.organisation_id) == (
        20,
        "porsi",
        gate.id,
        None,
    )

    # The caterers whose radius reaches the gate see it (and are told); the one in Semarang does not.
    for seller, _ in (catering, second_caterer):
        assert await inbox(database, seller.user) == [MSG_NEW_WORKER_REQUEST]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as browser:
            await log_in(browser, seller.user)
            count_queries.statements.clear()
            listing = await browser.get("/vendor/requests")
            assert listing.status_code == 200 and count_queries.count <= 5, count_queries.statements
            assert f'href="/vendor/requests/{request_id}"' in listing.text
            assert t("A group of workers at %(point)s", point="Gerbang 1 KITB") in listing.text
            count_queries.statements.clear()
            detail = await browser.get(f"/vendor/requests/{request_id}")
            assert detail.status_code == 200 and count_queries.count <= 5, count_queries.statements
            # The vendors see what is asked and where, never who asked.
            assert worker.phone not in detail.text and worker.full_name not in detail.text
    far_seller = far_caterer[0]
    assert await inbox(database, far_seller.user) == []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as browser:
        await log_in(browser, far_seller.user)
        assert (await browser.get(f"/vendor/requests/{request_id}")).status_code == 404
        assert f"/vendor/requests/{request_id}" not in (await browser.get("/vendor/requests")).text

    await offer_as(app, catering[0], request_id, catering[1].id)
    await offer_as(app, second_caterer[0], request_id, second_caterer[1].id)
    assert await inbox(database, worker) == [MSG_NEW_OFFER, MSG_NEW_OFFER]
    count_queries.statements.clear()
    compare = await client.get(f"/worker/requests/{request_id}")
    assert compare.status_code == 200 and count_queries.count <= 5, count_queries.statements
    assert "Catering Bu Sri" in compare.text and "Dapur Mbak Rina" in compare.text and "Gerbang 1 KITB" in compare.text
    offers = {offer.vendor_id: offer for offer in await rows(database, RequestOffer)}
    chosen, other = offers[catering[0].vendor.id], offers[second_caterer[0].vendor.id]
    assert (chosen.unit_price, other.unit_price) == (15000, 12500)

    # Another worker of the zone neither sees nor accepts it.
    stranger = await world.user(Role.WORKER, zone=zone, full_name="Agus Salim")
    await log_in(other_client, stranger)
    assert (await other_client.get(f"/worker/requests/{request_id}")).status_code == 404
    assert f"/worker/requests/{request_id}" not in (await other_client.get("/worker/requests")).text
    refused = await submit(other_client, f"/worker/requests/{request_id}/offers/{chosen.id}/accept", {})
    assert refused.status_code == 404
    assert (await rows(database, BuyerRequest))[0].status == RequestStatus.OPEN

    accepted = await submit(client, f"/worker/requests/{request_id}/offers/{chosen.id}/accept", {})
    assert accepted.status_code == 303, accepted.text
    location = accepted.headers["location"]
    assert location.startswith("/cart?")
    first_day = first_weekday_from(date.fromisoformat(str(group_form(0)["start_date"])))
    (line,) = await rows(database, CartLine, col(CartLine.user_id) == worker.id)
    assert (line.product_id, line.quantity) == (catering[1].id, 20)
    count_queries.statements.clear()
    cart_page = await client.get(location)
    assert cart_page.status_code == 200 and count_queries.count <= 5, count_queries.statements
    assert "Nasi Box Ayam Bakar" in cart_page.text and "Rp 15.000" in cart_page.text
    assert f'name="delivery_day" type="date" value="{first_day.isoformat()}"' in cart_page.text
    assert re.search(rf'<option value="{gate.id}"\s+selected', cart_page.text)
    assert re.search(r'<option value="11:00"\s+selected', cart_page.text)

    (decided,) = await rows(database, BuyerRequest)
    assert (decided.status, decided.accepted_offer_id) == (RequestStatus.ACCEPTED, chosen.id)
    statuses = {offer.vendor_id: offer.status for offer in await rows(database, RequestOffer)}
    assert statuses == {
        catering[0].vendor.id: OfferStatus.ACCEPTED,
        second_caterer[0].vendor.id: OfferStatus.NOT_CHOSEN,
    }
    assert (await inbox(database, catering[0].user))[-1] == MSG_WORKERS_ACCEPTED
    assert (await inbox(database, second_caterer[0].user))[-1] == MSG_WORKERS_NOT_CHOSEN

    # The worker pays as usual: cash at the gate on the first day.
    key = found(r'name="idempotency_key" value="([^"]+)"', cart_page.text).group(1)
    placed = await submit(
        client,
        "/checkout",
        {
            "idempotency_key": key,
            "delivery_day": first_day.isoformat(),
            "delivery_slot": "11:00",
            "delivery_place": str(gate.id),
            "payment_method": "cash",
        },
    )
    assert placed.status_code == 303, placed.text
    (order,) = await rows(database, Order)
    assert (order.delivery_day, order.delivery_point_id, order.total - order.delivery_fee) == (
        first_day,
        gate.id,
        300_000,
    )


async def test_an_accept_that_would_break_the_cash_limit_is_refused_and_changes_nothing(
    app, client, database, worker, ordering, catering
):
    gate = await ordering.gate()
    # 40 porsi at Rp 15.000 is Rp 600.000: above the Rp 500.000 a worker may pay in cash to one vendor.
    request_id = await post_for_group(client, worker, gate.id, quantity="40")
    await offer_as(app, catering[0], request_id, catering[1].id)
    (offer,) = await rows(database, RequestOffer)
    refused = await submit(client, f"/worker/requests/{request_id}/offers/{offer.id}/accept", {})
    assert refused.status_code == 400
    assert "Rp 500.000" in refused.text and "Rp 600.000" in refused.text
    (request_row,) = await rows(database, BuyerRequest)
    assert request_row.status == RequestStatus.OPEN
    assert (await rows(database, RequestOffer))[0].status == OfferStatus.OPEN
    assert await rows(database, CartLine) == []
    assert await inbox(database, catering[0].user) == [MSG_NEW_WORKER_REQUEST]


async def test_the_api_does_the_same_with_problem_bodies(
    client, world, zone, database, worker, ordering, catering, second_caterer, far_caterer
):
    gate = await ordering.gate()
    mine = await bearer(database, worker)
    body = {
        "title": "Nasi bungkus makan siang",
        "category": "catering",
        "quantity": 20,
        "unit": "porsi",
        "weekdays": [1, 2, 3, 4, 5],
        "slot": "11:00",
        "start_date": (wib_today(utcnow()) + timedelta(days=7)).isoformat(),
    }
    elsewhere = await world.zone(code="KIW", name="Wijayakusuma")
    other_gate = await ordering.__class__(world=world, database=database, zone=elsewhere).gate("Gerbang KIW")
    wrong_point = await client.post("/api/v1/requests", json={**body, "delivery_point_id": other_gate.id}, headers=mine)
    assert wrong_point.status_code == 422 and wrong_point.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in wrong_point.json()["errors"]] == ["delivery_point_id"]
    created = await client.post("/api/v1/requests", json={**body, "delivery_point_id": gate.id}, headers=mine)
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    assert created.json()["delivery_point_id"] == gate.id

    seller, product = catering
    vendor = await bearer(database, seller.user)
    (fitting,) = (await client.get("/api/v1/vendor/requests", headers=vendor)).json()
    assert (fitting["id"], fitting["canteen_name"], fitting["delivery_point_name"]) == (
        request_id,
        None,
        "Gerbang 1 KITB",
    )
    far = await bearer(database, far_caterer[0].user)
    missing = await client.get(f"/api/v1/vendor/requests/{request_id}", headers=far)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    start = created.json()["start_date"]
    offered = await client.put(
        f"/api/v1/vendor/requests/{request_id}/offer",
        json={"start_date": start, "product_id": product.id},
        headers=vendor,
    )
    assert offered.status_code == 200 and offered.json()["unit_price"] == 15000
    rival = await client.put(
        f"/api/v1/vendor/requests/{request_id}/offer",
        json={"start_date": start, "product_id": second_caterer[1].id},
        headers=await bearer(database, second_caterer[0].user),
    )
    assert rival.status_code == 200

    stranger = await bearer(database, await world.user(Role.WORKER, zone=zone, full_name="Agus Salim"))
    assert (await client.get(f"/api/v1/requests/{request_id}", headers=stranger)).status_code == 404
    assert (await client.get("/api/v1/requests", headers=stranger)).json() == []
    not_theirs = await client.post(
        f"/api/v1/requests/{request_id}/offers/{offered.json()['id']}/accept", headers=stranger
    )
    assert not_theirs.status_code == 404 and not_theirs.headers["content-type"] == "application/problem+json"

    detail = (await client.get(f"/api/v1/requests/{request_id}", headers=mine)).json()
    assert sorted(offer["vendor_name"] for offer in detail["offers"]) == ["Catering Bu Sri", "Dapur Mbak Rina"]
    accepted = await client.post(f"/api/v1/requests/{request_id}/offers/{offered.json()['id']}/accept", headers=mine)
    assert accepted.status_code == 200, accepted.text
    first_day = first_weekday_from(date.fromisoformat(start))
    assert accepted.json()["standing_order_id"] is None
    assert accepted.json()["cart"] == {
        "product_id": product.id,
        "quantity": 20,
        "unit_price": 15000,
        "delivery_day": first_day.isoformat(),
        "delivery_slot": "11:00",
        "delivery_point_id": gate.id,
    }
    cart = (await client.get("/api/v1/cart", headers=mine)).json()
    assert "Nasi Box Ayam Bakar" in str(cart) and "15000" in str(cart)
    again = await client.post(f"/api/v1/requests/{request_id}/offers/{rival.json()['id']}/accept", headers=mine)
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"


async def test_the_api_refuses_an_accept_above_the_cash_limit_and_changes_nothing(
    client, database, worker, ordering, catering
):
    gate = await ordering.gate()
    mine = await bearer(database, worker)
    created = await client.post(
        "/api/v1/requests",
        json={
            "title": "Nasi bungkus lembur",
            "category": "catering",
            "quantity": 40,
            "unit": "porsi",
            "weekdays": [1, 2, 3, 4, 5],
            "slot": "11:00",
            "start_date": (wib_today(utcnow()) + timedelta(days=7)).isoformat(),
            "delivery_point_id": gate.id,
        },
        headers=mine,
    )
    request_id = created.json()["id"]
    vendor = await bearer(database, catering[0].user)
    offered = await client.put(
        f"/api/v1/vendor/requests/{request_id}/offer",
        json={"start_date": created.json()["start_date"], "product_id": catering[1].id},
        headers=vendor,
    )
    refused = await client.post(f"/api/v1/requests/{request_id}/offers/{offered.json()['id']}/accept", headers=mine)
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert "Rp 600.000" in refused.text
    assert (await client.get(f"/api/v1/requests/{request_id}", headers=mine)).json()["status"] == "open"
    assert await rows(database, CartLine) == []


async def test_a_manager_hides_a_workers_request_as_a_canteens(
    app, client, other_client, database, worker, manager, ordering, catering, count_queries
):
    gate = await ordering.gate()
    request_id = await post_for_group(client, worker, gate.id, title="Jual pulsa murah")
    await log_in(other_client, manager)
    count_queries.statements.clear()
    listing = await other_client.get("/manager/requests")
    assert listing.status_code == 200 and count_queries.count <= 5, count_queries.statements
    assert "Jual pulsa murah" in listing.text
    assert t("A group of workers at %(point)s", point="Gerbang 1 KITB") in listing.text
    assert worker.phone not in listing.text
    hidden = await submit(other_client, f"/manager/requests/{request_id}/hide", {"reason": "Iklan, bukan permintaan"})
    assert hidden.status_code == 303
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as browser:
        await log_in(browser, catering[0].user)
        assert (await browser.get(f"/vendor/requests/{request_id}")).status_code == 404
    page = await client.get(f"/worker/requests/{request_id}")
    assert page.status_code == 200 and t("Hidden by the manager") in page.text
