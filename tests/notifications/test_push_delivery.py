"""A notification reaches the phones people turned notifications on for: encrypted, signed, in their language,
retried when the push service stumbles, forgotten when the browser unsubscribed, and never sent twice."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from py_vapid import Vapid02
from sqlalchemy import select, update
from sqlmodel import col

from backend.accounts.models import Role, User
from backend.db import as_utc
from backend.errors import ValidationFailed
from backend.i18n import get_locale, set_locale, translations
from backend.notifications.models import Notification, PushMessage, PushSubscription
from backend.notifications.push import PUSH_TITLE, PUSH_TTL_SECONDS
from tests.notifications.conftest import b64url_decode

EXPIRY = "Expires on %(date)s. Renew it soon and upload the new one."


async def push_messages(database) -> list[PushMessage]:
    async with database.sessionmaker() as session:
        return list((await session.execute(select(PushMessage).order_by(col(PushMessage.id)))).scalars())


async def subscriptions(database) -> list[PushSubscription]:
    async with database.sessionmaker() as session:
        return list((await session.execute(select(PushSubscription).order_by(col(PushSubscription.id)))).scalars())


async def reads_english(database, user: User) -> None:
    async with database.sessionmaker() as session:
        await session.execute(update(User).where(col(User.id) == user.id).values(locale="en"))
        await session.commit()


async def test_a_subscribed_phone_receives_the_notification_encrypted_signed_and_in_indonesian(
    world, zone, phones, push_service, vapid_keys, database
):
    sri = await world.user(Role.VENDOR, zone=zone, full_name="Sri Rahayu")  # reads Indonesian, the default
    phone = await phones.subscribe(sri, "sri-phone")
    await phones.notify(sri, message=EXPIRY, params={"date": "30 November 2026"}, url="/vendor/certificates")

    set_locale("en")  # whatever the job's own language, each push is written in its reader's
    sent = await phones.run_job(now=phones.now + timedelta(seconds=1))

    assert sent == 1
    assert get_locale() == "en"
    [delivery] = push_service.received_at("sri-phone")
    [message] = await push_messages(database)
    assert phone.decrypt(delivery.body) == {
        "title": translations("id").gettext(PUSH_TITLE),
        "body": "Berakhir pada 30 November 2026. Segera perpanjang dan unggah yang baru.",
        "url": "/vendor/certificates",
        # The message's own name: sent again, it replaces itself on the phone and at the push service.
        "tag": f"pk-push-{message.id}",
    }
    assert delivery.headers["topic"] == f"pk-push-{message.id}"
    assert delivery.headers["content-encoding"] == "aes128gcm"
    assert delivery.headers["ttl"] == str(PUSH_TTL_SECONDS)
    authorization = delivery.headers["authorization"]
    assert authorization.startswith("vapid t=") and f"k={vapid_keys.public_key}" in authorization
    assert Vapid02.verify(authorization)  # signed with the site's private key
    token = authorization.split("t=", 1)[1].split(",", 1)[0]
    claims = json.loads(b64url_decode(token.split(".")[1]))
    assert claims["aud"] == push_service.origin and claims["sub"] == "mailto:operator@pasarkawasan.id"
    [message] = await push_messages(database)
    assert message.sent_at is not None and message.attempts == 1 and message.given_up_at is None
    [subscription] = await subscriptions(database)
    assert subscription.last_sent_at is not None


async def test_each_reader_gets_the_push_in_their_own_language_on_each_of_their_phones(
    world, zone, phones, push_service, database
):
    sri = await world.user(Role.VENDOR, zone=zone)
    budi = await world.user(Role.VENDOR, zone=zone)
    await reads_english(database, budi)
    sri_phone, sri_tablet = await phones.subscribe(sri, "sri-phone"), await phones.subscribe(sri, "sri-tablet")
    budi_phone = await phones.subscribe(budi, "budi-phone")
    await phones.notify(sri, budi, message=EXPIRY)

    assert await phones.run_job(now=phones.now + timedelta(seconds=1)) == 3

    for name, browser in (("sri-phone", sri_phone), ("sri-tablet", sri_tablet)):
        [delivery] = push_service.received_at(name)
        assert browser.decrypt(delivery.body)["body"].startswith("Berakhir pada 30 November 2026.")
    [delivery] = push_service.received_at("budi-phone")
    assert (
        budi_phone.decrypt(delivery.body)["body"]
        == "Expires on 30 November 2026. Renew it soon and upload the new one."
    )


async def test_a_push_service_error_is_retried_later_with_a_growing_wait(world, zone, phones, push_service, database):
    sri = await world.user(Role.VENDOR, zone=zone)
    phone = await phones.subscribe(sri, "sri-phone")
    await phones.notify(sri)
    push_service.answer("sri-phone", 500, 503)
    start = phones.now + timedelta(seconds=1)

    assert await phones.run_job(now=start) == 0
    [message] = await push_messages(database)
    assert message.attempts == 1 and message.sent_at is None and message.given_up_at is None
    assert as_utc(message.next_attempt_at) == start + timedelta(minutes=1)
    assert "500" in message.last_error

    assert await phones.run_job(now=start + timedelta(seconds=59)) == 0  # not due yet: nothing is sent
    assert len(push_service.received) == 1

    assert await phones.run_job(now=start + timedelta(minutes=1)) == 0
    [message] = await push_messages(database)
    assert message.attempts == 2
    assert as_utc(message.next_attempt_at) == start + timedelta(minutes=1) + timedelta(minutes=5)

    assert await phones.run_job(now=start + timedelta(minutes=6)) == 1
    [message] = await push_messages(database)
    assert message.sent_at is not None and message.attempts == 3 and message.last_error == ""
    assert len(push_service.received) == 3
    assert phone.decrypt(push_service.received[-1].body)["url"] == "/vendor/certificates"


async def test_a_browser_that_dropped_its_subscription_is_forgotten(world, zone, phones, push_service, database):
    sri = await world.user(Role.VENDOR, zone=zone)
    await phones.subscribe(sri, "old-phone")
    await phones.subscribe(sri, "new-phone")
    await phones.notify(sri)
    await phones.notify(sri, message="Hello, %(name)s", params={"name": "Sri"})
    push_service.answer("old-phone", 410, 410)  # the browser there unsubscribed

    sent = await phones.run_job(now=phones.now + timedelta(seconds=1))

    assert [subscription.endpoint for subscription in await subscriptions(database)] == [
        push_service.endpoint("new-phone")
    ]
    # Both pushes to the old phone were refused, and went with its subscription; the new phone got both.
    assert sent == 2 and len(push_service.received_at("new-phone")) == 2
    messages = await push_messages(database)
    assert len(messages) == 2 and all(message.sent_at is not None for message in messages)
    async with database.sessionmaker() as session:
        assert len((await session.execute(select(Notification))).all()) == 2  # the inbox keeps both


async def test_after_five_failed_attempts_the_push_is_given_up(world, zone, phones, push_service, database):
    sri = await world.user(Role.VENDOR, zone=zone)
    await phones.subscribe(sri, "sri-phone")
    await phones.notify(sri)
    push_service.answer("sri-phone", 500, 502, 503, 429, 500)
    moment = phones.now + timedelta(seconds=1)

    for wait in (timedelta(0), timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2)):
        moment += wait
        assert await phones.run_job(now=moment) == 0

    [message] = await push_messages(database)
    assert message.attempts == 5 and message.sent_at is None
    assert as_utc(message.given_up_at) == moment and "500" in message.last_error
    assert await phones.run_job(now=moment + timedelta(days=1)) == 0
    assert len(push_service.received) == 5
    assert len(await subscriptions(database)) == 1  # the phone may still work for the next notification


async def test_a_network_failure_counts_as_a_failed_attempt(world, zone, phones, push_service, database):
    sri = await world.user(Role.VENDOR, zone=zone)
    await phones.subscribe(sri, "sri-phone")
    await phones.notify(sri)
    push_service.server.shutdown()
    push_service.server.server_close()  # nobody answers at that address any more

    assert await phones.run_job(now=phones.now + timedelta(seconds=1)) == 0

    [message] = await push_messages(database)
    assert message.attempts == 1 and message.sent_at is None and message.given_up_at is None
    assert "ConnectionError" in message.last_error


async def test_nothing_is_pushed_when_web_push_is_off(world, zone, phones, push_service, database, settings):
    sri = await world.user(Role.VENDOR, zone=zone)
    await phones.subscribe(sri, "sri-phone")
    await phones.notify(sri)

    assert await phones.run_job(now=phones.now + timedelta(seconds=1), settings=settings) == 0

    assert push_service.received == []
    [message] = await push_messages(database)
    assert message.attempts == 0 and message.sent_at is None  # still queued, for when push is turned on


async def test_a_push_is_sent_once_even_when_the_job_runs_again(world, zone, phones, push_service):
    sri = await world.user(Role.VENDOR, zone=zone)
    await phones.subscribe(sri, "sri-phone")
    await phones.notify(sri)
    now = phones.now + timedelta(seconds=1)

    assert await phones.run_job(now=now) == 1
    assert await phones.run_job(now=now + timedelta(hours=1)) == 0

    assert len(push_service.received) == 1


@pytest.mark.postgres_only
async def test_two_workers_running_the_job_at_once_push_each_message_once(world, zone, phones, push_service, database):
    if database.engine.dialect.name != "postgresql":
        pytest.skip("row locks (FOR UPDATE SKIP LOCKED) need PostgreSQL")
    people = [await world.user(Role.WORKER, zone=zone) for _ in range(6)]
    for number, person in enumerate(people):
        await phones.subscribe(person, f"phone-{number}")
    await phones.notify(*people)
    push_service.delay_seconds = 0.2  # the first worker is still sending when the others look for work
    now = phones.now + timedelta(seconds=1)

    sent = await asyncio.gather(*(phones.run_job(now=now) for _ in range(3)))

    assert sum(sent) == 6
    assert sorted(delivery.path for delivery in push_service.received) == [f"/push/phone-{n}" for n in range(6)]


async def test_a_phone_shared_by_two_people_follows_whoever_turned_notifications_on_last(
    world, zone, phones, push_service, database
):
    sri = await world.user(Role.VENDOR, zone=zone)
    budi = await world.user(Role.WORKER, zone=zone)
    await phones.subscribe(sri, "shared-phone")
    await phones.notify(sri)  # queued for Sri's subscription

    phone = await phones.subscribe(budi, "shared-phone")
    await phones.notify(budi, message="Hello, %(name)s", params={"name": "Budi"}, url="")

    [subscription] = await subscriptions(database)
    assert subscription.user_id == budi.id
    assert await phones.run_job(now=phones.now + timedelta(seconds=1)) == 1
    [delivery] = push_service.received
    assert phone.decrypt(delivery.body)["body"] == "Halo, Budi"  # Sri's pending push did not go to Budi
    assert phone.decrypt(delivery.body)["url"] == "/inbox"


async def test_production_accepts_only_https_push_services(world, zone, phones, push_settings):
    sri = await world.user(Role.VENDOR, zone=zone)
    production = push_settings.model_copy(update={"environment": "production"})
    phones.settings = production
    with pytest.raises(ValidationFailed) as refused:
        await phones.subscribe(sri, "local")
    assert list(refused.value.by_field()) == ["endpoint"]


async def test_a_notification_that_cannot_be_written_is_given_up_and_the_others_still_go(
    world, zone, phones, push_service, database
):
    sri = await world.user(Role.VENDOR, zone=zone)
    await phones.subscribe(sri, "sri-phone")
    await phones.notify(sri, message="Hello, %(name)s", params={"nama": "Sri"})  # a parameter misnamed
    await phones.notify(sri, message="Hello, %(name)s", params={"name": "Sri"})

    assert await phones.run_job(now=phones.now + timedelta(seconds=1)) == 1

    broken, fine = await push_messages(database)
    assert broken.given_up_at is not None and "KeyError" in broken.last_error and broken.sent_at is None
    assert fine.sent_at is not None
    assert len(push_service.received) == 1


def test_in_production_only_the_browsers_own_push_services_are_accepted():
    from backend.notifications.push import _acceptable_endpoint

    for endpoint in (
        "https://fcm.googleapis.com/fcm/send/abc",
        "https://updates.push.services.mozilla.com/wpush/v2/x",
        "https://web.push.apple.com/QGk",
        "https://wns2-par02p.notify.windows.com/w/?token=x",
    ):
        assert _acceptable_endpoint(endpoint, development=False), endpoint
    for endpoint in (
        "https://intranet.example.com/hook",
        "https://169.254.169.254/latest",
        "http://fcm.googleapis.com/x",
        "https://fcm.googleapis.com.evil.example/x",
        "http://127.0.0.1:9000/push",
    ):
        assert not _acceptable_endpoint(endpoint, development=False), endpoint
    assert _acceptable_endpoint("http://127.0.0.1:9000/push", development=True)
