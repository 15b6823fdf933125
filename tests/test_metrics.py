"""/metrics: what an operator's Prometheus reads (request latency by route, the database pool, the job queue),
and that nobody else can read it."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable
from ipaddress import ip_network
from typing import cast

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from backend.db import Database
from backend.metrics import (
    failures_key,
    record_job_failure,
    record_queued_job_failure,
    watch_database_pool,
    watch_job_queue,
)
from tests.app_process import free_port, redis_url_for_this_process
from tests.conftest import browser

TOKEN = "metrics-token-for-the-tests-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
REDIS_URL = redis_url_for_this_process()


async def scrape(client, headers=BEARER) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, by name and labels."""
    answer = await client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def without_token(page: str) -> str:
    return re.sub(r'"[0-9a-f]{32}\.[0-9a-f]{64}"', "TOKEN", page)


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
async def scraper(settings, app_for, database):
    """A browser on the app with METRICS_TOKEN set."""
    async with browser(await app_for(settings.model_copy(update={"metrics_token": TOKEN}))) as client:
        yield client


async def test_without_a_token_or_network_set_metrics_are_not_there_at_all(client):
    answer = await client.get("/metrics", headers=BEARER)
    unknown = await client.get("/no-such-page")  # the page names its address (the language switch returns to it)

    assert answer.status_code == unknown.status_code == 404
    # The same "not found" page as any address that does not exist (its CSRF token aside, new on every page).
    assert without_token(answer.text) == without_token(unknown.text.replace("/no-such-page", "/metrics"))


async def test_a_scraper_needs_the_token(scraper):
    missing = await scraper.get("/metrics")
    wrong = await scraper.get("/metrics", headers={"Authorization": "Bearer " + "x" * len(TOKEN)})
    right = await scraper.get("/metrics", headers=BEARER)

    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert wrong.status_code == 401
    assert right.status_code == 200 and "pasar_http_request_duration_seconds" in right.text
    assert right.headers["cache-control"] == "no-store"


async def test_a_named_network_may_scrape_but_not_a_visitor_passed_on_by_a_proxy_inside_it(settings, app_for):
    inside = settings.model_copy(
        update={"metrics_networks": (ip_network("127.0.0.0/8"),), "trusted_proxies": (ip_network("127.0.0.1/32"),)}
    )
    async with browser(await app_for(inside)) as client:
        direct = await client.get("/metrics")
        through_proxy = await client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})

    assert direct.status_code == 200
    assert through_proxy.status_code == 404


async def test_metrics_are_not_in_the_api_document(client):
    document = (await client.get("/schema/openapi.json")).json()

    assert not any(path.startswith(("/metrics", "/readyz", "/healthz")) for path in document["paths"])


async def test_latency_is_counted_by_route_template_not_by_address(scraper):
    before = await scrape(scraper)
    for product_id in (910001, 910002, 910003):
        await scraper.get(f"/products/{product_id}")
    await scraper.get("/no-such-page-123")
    await scraper.get("/no-such-page-456")
    after = await scrape(scraper)

    count = "pasar_http_request_duration_seconds_count"
    product = {"method": "GET", "route": "/products/{product_id}", "status": "404"}
    assert value(after, count, **product) - value(before, count, **product) == 3
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(after, count, **unmatched) - value(before, count, **unmatched) == 2
    routes = {dict(labels).get("route", "") for name, labels in after if name == count}
    assert not any(route.startswith(("/products/9", "/no-such-page")) for route in routes)


async def test_reading_metrics_sends_no_statement_to_the_database(scraper, count_queries):
    await scrape(scraper)

    assert count_queries.count == 0, count_queries.statements


async def test_the_pool_gauges_follow_connections_in_use_and_beyond_the_pool(settings, scraper):
    database = Database(settings.database_url, pool_size=1, max_overflow=3)
    watch_database_pool(database.engine)
    size = database.engine.sync_engine.pool.size()  # type: ignore[attr-defined]
    try:
        before = await scrape(scraper)
        connections = [await database.engine.connect() for _ in range(size + 2)]
        during = await scrape(scraper)
        for connection in connections:
            await connection.close()
        after = await scrape(scraper)
    finally:
        await database.dispose()

    in_use, overflow = "pasar_db_pool_connections_in_use", "pasar_db_pool_overflow_connections"
    assert value(during, in_use) - value(before, in_use) == size + 2
    assert value(during, overflow) - value(before, overflow) == 2
    assert value(after, in_use) == value(before, in_use)
    assert value(after, overflow) == value(before, overflow)


async def test_a_failed_job_is_counted_by_name(scraper):
    before = await scrape(scraper)
    record_job_failure("send_web_push")
    record_job_failure("send_web_push")
    after = await scrape(scraper)

    failures = "pasar_job_failures_total"
    assert value(after, failures, job="send_web_push") - value(before, failures, job="send_web_push") == 2


@pytest.mark.one_database
@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
async def test_the_queue_depth_is_read_from_redis(settings, app_for, database):
    import redis.asyncio as redis

    queue = f"metrics-test-{uuid.uuid4().hex[:8]}"
    watch_job_queue(queue)
    assert REDIS_URL is not None  # skipped otherwise
    client = redis.from_url(REDIS_URL)
    try:
        await cast("Awaitable[int]", client.rpush(f"saq:{queue}:queued", "job-1", "job-2", "job-3"))
        await cast("Awaitable[int]", client.rpush(f"saq:{queue}:active", "job-0"))
        # The worker, a process no scrape reaches, counts its failed attempts in Redis.
        for job in ("send_refunds", "send_refunds", "send_pushes"):
            await record_queued_job_failure(client, queue, job)
        with_redis = settings.model_copy(update={"metrics_token": TOKEN, "redis_url": REDIS_URL})
        async with browser(await app_for(with_redis)) as scraper:
            samples = await scrape(scraper)
    finally:
        await client.delete(f"saq:{queue}:queued", f"saq:{queue}:active", failures_key(queue))
        await client.aclose()

    assert value(samples, "pasar_job_queue_readable") == 1
    assert value(samples, "pasar_job_queue_depth", queue=queue, state="queued") == 3
    assert value(samples, "pasar_job_queue_depth", queue=queue, state="active") == 1
    assert value(samples, "pasar_queue_job_failures_total", queue=queue, job="send_refunds") == 2
    assert value(samples, "pasar_queue_job_failures_total", queue=queue, job="send_pushes") == 1


async def test_metrics_still_answer_when_redis_is_unreachable_and_say_the_queue_was_not_read(settings, app_for):
    watch_job_queue("default")
    unreachable = settings.model_copy(
        update={"metrics_token": TOKEN, "redis_url": f"redis://127.0.0.1:{free_port()}/0"}
    )
    app = await app_for(unreachable)
    # Not `browser`: it empties the rate-limit store (in that Redis) when done.
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as scraper:
        samples = await asyncio.wait_for(scrape(scraper), timeout=10)

    assert value(samples, "pasar_job_queue_readable") == 0
    assert not any(name == "pasar_job_queue_depth" for name, _ in samples)


def test_the_metrics_settings_refuse_a_guessable_token_and_every_network():
    from backend.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="METRICS_TOKEN must be at least 24 characters"):
        Settings.from_env({"METRICS_TOKEN": "short"})
    with pytest.raises(ConfigError, match="METRICS_NETWORKS cannot be"):
        Settings.from_env({"METRICS_NETWORKS": "*"})
    with pytest.raises(ConfigError, match="METRICS_NETWORKS must list IP addresses or networks"):
        Settings.from_env({"METRICS_NETWORKS": "prometheus.internal"})
    named = Settings.from_env({"METRICS_NETWORKS": "10.0.0.0/8, 192.168.1.5"})
    assert named.metrics_networks == (ip_network("10.0.0.0/8"), ip_network("192.168.1.5/32"))
