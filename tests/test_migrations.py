"""Migrations are code: `upgrade head` on an empty database gives exactly the models; `downgrade base` undoes it."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import backend.models  # noqa: F401
from backend import migrate
from tests.conftest import _postgres_url

MIGRATION_DATABASE = "pasar_migration_check"


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
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True,
                                                                                 "include_object": migrate.include_object}),
                                              SQLModel.metadata)
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
                query = "SELECT name FROM sqlite_master WHERE name LIKE 'product_search%'"
            else:
                query = ("SELECT indexname FROM pg_indexes WHERE indexname = 'ix_product_search_document' "
                         "UNION SELECT proname FROM pg_proc WHERE proname = 'great_circle_km'")
            names = set((await connection.execute(text(query))).scalars())
        await engine.dispose()
        return names

    for url in empty_databases:
        migrate.upgrade(url)
        found = asyncio.run(objects(url))
        if url.startswith("sqlite"):
            assert {"product_search", "product_search_insert", "product_search_delete",
                    "product_search_update"} <= found, found
        else:
            assert found == {"ix_product_search_document", "great_circle_km"}
