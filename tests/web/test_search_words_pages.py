"""A buyer's misspelt search on the phone, the suggestions when nothing is found (page and API), and the
manager's page of synonyms."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from backend.accounts.models import Role
from backend.catalog.synonyms import SearchSynonym
from backend.catalog.vocabulary import rebuild_vocabulary
from backend.clock import utcnow, wib_today
from backend.moderation.models import AuditEntry
from tests.conftest import QueryCounter, log_in, submit
from tests.web.test_catalogue_pages import product_names


async def snacks_and_drinks(world, zone, database) -> None:
    yuni = await world.seller(zone, business_name="Keripik Mbak Yuni")
    await world.live_product(yuni, "Keripik Tempe Sagu", category="snacks", unit="pack", price=8000)
    await world.live_product(yuni, "Kunyit Asam Segar", category="drinks", unit="pcs", price=5000)
    await world.live_product(yuni, "Sego Kucing Teri", category="catering", price=5000)
    async with database.sessionmaker() as session:
        await rebuild_vocabulary(session=session, today=wib_today(utcnow()))
        await session.commit()


async def test_a_misspelt_search_finds_the_product_on_the_page(client, world, zone, database):
    await snacks_and_drinks(world, zone, database)
    page = await client.get("/catalogue", params={"q": "kripik tmepe"})
    assert product_names(page.text) == ["Keripik Tempe Sagu"]


async def test_nothing_found_suggests_the_closest_words_and_categories_in_five_queries(
    client, world, zone, canteen, database, app
):
    await snacks_and_drinks(world, zone, database)
    staff = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen)
    await log_in(client, staff)
    with QueryCounter(app.state.database) as queries:
        page = await client.get("/catalogue", params={"q": "kerpik pedes", "halal": "1", "cari": "1"})  # submitted
    assert page.status_code == 200 and product_names(page.text) == []
    # The unmet search is counted for the zone's "dicari" list after the page is sent, in one statement of its own.
    answering = [statement for statement in queries.statements if "search_demand" not in statement]
    assert len(answering) <= 5 and queries.count - len(answering) == 1, queries.statements
    assert "Tidak ada hasil untuk “kerpik pedes”; mungkin maksud Anda:" in page.text
    assert '<a href="/catalogue?q=keripik+pedes&amp;halal=1">keripik pedes</a>' in page.text
    assert "Atau lihat kategori:" in page.text
    assert '<a href="/catalogue?halal=1&amp;category=snacks">Camilan dan makanan olahan</a>' in page.text

    fragment = await client.get(
        "/catalogue", params={"q": "<b>xyzq</b>"}, headers={"HX-Request": "true", "HX-Target": "results"}
    )
    assert "Tidak ada hasil untuk “&lt;b&gt;xyzq&lt;/b&gt;”." in fragment.text  # escaped; nothing to suggest


async def test_the_api_answers_suggestions_when_nothing_is_found(client, world, zone, database):
    await snacks_and_drinks(world, zone, database)
    empty = (await client.get("/api/v1/catalogue/products", params={"q": "minum kunyt pahit"})).json()
    assert empty["items"] == []
    assert empty["suggestions"]["texts"][0] == "minum kunyit pahit"
    assert empty["suggestions"]["categories"] == ["drinks"]
    found = (await client.get("/api/v1/catalogue/products", params={"q": "kunyt"})).json()
    assert [item["name"] for item in found["items"]] == ["Kunyit Asam Segar"]
    assert found["suggestions"] == {"texts": [], "categories": []}


async def test_a_manager_adds_a_synonym_buyers_find_with_and_removes_it(
    client, other_client, world, zone, database, manager
):
    await snacks_and_drinks(world, zone, database)
    assert product_names((await client.get("/catalogue", params={"q": "nasi kucing"})).text) == []
    await log_in(client, manager)
    listing = await client.get("/manager/synonyms")
    assert listing.status_code == 200 and "nasi kotak = nasi box" in listing.text

    refused = await submit(client, "/manager/synonyms", {"words": "kripik", "same_as": "Keripik"})
    assert refused.status_code == 422 and "Kata-kata ini sudah ada di daftar." in refused.text
    empty = await submit(client, "/manager/synonyms", {"words": "!!", "same_as": "nasi"})
    assert empty.status_code == 422 and "Tulis satu sampai tiga kata, hanya huruf dan angka." in empty.text

    added = await submit(client, "/manager/synonyms", {"words": "Sego", "same_as": "nasi"})
    assert added.status_code == 303 and added.headers["location"] == "/manager/synonyms?notice=synonym_added"
    assert product_names((await client.get("/catalogue", params={"q": "nasi kucing"})).text) == ["Sego Kucing Teri"]
    async with database.sessionmaker() as session:
        synonym = (await session.execute(select(SearchSynonym))).scalar_one()
        assert (synonym.words, synonym.same_as, synonym.zone_id) == ("nasi", "sego", zone.id)
        entry = (await session.execute(select(AuditEntry).where(col(AuditEntry.action) == "synonym.add"))).scalar_one()
        assert entry.actor_id == manager.id and entry.after == {"words": "nasi", "same_as": "sego"}

    other_zone = await world.zone(code="KIW", name="Kawasan Industri Wijayakusuma")
    other_manager = await world.user(Role.MANAGER, zone=other_zone)
    other = await world.user(Role.WORKER, zone=zone)
    await log_in(other_client, other)
    assert (await other_client.get("/manager/synonyms")).status_code == 403
    await log_in(other_client, other_manager)
    page = await other_client.get("/manager/synonyms")
    assert (
        "<strong>nasi</strong> = <strong>sego</strong>" in page.text
        and f"/manager/synonyms/{synonym.id}/remove" not in page.text
    )
    refused_removal = await submit(other_client, f"/manager/synonyms/{synonym.id}/remove", {})
    assert refused_removal.status_code == 403

    removed = await submit(client, f"/manager/synonyms/{synonym.id}/remove", {})
    assert removed.status_code == 303
    assert product_names((await client.get("/catalogue", params={"q": "nasi kucing"})).text) == []
    async with database.sessionmaker() as session:
        actions = (await session.execute(select(col(AuditEntry.action)).order_by(col(AuditEntry.id)))).scalars()
        assert list(actions) == ["synonym.add", "synonym.remove"]
