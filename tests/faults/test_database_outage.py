"""PostgreSQL out of reach for a while, between the app and the database: people get a clear answer at once
(503, never a 500 or a hang), nothing is half-done, and the app recovers by itself when the database is back.

The app server talks to PostgreSQL through a TCP relay in the test process, which the test cuts (connections
dropped, new ones refused), silences (connections accepted and never answered) and restores.
"""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlmodel import col

from backend.accounts import service as accounts
from backend.accounts.models import Role
from backend.clock import utcnow, wib_today
from backend.orders import cart
from backend.orders.models import CapacityDay, CartLine, Checkout, Order
from tests.app_process import ServerProcess
from tests.faults.conftest import TcpProxy

CONNECT_TIMEOUT_SECONDS = 1
# A refused connection is answered at once and a silent database within the connect timeout; these bounds
# leave room for a busy machine and stay far below asyncpg's default of a minute.
REFUSED_BOUND_SECONDS = 5
SILENT_BOUND_SECONDS = CONNECT_TIMEOUT_SECONDS + 5
UNREACHABLE_MESSAGE = "Sistem kami sedang tidak dapat menghubungi basis data. Silakan coba lagi sebentar lagi."


@pytest.fixture
def proxy(settings):
    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("the relay cuts a PostgreSQL connection; SQLite is a file in the app's own process")
    relay = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    relay.start()
    yield relay
    relay.close()


async def test_while_the_database_is_unreachable_people_are_told_and_nothing_is_half_done(
    world, zone, database, settings, proxy: TcpProxy, server: ServerProcess
):
    catering = await world.seller(zone, business_name="Catering Bu Sri", daily_capacity=500)
    nasi_box = await world.live_product(catering, "Nasi Box Ayam Bakar", price=15000)
    organisation = await world.organisation(zone, name="Kantin PT Garmen Nusantara")
    staff = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=organisation)
    async with database.sessionmaker() as session:
        token, _ = await accounts.create_api_token(session=session, user=staff, name="pengadaan")
        await cart.set_quantity(
            session=session, buyer=staff, product_id=nasi_box.id, quantity=40, today=wib_today(world.now)
        )
        await session.commit()
    delivery_day = wib_today(utcnow()) + timedelta(days=2)
    checkout = {
        "delivery_day": delivery_day.isoformat(),
        "delivery_slot": "11:00",
        "delivery_kind": "canteen",
        "payment_method": "invoice",
    }
    bearer = {"Authorization": f"Bearer {token}"}
    placing = {**bearer, "Idempotency-Key": "kantin-garmen-senin"}

    server.environment.update(
        DATABASE_URL=make_url(settings.database_url).set(port=proxy.port).render_as_string(hide_password=False),
        DATABASE_CONNECT_TIMEOUT_SECONDS=str(CONNECT_TIMEOUT_SECONDS),
    )
    server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/api/v1/cart", headers=bearer)).status_code == 200  # the pool holds connections

        proxy.cut()
        timings = {}
        started = time.monotonic()
        placed = await client.post("/api/v1/checkouts", json=checkout, headers=placing)
        timings["checkout"] = time.monotonic() - started
        assert placed.status_code == 503
        assert placed.headers["content-type"].startswith("application/problem+json")
        assert placed.headers["retry-after"] == "15"
        problem = placed.json()
        assert (problem["code"], problem["status"]) == ("database_unavailable", 503)
        assert problem["detail"] == UNREACHABLE_MESSAGE
        assert problem["retry_after"] == 15

        started = time.monotonic()
        page = await client.get("/catalogue")
        timings["page"] = time.monotonic() - started
        assert page.status_code == 503 and page.headers["retry-after"] == "15"
        assert "Sementara tidak tersedia" in page.text and UNREACHABLE_MESSAGE in page.text
        assert "Traceback" not in page.text

        started = time.monotonic()
        ready = await client.get("/readyz")
        timings["readyz"] = time.monotonic() - started
        assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
        assert (await client.get("/healthz")).json() == {"status": "ok"}  # the process itself is alive
        assert max(timings.values()) < REFUSED_BOUND_SECONDS, timings

        # A database host that vanished without a word: each request gives up after the connect timeout.
        proxy.go_silent()
        started = time.monotonic()
        silent = await client.get("/api/v1/cart", headers=bearer)
        timings["silent cart"] = time.monotonic() - started
        assert silent.status_code == 503 and silent.json()["code"] == "database_unavailable"
        started = time.monotonic()
        assert (await client.get("/readyz")).status_code == 503
        timings["silent readyz"] = time.monotonic() - started
        assert CONNECT_TIMEOUT_SECONDS * 0.9 <= timings["silent cart"] < SILENT_BOUND_SECONDS, timings

        # Nothing of the checkout tried during the outage reached the database.
        async with database.sessionmaker() as session:
            assert (await session.execute(select(func.count()).select_from(Checkout))).scalar_one() == 0
            assert (await session.execute(select(func.count()).select_from(CapacityDay))).scalar_one() == 0
            assert (
                await session.execute(select(col(CartLine.quantity)).where(col(CartLine.user_id) == staff.id))
            ).scalars().all() == [40]

        # The database is back: the very next requests work, without restarting the app.
        proxy.restore()
        started = time.monotonic()
        again = await client.get("/api/v1/cart", headers=bearer)
        timings["first after restore"] = time.monotonic() - started
        assert again.status_code == 200, again.text
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/catalogue")).status_code == 200
        retried = await client.post("/api/v1/checkouts", json=checkout, headers=placing)
        assert retried.status_code == 201, retried.text
        assert retried.json()["replayed"] is False
        replayed = await client.post("/api/v1/checkouts", json=checkout, headers=placing)
        assert (replayed.status_code, replayed.json()["checkout_id"]) == (200, retried.json()["checkout_id"])

    async with database.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Order))).scalar_one() == 1
        assert (await session.execute(select(col(CapacityDay.held)))).scalars().all() == [40]
    # Each refused request is logged once, as one line: an outage is not a bug with a stack trace.
    log = server.log()
    assert log.count("database unreachable on POST /api/v1/checkouts") == 1, log
    assert "Traceback" not in log and "unhandled error" not in log, log
    print("\n[outage] " + ", ".join(f"{what} {seconds * 1000:.0f} ms" for what, seconds in timings.items()))  # noqa: T201  (the figures, shown with -s)
