"""The background jobs on the queue: `python -m backend worker` runs every scheduled job once per schedule
whatever the number of workers, a job that meets an outage is retried after one line in the log, and a worker
that loses Redis says so once and carries on when it is back."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter

import pytest
from saq import Status
from sqlalchemy.engine import make_url

import backend.queue
from backend.config import Settings
from backend.db import Database
from backend.queue import JobQueue, ScheduledWorker
from tests.app_process import free_port
from tests.faults.conftest import TcpProxy
from tests.jobs.conftest import finished_jobs, worker_environment
from tests.notifications.conftest import vapid_keys  # noqa: F401  (fixture)

pytestmark = [pytest.mark.one_database, pytest.mark.xdist_group("redis")]


def pushes_done(log: str) -> list[str]:
    return [key for job, key in finished_jobs(log) if job == "send_pushes"]


async def test_two_workers_started_together_run_each_scheduled_job_once(
    settings,
    database,
    redis_url,
    workers,
    vapid_keys,  # noqa: F811
):
    environment = worker_environment(
        settings, redis_url, VAPID_PUBLIC_KEY=vapid_keys.public_key, VAPID_PRIVATE_KEY=vapid_keys.private_key
    )
    first, second = workers(environment, "first"), workers(environment, "second")
    first.start()
    second.start()
    # Push sending is due every ten seconds: wait for three of its slots to be done (by either worker).
    first.wait_for(lambda _log: len(pushes_done(first.log() + second.log())) >= 3, 60, what="send pushes three times")
    first.stop()
    second.stop()

    done = finished_jobs(first.log() + second.log())
    # Each slot of each job ran once, on one of the two workers.
    assert [key for key, times in Counter(key for _job, key in done).items() if times > 1] == []
    # The daily certificate expiry had not run today: one of the two caught up, once (not once each).
    assert [job for job, _key in done].count("expire_certificates") == 1
    # Every minute's order jobs ran once for the minute(s) the workers saw.
    minutes = {key.split("@")[1] for job, key in done if job == "cancel_unpaid_orders"}
    assert len(minutes) == [job for job, _key in done].count("cancel_unpaid_orders") >= 1

    # Started again the same day, a worker does not run the daily expiry again.
    first.start()
    first.wait_for(lambda log: "send_pushes" in log and " done" in log, 30, what="run a job")
    first.stop()
    assert "expire_certificates" not in first.log()


async def test_a_job_that_meets_a_database_outage_logs_one_line_and_is_retried_until_it_succeeds(
    settings: Settings, redis_url, caplog, monkeypatch
):
    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("the relay cuts a PostgreSQL connection; SQLite is a file in the worker's own process")
    relay = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    relay.start()
    relay.cut()
    database = Database(url.set(port=relay.port).render_as_string(hide_password=False), connect_timeout=2)
    queue = JobQueue.for_url(redis_url)
    worker = ScheduledWorker(queue, database=database, settings=settings.model_copy(update={"redis_url": redis_url}))
    worker.SIGNALS = []
    worker.schedules = []  # this test's one job only
    caplog.set_level(logging.INFO)
    await queue.connect()
    await queue.enqueue_job("clean_up_logins", key="clean-up-during-outage")
    running = asyncio.create_task(worker.start())
    try:
        deadline = time.monotonic() + 90  # a busy machine starts the worker slowly
        while "met an outage" not in caplog.text and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        relay.restore()
        job = None
        while time.monotonic() < deadline:
            job = await queue.job("clean-up-during-outage")
            if job is not None and job.status == Status.COMPLETE:
                break
            await asyncio.sleep(0.2)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await queue.disconnect()
        await database.dispose()
        relay.close()

    assert job is not None and job.status == Status.COMPLETE, job
    assert job.attempts >= 2  # failed during the outage, then done
    outage_lines = [record for record in caplog.records if "met an outage" in record.getMessage()]
    assert len(outage_lines) == job.attempts - 1
    for record in outage_lines:
        message = record.getMessage()
        assert record.levelno == logging.WARNING and record.exc_info is None and "\n" not in message
        assert "clean_up_logins" in message and "database unreachable" in message
    # Nothing else told of the failure: no traceback, no error.
    assert [record for record in caplog.records if record.exc_info or record.levelno >= logging.ERROR] == []
    assert "Traceback" not in caplog.text


async def test_a_worker_that_loses_redis_says_so_once_and_again_when_it_is_back(caplog, monkeypatch, redis_url):
    monkeypatch.setattr(backend.queue, "REDIS_RETRY_SECONDS", 0.01)
    caplog.set_level(logging.INFO)
    nowhere = JobQueue.for_url(f"redis://127.0.0.1:{free_port()}/0")
    for _ in range(3):
        assert await nowhere.dequeue(timeout=0.1) is None
    assert nowhere.redis_lost
    # The web app asking for a job to start now, with Redis down, is told on one line and carries on.
    await nowhere.wake({"send_pushes"})
    await nowhere.disconnect()

    lines = [record.getMessage() for record in caplog.records if record.name == "pasar_kawasan.jobs"]
    assert len([line for line in lines if line.startswith("Redis unreachable")]) == 1
    assert len([line for line in lines if line.startswith("could not start send_pushes now")]) == 1
    assert [record for record in caplog.records if record.exc_info] == []

    # Back: said once.
    queue = JobQueue.for_url(redis_url)
    queue.redis_lost = True
    assert await queue.dequeue(timeout=0.1) is None
    await queue.disconnect()
    assert "Redis is reachable again" in caplog.text


async def test_asking_for_jobs_never_holds_up_or_fails_the_answer_of_the_request_that_asked(caplog, monkeypatch):
    """The work is committed and the jobs' schedules find it anyway: a silent Redis is given its moment, one out of
    reach a log line, and the answer goes out as the success it is."""
    monkeypatch.setattr(backend.queue, "WAKE_TIMEOUT_SECONDS", 0.2)
    silent_redis = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)  # accepts, never answers
    silent = JobQueue.for_url(f"redis://127.0.0.1:{silent_redis.sockets[0].getsockname()[1]}/0")
    nowhere = JobQueue.for_url(f"redis://127.0.0.1:{free_port()}/0")

    started = time.monotonic()
    await silent.wake({"send_pushes"})
    await nowhere.wake({"send_refunds", "send_pushes"})
    waited = time.monotonic() - started
    silent_redis.close()

    assert waited < 2
    lines = [record.getMessage() for record in caplog.records if record.name == "pasar_kawasan.jobs"]
    assert lines[0] == "could not start send_pushes now (TimeoutError); its schedule runs it"
    assert lines[1].startswith("could not start send_pushes, send_refunds now (")
    assert [record for record in caplog.records if record.exc_info] == []
