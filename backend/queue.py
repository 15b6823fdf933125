"""The job queue on Redis (SAQ): what the web app enqueues, and the worker (`python -m backend worker`) that
runs the jobs of backend.jobs and their schedules.

Once per schedule across all machines: every worker looks each second for the latest moment each job was due
(its slot, backend.jobs.Schedule) and claims it in Redis with SET NX on a key named after the job and the slot.
Only the worker that claims the slot enqueues the job, under a key naming the slot too; the others find the
slot taken. A worker that starts after a missed slot (the daily expiry while every worker was down) claims it
and so catches up, once; a worker restarted later the same day finds the slot claimed and does not run it again.

A job that fails is retried with exponential backoff (SAQ's retries). When it failed because the database or
Redis was out of reach, one warning line says so, with no traceback; a bug is logged once, with its traceback.
A worker that loses Redis logs one line, waits and reconnects, and logs one line when Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any, TypeVar

from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from saq import Job, Status, Worker
from saq.queue.redis import RedisQueue

from backend.clock import utcnow
from backend.config import Settings
from backend.db import Database
from backend.jobs import JOB_NAMES, describe, outage, run_job, schedules
from backend.metrics import record_queued_job_failure, watch_job_queue

logger = logging.getLogger("pasar_kawasan.jobs")

QUEUE_NAME = "pasar-kawasan"
# Its depth (jobs queued, jobs being run) is on every web process's /metrics, read from Redis at each scrape.
watch_job_queue(QUEUE_NAME)
# A job that runs longer than this is cancelled (and retried); after a worker was killed, its job is found
# stuck after this long and retried (the next slot of a scheduled job runs meanwhile).
JOB_TIMEOUT_SECONDS = 300
# Attempts in all, the first included; the waits between them double from RETRY_DELAY_SECONDS (with jitter) up
# to RETRY_BACKOFF_MAX_SECONDS.
JOB_ATTEMPTS = 8
RETRY_DELAY_SECONDS = 2.0
RETRY_BACKOFF_MAX_SECONDS = 300.0
# A finished job's record stays this long in Redis (for `saq` tools and debugging).
FINISHED_JOB_TTL_SECONDS = 3600
# How long a worker waits before trying Redis again after it could not reach it.
REDIS_RETRY_SECONDS = 2.0
REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
# How long a request's answer may wait for the jobs it asked for to be queued (see `JobQueue.wake`).
WAKE_TIMEOUT_SECONDS = 1.0

T = TypeVar("T")


class JobFailed(Exception):
    """Raised to SAQ after the failure was logged (once), so that SAQ retries the job without logging it again."""


class _AlreadyLogged(logging.Filter):
    """SAQ logs each failed job with its traceback: ours logged it once already (as one line for an outage)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], JobFailed))


logging.getLogger("saq").addFilter(_AlreadyLogged())


class JobQueue(RedisQueue):
    """SAQ's Redis queue, riding out a Redis outage: the worker's polling logs one line when Redis goes away and
    one when it is back, instead of a traceback a second."""

    def __init__(self, redis: aioredis.Redis, **kwargs: Any) -> None:
        super().__init__(redis, **kwargs)
        self.redis_lost = False
        self._just_taken: set[bytes] = set()

    @classmethod
    def for_url(cls, url: str) -> JobQueue:
        return cls(aioredis.from_url(url, socket_connect_timeout=5, socket_timeout=30), name=QUEUE_NAME)

    async def _tolerant(self, call: Callable[[], Awaitable[T]], default: T) -> T:
        try:
            result = await call()
        except REDIS_ERRORS as failure:
            if not self.redis_lost:
                self.redis_lost = True
                logger.warning("Redis unreachable (%s): jobs wait until it is back", describe(failure))
            await asyncio.sleep(REDIS_RETRY_SECONDS)
            return default
        if self.redis_lost:
            self.redis_lost = False
            logger.warning("Redis is reachable again: jobs run")
        return result

    async def disconnect(self) -> None:
        with contextlib.suppress(*REDIS_ERRORS):  # nothing to close on a Redis that is gone
            await super().disconnect()

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> Job | None:  # noqa: ASYNC109 (SAQ's signature)
        return await self._tolerant(lambda: super(JobQueue, self).dequeue(timeout, poll_interval), None)

    async def schedule(self, lock: int = 1) -> list[str]:
        return await self._tolerant(lambda: super(JobQueue, self).schedule(lock), [])

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        return await self._tolerant(lambda: self._sweep_settled(lock, abort), [])

    async def _sweep_settled(self, lock: int, abort: float) -> list[str]:
        """SAQ's sweep (jobs left on the active list by a worker that died, or past their timeout, are retried),
        except for a job a worker has just taken: it is on the active list before its worker marks it active,
        and SAQ's own sweep would retry it then, running it twice. Such a job is swept only when the next sweep
        still finds it so (its worker died in between)."""
        script = self.redis.register_script(
            """
            local id_jobs = {}
            if redis.call('EXISTS', KEYS[1]) == 0 then
                redis.call('SETEX', KEYS[1], ARGV[1], 1)
                for i, v in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
                    id_jobs[i] = {v, redis.call('GET', v)}
                end
            end
            return id_jobs
            """
        )
        id_jobs = await script(keys=[self._sweep, self._active], args=[lock], client=self.redis)
        swept: list[str] = []
        just_taken: set[bytes] = set()
        for job_id, job_bytes in id_jobs:
            job = self.deserialize(job_bytes)
            if job is None:
                swept.append(job_id.decode())
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.lrem(self._active, 0, job_id)
                    pipe.zrem(self._incomplete, job_id)
                    await pipe.execute()
                continue
            if job.status == Status.ACTIVE and not job.stuck:
                continue
            if job.status == Status.QUEUED and job_id not in self._just_taken:
                just_taken.add(job_id)
                continue
            swept.append(job_id.decode())
            logger.info("job %s (%s) was left unfinished by its worker: tried again", job.function, job.key)
            await self.abort(job, error=self.swept_error_message)
            with contextlib.suppress(asyncio.TimeoutError):
                await job.refresh(abort)
            if job.retryable:
                await self.retry(job, error=self.swept_error_message)
            else:
                await self.finish(job, Status.ABORTED, error=self.swept_error_message)
        self._just_taken = just_taken
        return swept

    async def write_worker_info(self, worker_id: str, info: Any, ttl: int) -> None:
        await self._tolerant(lambda: super(JobQueue, self).write_worker_info(worker_id, info, ttl), None)

    async def enqueue_job(self, name: str, *, key: str, slot: datetime | None = None) -> Job | None:
        """Enqueue the job `name` under `key` (nothing happens while a job of that key waits or runs)."""
        return await self.enqueue(
            name,
            key=key,
            kwargs={"slot": slot.isoformat()} if slot else {},
            timeout=JOB_TIMEOUT_SECONDS,
            retries=JOB_ATTEMPTS,
            retry_delay=RETRY_DELAY_SECONDS,
            retry_backoff=RETRY_BACKOFF_MAX_SECONDS,
            ttl=FINISHED_JOB_TTL_SECONDS,
        )

    async def wake(self, jobs: set[str]) -> None:
        """Start `jobs` now (the work a transaction just committed). While a run started this way waits or runs,
        more asks add nothing: that run, or the job's next scheduled one (10 s for pushes, a minute for refunds),
        finds the new work. So this never fails and never waits long: a silent Redis is given
        `WAKE_TIMEOUT_SECONDS`, and it or a broken one is logged on one line; the schedule finds the work later.
        The answer of the request that committed the work stays the success it is."""
        try:
            async with asyncio.timeout(WAKE_TIMEOUT_SECONDS):
                for name in sorted(jobs):
                    await self.enqueue_job(name, key=f"{name}:now")
        except Exception as failure:  # noqa: BLE001  (the work is committed: whatever went wrong, it waits)
            logger.warning(
                "could not start %s now (%s); its schedule runs it", ", ".join(sorted(jobs)), describe(failure)
            )


def slot_key(queue: JobQueue, name: str, slot: datetime) -> str:
    return queue.namespace(f"slot:{name}:{slot:%Y-%m-%dT%H:%M:%SZ}")


class ScheduledWorker(Worker[Any]):
    """SAQ's worker with the site's jobs, and schedules claimed per slot in Redis (see the module's text)."""

    def __init__(
        self, queue: JobQueue, *, database: Database, settings: Settings, concurrency: int = 4, **kwargs: Any
    ) -> None:
        self.database = database
        self.settings = settings
        self.schedules = schedules(settings)
        self.job_queue = queue
        super().__init__(queue, [(name, self._task(name)) for name in JOB_NAMES], concurrency=concurrency, **kwargs)

    async def upkeep(self) -> list[asyncio.Task[None]]:
        self._upkeep = await super().upkeep()
        return self._upkeep

    async def stop(self) -> None:
        """Stop polling at once (SAQ would wait out the grace period for its pollers' sleeps), then give running
        jobs the grace period to finish."""
        for task in getattr(self, "_upkeep", []):
            task.cancel()
        await super().stop()

    def _task(self, name: str) -> Callable[..., Coroutine[Any, Any, str]]:
        async def task(ctx: dict[str, Any], *, slot: str | None = None) -> str:
            job: Job = ctx["job"]
            now = utcnow()  # the worker is where a job's clock is read
            try:
                result = await run_job(
                    name,
                    database=self.database,
                    settings=self.settings,
                    now=now,
                    slot=datetime.fromisoformat(slot) if slot else None,
                    wake=self.job_queue.wake,
                )
            except Exception as failure:
                await record_queued_job_failure(self.job_queue.redis, QUEUE_NAME, name)
                last = job.attempts >= job.retries
                then = "given up" if last else "tried again later"
                reason = outage(failure)
                if reason:
                    logger.warning(
                        "job %s (%s) met an outage, %s: %s; attempt %d of %d, %s",
                        name,
                        job.key,
                        reason,
                        describe(failure),
                        job.attempts,
                        job.retries,
                        then,
                    )
                else:
                    logger.error(
                        "job %s (%s) failed: %s; attempt %d of %d, %s",
                        name,
                        job.key,
                        describe(failure),
                        job.attempts,
                        job.retries,
                        then,
                        exc_info=failure,
                    )
                raise JobFailed(describe(failure)) from failure
            logger.info("job %s (%s) done: %s", name, job.key, result)
            return str(result)

        task.__qualname__ = name
        return task

    async def schedule(self, lock: int = 1) -> None:
        """Claim and enqueue each job's latest slot (once across all workers), then let SAQ queue what is due."""
        now = utcnow()
        for schedule in self.schedules:
            slot = schedule.slot(now)
            try:
                claimed = await self.job_queue.redis.set(
                    slot_key(self.job_queue, schedule.job, slot),
                    self.id,
                    nx=True,
                    # Longer than the period: the latest slot stays claimed until a later one is the latest.
                    ex=int(schedule.period.total_seconds()) * 2 + 60,
                )
                if claimed:
                    await self.job_queue.enqueue_job(
                        schedule.job, key=f"{schedule.job}@{slot:%Y-%m-%dT%H:%M:%SZ}", slot=slot
                    )
            except REDIS_ERRORS:
                break  # said once by the queue's own polling below
        await self.job_queue.schedule(lock)


async def run_worker(settings: Settings, *, handle_signals: bool = True) -> None:
    """The worker process: runs until SIGINT or SIGTERM (it then lets running jobs finish, up to a grace
    period); with `handle_signals` False, until cancelled (inside the web process)."""
    assert settings.redis_url, "the worker needs REDIS_URL"
    database = Database(
        settings.database_url,
        connect_timeout=settings.database_connect_timeout_seconds,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    queue = JobQueue.for_url(settings.redis_url)
    # Dequeuing waits a second at most, so that a worker told to stop is not held by a wait for the next job.
    worker = ScheduledWorker(queue, database=database, settings=settings, shutdown_grace_period_s=20, dequeue_timeout=1)
    if not handle_signals:
        worker.SIGNALS = []
    try:
        await queue.connect()
        await worker.start()
    finally:
        await queue.disconnect()
        await database.dispose()
