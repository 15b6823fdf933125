"""Several machines, as deployed behind a load balancer: two app servers and one worker on the same PostgreSQL,
Redis and S3-compatible bucket, each server with a media folder of its own (nothing may depend on one machine's
disk). A buyer's requests alternate between the servers; the scheduled jobs run on the worker, each slot once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from backend.accounts import service as accounts
from backend.clock import utcnow, wib_today
from backend.config import Settings
from backend.orders.models import Order, OrderStatus
from tests.app_process import ServerProcess, app_environment
from tests.conftest import World, jpeg_bytes, log_in, submit
from tests.jobs.conftest import finished_jobs
from tests.web.test_order_pages import checkout_form, in_cart

pytestmark = [pytest.mark.postgres_only, pytest.mark.one_database, pytest.mark.xdist_group("redis")]

DAY = wib_today(utcnow()) + timedelta(days=3)


def machine_environment(settings: Settings, s3: Settings, redis_url: str, media_dir: Path) -> dict[str, str]:
    """What every machine of the deployment is given: the same database, Redis and bucket; its own disk."""
    return app_environment(
        DATABASE_URL=settings.database_url,
        SECRET_KEY=settings.secret_key,
        REDIS_URL=redis_url,
        MEDIA_DIR=str(media_dir),
        MEDIA_STORAGE="s3",
        S3_ENDPOINT_URL=str(s3.s3_endpoint_url),
        S3_BUCKET=str(s3.s3_bucket),
        S3_REGION=str(s3.s3_region),
        S3_ACCESS_KEY_ID=str(s3.s3_access_key_id),
        S3_SECRET_ACCESS_KEY=str(s3.s3_secret_access_key),
        API_RATE_LIMIT_PER_MINUTE="100000",
    )


@pytest.fixture
def servers(
    settings: Settings, s3_settings: Settings, redis_url: str, tmp_path: Path
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("several machines share a PostgreSQL database")
    made = [
        ServerProcess(
            log_dir=tmp_path,
            environment=machine_environment(settings, s3_settings, redis_url, tmp_path / f"media-{name}"),
        )
        for name in ("a", "b")
    ]
    # Each its own log file: the log's name counts the starts, so the second server starts from another folder.
    made[1].log_dir = tmp_path / "b"
    made[1].log_dir.mkdir()
    try:
        for server in made:
            server.start()
        yield made[0], made[1]
    finally:
        for server in made:
            server.stop()


def on(client: httpx.AsyncClient, server: ServerProcess) -> httpx.AsyncClient:
    """The same browser (cookies and all), its next requests sent to `server` by the load balancer."""
    client.base_url = httpx.URL(server.url)
    return client


async def test_a_buyer_moves_between_two_servers_and_the_worker_runs_each_scheduled_job_once(
    settings, s3_settings, redis_url, world: World, zone, canteen_staff, servers, workers, tmp_path
):
    first, second = servers
    worker = workers(machine_environment(settings, s3_settings, redis_url, tmp_path / "media-worker"), "worker")
    worker.start()
    seller = await world.seller(zone, business_name="Dapur Bu Sri")
    product = await world.live_product(seller, "Nasi Box Ayam Bakar", price=18000)
    async with world.database.sessionmaker() as session:
        token, _ = await accounts.create_api_token(session=session, user=seller.user, name="ponsel")
        await session.commit()
    vendor_api = {"Authorization": f"Bearer {token}"}

    async with httpx.AsyncClient(timeout=30) as vendor_phone, httpx.AsyncClient(timeout=30) as canteen_phone:
        # The vendor's photo goes up through one server and is served by the other (neither has it on disk).
        draft = await on(vendor_phone, first).post(
            "/api/v1/vendor/products",
            headers=vendor_api,
            json={
                "name": "Keripik Tempe",
                "category": "snacks",
                "unit": "pack",
                "price": 8000,
                "fulfilment": "ready_stock",
                "stock": 40,
            },
        )
        assert draft.status_code == 201, draft.text
        uploaded = await vendor_phone.post(
            f"/api/v1/vendor/products/{draft.json()['id']}/photos",
            headers=vendor_api,
            files={"photo": ("keripik.jpg", jpeg_bytes(), "image/jpeg")},
        )
        assert uploaded.status_code == 201, uploaded.text
        photo_url = uploaded.json()["photos"][0]["detail_url"]
        served = await on(vendor_phone, second).get(photo_url)
        assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
        assert not any(path.is_file() for path in tmp_path.glob("media-*/**/*"))

        # The canteen logs in on one server, fills its cart on the other, checks out on the first.
        await log_in(on(canteen_phone, first), canteen_staff)
        await in_cart(on(canteen_phone, second), product.id, 200)
        cart = await on(canteen_phone, first).get("/cart")
        assert "Nasi Box Ayam Bakar" in cart.text
        form = checkout_form(cart.text, delivery_place="canteen", payment_method="invoice")
        placed = await submit(canteen_phone, "/checkout", {**form, "delivery_day": DAY.isoformat()})
        assert placed.status_code == 303, placed.text

        # The vendor accepts on the other server, logged in on the first.
        async with world.database.sessionmaker() as session:
            order = (await session.execute(select(Order))).scalar_one()
        await log_in(on(vendor_phone, first), seller.user)
        accepted = await submit(on(vendor_phone, second), f"/vendor/orders/{order.id}/status", {"target": "accepted"})
        assert accepted.status_code == 303, accepted.text
        seen = await on(canteen_phone, second).get(f"/orders/{order.id}")
        assert seen.status_code == 200

    async with world.database.sessionmaker() as session:
        statuses = (await session.execute(select(col(Order.status), func.count()).group_by(col(Order.status)))).all()
    assert statuses == [(OrderStatus.ACCEPTED, 1)]

    # The scheduled jobs: run by the worker, each slot once; the app servers run none.
    worker.wait_for(
        lambda log: any(job == "cancel_unpaid_orders" for job, _key in finished_jobs(log)),
        75,
        what="run the payment-window job (every minute)",
    )
    worker.stop()
    done = finished_jobs(worker.log() + first.log() + second.log())
    assert [key for key, times in Counter(key for _job, key in done).items() if times > 1] == []
    for server in servers:
        assert finished_jobs(server.log()) == []
        assert "Traceback" not in server.log()
