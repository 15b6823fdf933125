"""Search as buyers type it: other spellings, synonyms, one typo in a longer word, short words, and what a
search that finds nothing suggests. Every case runs on SQLite and PostgreSQL, with the same answers."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text as sql

from backend.accounts.models import Role
from backend.catalog import synonyms
from backend.catalog.models import Category
from backend.catalog.searchtext import one_typo_from, similarity, spelling_variants, trigrams
from backend.catalog.vocabulary import SearchWord, rebuild_vocabulary, suggest, understand_query
from backend.db import is_postgres
from backend.errors import Forbidden, ValidationFailed
from backend.jobs import rebuild_vocabulary_once
from tests.catalog.test_search import TODAY, find, search
from tests.conftest import QueryCounter

# What a buyer types → a product it must find. Names are spelt one way; buyers type another.
RECALL: list[tuple[str, str]] = [
    # spellings: the rules (a dropped or added "e", old spelling, final diphthongs) and the list
    ("kripik", "Keripik Tempe Sagu"),
    ("keripik", "Kripik Singkong Balado"),
    ("krupuk", "Kerupuk Udang Sidoarjo"),
    ("klepon", "Kelepon Pandan"),
    ("terasi", "Trasi Udang Rebon"),
    ("jamu", "Djamu Beras Kencur"),
    ("cendol", "Es Tjendol Nangka"),
    ("gula jawa", "Goela Djawa Batangan"),
    ("cabe", "Cabai Rawit Merah"),
    ("sate", "Satai Ayam Madura"),
    ("siomai", "Siomay Ikan Tenggiri"),
    ("kwetiaw", "Kwetiau Goreng Sapi"),
    ("sambel", "Sambal Bawang Botol"),
    ("toge", "Tauge Segar"),
    ("baso", "Bakso Urat Frozen"),
    ("mie", "Mi Ayam Jamur"),
    ("risoles", "Risol Mayo Ayam"),
    ("lumpia", "Lunpia Semarang Rebung"),
    ("coklat", "Brownies Cokelat Lumer"),
    ("cemilan", "Camilan Kacang Atom"),
    ("donut", "Donat Kentang Gula"),
    # synonyms, also of several words
    ("nasi kotak", "Nasi Box Ayam Bakar"),
    ("nasi box", "Nasi Kotak Rendang"),
    ("snack", "Camilan Kacang Atom"),
    ("camilan", "Snack Box Rapat"),
    ("ice", "Es Teh Manis"),
    ("tea", "Teh Poci Gula Batu"),
    ("coffee", "Kopi Tubruk Robusta"),
    ("juice", "Jus Alpukat"),
    ("tofu", "Tahu Bakso Ungaran"),
    # one typo in a word of five letters or more: a letter wrong, missing, extra or two swapped
    ("keripk", "Keripik Tempe Sagu"),
    ("rendnag", "Nasi Kotak Rendang"),
    ("bakwam", "Bakwan Jagung"),
    ("singkog", "Kripik Singkong Balado"),
    ("seragm kerja", "Seragam Kerja Pabrik"),
    ("wearpak", "Wearpack Safety"),
    ("kunyitt", "Kunyit Asam Segar"),
    ("tenggri", "Siomay Ikan Tenggiri"),
    ("tmepe", "Keripik Tempe Sagu"),
    # short words, as typed
    ("es", "Es Teh Manis"),
    ("teh", "Teh Poci Gula Batu"),
    ("mi", "Mi Ayam Jamur"),
]
CATEGORIES = {
    "Es Teh Manis": Category.DRINKS,
    "Teh Poci Gula Batu": Category.DRINKS,
    "Kopi Tubruk Robusta": Category.DRINKS,
    "Jus Alpukat": Category.DRINKS,
    "Djamu Beras Kencur": Category.DRINKS,
    "Es Tjendol Nangka": Category.DRINKS,
    "Kunyit Asam Segar": Category.DRINKS,
    "Cabai Rawit Merah": Category.FRESH,
    "Tauge Segar": Category.FRESH,
    "Seragam Kerja Pabrik": Category.UNIFORMS,
    "Wearpack Safety": Category.UNIFORMS,
    "Bakso Urat Frozen": Category.FROZEN,
}


async def catalogue(world, zone, database, names: list[str]) -> None:
    """One vendor selling these products (in category "other" unless said, so that no category word helps),
    and the vocabulary rebuilt as the job would."""
    seller = await world.seller(zone, business_name="Warung Bu Lastri")
    for name in names:
        await world.live_product(seller, name, category=CATEGORIES.get(name, Category.OTHER).value)
    async with database.sessionmaker() as session:
        await rebuild_vocabulary(session=session, today=TODAY)
        await session.commit()


async def test_at_least_thirty_spellings_synonyms_and_typos_all_find_what_the_buyer_meant(world, zone, database):
    assert len(RECALL) >= 30
    await catalogue(world, zone, database, sorted({name for _, name in RECALL}))
    missed = [(typed, name) for typed, name in RECALL if name not in await find(database, text=typed)]
    assert missed == []


async def test_a_name_as_typed_comes_before_one_found_through_another_spelling_or_word(world, zone, database):
    await catalogue(
        world,
        zone,
        database,
        [
            "Keripik Tempe Sagu",
            "Kripik Singkong Balado",
            "Camilan Kacang Atom",
            "Snack Box Rapat",
            "Nasi Box Ayam Bakar",
            "Nasi Kotak Rendang",
        ],
    )
    assert await find(database, text="kripik") == ["Kripik Singkong Balado", "Keripik Tempe Sagu"]
    assert await find(database, text="keripik") == ["Keripik Tempe Sagu", "Kripik Singkong Balado"]
    assert await find(database, text="snack") == ["Snack Box Rapat", "Camilan Kacang Atom"]
    assert await find(database, text="nasi kotak") == ["Nasi Kotak Rendang", "Nasi Box Ayam Bakar"]


async def test_a_typo_is_corrected_only_in_long_words_nobody_sells(world, zone, database):
    await catalogue(world, zone, database, ["Es Teh Manis", "Nasi Rendang", "Keripik Tempe Sagu", "Tempe Mendoan"])
    async with database.sessionmaker() as session:
        assert (await understand_query(session=session, text="rendnag")).corrected == {"rendnag": ["rendang"]}
        assert (await understand_query(session=session, text="tempe")).corrected == {}  # sold as typed
        assert (await understand_query(session=session, text="temp")).corrected == {}  # typing goes on
        assert (await understand_query(session=session, text="tepe")).corrected == {}  # four letters
        words = await understand_query(session=session, text="kripik")
        assert words.corrected == {} and words.terms == [("kripik", "keripik")]  # another spelling, not a typo
    assert await find(database, text="tehh") == []  # short words are not corrected
    assert await find(database, text="as") == []  # nor taken for "es"
    assert await find(database, text="es") == ["Es Teh Manis"]


async def test_short_words_find_as_prefixes_on_both_databases(world, zone, database):
    await catalogue(world, zone, database, ["Es Teh Manis", "Teh Poci Gula Batu", "Mi Ayam Jamur", "Esensial Herbal"])
    assert sorted(await find(database, text="es")) == ["Es Teh Manis", "Esensial Herbal"]
    assert await find(database, text="es teh") == ["Es Teh Manis"]
    assert sorted(await find(database, text="teh")) == ["Es Teh Manis", "Teh Poci Gula Batu"]
    # "mi" also starts "minuman", a word of the drinks' category: the name's word comes first.
    assert (await find(database, text="mi"))[0] == "Mi Ayam Jamur"


async def test_a_search_that_finds_nothing_suggests_the_closest_words_and_categories(world, zone, database):
    await catalogue(world, zone, database, ["Keripik Tempe Sagu", "Kunyit Asam Segar", "Nasi Rendang"])
    assert await find(database, text="kerpik pedes") == []
    async with database.sessionmaker() as session:
        found = await suggest(session=session, text="kerpik pedes")
        assert found.texts[0] == "keripik pedes"
        assert found.categories == [Category.SNACKS]  # "keripik" is one of the snacks' words
        drinks = await suggest(session=session, text="minum kunyt")
        assert drinks.texts[0] == "minum kunyit" and drinks.categories == [Category.DRINKS]
        assert (await suggest(session=session, text="xyzq")).texts == []


async def test_words_of_products_buyers_cannot_see_are_not_offered(world, zone, database, manager):
    from backend.moderation import service as moderation

    seller = await world.seller(zone, business_name="Dapur Lama")
    await world.live_product(seller, "Rendang Daging")
    async with database.sessionmaker() as session:
        await rebuild_vocabulary(session=session, today=TODAY)
        await moderation.suspend_vendor(
            session=session, actor=manager, vendor_id=seller.vendor.id, reason="Tidak aktif lagi", now=world.now
        )
        run = await rebuild_vocabulary(session=session, today=TODAY)
        await session.commit()
        assert run.removed >= 3  # rendang, daging, dapur, lama
        assert await session.get(SearchWord, "rendang") is None
        assert await session.get(SearchWord, "katering") is not None  # a category's word stays


async def test_managers_add_synonyms_that_search_uses_at_once(world, zone, database, manager):
    await catalogue(world, zone, database, ["Sego Kucing Teri"])
    assert await find(database, text="nasi kucing") == []
    async with database.sessionmaker() as session:
        await synonyms.add_synonym(session=session, actor=manager, words="Nasi", same_as="sego")
        await session.commit()
    assert await find(database, text="nasi kucing") == ["Sego Kucing Teri"]
    async with database.sessionmaker() as session:
        with pytest.raises(ValidationFailed):
            await synonyms.add_synonym(session=session, actor=manager, words="sego", same_as="nasi")  # already there
        with pytest.raises(ValidationFailed):
            await synonyms.add_synonym(session=session, actor=manager, words="kripik", same_as="keripik")  # built in
        with pytest.raises(ValidationFailed):
            await synonyms.add_synonym(session=session, actor=manager, words="😀", same_as="nasi")


async def test_spellings_synonyms_and_corrections_cost_the_search_no_query_of_their_own(world, zone, database):
    await catalogue(world, zone, database, ["Keripik Tempe Sagu", "Nasi Kotak Rendang"])
    for text in ("nasi kotak", "kripik", "keripk tmepe", "nasi"):
        with QueryCounter(database) as queries:
            await search(database, text=text)
        assert queries.count == 2, (text, queries.statements)  # the words, then the page's rows


def test_trigrams_and_typos_are_counted_as_pg_trgm_and_people_do():
    assert trigrams("teh") == {"  t", " te", "teh", "eh "}
    assert similarity("rendang", "rendnag") == pytest.approx(4 / 12)
    assert spelling_variants("kripik") == ["keripik"]
    assert "kripik" in spelling_variants("keripik")
    assert spelling_variants("es") == []
    assert (
        one_typo_from("kripk", "kripik") and one_typo_from("kerpi", "keripik") and one_typo_from("rendnag", "rendang")
    )
    assert not one_typo_from("rndnag", "rendang")
    assert not one_typo_from("tepe", "tempe")  # four letters: too short to correct


async def test_the_job_rebuilds_the_words_once_even_when_two_workers_run_it_at_once(world, zone, database):
    seller = await world.seller(zone, business_name="Keripik Mbak Yuni")
    await world.live_product(seller, "Keripik Tempe Sagu", category="snacks")
    first, second = await asyncio.gather(
        rebuild_vocabulary_once(database, TODAY), rebuild_vocabulary_once(database, TODAY)
    )
    assert first.words == second.words  # neither failed on the rows the other inserted
    again = await rebuild_vocabulary_once(database, TODAY)
    assert (again.added, again.removed) == (0, 0)
    async with database.sessionmaker() as session:
        keripik = await session.get(SearchWord, "keripik")
        assert keripik is not None and keripik.products == 1  # in the name and the vendor's: one product


async def test_two_managers_adding_the_same_synonym_at_once_are_told_it_exists(world, zone, database, monkeypatch):
    """Both checked before either wrote: the unique pair refuses the second, with the usual message."""
    first, second = await world.user(Role.MANAGER, zone=zone), await world.user(Role.MANAGER, zone=zone)
    async with database.sessionmaker() as session:
        await synonyms.add_synonym(session=session, actor=first, words="sego", same_as="nasi")
        await session.commit()

    async def nothing_found(**_: object) -> list[tuple[str, str]]:
        return []

    monkeypatch.setattr(synonyms, "added_pairs", nothing_found)
    async with database.sessionmaker() as session:
        with pytest.raises(ValidationFailed) as refused:
            await synonyms.add_synonym(session=session, actor=second, words="nasi", same_as="sego")
        assert refused.value.errors[0].message == synonyms.MSG_EXISTS


async def test_trigrams_counted_in_python_agree_with_pg_trgm(database):
    """SQLite's trigram table is filled with searchtext.trigrams; on PostgreSQL pg_trgm counts them itself."""
    pairs = [("kerpik", "keripik"), ("tmepe", "tempe"), ("es", "teh"), ("nasi", "nasi"), ("rendnag", "rendang"),
             ("wearpak", "wearpack"), ("123", "12"), ("singkog", "singkong")]  # fmt: skip
    async with database.sessionmaker() as session:
        if not is_postgres(session):
            pytest.skip("pg_trgm is PostgreSQL's")
        for first, second in pairs:
            found = (await session.execute(sql("SELECT similarity(:a, :b)"), {"a": first, "b": second})).scalar_one()
            assert found == pytest.approx(similarity(first, second), abs=1e-6), (first, second)


async def test_an_admin_adds_synonyms_for_every_zone_and_only_an_admin_removes_them(database, manager, admin):
    async with database.sessionmaker() as session:
        added = await synonyms.add_synonym(session=session, actor=admin, words="sego", same_as="nasi")
        await session.commit()
        assert added.zone_id is None
        with pytest.raises(Forbidden):
            await synonyms.remove_synonym(session=session, actor=manager, synonym_id=added.id)
        await synonyms.remove_synonym(session=session, actor=admin, synonym_id=added.id)
        await session.commit()
        assert await synonyms.list_synonyms(session=session) == []


async def test_words_spelt_in_more_or_fewer_ways_share_one_statement_for_the_rows(world, zone, database):
    """On PostgreSQL a word's spellings, synonyms and corrections travel as one array parameter: searches for a
    word with one spelling and for words with several send the same statement, which each worker then compiles
    and the database prepares and plans once, not once per word."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite matches each spelling with a condition of its own")
    await catalogue(world, zone, database, ["Keripik Tempe Sagu", "Kelepon Pandan", "Bakwan Jagung"])
    statements = set()
    for text, name in (("kripik", "Keripik Tempe Sagu"), ("klepon", "Kelepon Pandan"), ("bakwan", "Bakwan Jagung")):
        with QueryCounter(database) as queries:
            assert await find(database, text=text) == [name]
        statements.add(queries.statements[-1])  # the page's rows (the words come first)
    assert len(statements) == 1
