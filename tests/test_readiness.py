"""/readyz, which a load balancer asks before sending an instance work: ready only when the database, Redis (when
the app uses one) and the media storage all answer; otherwise 503, naming the part that does not."""

from __future__ import annotations

import httpx
import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.media.storage import FileSystemStorage
from tests.app_process import free_port, redis_url_for_this_process

REDIS_URL = redis_url_for_this_process()


def plain_client(app) -> httpx.AsyncClient:
    """A client that leaves the app's Redis alone afterwards (`browser` empties the rate-limit store there)."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")


async def test_ready_when_the_database_and_the_storage_answer(client, settings):
    ready = await client.get("/readyz")

    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "storage": "ok"}  # no REDIS_URL: not asked
    assert not (settings.media_dir / "readyz").exists() or not any((settings.media_dir / "readyz").iterdir())


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
async def test_ready_with_redis_when_it_answers(settings, app_for, database):
    async with plain_client(await app_for(settings.model_copy(update={"redis_url": REDIS_URL}))) as client:
        ready = await client.get("/readyz")

    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "storage": "ok", "redis": "ok"}


async def test_not_ready_when_redis_does_not_answer_and_it_says_so(settings, app_for, database):
    closed_port = free_port()
    app = await app_for(settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{closed_port}/0"}))
    async with plain_client(app) as client:
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")

    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable" and body["failing"] == ["redis"]
    assert body["redis"] == "ConnectionError"
    assert (body["database"], body["storage"]) == ("ok", "ok")
    assert alive.status_code == 200  # the process itself is alive: a restart would not help


async def test_not_ready_when_the_media_storage_cannot_be_written(app, client, tmp_path):
    not_a_directory = tmp_path / "media-volume-not-mounted"
    not_a_directory.write_bytes(b"")
    working = app.state["storage"]
    app.state["storage"] = FileSystemStorage(not_a_directory)
    try:
        ready = await client.get("/readyz")
    finally:
        app.state["storage"] = working

    assert ready.status_code == 503
    body = ready.json()
    assert body["failing"] == ["storage"] and body["database"] == "ok"
    assert body["storage"] in ("NotADirectoryError", "FileExistsError")
    assert (await client.get("/readyz")).status_code == 200


async def test_every_failing_part_is_named(settings):
    broken = settings.model_copy(
        update={
            "database_url": f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none",
            "redis_url": f"redis://127.0.0.1:{free_port()}/0",
        }
    )
    async with AsyncTestClient(create_app(broken)) as client:
        ready = await client.get("/readyz")

    assert ready.status_code == 503
    assert sorted(ready.json()["failing"]) == ["database", "redis"]
