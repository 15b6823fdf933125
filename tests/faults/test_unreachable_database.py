"""What "the database cannot be reached" looks like from the app itself, and what does not count as it.

The app runs in-process here, pointed at a PostgreSQL address where nothing answers: a closed port (refused at
once) or a socket that accepts and stays silent (bounded by the connect timeout). No PostgreSQL server is needed.
"""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Request, get
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from backend.app import create_app
from backend.config import Settings
from backend.db import Database, database_unreachable

NOBODY_LISTENS = "postgresql+asyncpg://nobody@127.0.0.1:1/none"


@pytest.fixture
def silent_address() -> Iterator[str]:
    """A port that completes the TCP handshake (the kernel's backlog) and never says a word."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"postgresql+asyncpg://nobody@127.0.0.1:{listener.getsockname()[1]}/none"


async def test_the_api_answers_503_with_a_problem_and_retry_after(settings: Settings, caplog):
    app = create_app(settings.model_copy(update={"database_url": NOBODY_LISTENS}))
    async with AsyncTestClient(app) as client:
        response = await client.get("/api/v1/cart", headers={"Authorization": "Bearer pk_anything"})

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"] == "15"
    assert response.json()["code"] == "database_unavailable"
    assert response.json()["detail"].startswith("Sistem kami sedang tidak dapat menghubungi basis data")
    # One line, no stack trace: an outage is not a bug.
    errors = [(record.levelname, record.exc_info) for record in caplog.records if record.name == "pasar_kawasan.errors"]
    assert errors == [("ERROR", None)]
    assert not any(record.exc_info for record in caplog.records)
    assert "database unreachable on GET /api/v1/cart: ConnectionRefusedError" in caplog.text


async def test_a_page_explains_it_in_the_readers_language(settings: Settings):
    app = create_app(settings.model_copy(update={"database_url": NOBODY_LISTENS}))
    async with AsyncTestClient(app) as client:
        indonesian = await client.get("/catalogue")
        english = await client.get("/orders", headers={"Cookie": "pk_lang=en; pk_session=an-old-login"})

    assert indonesian.status_code == 503 and indonesian.headers["retry-after"] == "15"
    assert "Sementara tidak tersedia" in indonesian.text
    assert "Silakan coba lagi sebentar lagi" in indonesian.text
    assert english.status_code == 503
    assert "We cannot reach our database right now" in english.text


async def test_a_database_that_does_not_answer_is_given_up_on_after_the_connect_timeout(
    settings: Settings, silent_address: str
):
    app = create_app(
        settings.model_copy(update={"database_url": silent_address, "database_connect_timeout_seconds": 0.3})
    )
    async with AsyncTestClient(app) as client:
        started = time.monotonic()
        response = await client.get("/api/v1/catalogue/products")
        waited = time.monotonic() - started

    assert response.status_code == 503 and response.json()["code"] == "database_unavailable"
    assert 0.3 <= waited < 5


async def test_a_refused_statement_or_a_network_error_elsewhere_is_still_a_500(settings: Settings):
    @get("/api/v1/broken-query")
    async def broken_query(request: Request[Any, Any, Any]) -> None:
        async with request.app.state.database.engine.connect() as connection:
            await connection.execute(text("SELEC 1"))  # the database answers: it refuses the statement

    @get("/api/v1/broken-network", sync_to_thread=False)
    def broken_network() -> None:
        raise ConnectionResetError("a partner's server hung up")  # not the database: a bug to look into

    app = create_app(settings)
    app.register(broken_query)
    app.register(broken_network)
    async with AsyncTestClient(app) as client:
        assert (await client.get("/api/v1/broken-query")).json()["code"] == "internal_error"
        assert (await client.get("/api/v1/broken-network")).json()["code"] == "internal_error"


async def test_what_counts_as_unreachable(database):
    unreachable = Database(NOBODY_LISTENS)
    try:
        with pytest.raises(OSError) as refused:  # noqa: PT011  (any socket error: which one depends on the host)
            async with unreachable.engine.connect():
                pass
    finally:
        await unreachable.dispose()
    assert database_unreachable(refused.value)

    # Off loopback a vanished host is often not refused but unreachable, a plain OSError.
    async def no_route() -> Any:
        raise OSError(errno.EHOSTUNREACH, "Connect call failed ('10.20.0.5', 5432)")

    vanished = create_async_engine(NOBODY_LISTENS, async_creator=no_route)
    try:
        with pytest.raises(OSError, match="Connect call failed") as no_route_to_host:
            async with vanished.connect():
                pass
    finally:
        await vanished.dispose()
    assert database_unreachable(no_route_to_host.value)

    with pytest.raises(DBAPIError) as syntax_error:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELEC 1"))
    assert not database_unreachable(syntax_error.value)
    assert not database_unreachable(ConnectionResetError("raised by our own code"))
