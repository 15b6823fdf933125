"""What the app counts for Prometheus (/metrics), and the functions that count it.

Call these from anywhere; none of them touches the database or the network:

    record_order_placed(payment_method, count)   orders made at a checkout (one per vendor)
    record_payment_confirmed(method)             "card" (Stripe said so) or "bank_transfer" (a manager saw it)
    record_webhook_reject(reason)                a Stripe delivery refused: "no_secret", "bad_signature", "not_ours"
    record_job_failure(job)                      a background job raised (counted per attempt, retries included)
    watch_job_queue(name)                        /metrics reports the depth of this SAQ queue (read from Redis)

With several uvicorn workers each process counts on its own; prometheus_client's multiprocess mode adds them up
when PROMETHEUS_MULTIPROC_DIR names a directory the workers share (`python -m backend serve --workers N` makes
one when it is not set). The directory must be emptied when the server starts: `serve` does that too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import weakref
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

MULTIPROCESS_DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds; a page should answer within 0.25 s, an order placement within a second or two.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Methods are labels: anything else a client sends is counted as "other", so nobody can make new series at will.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"

logger = logging.getLogger("pasar_kawasan.metrics")

# In multiprocess mode each process keeps its values in files of that directory, from the first metric made
# below on: the directory must be there by then.
if _directory := os.environ.get(MULTIPROCESS_DIRECTORY_VARIABLE):
    Path(_directory).mkdir(parents=True, exist_ok=True)

REQUEST_SECONDS = Histogram(
    "pasar_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template (not the raw path).",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
DB_POOL_IN_USE = Gauge(
    "pasar_db_pool_connections_in_use",
    "Database connections checked out of the pool by requests and jobs (summed over the live workers).",
    multiprocess_mode="livesum",
)
DB_POOL_OVERFLOW = Gauge(
    "pasar_db_pool_overflow_connections",
    "Connections open beyond DATABASE_POOL_SIZE (summed over the live workers); at DATABASE_MAX_OVERFLOW a "
    "request waits for a free one.",
    multiprocess_mode="livesum",
)
ORDERS_PLACED = Counter("pasar_orders_placed", "Vendor orders made at checkouts.", ["payment_method"])
PAYMENTS_CONFIRMED = Counter("pasar_payments_confirmed", "Payments confirmed, by how they were paid.", ["method"])
WEBHOOK_REJECTS = Counter("pasar_webhook_rejects", "Stripe webhook deliveries refused, by reason.", ["reason"])
JOB_FAILURES = Counter("pasar_job_failures", "Background job attempts that raised, by job name.", ["job"])

_watched_queues: list[str] = []


def record_request(*, method: str, route: str | None, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(
        method if method in KNOWN_METHODS else "other", route or UNMATCHED_ROUTE, str(status)
    ).observe(seconds)


def record_order_placed(payment_method: str, count: int = 1) -> None:
    ORDERS_PLACED.labels(payment_method).inc(count)


def record_payment_confirmed(method: str) -> None:
    PAYMENTS_CONFIRMED.labels(method).inc()


def record_webhook_reject(reason: str) -> None:
    WEBHOOK_REJECTS.labels(reason).inc()


def record_job_failure(job: str) -> None:
    """Count one failed attempt of the background job `job` (its function's name, a fixed set: never an id), run
    by this process (the in-process runner of the embedded default)."""
    JOB_FAILURES.labels(job).inc()


def failures_key(queue: str) -> str:
    """The Redis hash of a queue's failed attempts by job: the worker is a process (often a machine) of its own,
    which no scrape reaches, so what it counts is kept where every web server reads it."""
    return f"saq:{queue}:failures"


async def record_queued_job_failure(redis: Redis, queue: str, job: str) -> None:
    """Count one failed attempt of `job` run from the queue `queue`, in Redis (a Redis that is down: not counted,
    the job's own log line says what happened)."""
    with contextlib.suppress(RedisError, OSError):
        await cast("Awaitable[int]", redis.hincrby(failures_key(queue), job, 1))


def watch_job_queue(name: str) -> None:
    """Report the depth of the SAQ queue `name` on /metrics (`pasar_job_queue_depth{queue,state}`: jobs queued and
    jobs being run, read from Redis at each scrape); only when REDIS_URL is set."""
    if name not in _watched_queues:
        _watched_queues.append(name)


def watch_database_pool(engine: AsyncEngine) -> None:
    """Keep the pool gauges up to date from the pool's own events (no statement is ever sent for them). The
    listeners belong to the engine, so they follow its pool when `dispose()` replaces it."""
    sync_engine = engine.sync_engine
    if sync_engine in _watched_engines:
        return
    _watched_engines.add(sync_engine)
    pool = sync_engine.pool
    size = pool.size() if isinstance(pool, QueuePool) else 0
    held = {"open": 0}

    def count_open(change: int) -> None:
        before = max(held["open"] - size, 0)
        held["open"] = max(held["open"] + change, 0)
        DB_POOL_OVERFLOW.inc(max(held["open"] - size, 0) - before)

    event.listen(sync_engine, "checkout", lambda *_: DB_POOL_IN_USE.inc())
    event.listen(sync_engine, "checkin", lambda *_: DB_POOL_IN_USE.dec())
    event.listen(sync_engine, "connect", lambda *_: count_open(+1))
    event.listen(sync_engine, "close", lambda *_: count_open(-1))


_watched_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


@dataclass(frozen=True)
class QueueFigures:
    """What Redis says of the watched SAQ queues at a scrape."""

    depths: dict[tuple[str, str], int]  # (queue, "queued" | "active") → jobs
    failures: dict[tuple[str, str], int]  # (queue, job) → failed attempts since Redis was last emptied


async def queue_figures(redis_url: str | None) -> QueueFigures | None:
    """The watched queues' depths and failed attempts; None when Redis cannot be read."""
    if not redis_url or not _watched_queues:
        return QueueFigures({}, {})
    client: Redis = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        async with client.pipeline(transaction=False) as pipe:
            for name in _watched_queues:
                pipe.llen(f"saq:{name}:queued")
                pipe.llen(f"saq:{name}:active")
                pipe.hgetall(failures_key(name))
            answers = await pipe.execute()
    except (RedisError, OSError) as exc:
        logger.warning("queue depth not read from Redis: %s: %s", type(exc).__name__, exc)
        return None
    finally:
        await client.aclose()
    figures = QueueFigures({}, {})
    for index, name in enumerate(_watched_queues):
        queued, active, failures = answers[3 * index : 3 * index + 3]
        figures.depths[(name, "queued")] = int(queued)
        figures.depths[(name, "active")] = int(active)
        for job, attempts in failures.items():
            figures.failures[(name, job.decode() if isinstance(job, bytes) else str(job))] = int(attempts)
    return figures


class _QueueDepths(Collector):
    """The queues' figures read for this scrape (Redis is shared by every worker and machine: no adding up)."""

    def __init__(self, figures: QueueFigures | None) -> None:
        self.figures = figures

    def collect(self) -> Iterable[Metric]:
        readable = GaugeMetricFamily("pasar_job_queue_readable", "1 when the job queue's depth could be read.")
        readable.add_metric([], 0 if self.figures is None else 1)
        yield readable
        if self.figures and self.figures.depths:
            depth = GaugeMetricFamily(
                "pasar_job_queue_depth",
                "Jobs in a queue: waiting (queued) or being run (active).",
                labels=["queue", "state"],
            )
            for (queue, state), jobs in sorted(self.figures.depths.items()):
                depth.add_metric([queue, state], jobs)
            yield depth
        if self.figures and self.figures.failures:
            failed = CounterMetricFamily(
                "pasar_queue_job_failures",
                "Attempts of background jobs run from the queue (by the worker) that raised, by job name.",
                labels=["queue", "job"],
            )
            for (queue, job), attempts in sorted(self.figures.failures.items()):
                failed.add_metric([queue, job], attempts)
            yield failed


def multiprocess_directory() -> Path | None:
    value = os.environ.get(MULTIPROCESS_DIRECTORY_VARIABLE)
    return Path(value) if value else None


async def exposition(redis_url: str | None) -> bytes:
    """The text Prometheus scrapes: this process's metrics (every live worker's, added up, in multiprocess mode)
    and the job queues' depths."""
    scraped = CollectorRegistry(auto_describe=True)
    scraped.register(_QueueDepths(await queue_figures(redis_url)))
    if multiprocess_directory() is not None:
        workers = CollectorRegistry()
        multiprocess.MultiProcessCollector(workers)  # type: ignore[no-untyped-call]
        return generate_latest(workers) + generate_latest(scraped)
    return generate_latest(REGISTRY) + generate_latest(scraped)


def prepare_multiprocess_directory(path: Path) -> None:
    """An empty directory for the workers' metric files: files left by an earlier run would be added in."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def forget_this_process() -> None:
    """At a worker's shutdown: its live gauges (the pool's) no longer count in the sum."""
    if multiprocess_directory() is not None:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
