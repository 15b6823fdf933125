# ruff: noqa: F811  (fixtures imported from other folders are parameters of the tests)
"""With the job queue on Redis, a request that records work for a job (a refund to send, a push to deliver)
starts that job as soon as its transaction commits, instead of leaving it to the job's next scheduled run."""

from __future__ import annotations

import pytest
from saq import Status

from backend.notifications import push
from backend.queue import JobQueue
from tests.conftest import browser, log_in, submit
from tests.jobs.conftest import redis_url  # noqa: F401  (fixture)
from tests.notifications.conftest import Browser, push_service, vapid_keys  # noqa: F401  (fixtures)
from tests.payments.conftest import deliver, start_paying

pytestmark = [pytest.mark.one_database, pytest.mark.xdist_group("redis")]


async def test_a_cancellation_starts_its_refund_and_the_vendors_push_once_it_is_committed(
    app_for, stripe_settings, database, card_checkout, fake_stripe, push_service, vapid_keys, redis_url
):
    app = await app_for(stripe_settings.model_copy(update={"redis_url": redis_url}))
    queue = JobQueue.for_url(redis_url)
    nasi, _snack = card_checkout.orders
    async with browser(app) as client:
        started = await start_paying(client, database, card_checkout)
        intent = fake_stripe.succeed_intent(started["payment_intent_id"])
        await deliver(client, fake_stripe.event("payment_intent.succeeded", intent))
        async with database.sessionmaker() as session:
            await push.subscribe(
                session=session,
                settings=stripe_settings.model_copy(
                    update={"vapid_public_key": vapid_keys.public_key, "vapid_private_key": vapid_keys.private_key}
                ),
                user=card_checkout.sellers[0].user,
                endpoint=push_service.endpoint("nasi"),
                p256dh=Browser().p256dh,
                auth=Browser().auth,
            )
            await session.commit()
        assert await queue.job("send_refunds:now") is None and await queue.job("send_pushes:now") is None

        await log_in(client, card_checkout.buyer)
        # A refused request (an unknown status) commits nothing and starts nothing.
        refused = await submit(client, f"/orders/{nasi.id}/status", {"target": "nonsense"})
        assert refused.status_code >= 400
        assert await queue.job("send_refunds:now") is None

        cancelled = await submit(client, f"/orders/{nasi.id}/status", {"target": "cancelled", "reason": "Batal"})
        assert cancelled.status_code == 303, cancelled.text

    refund_job, push_job = await queue.job("send_refunds:now"), await queue.job("send_pushes:now")
    await queue.disconnect()
    assert refund_job is not None and refund_job.status == Status.QUEUED and refund_job.function == "send_refunds"
    assert push_job is not None and push_job.status == Status.QUEUED and push_job.function == "send_pushes"
