"""What the zone wants: searches that found little, requests and orders become a weekly "dicari" list that
vendors and managers read, counted and never naming who searched."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import inspect, select
from sqlmodel import col

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
    for day in range(3):
        await count(database, zone.id, "Rendang Padang", 0, MONDAY - timedelta(days=3 + day))  # last week
    for day in range(4):
        await count(database, zone.id, "rendang", 1, MONDAY + timedelta(days=day))
    for _ in range(3):
        await count(database, zone.id, "Kopi susu KOPI", 0, MONDAY)
    await count(database, zone.id, "nasi", 12, MONDAY)  # found plenty: not wanted
    await count(database, zone.id, "?!", 0, MONDAY)  # no words
    await count(database, None, "rendang", 0, MONDAY)  # a visitor without a zone

    listed = await wanted(database, zone.id, MONDAY + timedelta(days=4))
    assert [(entry.word, entry.this_week, entry.last_week) for entry in listed.searched] == [
        ("rendang", 4, 3),
        ("kopi", 3, 0),
        ("susu", 3, 0),
        ("padang", 0, 3),
    ]
    assert listed.week == MONDAY
    assert [column.name for column in inspect(SearchDemand).columns] == ["zone_id", "week_start", "word", "searches"]


async def test_a_word_shows_only_once_several_searches_of_a_week_asked_for_it(database, zone):
    # One person's search (or two) is not what the zone wants, and could tell who searched: it stays off the list.
    await count(database, zone.id, "gudeg", 0, MONDAY)
    await count(database, zone.id, "gudeg", 0, MONDAY)
    await count(database, zone.id, "rendang", 0, MONDAY)
    await count(database, zone.id, "rendang", 0, MONDAY - timedelta(days=7))  # the weeks are not added up
    assert (await wanted(database, zone.id, MONDAY)).searched == []

    await count(database, zone.id, "gudeg", 0, MONDAY + timedelta(days=1))
    listed = await wanted(database, zone.id, MONDAY + timedelta(days=1))
    assert [(entry.word, entry.this_week) for entry in listed.searched] == [("gudeg", demand.MIN_SEARCHES)]


async def test_words_shorter_than_three_letters_are_not_counted(database, zone):
    for text in ("k", "ke", "kr ab", "es teh"):
        await count(database, zone.id, text, 0, MONDAY)
    async with database.sessionmaker() as session:
        words = set((await session.execute(select(col(SearchDemand.word)))).scalars())
    assert words == {"teh"}


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
    for _ in range(demand.MIN_SEARCHES):
        with QueryCounter(app.state.database) as queries:
            result = await client.get("/catalogue", params={"q": "rendang", "cari": "1"})  # the search submitted
        # The page answers in five queries; the count is one statement written after the answer, apart from it.
        answering = [statement for statement in queries.statements if "search_demand" not in statement]
        assert result.status_code == 200 and len(answering) <= 5, answering
        assert queries.count - len(answering) == 1
    async with database.sessionmaker() as session:
        (row,) = (await session.execute(select(SearchDemand))).scalars()
    assert (row.zone_id, row.word, row.searches) == (zone.id, "rendang", demand.MIN_SEARCHES)

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

    for _ in range(demand.MIN_SEARCHES):
        await count(database, zone.id, "seragam batik", 0, wib_today(utcnow()))
    await log_in(client, manager)
    page = await client.get("/manager/wanted")
    assert page.status_code == 200 and "seragam" in page.text and "/vendor/products/new" not in page.text
    answer = await client.get("/api/v1/wanted", headers=await bearer(database, catering[0].user))
    assert answer.status_code == 200
    assert {entry["word"] for entry in answer.json()["searched"]} >= {"seragam", "batik"}


async def test_only_a_submitted_search_is_counted_not_the_words_typed_on_the_way(app, client, world, zone, database):
    """The search box searches as the buyer types ("ren", "renda", "rendang"): those answers are not counted; the
    search the buyer submits (the button, or Enter) is, once, with or without JavaScript."""
    await log_in(client, await world.user(Role.WORKER, zone=zone))
    page = await client.get("/catalogue")
    found(r'<button type="submit" name="cari" value="1"', page.text)
    home = await client.get("/", follow_redirects=True)
    found(r'<button type="submit" name="cari" value="1"', home.text)  # the home's search box too
    typing = {"HX-Request": "true", "HX-Target": "results", "HX-Current-URL": "http://testserver/catalogue"}
    for typed in ("ren", "renda", "rendang"):
        assert (await client.get("/catalogue", params={"q": typed}, headers=typing)).status_code == 200
    assert (
        await client.get("/catalogue", params={"q": "rendang", "category": "snacks"}, headers=typing)
    ).status_code == 200
    async with database.sessionmaker() as session:
        assert list((await session.execute(select(SearchDemand))).scalars()) == []

    submitted = await client.get("/catalogue", params={"q": "rendang", "cari": "1"}, headers=typing)
    assert submitted.status_code == 200
    without_javascript = await client.get("/catalogue", params={"q": "rendang", "cari": "1"})
    # A category chip keeps the words but is not a new search.
    chips = without_javascript.text.split('<nav class="chips"')[1].split("</nav>")[0]
    assert "q=rendang" in chips and "cari=" not in chips
    async with database.sessionmaker() as session:
        assert [(row.word, row.searches) for row in (await session.execute(select(SearchDemand))).scalars()] == [
            ("rendang", 2)
        ]


@pytest.mark.postgres_only
async def test_concurrent_searches_of_the_same_words_in_any_order_never_deadlock(database, zone):
    if database.engine.dialect.name != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL")
    texts = ["kopi susu gula teh", "teh gula susu kopi", "susu teh kopi gula", "gula kopi teh susu"]
    await count(database, zone.id, texts[0], 0, MONDAY)  # the rows exist: each search updates (locks) all four
    results = await asyncio.gather(
        *(count(database, zone.id, texts[turn % len(texts)], 0, MONDAY) for turn in range(40)),
        return_exceptions=True,
    )
    assert [result for result in results if isinstance(result, BaseException)] == []
    async with database.sessionmaker() as session:
        counts = dict((await session.execute(select(col(SearchDemand.word), col(SearchDemand.searches)))).all())
    assert counts == {"gula": 41, "kopi": 41, "susu": 41, "teh": 41}


async def test_the_api_counts_a_search_unless_it_says_it_is_typed_as_you_go(client, world, zone, database):
    from tests.requests.test_request_api import bearer

    headers = await bearer(database, await world.user(Role.WORKER, zone=zone))
    for typed in ("ren", "rendang"):
        answer = await client.get(
            "/api/v1/catalogue/products", params={"q": typed, "submitted": "false"}, headers=headers
        )
        assert answer.status_code == 200
    async with database.sessionmaker() as session:
        assert list((await session.execute(select(SearchDemand))).scalars()) == []
    assert (await client.get("/api/v1/catalogue/products", params={"q": "rendang"}, headers=headers)).status_code == 200
    async with database.sessionmaker() as session:
        assert [(row.word, row.searches) for row in (await session.execute(select(SearchDemand))).scalars()] == [
            ("rendang", 1)
        ]
