"""A canteen's standing weekly orders, set up and followed from its phone."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlmodel import col

from backend.accounts.models import Role
from backend.clock import utcnow
from backend.errors import Shortage
from backend.orders.models import StandingOrder
from backend.orders.standing import MSG_WEEKDAYS, place_standing_orders
from tests.conftest import found, log_in, submit
from tests.web.test_order_pages import t

WEEKDAYS = ["1", "2", "3", "4", "5"]


def standing_form(product_id: int, **changes: object) -> dict[str, object]:
    return {
        "product_id": product_id,
        "quantity": "200",
        "weekdays": WEEKDAYS,
        "slot": "11:00",
        "delivery_kind": "canteen",
        "days_ahead": "7",
        "notes": "Shift pagi",
        **changes,
    }


async def saved_standing_orders(database) -> list[StandingOrder]:
    async with database.sessionmaker() as session:
        return list((await session.execute(select(StandingOrder).order_by(col(StandingOrder.id)))).scalars())


async def test_a_canteen_sets_up_200_box_every_weekday_from_the_product_page(client, database, canteen_staff, catering):
    _, product = catering
    await log_in(client, canteen_staff)
    link = found(
        r'href="(/canteen/standing-orders\?product=\d+)"', (await client.get(f"/products/{product.id}")).text
    ).group(1)
    form_page = await client.get(link)
    assert form_page.status_code == 200
    assert "Nasi Box Ayam Bakar" in form_page.text and "Catering Bu Sri" in form_page.text
    assert 'name="quantity" type="number" inputmode="numeric" step="1" min="10" value="10"' in form_page.text
    assert 'name="days_ahead" type="number" inputmode="numeric" step="1" min="1" max="14" value="7"' in form_page.text
    assert form_page.text.count('name="weekdays"') == 7

    saved = await submit(client, "/canteen/standing-orders", standing_form(product.id))
    assert saved.status_code == 303 and saved.headers["location"] == "/canteen/standing-orders?notice=created"
    (standing,) = await saved_standing_orders(database)
    assert (standing.quantity, standing.weekdays, standing.days_ahead) == (200, 0b0011111, 7)
    listing = await client.get(saved.headers["location"])
    assert t("Monday") in listing.text and t("Friday") in listing.text and t("Sunday") not in listing.text
    assert "11.00 WIB" in listing.text and t("Active") in listing.text


async def test_a_refused_standing_order_keeps_what_was_typed(client, database, canteen_staff, catering):
    _, product = catering
    await log_in(client, canteen_staff)
    refused = await submit(
        client, "/canteen/standing-orders", standing_form(product.id, weekdays=[], quantity="150", slot="04:00")
    )
    assert refused.status_code == 400
    assert t(MSG_WEEKDAYS) in refused.text and t("Choose a delivery time from the list.") in refused.text
    assert 'min="10" value="150"' in refused.text and "Shift pagi" in refused.text
    unreadable = await submit(client, "/canteen/standing-orders", standing_form(product.id, days_ahead="tujuh"))
    assert unreadable.status_code == 400 and t("Place the orders 1 to 14 days ahead.") in unreadable.text
    assert await saved_standing_orders(database) == []


async def test_the_latest_days_show_the_order_or_why_it_could_not_be_held(client, database, canteen_staff, catering):
    _, product = catering
    await log_in(client, canteen_staff)
    every_day = ["1", "2", "3", "4", "5", "6", "7"]
    await submit(client, "/canteen/standing-orders", standing_form(product.id, weekdays=every_day))
    await submit(client, "/canteen/standing-orders", standing_form(product.id, weekdays=every_day, quantity="600"))
    async with database.sessionmaker() as session:
        await place_standing_orders(session=session, now=utcnow())
        await session.commit()
    page = await client.get("/canteen/standing-orders")
    assert page.status_code == 200
    assert re.search(r'<a href="/orders/\d+">', page.text)  # the 200 box were placed
    assert t(Shortage.message, product="Nasi Box Ayam Bakar", requested=600, available=300) in page.text


async def test_pause_and_resume_and_only_the_canteens_own(
    client, other_client, world, zone, database, canteen_staff, worker, catering
):
    _, product = catering
    await log_in(client, canteen_staff)
    await submit(client, "/canteen/standing-orders", standing_form(product.id))
    (standing,) = await saved_standing_orders(database)
    paused = await submit(client, f"/canteen/standing-orders/{standing.id}/pause", {})
    assert paused.status_code == 303 and paused.headers["location"] == "/canteen/standing-orders?notice=paused"
    assert (await saved_standing_orders(database))[0].active is False
    page = await client.get(paused.headers["location"])
    assert t("Paused") in page.text and f'action="/canteen/standing-orders/{standing.id}/resume"' in page.text
    assert (await submit(client, f"/canteen/standing-orders/{standing.id}/resume", {})).status_code == 303
    assert (await saved_standing_orders(database))[0].active is True

    stranger = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=await world.organisation(zone, "Kantin B"))
    await log_in(other_client, stranger)
    assert (await submit(other_client, f"/canteen/standing-orders/{standing.id}/pause", {})).status_code == 404
    assert "Nasi Box Ayam Bakar" not in (await other_client.get("/canteen/standing-orders")).text
    assert (await saved_standing_orders(database))[0].active is True


async def test_workers_have_no_standing_orders_and_the_page_needs_the_csrf_token(
    client, other_client, worker, canteen_staff, catering
):
    _, product = catering
    await log_in(client, worker)
    assert (await client.get("/canteen/standing-orders")).status_code == 403
    await log_in(other_client, canteen_staff)
    response = await other_client.post(
        "/canteen/standing-orders", data=standing_form(product.id), follow_redirects=False
    )
    assert response.status_code == 403


async def test_without_a_product_the_page_points_to_the_catalogue(client, canteen_staff, count_queries, catering):
    _, product = catering
    await log_in(client, canteen_staff)
    page = await client.get("/canteen/standing-orders")
    assert 'name="quantity"' not in page.text and 'href="/catalogue"' in page.text
    await submit(client, "/canteen/standing-orders", standing_form(product.id))
    count_queries.statements.clear()
    assert (await client.get(f"/canteen/standing-orders?product={product.id}")).status_code == 200
    assert count_queries.count <= 5, count_queries.statements
