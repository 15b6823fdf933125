"""The background jobs: what each one does, when it is due, and the runner of the embedded default.

Each job is idempotent and takes its rows with `SELECT ... FOR UPDATE SKIP LOCKED` (on PostgreSQL), so running
it twice, or on two machines at once, does its work once:
- daily at 00:10 WIB: certificate expiry (`expire_certificates`);
- every minute: unpaid card orders cancelled and released (`cancel_unpaid_orders`), standing orders placed ahead
  (`place_standing_orders`), delivered orders completed after two days (`complete_delivered_orders`), card
  refunds sent to Stripe, again after Stripe was down (`send_refunds`), and, with the payment gateway, vendors'
  payouts sent through it, again after it was down (`send_payouts`);
- every hour: expired browser sessions and login attempts older than the throttling window deleted
  (`clean_up_logins`);
- every ten seconds: Web Push messages sent, with retries (`send_pushes`), when push is on;
- every ten seconds, when orders by WhatsApp are on: what vendors wrote to the business number acted on
  (`handle_whatsapp`), and WhatsApp messages sent, with retries, within the rate limit (`send_whatsapp`);
- every ten minutes: the words of visible products that steer search's typo corrections rebuilt
  (`rebuild_search_words`).

Work a request records (a push after an order, a refund after a cancellation) also starts its job as soon as
the request's transaction commits (`backend.db.run_after_commit`); the schedule is the sweep that finds
whatever that missed.

Where they run (see the README's "Background jobs"): with REDIS_URL, on the SAQ queue, run by
`python -m backend worker` (backend.queue); without it, inside the web process, by `InProcessJobs` below.
No job reads the clock: the runner passes the moment it starts a job as `now` (and a daily job its day).

Operators can also run a job by hand or from cron: `python -m backend run-expiry [--date YYYY-MM-DD]`,
`python -m backend run-order-jobs`, `python -m backend run-login-cleanup`,
`python -m backend rebuild-search-words`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.service import DeletedLoginRecords, delete_expired_login_records
from backend.catalog.vocabulary import VocabularyRun, rebuild_vocabulary
from backend.clock import WIB, utcnow, wib_today
from backend.config import Settings
from backend.db import Database, database_unreachable, jobs_after_commit
from backend.metrics import record_job_failure
from backend.moderation.service import ExpiryRun, run_certificate_expiry
from backend.notifications.push import PARALLEL_SENDS, send_due_pushes_counted
from backend.orders.standing import place_standing_orders
from backend.orders.states import cancel_unpaid_orders, complete_delivered_orders
from backend.payments.payouts import send_gateway_payouts
from backend.payments.refunds import retry_pending_refunds
from backend.whatsapp.inbound import handle_next_message
from backend.whatsapp.outbox import send_due_messages, send_rate_for

logger = logging.getLogger("pasar_kawasan.jobs")

# How a job asks for other jobs to start now (the work its commit recorded: the pushes of the orders it cancelled).
Wake = Callable[[set[str]], Awaitable[None]]

# Shortly after midnight in the zone, so "the day after expiry" starts with the listing hidden.
DAILY_RUN_AT = time(0, 10)
ORDER_JOBS_EVERY_SECONDS = 60
PUSH_EVERY_SECONDS = 10
WHATSAPP_EVERY_SECONDS = 10
LOGIN_CLEANUP_EVERY_SECONDS = 3600
# A word of a newly approved product is found as typed at once; only corrections and suggestions wait for this.
VOCABULARY_EVERY_SECONDS = 600


def seconds_until_next_run(now: datetime, at: time = DAILY_RUN_AT) -> float:
    local = now.astimezone(WIB)
    next_run = datetime.combine(local.date(), at, tzinfo=WIB)
    if next_run <= local:
        next_run += timedelta(days=1)
    return (next_run - local).total_seconds()


@dataclass(frozen=True)
class Schedule:
    """When a job is due: every `every` (slots counted from the Unix epoch, so every machine agrees on them), or
    daily at `daily_at` WIB."""

    job: str
    every: timedelta | None = None
    daily_at: time | None = None

    def slot(self, now: datetime) -> datetime:
        """The latest moment at or before `now` at which the job was due (UTC)."""
        if self.daily_at is not None:
            local = now.astimezone(WIB)
            due = datetime.combine(local.date(), self.daily_at, tzinfo=WIB)
            if due > local:
                due -= timedelta(days=1)
            return due.astimezone(UTC)
        assert self.every is not None
        period = int(self.every.total_seconds())
        return datetime.fromtimestamp(int(now.timestamp()) // period * period, UTC)

    @property
    def period(self) -> timedelta:
        return self.every if self.every is not None else timedelta(days=1)


def schedules(settings: Settings) -> list[Schedule]:
    """Every scheduled job of this site (push sending only when Web Push is on)."""
    minute = timedelta(seconds=ORDER_JOBS_EVERY_SECONDS)
    found = [
        Schedule("expire_certificates", daily_at=DAILY_RUN_AT),
        Schedule("cancel_unpaid_orders", every=minute),
        Schedule("place_standing_orders", every=minute),
        Schedule("complete_delivered_orders", every=minute),
        Schedule("send_refunds", every=minute),
        Schedule("clean_up_logins", every=timedelta(seconds=LOGIN_CLEANUP_EVERY_SECONDS)),
        Schedule("rebuild_search_words", every=timedelta(seconds=VOCABULARY_EVERY_SECONDS)),
    ]
    if settings.gateway_enabled:
        found.append(Schedule("send_payouts", every=minute))
    if settings.web_push_enabled:
        found.append(Schedule("send_pushes", every=timedelta(seconds=PUSH_EVERY_SECONDS)))
    if settings.whatsapp_orders_enabled:
        found.append(Schedule("handle_whatsapp", every=timedelta(seconds=WHATSAPP_EVERY_SECONDS)))
        found.append(Schedule("send_whatsapp", every=timedelta(seconds=WHATSAPP_EVERY_SECONDS)))
    return found


JOB_NAMES = (
    "expire_certificates",
    "cancel_unpaid_orders",
    "place_standing_orders",
    "complete_delivered_orders",
    "send_refunds",
    "send_payouts",
    "send_pushes",
    "clean_up_logins",
    "rebuild_search_words",
    "handle_whatsapp",
    "send_whatsapp",
)


async def run_job(
    name: str,
    *,
    database: Database,
    settings: Settings,
    now: datetime,
    slot: datetime | None = None,
    wake: Wake | None = None,
) -> Any:
    """Run the job `name` once, as of `now`; a daily job works for the WIB day of its `slot` (the day it was due,
    should it run late). What its commit recorded for other jobs is passed to `wake`."""
    if name == "expire_certificates":
        return await run_expiry_once(database, wib_today(slot or now))
    if name == "send_pushes":
        return await send_pushes_once(database, settings, now, wake=wake)
    if name == "handle_whatsapp":
        return await handle_whatsapp_once(database, now, wake=wake)
    if name == "send_whatsapp":
        return await send_whatsapp_once(database, settings, now, wake=wake)
    if name == "clean_up_logins":
        return await delete_expired_login_records_once(database, settings, now=now)
    if name == "rebuild_search_words":
        return await rebuild_vocabulary_once(database, wib_today(now))
    if name in ORDER_JOBS:
        return await _order_job(name, database=database, settings=settings, now=now, wake=wake)
    raise LookupError(f"no job named {name!r}")


ORDER_JOBS = (
    "cancel_unpaid_orders",
    "place_standing_orders",
    "complete_delivered_orders",
    "send_refunds",
    "send_payouts",
)


async def _order_job(name: str, *, database: Database, settings: Settings, now: datetime, wake: Wake | None) -> int:
    async with database.sessionmaker() as session:
        if name == "cancel_unpaid_orders":
            done = await cancel_unpaid_orders(session=session, now=now)
        elif name == "place_standing_orders":
            standing = await place_standing_orders(session=session, now=now)
            done = standing.placed + standing.refused
        elif name == "complete_delivered_orders":
            done = await complete_delivered_orders(session=session, now=now)
        elif name == "send_payouts":
            done = await send_gateway_payouts(session=session, settings=settings, now=now)
        else:
            done = await retry_pending_refunds(session=session, settings=settings, now=now)
        await _commit(session, wake)
    if done:
        logger.info("%s: %d", name, done)
    return done


async def _commit(session: AsyncSession, wake: Wake | None) -> None:
    await session.commit()
    jobs = jobs_after_commit(session)
    if jobs and wake is not None:
        await wake(jobs)


async def run_expiry_once(database: Database, today: date) -> ExpiryRun:
    async with database.sessionmaker() as session:
        result = await run_certificate_expiry(session=session, today=today)
        await session.commit()
    logger.info("certificate expiry run for %s: %s", result.run_on, result)
    return result


@dataclass
class OrderJobsRun:
    unpaid_cancelled: int
    standing_placed: int
    standing_refused: int
    completed: int
    refunds_sent: int = 0


async def run_order_jobs_once(database: Database, now: datetime, settings: Settings | None = None) -> OrderJobsRun:
    """The four order jobs, each in its own transaction, so one failing does not hold back the others; all of
    them run as of `now`. With `settings`, card refunds recorded at cancellations (or refused while Stripe was
    down) are sent to Stripe too."""
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


async def send_pushes_once(
    database: Database, settings: Settings, now: datetime, wake: Wake | None = None, limit: int = 100
) -> int:
    """Send up to `limit` due pushes, each recorded and committed as soon as the push service answered it, so a
    worker killed meanwhile sends again only the pushes it had not heard back about (and those replace
    themselves on the phone: push.push_tag). On PostgreSQL PARALLEL_SENDS lanes each take one push at a time
    with SKIP LOCKED; SQLite, which has no row locks, gets one lane."""
    lanes = PARALLEL_SENDS if database.engine.dialect.name == "postgresql" else 1
    taken = 0

    async def lane() -> int:
        nonlocal taken
        sent = 0
        while taken < limit:
            taken += 1
            async with database.sessionmaker() as session:
                claimed, delivered = await send_due_pushes_counted(session=session, settings=settings, now=now, limit=1)
                await _commit(session, wake)
            if not claimed:
                break
            sent += delivered
        return sent

    return sum(await asyncio.gather(*(lane() for _ in range(lanes))))


async def handle_whatsapp_once(database: Database, now: datetime, wake: Wake | None = None, limit: int = 100) -> int:
    """Act on up to `limit` messages vendors sent to the business number, each in its own transaction (one that
    fails is logged and left for the next run, the others go on); returns how many were handled."""
    handled = 0
    while handled < limit:
        async with database.sessionmaker() as session:
            inbound = await handle_next_message(session=session, now=now, today=wib_today(now))
            await _commit(session, wake)
        if inbound is None:
            break
        handled += 1
    return handled


async def send_whatsapp_once(database: Database, settings: Settings, now: datetime, wake: Wake | None = None) -> int:
    """Send the WhatsApp messages that are due, within the rate limit (counted in Redis when there is one)."""
    redis = aioredis.from_url(settings.redis_url, socket_connect_timeout=5) if settings.redis_url else None
    try:
        async with database.sessionmaker() as session:
            _taken, sent = await send_due_messages(
                session=session, settings=settings, now=now, rate=send_rate_for(settings, redis)
            )
            await _commit(session, wake)
    finally:
        if redis is not None:
            await redis.aclose()
    return sent


async def delete_expired_login_records_once(
    database: Database, settings: Settings, *, now: datetime
) -> DeletedLoginRecords:
    async with database.sessionmaker() as session:
        deleted = await delete_expired_login_records(
            session=session, now=now, login_window_seconds=settings.login_window_seconds
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


def outage(exc: BaseException) -> str | None:
    """What was out of reach when `exc` is an outage (the job is tried again later, with no traceback logged),
    or None for a bug."""
    if database_unreachable(exc):
        return "database unreachable"
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        return "Redis unreachable"
    return None


def describe(exc: BaseException) -> str:
    """An exception on one line: its class and the first line of its message."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class InProcessJobs:
    """The embedded default (no REDIS_URL): the web process runs every scheduled job itself, one asyncio task a
    schedule, and starts a job at once when a request asks for it. One process only: several web processes
    would each run every job (harmless, as the jobs are idempotent, but wasted work); run a worker on Redis
    for that."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self._wanted = {name: asyncio.Event() for name in JOB_NAMES}
        self._tasks: list[asyncio.Task[None]] = []

    async def wake(self, jobs: set[str]) -> None:
        for name in jobs:
            if name in self._wanted:
                self._wanted[name].set()

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(schedule)) for schedule in schedules(self.settings)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _run(self, schedule: Schedule) -> None:
        """Interval jobs run now and then every period; the daily job at its time (not at each start)."""
        wanted = self._wanted[schedule.job]
        daily = schedule.daily_at is not None
        while True:
            if daily:
                await self._wait(wanted, seconds_until_next_run(utcnow(), schedule.daily_at or DAILY_RUN_AT))
            now = utcnow()
            wanted.clear()
            try:
                await run_job(
                    schedule.job,
                    database=self.database,
                    settings=self.settings,
                    now=now,
                    slot=schedule.slot(now) if daily else None,
                    wake=self.wake,
                )
            except Exception as failure:
                record_job_failure(schedule.job)
                reason = outage(failure)
                if reason:
                    logger.warning(
                        "job %s met an outage (%s: %s); tried again at its next run",
                        schedule.job,
                        reason,
                        describe(failure),
                    )
                else:
                    logger.exception("job %s failed", schedule.job)
            if not daily:
                await self._wait(wanted, schedule.period.total_seconds())

    @staticmethod
    async def _wait(wanted: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wanted.wait(), seconds)
