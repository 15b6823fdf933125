"""Offers racing each other and the canteen's choice, as they happen in production: a server with several worker
processes on PostgreSQL, and people whose requests cross over real HTTP.

A vendor's first offer sent from two tabs (or a double tap on a flaky network) is saved once, the other tab told
so (409), never a server error. Vendors offering while the canteen accepts another offer either come in before
the choice (and are told they were not chosen) or are told the request is decided (409): no offer is left open
on a decided request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.clock import utcnow, wib_today
from backend.config import Settings
from backend.i18n import gettext, set_locale
from backend.requests.models import BuyerRequest, OfferStatus, RequestOffer, RequestStatus
from backend.requests.service import MSG_NOT_OPEN, MSG_OFFER_JUST_MADE
from tests.app_process import ServerProcess, suite_environment
from tests.orders.test_races_http import ApiUser, client_for, with_token
from tests.requests.test_request_api import request_body

# The module's tests share one server: in one test process, so it starts once.
pytestmark = [pytest.mark.postgres_only, pytest.mark.one_database, pytest.mark.xdist_group("offer_races_over_http")]

WORKERS = 2
TABS = 5
RIVALS = 6
ROUNDS = 4


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The app served by several worker processes on the database under test, for every test of the module."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("races between worker processes are tested on PostgreSQL")
    process = ServerProcess(
        log_dir=tmp_path_factory.mktemp("offer-races-server"),
        workers=WORKERS,
        environment=suite_environment(
            settings,
            API_RATE_LIMIT_PER_MINUTE="100000",
        ),
    )
    try:  # a server that did not start in time is stopped too
        process.start()
        yield process
    finally:
        process.stop()


def start_date() -> str:
    return (wib_today(utcnow()) + timedelta(days=7)).isoformat()


async def post_request(client: httpx.AsyncClient, canteen: ApiUser) -> int:
    created = await client.post("/api/v1/requests", json=request_body(), headers=canteen.headers())
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


async def offer(client: httpx.AsyncClient, vendor: ApiUser, request_id: int, product_id: int) -> httpx.Response:
    return await client.put(
        f"/api/v1/vendor/requests/{request_id}/offer",
        json={"start_date": start_date(), "product_id": product_id},
        headers=vendor.headers(),
    )


async def offers_of(world, request_id: int) -> list[RequestOffer]:
    async with world.database.sessionmaker() as session:
        return list(
            (await session.execute(select(RequestOffer).where(col(RequestOffer.request_id) == request_id))).scalars()
        )


async def test_a_first_offer_sent_from_five_tabs_at_once_is_saved_once(
    world, zone, canteen_staff, catering, server: ServerProcess
):
    seller, product = catering
    canteen, vendor = await with_token(world, canteen_staff), await with_token(world, seller.user)
    set_locale("id")
    async with client_for(server, TABS + 1) as client:
        assert (await client.get("/api/v1/vendor/requests", headers=vendor.headers())).status_code == 200
        for _ in range(ROUNDS):
            request_id = await post_request(client, canteen)
            answers = await asyncio.gather(*(offer(client, vendor, request_id, product.id) for _ in range(TABS)))

            assert all(answer.status_code < 500 for answer in answers), server.log()
            assert {answer.status_code for answer in answers} <= {200, 409}, [answer.text for answer in answers]
            (saved,) = await offers_of(world, request_id)
            assert (saved.vendor_id, saved.status, saved.unit_price) == (seller.vendor.id, OfferStatus.OPEN, 13000)
            for refused in (answer for answer in answers if answer.status_code == 409):
                assert refused.json()["detail"] == gettext(MSG_OFFER_JUST_MADE)


async def test_offers_made_while_the_canteen_accepts_another_are_never_left_open(
    world, zone, canteen_staff, catering, server: ServerProcess
):
    seller, product = catering
    canteen, chosen_vendor = await with_token(world, canteen_staff), await with_token(world, seller.user)
    rivals = []
    for number in range(RIVALS):
        rival = await world.seller(zone, business_name=f"Dapur Pesaing {number}", latitude=-6.96, longitude=110.04)
        rival_product = await world.live_product(rival, f"Nasi Box Pesaing {number}", price=12500)
        rivals.append((await with_token(world, rival.user), rival_product.id))

    async def late_offer(rival: ApiUser, request_id: int, product_id: int, after: float) -> httpx.Response:
        await asyncio.sleep(after)
        return await offer(client, rival, request_id, product_id)

    set_locale("id")
    async with client_for(server, RIVALS + 2) as client:
        for rival, _ in rivals:  # each app has called the API once (a token's first use is written down)
            assert (await client.get("/api/v1/vendor/requests", headers=rival.headers())).status_code == 200
        for _ in range(ROUNDS):
            request_id = await post_request(client, canteen)
            first = await offer(client, chosen_vendor, request_id, product.id)
            assert first.status_code == 200, first.text
            accept = client.post(
                f"/api/v1/requests/{request_id}/offers/{first.json()['id']}/accept", headers=canteen.headers()
            )
            answers = await asyncio.gather(
                accept,
                *(
                    late_offer(rival, request_id, product_id, 0.005 * number)
                    for number, (rival, product_id) in enumerate(rivals)
                ),
            )

            assert all(answer.status_code < 500 for answer in answers), server.log()
            assert answers[0].status_code == 200, answers[0].text
            for answer in answers[1:]:
                assert answer.status_code in (200, 409), answer.text
                if answer.status_code == 409:
                    assert answer.json()["detail"] == gettext(MSG_NOT_OPEN)
            async with world.database.sessionmaker() as session:
                assert (await session.get(BuyerRequest, request_id)).status == RequestStatus.ACCEPTED
            statuses = sorted(saved.status for saved in await offers_of(world, request_id))
            assert OfferStatus.OPEN not in statuses, statuses
            assert statuses.count(OfferStatus.ACCEPTED) == 1
