"""The embedded default (no Redis): the web process runs the background jobs itself, and a push a transaction
recorded is sent as soon as it commits, not at the push job's next run ten seconds later."""

from __future__ import annotations

import asyncio
import time

from backend.accounts.models import Role
from backend.clock import utcnow
from backend.db import jobs_after_commit
from backend.jobs import PUSH_EVERY_SECONDS, InProcessJobs
from backend.notifications.service import notify


async def test_a_committed_push_is_sent_at_once_by_the_in_process_runner(
    world, zone, phones, push_service, push_settings, database
):
    sri = await world.user(Role.VENDOR, zone=zone, full_name="Sri Rahayu")
    await phones.subscribe(sri, "sri-phone")
    jobs = InProcessJobs(database, push_settings)
    jobs.start()
    try:
        await asyncio.sleep(1)  # the interval jobs' first runs, at start: nothing to send yet
        assert push_service.received_at("sri-phone") == []
        async with database.sessionmaker() as session:
            await notify(
                session=session,
                user_ids={sri.id},
                message="Expires on %(date)s. Renew it soon and upload the new one.",
                params={"date": "30 November 2026"},
                now=utcnow(),
            )
            await session.commit()
            asked = jobs_after_commit(session)
        assert asked == {"send_pushes"}
        committed = time.monotonic()
        await jobs.wake(asked)  # what the request's end does once it committed
        while not push_service.received_at("sri-phone") and time.monotonic() - committed < PUSH_EVERY_SECONDS:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        assert len(push_service.received_at("sri-phone")) == 1
        assert time.monotonic() - committed < PUSH_EVERY_SECONDS / 2
    finally:
        await jobs.stop()
