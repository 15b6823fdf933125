"""Two staff of the same canteen accept at the same moment: one standing order, the other told 409."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from backend.errors import Conflict
from backend.orders.models import StandingOrder
from backend.requests.models import BuyerRequest, OfferStatus, RequestOffer

pytestmark = pytest.mark.postgres_only


@pytest.fixture(autouse=True)
def postgres_only(database):
    if database.engine.dialect.name != "postgresql":
        pytest.skip("concurrency and locking are tested on PostgreSQL")


async def test_two_accepts_at_once_make_one_standing_order(
    requests, database, world, zone, canteen, canteen_staff, catering, second_caterer
):
    colleague = await world.user(canteen_staff.role, zone=zone, organisation=canteen)
    seller, product = catering
    rival, rival_product = second_caterer
    posted = await requests.post(canteen_staff)
    first = await requests.offer(seller, posted.id, product_id=product.id)
    second = await requests.offer(rival, posted.id, product_id=rival_product.id)

    results = await asyncio.gather(
        requests.accept(canteen_staff, posted.id, first.id),
        requests.accept(colleague, posted.id, second.id),
        return_exceptions=True,
    )

    refused = [result for result in results if isinstance(result, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], Conflict), results
    async with database.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(StandingOrder))).scalar_one() == 1
        request_row = await session.get(BuyerRequest, posted.id)
        statuses = dict((await session.execute(select(col(RequestOffer.id), col(RequestOffer.status)))).all())
    accepted = [offer_id for offer_id, status in statuses.items() if status == OfferStatus.ACCEPTED]
    assert accepted == [request_row.accepted_offer_id]
