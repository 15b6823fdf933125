"""Scheduled jobs, in-process (each worker may run them: they are idempotent and take rows with SKIP LOCKED):
- daily: certificate expiry;
- every minute: unpaid card orders cancelled and released, standing orders placed ahead, delivered orders
  completed after two days, card refunds sent to Stripe (again, after Stripe was down);
- every hour: expired browser sessions and login attempts older than the throttling window deleted;
- every few seconds: Web Push messages sent, with retries;
- every ten minutes: the words of visible products that steer search's typo corrections rebuilt.

Operators can also run a job by hand or from cron: `python -m backend run-expiry [--date YYYY-MM-DD]`,
`python -m backend run-order-jobs`, `python -m backend run-login-cleanup`,
`python -m backend rebuild-search-words`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from backend.accounts.service import DeletedLoginRecords, delete_expired_login_records
from backend.catalog.vocabulary import VocabularyRun, rebuild_vocabulary
from backend.clock import WIB, utcnow, wib_today
from backend.config import Settings
from backend.db import Database
from backend.moderation.service import ExpiryRun, run_certificate_expiry
from backend.notifications.push import send_due_pushes
from backend.orders.standing import place_standing_orders
from backend.orders.states import cancel_unpaid_orders, complete_delivered_orders
from backend.payments.refunds import retry_pending_refunds

logger = logging.getLogger("pasar_kawasan.jobs")

# Shortly after midnight in the zone, so "the day after expiry" starts with the listing hidden.
DAILY_RUN_AT = time(0, 10)


def seconds_until_next_run(now: datetime, at: time = DAILY_RUN_AT) -> float:
    local = now.astimezone(WIB)
    next_run = datetime.combine(local.date(), at, tzinfo=WIB)
    if next_run <= local:
        next_run += timedelta(days=1)
    return (next_run - local).total_seconds()


async def run_expiry_once(database: Database, today: date) -> ExpiryRun:
    async with database.sessionmaker() as session:
        result = await run_certificate_expiry(session=session, today=today)
        await session.commit()
    logger.info("certificate expiry run for %s: %s", result.run_on, result)
    return result


async def run_daily(database: Database) -> None:
    """Run the expiry job now (catching up after a restart), then every day at DAILY_RUN_AT WIB."""
    while True:
        try:
            await run_expiry_once(database, wib_today(utcnow()))
        except Exception:  # a failed run is logged and retried at the next run; the worker keeps serving
            logger.exception("certificate expiry run failed")
        await asyncio.sleep(seconds_until_next_run(utcnow()))


ORDER_JOBS_EVERY_SECONDS = 60
PUSH_EVERY_SECONDS = 10
LOGIN_CLEANUP_EVERY_SECONDS = 3600
# A word of a newly approved product is found as typed at once; only corrections and suggestions wait for this.
VOCABULARY_EVERY_SECONDS = 600


@dataclass
class OrderJobsRun:
    unpaid_cancelled: int
    standing_placed: int
    standing_refused: int
    completed: int
    refunds_sent: int = 0


async def run_order_jobs_once(database: Database, now: datetime, settings: Settings | None = None) -> OrderJobsRun:
    """Each job in its own transaction, so one failing does not hold back the others; all of them run as of
    `now`. With `settings`, card refunds recorded at cancellations (or refused while Stripe was down) are sent
    to Stripe too."""
    async with database.sessionmaker() as session:
        cancelled = await cancel_unpaid_orders(session=session, now=now)
        await session.commit()
    async with database.sessionmaker() as session:
        standing = await place_standing_orders(session=session, now=now)
        await session.commit()
    async with database.sessionmaker() as session:
        completed = await complete_delivered_orders(session=session, now=now)
        await session.commit()
    refunds_sent = 0
    if settings is not None:
        async with database.sessionmaker() as session:
            refunds_sent = await retry_pending_refunds(session=session, settings=settings, now=now)
            await session.commit()
    result = OrderJobsRun(
        unpaid_cancelled=cancelled,
        standing_placed=standing.placed,
        standing_refused=standing.refused,
        completed=completed,
        refunds_sent=refunds_sent,
    )
    if cancelled or standing.placed or standing.refused or completed or refunds_sent:
        logger.info("order jobs: %s", result)
    return result


async def send_pushes_once(database: Database, settings: Settings, now: datetime) -> int:
    async with database.sessionmaker() as session:
        sent = await send_due_pushes(session=session, settings=settings, now=now)
        await session.commit()
    return sent


async def delete_expired_login_records_once(
    database: Database, settings: Settings, now: datetime | None = None
) -> DeletedLoginRecords:
    async with database.sessionmaker() as session:
        deleted = await delete_expired_login_records(
            session=session, now=now or utcnow(), login_window_seconds=settings.login_window_seconds
        )
        await session.commit()
    if deleted.sessions or deleted.login_attempts:
        logger.info("login clean-up: %s", deleted)
    return deleted


async def rebuild_vocabulary_once(database: Database, today: date) -> VocabularyRun:
    async with database.sessionmaker() as session:
        result = await rebuild_vocabulary(session=session, today=today)
        await session.commit()
    if result.added or result.removed:
        logger.info("search words rebuilt: %s", result)
    return result


async def run_every(seconds: float, job: Callable[[], Awaitable[Any]], name: str) -> None:
    """Run `job` now and then every `seconds`; a failure is logged and the next run tries again."""
    while True:
        try:
            await job()
        except Exception:
            logger.exception("%s failed", name)
        await asyncio.sleep(seconds)


def scheduled_jobs(database: Database, settings: Settings) -> list[Coroutine[Any, Any, None]]:
    """Everything a worker runs in the background while it serves."""
    jobs: list[Coroutine[Any, Any, None]] = [
        run_daily(database),
        run_every(
            ORDER_JOBS_EVERY_SECONDS, lambda: run_order_jobs_once(database, utcnow(), settings=settings), "order jobs"
        ),
        run_every(
            LOGIN_CLEANUP_EVERY_SECONDS, lambda: delete_expired_login_records_once(database, settings), "login clean-up"
        ),
        run_every(
            VOCABULARY_EVERY_SECONDS, lambda: rebuild_vocabulary_once(database, wib_today(utcnow())), "search words"
        ),
    ]
    if settings.web_push_enabled:
        jobs.append(
            run_every(PUSH_EVERY_SECONDS, lambda: send_pushes_once(database, settings, utcnow()), "push sending")
        )
    return jobs
