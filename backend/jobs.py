"""Scheduled jobs: the daily certificate expiry run, in-process (each worker may run it: it is idempotent).

Operators can also run a job by hand or from cron: `python -m backend run-expiry [--date YYYY-MM-DD]`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, time, timedelta

from backend.clock import WIB, utcnow, wib_today
from backend.db import Database
from backend.moderation.service import ExpiryRun, run_certificate_expiry

logger = logging.getLogger("pasar_kawasan.jobs")

# Shortly after midnight in the zone, so "the day after expiry" starts with the listing hidden.
DAILY_RUN_AT = time(0, 10)


def seconds_until_next_run(now: datetime, at: time = DAILY_RUN_AT) -> float:
    local = now.astimezone(WIB)
    next_run = datetime.combine(local.date(), at, tzinfo=WIB)
    if next_run <= local:
        next_run += timedelta(days=1)
    return (next_run - local).total_seconds()


async def run_expiry_once(database: Database, today: date | None = None) -> ExpiryRun:
    async with database.sessionmaker() as session:
        result = await run_certificate_expiry(session=session, today=today or wib_today())
        await session.commit()
    logger.info("certificate expiry run for %s: %s", result.run_on, result)
    return result


async def run_daily(database: Database) -> None:
    """Run the expiry job now (catching up after a restart), then every day at DAILY_RUN_AT WIB."""
    while True:
        try:
            await run_expiry_once(database)
        except Exception:  # a failed run is logged and retried at the next run; the worker keeps serving
            logger.exception("certificate expiry run failed")
        await asyncio.sleep(seconds_until_next_run(utcnow()))
