"""What the zone wants: searches that found little, requests and orders become a weekly "dicari" list that
vendors and managers read, counted and never naming who searched."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import inspect, select

from backend.accounts.models import Role
from backend.clock import utcnow, wib_today
from backend.requests import demand
from backend.requests.models import SearchDemand
from tests.conftest import QueryCounter, found, log_in
from tests.orders.conftest import NEXT_MONDAY
from tests.requests.conftest import breakfast

MONDAY = date(2026, 11, 23)


async def count(database, zone_id, text, found_products, today):
    async with database.sessionmaker() as session:
        await demand.count_unmet_search(session=session, zone_id=zone_id, text=text, found=found_products, today=today)
        await session.commit()


async def wanted(database, zone_id, today):
    async with database.sessionmaker() as session:
        return await demand.wanted_list(session=session, zone_id=zone_id, today=today)


async def test_unmet_searches_are_counted_by_word_and_week_and_ranked(database, zone):
    await count(database, zone.id, "Rendang Padang", 0, MONDAY - timedelta(days=3))  # last week
    for day in range(3):
        await count(database, zone.id, "rendang", 1, MONDAY + timedelta(days=day))
    await count(database, zone.id, "Kopi susu KOPI", 0, MONDAY)
    await count(database, zone.id, "nasi", 12, MONDAY)  # found plenty: not wanted
    await count(database, zone.id, "?!", 0, MONDAY)  # no words
    await count(database, None, "rendang", 0, MONDAY)  # a visitor without a zone

    listed = await wanted(database, zone.id, MONDAY + timedelta(days=4))
    assert [(entry.word, entry.this_week, entry.last_week) for entry in listed.searched] == [
        ("rendang", 3, 1),
        ("kopi", 1, 0),
        ("susu", 1, 0),
        ("padang", 0, 1),
    ]
    assert listed.week == MONDAY
    assert [column.name for column in inspect(SearchDemand).columns] == ["zone_id", "week_start", "word", "searches"]


async def test_open_requests_and_the_weeks_orders_are_in_the_list(
    requests, database, zone, canteen_staff, catering, ordering
):
    await requests.post(canteen_staff)
    await requests.post(canteen_staff, breakfast(quantity=100))
    await ordering.order(canteen_staff, catering[1].id, 60)

    listed = await wanted(database, zone.id, NEXT_MONDAY)
    assert [(e.title, e.category, e.requests, e.quantity) for e in listed.requested] == [
        ("nasi box sarapan", "catering", 2, 400)
    ]
    assert [(e.category, e.orders, e.quantity) for e in listed.ordered] == [("catering", 1, 60)]
    assert (await wanted(database, zone.id, NEXT_MONDAY + timedelta(days=7))).ordered == []


async def test_a_search_that_finds_nothing_shows_in_the_vendors_dicari_list_and_starts_a_draft(
    app, client, other_client, world, zone, database, catering
):
    searcher = await world.user(Role.WORKER, zone=zone, full_name="Rizky Pencari")
    await log_in(client, searcher)
    with QueryCounter(app.state.database) as queries:
        result = await client.get("/catalogue", params={"q": "rendang"})
    # The page answers in five queries; the count is one statement written after the answer, apart from it.
    answering = [statement for statement in queries.statements if "search_demand" not in statement]
    assert result.status_code == 200 and len(answering) <= 5, answering
    assert queries.count - len(answering) == 1
    async with database.sessionmaker() as session:
        (row,) = (await session.execute(select(SearchDemand))).scalars()
    assert (row.zone_id, row.word, row.searches) == (zone.id, "rendang", 1)

    seller, _ = catering
    await log_in(other_client, seller.user)
    assert 'href="/vendor/wanted"' in (await other_client.get("/vendor")).text
    with QueryCounter(app.state.database) as queries:
        page = await other_client.get("/vendor/wanted")
    assert page.status_code == 200 and queries.count <= 5, queries.statements
    assert "rendang" in page.text and "Rizky" not in page.text
    link = found(r'href="(/vendor/products/new\?name=rendang[^"]*)"', page.text).group(1)
    draft_form = await other_client.get(link.replace("&amp;", "&"))
    assert draft_form.status_code == 200 and 'value="rendang"' in draft_form.text


async def test_managers_read_the_list_and_the_api_gives_it_to_vendors(client, world, zone, database, manager, catering):
    from tests.requests.test_request_api import bearer

    await count(database, zone.id, "seragam batik", 0, wib_today(utcnow()))
    await log_in(client, manager)
    page = await client.get("/manager/wanted")
    assert page.status_code == 200 and "seragam" in page.text and "/vendor/products/new" not in page.text
    answer = await client.get("/api/v1/wanted", headers=await bearer(database, catering[0].user))
    assert answer.status_code == 200
    assert {entry["word"] for entry in answer.json()["searched"]} >= {"seragam", "batik"}
