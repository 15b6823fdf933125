"""A request's writes stand or fall together: a savepoint undoes one refused call, and what a savepoint kept is
still undone when the request's transaction is rolled back, on SQLite as on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import col

from backend.accounts.models import Zone


def _zone(code: str) -> Zone:
    return Zone(
        code=code,
        name=f"Kawasan {code}",
        regency="Kabupaten Batang",
        province="Jawa Tengah",
        latitude=-6.9545,
        longitude=110.0322,
    )


async def _zone_codes(database) -> list[str]:
    async with database.sessionmaker() as session:
        return list((await session.execute(select(col(Zone.code)).order_by(col(Zone.code)))).scalars())


async def test_a_savepoint_opened_first_stays_inside_the_transaction_that_is_rolled_back(database):
    async with database.sessionmaker() as session:
        await session.execute(select(func.count(col(Zone.id))))  # a page reads before it writes
        async with session.begin_nested():
            session.add(_zone("KITB"))
        await session.rollback()

    assert await _zone_codes(database) == []


async def test_a_refused_call_undoes_only_its_own_writes(database):
    async with database.sessionmaker() as session:
        session.add(_zone("KITB"))
        await session.flush()
        try:
            async with session.begin_nested():
                session.add(_zone("KIW"))
                await session.flush()
                raise LookupError("refused")
        except LookupError:
            pass
        async with session.begin_nested():
            session.add(_zone("KIK"))
        await session.commit()

    assert await _zone_codes(database) == ["KIK", "KITB"]
