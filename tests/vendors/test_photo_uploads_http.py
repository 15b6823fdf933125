"""A vendor's app uploading several photos of a product at once, over HTTP, to several worker processes on
PostgreSQL: the limit of five photos and their order hold however the requests interleave."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.accounts import service as accounts
from backend.accounts.models import Zone
from backend.catalog import service as catalog
from backend.catalog.models import MAX_PHOTOS, Category, Fulfilment, ProductPhoto, Unit
from backend.catalog.schemas import ProductInput
from backend.config import Settings
from backend.vendors.models import Vendor
from tests.app_process import ServerProcess, suite_environment
from tests.conftest import World, jpeg_bytes

pytestmark = [pytest.mark.postgres_only, pytest.mark.one_database]

WORKERS = 3
UPLOADS = 8


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("races between worker processes are tested on PostgreSQL")
    process = ServerProcess(
        log_dir=tmp_path_factory.mktemp("photo-server"),
        workers=WORKERS,
        environment=suite_environment(
            settings,
        ),
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


async def draft_without_photos(world: World, zone: Zone) -> tuple[int, str]:
    """A vendor's new listing, and the API token of the vendor's app."""
    seller = await world.seller(zone, business_name="Catering Bu Sri")
    async with world.database.sessionmaker() as session:
        vendor = await session.get_one(Vendor, seller.vendor.id)
        product = await catalog.create_product(
            session=session,
            vendor=vendor,
            data=ProductInput(
                name="Nasi Box Ayam Bakar",
                category=Category.CATERING,
                unit=Unit.BOX,
                price=15000,
                fulfilment=Fulfilment.MADE_TO_ORDER,
                certificate_ids=[seller.certificate_ids["halal"]],
            ),
        )
        token, _ = await accounts.create_api_token(session=session, user=seller.user, name="Aplikasi kasir")
        await session.commit()
        return product.id, token


async def test_eight_photos_uploaded_at_once_leave_five_in_order_and_refuse_the_rest(world, zone, server):
    product_id, token = await draft_without_photos(world, zone)
    url = f"/api/v1/vendor/products/{product_id}/photos"
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=server.url, timeout=60, limits=httpx.Limits(max_connections=UPLOADS)
    ) as client:
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 200  # the token's first use
        answers = await asyncio.gather(
            *(
                client.post(url, headers=headers, files={"photo": (f"{n}.jpg", jpeg_bytes(640 + n, 480), "image/jpeg")})
                for n in range(UPLOADS)
            )
        )

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * MAX_PHOTOS + [422] * (UPLOADS - MAX_PHOTOS), (
        [(answer.status_code, answer.text[:300]) for answer in answers],
        server.log(),
    )
    for refused in (answer for answer in answers if answer.status_code == 422):
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["errors"] == [{"field": "photo", "message": "Satu produk paling banyak 5 foto."}]
    async with world.database.sessionmaker() as session:
        positions = (
            (
                await session.execute(
                    select(col(ProductPhoto.position))
                    .where(col(ProductPhoto.product_id) == product_id)
                    .order_by(col(ProductPhoto.position))
                )
            )
            .scalars()
            .all()
        )
    assert positions == list(range(MAX_PHOTOS))
