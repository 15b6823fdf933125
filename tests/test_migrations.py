"""Migrations are code: `upgrade head` on an empty database gives exactly the models; `downgrade base` undoes it."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import backend.models  # noqa: F401
from backend import migrate
from backend.catalog.models import CatalogueEntry, ProductPhoto, VendorReach
from backend.config import Settings
from backend.db import Database, table_of
from tests.conftest import World, _postgres_url

# One per suite database and test process (pytest-xdist runs several): two suites run side by side on one
# server (two checkouts, say) never share one.
_SUITE_DATABASE = os.environ.get("TEST_DATABASE_URL", "").rstrip("/").rpartition("/")[2].split("?")[0] or "test"
MIGRATION_DATABASE = f"pasar_migration_check_{_SUITE_DATABASE}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"[:63]


def _empty_databases(tmp_path) -> list[str]:
    urls = [f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"]
    pg = _postgres_url()
    if pg:
        urls.append(_recreate_postgres_database(pg, MIGRATION_DATABASE))
    return urls


def _recreate_postgres_database(url: str, name: str) -> str:
    async def recreate() -> None:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        await engine.dispose()

    asyncio.run(recreate())
    return url.rsplit("/", 1)[0] + f"/{name}"


def _differences(url: str) -> list[object]:
    async def compare() -> list[object]:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(
                        sync, opts={"compare_type": True, "include_object": migrate.include_object}
                    ),
                    SQLModel.metadata,
                )
            )
        await engine.dispose()
        return diff

    return asyncio.run(compare())


def _tables(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        await engine.dispose()
        return names

    return asyncio.run(read())


@pytest.fixture(scope="module")
def empty_databases(tmp_path_factory):
    return _empty_databases(tmp_path_factory.mktemp("migrations"))


def test_upgrade_head_on_an_empty_database_matches_the_models(empty_databases):
    for url in empty_databases:
        migrate.upgrade(url)
        assert _differences(url) == [], url
        assert set(SQLModel.metadata.tables) <= _tables(url)


def test_downgrade_base_removes_every_table(empty_databases):
    for url in empty_databases:
        migrate.upgrade(url)
        migrate.downgrade(url, "base")
        assert _tables(url) <= {"alembic_version"}, url
        migrate.upgrade(url)  # and it can be applied again
        assert _differences(url) == []


def test_the_search_index_outside_the_models_exists_at_head(empty_databases):
    """A batch migration that recreates `product` drops SQLite's triggers with it: this notices."""

    async def objects(url: str) -> set[str]:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                query = (
                    "SELECT name FROM sqlite_master WHERE name LIKE 'product_search%' OR name LIKE 'catalogue_search%'"
                )
            else:
                query = (
                    "SELECT indexname FROM pg_indexes "
                    "WHERE indexname IN ('ix_product_search_document', 'ix_catalogue_entry_search_document') "
                    "UNION SELECT proname FROM pg_proc WHERE proname = 'great_circle_km'"
                )
            names = set((await connection.execute(text(query))).scalars())
        await engine.dispose()
        return names

    for url in empty_databases:
        migrate.upgrade(url)
        found = asyncio.run(objects(url))
        if url.startswith("sqlite"):
            assert {
                "product_search",
                "product_search_insert",
                "product_search_delete",
                "product_search_update",
                "catalogue_search",
                "catalogue_search_insert",
                "catalogue_search_delete",
                "catalogue_search_update",
            } <= found, found
        else:
            assert found == {"ix_product_search_document", "ix_catalogue_entry_search_document", "great_circle_km"}


def test_photos_over_the_limit_or_sharing_a_place_are_numbered_again_by_0010(empty_databases, tmp_path):
    """Before the unique places and the limit of five, uploads sent together left products with up to eight
    photos, places starting at 1 and taken twice; the migration keeps the first five, in order, at 0 to 4."""

    async def seed(url: str) -> dict[str, list[int]]:
        database = Database(url)
        world = World(database=database, settings=Settings(environment="test", media_dir=tmp_path))
        try:
            zone = await world.zone()
            seller = await world.seller(zone, business_name="Catering Bu Sri")
            crowded = await world.live_product(seller, "Nasi Box Ayam Bakar")
            sparse = await world.live_product(seller, "Nasi Box Rendang")
            async with database.sessionmaker() as session:
                photos: dict[str, list[int]] = {"crowded": [], "sparse": []}
                for name, product, places in (
                    ("crowded", crowded, [1, 2, 2, 3, 4, 5, 5, 6]),
                    ("sparse", sparse, [3, 1]),
                ):
                    for place in places:
                        photo = ProductPhoto(
                            product_id=product.id, position=place, thumb_key="t", detail_key="d", width=1, height=1
                        )
                        session.add(photo)
                        await session.flush()
                        photos[name].append(photo.id)
                await session.commit()
            return {**photos, "ids": [crowded.id, sparse.id]}
        finally:
            await database.dispose()

    async def places(url: str, product_id: int) -> list[tuple[int, int]]:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT id, position FROM product_photo WHERE product_id = :id ORDER BY position"),
                    {"id": product_id},
                )
            ).all()
        await engine.dispose()
        return [tuple(row) for row in rows]

    async def alter_users(url: str, statement: str) -> None:
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    async def lend_read_model(url: str, *, lent: bool) -> None:
        engine = create_async_engine(url)
        tables = [table_of(CatalogueEntry), table_of(VendorReach)]
        async with engine.begin() as connection:
            for table in tables if lent else reversed(tables):
                await connection.run_sync(table.create if lent else table.drop)
        await engine.dispose()

    for url in empty_databases:
        migrate.downgrade(url, "base")
        migrate.upgrade(url, "0009")
        # The seed writes today's accounts and vendors, which have columns later revisions (0011, 0015) add, and
        # today's services keep the catalogue's read model (0013) in step: both lent for the seed.
        lent = [("user", "phone_verified_at", "TIMESTAMP")] + [
            ("vendor", column, kind)
            for column, kind in (
                ("delivery_fee", "INTEGER"),
                ("min_order_value", "INTEGER"),
                ("delivery_fee_bands", "JSON"),
            )
        ]
        for table, column, kind in lent:
            asyncio.run(alter_users(url, f'ALTER TABLE "{table}" ADD COLUMN {column} {kind}'))
        asyncio.run(lend_read_model(url, lent=True))
        seeded = asyncio.run(seed(url))
        asyncio.run(lend_read_model(url, lent=False))
        for table, column, _ in lent:
            asyncio.run(alter_users(url, f'ALTER TABLE "{table}" DROP COLUMN {column}'))
        migrate.upgrade(url, "0010")
        crowded, sparse = seeded["ids"]
        first_five = seeded["crowded"][:5]  # in their order: place, then age
        assert asyncio.run(places(url, crowded)) == list(zip(first_five, range(5), strict=True)), url
        assert asyncio.run(places(url, sparse)) == [(seeded["sparse"][1], 0), (seeded["sparse"][0], 1)], url
        migrate.downgrade(url, "0009")  # and back
        assert len(asyncio.run(places(url, crowded))) == 5
        migrate.downgrade(url, "base")


def test_accounts_that_existed_before_phone_codes_count_as_verified_after_0011(empty_databases):
    """Their owners have used them for a while; only accounts made after 0011 must prove their number."""

    async def run(url: str, statement: str) -> list[Any]:
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            result = await connection.execute(text(statement))
            rows = list(result.all()) if result.returns_rows else []
        await engine.dispose()
        return rows

    for url in empty_databases:
        migrate.downgrade(url, "base")
        migrate.upgrade(url, "0010")
        asyncio.run(
            run(
                url,
                'INSERT INTO "user" (phone, full_name, password_hash, role, locale, is_active, created_at) '
                "VALUES ('+6281234567001', 'Sri Rahayu', 'x', 'worker', 'id', true, '2026-11-30 08:00:00')",
            )
        )
        migrate.upgrade(url, "0011")
        assert asyncio.run(run(url, 'SELECT phone_verified_at IS NOT NULL FROM "user"')) == [(True,)], url
        migrate.downgrade(url, "base")
