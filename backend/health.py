"""The operators' endpoints: liveness (/healthz: the process answers), readiness (/readyz: the database, Redis and
the media storage answer) and the Prometheus metrics (/metrics, for the scrapers the settings name only)."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import os
import socket
import uuid
from collections.abc import Awaitable
from typing import Any, cast

import anyio.to_thread
from litestar import Request, get
from litestar.response import Response
from redis.asyncio import Redis
from sqlalchemy import text

from backend.client_address import client_address
from backend.config import Settings
from backend.db import Database
from backend.errors import NotFound
from backend.media.storage import Storage
from backend.metrics import CONTENT_TYPE, exposition

# Each part has this long to answer before the instance is reported not ready (the database's own connect
# timeout, DATABASE_CONNECT_TIMEOUT_SECONDS, also applies).
CHECK_SECONDS = 3.0
# The storage check writes this small file under its own key, reads it back and removes it: one per process, so
# several app servers sharing one bucket never remove each other's.
PROBE_CONTENT = b"ready"


@get("/healthz", include_in_schema=False, sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", include_in_schema=False)
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """200 when every part this instance needs answers; 503 naming the parts that do not (`failing`), each with
    the kind of error it gave. Redis is checked only when REDIS_URL is set."""
    settings: Settings = request.app.state.settings
    checks = {
        "database": _database_answers(request.app.state.database),
        "storage": _storage_answers(request.app.state.storage),
    }
    if settings.redis_url:
        checks["redis"] = _redis_answers(settings.redis_url)
    outcomes = await asyncio.gather(*(_within_time(check) for check in checks.values()))
    body: dict[str, Any] = dict(zip(checks, outcomes, strict=True))
    failing = [part for part, outcome in body.items() if outcome != "ok"]
    if failing:
        return Response({"status": "unavailable", "failing": failing, **body}, status_code=503)
    return Response({"status": "ok", **body})


async def _within_time(check: Any) -> str:
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            await check
    except TimeoutError:
        return "TimeoutError"
    except Exception as exc:  # noqa: BLE001  (any error of a part means "not ready"; its kind goes to the body)
        return type(exc).__name__
    return "ok"


async def _database_answers(database: Database) -> None:
    async with database.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _redis_answers(url: str) -> None:
    client: Redis = Redis.from_url(url, socket_connect_timeout=CHECK_SECONDS, socket_timeout=CHECK_SECONDS)
    try:
        # redis-py 7's asyncio client is typed as answering either way; it always answers with an awaitable.
        await cast("Awaitable[bool]", client.ping())
    finally:
        await client.aclose()


async def _storage_answers(storage: Storage) -> None:
    """Through the storage's own interface (whichever backend is configured): a key of this process's is saved,
    read back and deleted. Checking only that some key exists would pass on a disk gone read-only or full."""
    key = f"readyz/{_probe_name()}"

    def round_trip() -> None:
        storage.save(key, PROBE_CONTENT)
        try:
            if storage.read(key) != PROBE_CONTENT:
                raise OSError("the storage gave back other bytes than were saved")
        finally:
            storage.delete(key)

    await anyio.to_thread.run_sync(round_trip)


def _probe_name() -> str:
    """A key no other probe uses at the same time (two probes sharing one would delete each other's)."""
    host = "".join(c if c.isalnum() else "-" for c in socket.gethostname().lower()).strip("-.") or "host"
    return f"{host[:60]}-{os.getpid()}-{uuid.uuid4().hex[:12]}"


@get("/metrics", include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus' text format, for a scraper with the METRICS_TOKEN bearer token or from METRICS_NETWORKS. Nobody
    else learns that the endpoint exists (404), except that a wrong or missing token is answered 401 once a token
    is set."""
    settings: Settings = request.app.state.settings
    if not settings.metrics_token and not settings.metrics_networks:
        raise NotFound()
    if not _may_scrape(request, settings):
        if settings.metrics_token:
            return Response(b"", status_code=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        raise NotFound()
    body = await exposition(settings.redis_url)
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})


def _may_scrape(request: Request[Any, Any, Any], settings: Settings) -> bool:
    if settings.metrics_token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), settings.metrics_token.encode()):
            return True
    if settings.metrics_networks:
        try:
            address = ipaddress.ip_address(client_address(request))
        except ValueError:
            return False
        return any(address in network for network in settings.metrics_networks)
    return False


HEALTH_ROUTES = [healthz, readyz, metrics]
