"""Following one request through the logs: every answer names its request id (X-Request-ID), every line written
while it is handled carries the same id, and the access line names the client as the rate limit counts it. JSON
lines in production, readable lines on a developer's machine."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator
from ipaddress import ip_network

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from backend.app import create_app
from backend.config import Settings
from backend.logs import JsonLines, ReadableLines, RequestIdFilter, log_sql_errors, logging_config, request_id
from tests.app_process import free_port
from tests.conftest import TEST_SECRET, browser

GENERATED_ID = re.compile(r"[0-9a-f]{32}")
WEBHOOK = "/api/v1/stripe/webhook"  # the test settings have no webhook secret: each delivery logs an error


def read(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """What the app logs (pasar_kawasan.*) during the test, in the JSON lines of production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    handler.addFilter(RequestIdFilter())
    app_logger = logging.getLogger("pasar_kawasan")
    level = app_logger.level
    app_logger.addHandler(handler)
    app_logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        app_logger.removeHandler(handler)
        app_logger.setLevel(level)


@pytest.fixture
def behind_proxy(settings) -> Settings:
    """The app behind a reverse proxy on 127.0.0.1 (where the test client connects from)."""
    return settings.model_copy(update={"trusted_proxies": (ip_network("127.0.0.1/32"),)})


async def test_every_answer_names_a_request_id_of_its_own(client):
    answers = [
        await client.get("/healthz"),
        await client.get("/catalogue"),
        await client.get("/no-such-page"),
        await client.post("/api/v1/cart/lines", json={}),
    ]

    ids = [answer.headers["x-request-id"] for answer in answers]
    assert all(GENERATED_ID.fullmatch(identifier) for identifier in ids), ids
    assert len(set(ids)) == len(ids)


async def test_an_id_a_client_sends_is_not_believed(client):
    answer = await client.get("/healthz", headers={"X-Request-ID": "chosen-by-the-client-123"})

    assert GENERATED_ID.fullmatch(answer.headers["x-request-id"])


async def test_the_trusted_proxys_id_is_kept_when_it_looks_like_an_id(behind_proxy, app_for):
    async with browser(await app_for(behind_proxy)) as client:
        kept = await client.get("/healthz", headers={"X-Request-ID": "5f0c2a9e-lb-7731"})
        odd = [
            await client.get("/healthz", headers={"X-Request-ID": value})
            for value in ("short", "x" * 129, "two words here", '"quoted";drop')
        ]

    assert kept.headers["x-request-id"] == "5f0c2a9e-lb-7731"
    assert all(GENERATED_ID.fullmatch(answer.headers["x-request-id"]) for answer in odd)


async def test_the_lines_of_a_request_carry_its_id_and_the_access_line_names_the_forwarded_client(
    behind_proxy, app_for, captured
):
    async with browser(await app_for(behind_proxy)) as client:
        first, second = await asyncio.gather(
            client.post(WEBHOOK, content=b"{}", headers={"X-Forwarded-For": "203.0.113.7"}),
            client.post(WEBHOOK, content=b"{}", headers={"X-Forwarded-For": "198.51.100.20"}),
        )

    lines = read(captured)
    for answer, address in ((first, "203.0.113.7"), (second, "198.51.100.20")):
        assert answer.status_code == 400
        mine = [line for line in lines if line["request_id"] == answer.headers["x-request-id"]]
        by_logger = {line["logger"]: line for line in mine}
        assert set(by_logger) == {"pasar_kawasan.payments", "pasar_kawasan.access"}, mine
        assert "STRIPE_WEBHOOK_SECRET is not set" in by_logger["pasar_kawasan.payments"]["message"]
        access = by_logger["pasar_kawasan.access"]
        assert (access["method"], access["path"], access["route"], access["status"]) == ("POST", WEBHOOK, WEBHOOK, 400)
        assert access["client"] == address
        assert access["duration_ms"] >= 0
    assert not [line for line in lines if line["request_id"] is None]


async def test_an_unreachable_database_is_logged_on_the_lines_of_the_request_that_met_it(settings, captured):
    unreachable = settings.model_copy(update={"database_url": f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/x"})
    async with AsyncTestClient(create_app(unreachable)) as client:
        answer = await client.get("/api/v1/zones")

    assert answer.status_code == 503
    mine = [line for line in read(captured) if line["request_id"] == answer.headers["x-request-id"]]
    (error,) = [line for line in mine if line["logger"] == "pasar_kawasan.errors"]
    assert "database unreachable on GET /api/v1/zones" in error["message"]
    assert {line["logger"] for line in mine} == {"pasar_kawasan.errors", "pasar_kawasan.access"}


async def test_a_statement_the_database_refuses_is_logged_with_its_text_but_not_its_values(database, captured):
    log_sql_errors(database.engine)
    token = request_id.set("5f0c2a9e-lb-7731")  # as while a request is handled
    try:
        async with database.engine.connect() as connection:
            with pytest.raises(DBAPIError):
                await connection.execute(
                    text("SELECT id FROM no_such_table WHERE phone = :phone"), {"phone": "+6281299990000"}
                )
    finally:
        request_id.reset(token)

    (line,) = [line for line in read(captured) if line["logger"] == "pasar_kawasan.sql"]
    assert line["request_id"] == "5f0c2a9e-lb-7731" and line["level"] == "warning"
    assert "no_such_table" in line["message"] and "SELECT id FROM no_such_table WHERE phone" in line["message"]
    assert "+6281299990000" not in line["message"]


async def test_a_token_in_the_address_stays_out_of_the_access_line(client, captured):
    await client.get("/reset-password/secret-one-time-token-123")

    (access,) = [line for line in read(captured) if line["logger"] == "pasar_kawasan.access"]
    assert "secret-one-time-token-123" not in json.dumps(access)
    assert access["path"] == "/reset-password/{token}"


async def test_successful_probes_write_no_access_line(client, captured):
    await client.get("/healthz")
    await client.get("/readyz")

    assert [line for line in read(captured) if line["logger"] == "pasar_kawasan.access"] == []


def formatter_of(config: dict) -> str:
    """The formatter of the lines written (on the queue's handler, or from Python 3.12 on the stream's)."""
    handlers = config["handlers"]
    return str(handlers["queued"].get("formatter") or handlers["stderr"]["formatter"])


def test_production_writes_json_lines_and_a_developer_reads_plain_ones():
    production = Settings.from_env(
        {
            "APP_ENV": "production",
            "SECRET_KEY": TEST_SECRET,
            "WHATSAPP_TOKEN": "token",
            "WHATSAPP_PHONE_NUMBER_ID": "123",
            "WHATSAPP_OTP_TEMPLATE": "kode",
        }
    )
    development = Settings.from_env({"APP_ENV": "development"})

    assert production.log_format == "json" and development.log_format == "text"
    assert formatter_of(logging_config(production)) == "json"
    assert formatter_of(logging_config(development)) == "readable"
    assert Settings.from_env({"APP_ENV": "development", "LOG_FORMAT": "JSON"}).log_format == "json"


def test_a_json_line_holds_the_fields_and_the_traceback_a_readable_line_the_message_and_the_id():
    try:
        raise ValueError("the detail")
    except ValueError as exc:
        record = logging.LogRecord("pasar_kawasan.errors", logging.ERROR, __file__, 1, "failed on %s", ("/x",), None)
        record.exc_info = (type(exc), exc, exc.__traceback__)
    token = request_id.set("5f0c2a9e-lb-7731")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id.reset(token)
    record.status = 500

    line = json.loads(JsonLines().format(record))
    readable = ReadableLines().format(record)

    assert line["message"] == "failed on /x" and line["level"] == "error" and line["status"] == 500
    assert line["request_id"] == "5f0c2a9e-lb-7731"
    assert "ValueError: the detail" in line["exception"] and "\n" not in JsonLines().format(record)
    first = readable.splitlines()[0]
    assert "ERROR" in first and "failed on /x" in first and first.endswith("[req 5f0c2a9e-lb-7731]")
    assert "ValueError: the detail" in readable
