"""A vendor links a WhatsApp number on the account page (or through the API): a code is sent to it and entered
back. Without WhatsApp settings none of this shows, and the click-to-chat links work as before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar import Litestar
from sqlalchemy import select
from sqlmodel import col

from backend.accounts import service as account_service
from backend.accounts.verification import CodePolicy
from backend.config import Settings
from backend.db import Database
from backend.errors import TooManyAttempts, ValidationFailed
from backend.jobs import run_job
from backend.whatsapp import linking
from backend.whatsapp.models import WhatsAppLink, WhatsAppMessage
from backend.whatsapp.outbox import queue_messages, text_message
from tests.conftest import AppFor, RecordingCodeSender, browser, log_in, submit
from tests.orders.conftest import NOW
from tests.whatsapp.conftest import deliver, delivery, link_number, text_from

NUMBER = "+6281390001234"


async def bearer(database: Database, user) -> dict[str, str]:
    async with database.sessionmaker() as session:
        raw, _ = await account_service.create_api_token(session=session, user=user, name="kasir")
        await session.commit()
    return {"Authorization": f"Bearer {raw}"}


async def link_of(database: Database, user_id: int) -> WhatsAppLink | None:
    async with database.sessionmaker() as session:
        return (
            await session.execute(select(WhatsAppLink).where(col(WhatsAppLink.user_id) == user_id))
        ).scalar_one_or_none()


async def test_a_vendor_links_a_number_on_the_account_page(client, codes, database, vendor):
    await log_in(client, vendor)
    page = await client.get("/settings")
    assert "Pesanan lewat WhatsApp" in page.text and 'action="/settings/whatsapp/code"' in page.text

    sent = await submit(client, "/settings/whatsapp/code", {"phone": "0813-9000-1234"})
    assert (sent.status_code, sent.headers["location"]) == (303, "/settings?notice=whatsapp_code_sent")
    code = codes.last_code(NUMBER)
    page = await client.get("/settings?notice=whatsapp_code_sent")
    assert 'action="/settings/whatsapp/confirm"' in page.text

    wrong = "000000" if code != "000000" else "111111"
    refused = await submit(client, "/settings/whatsapp/confirm", {"code": wrong})
    assert refused.status_code == 422 and "4 kali lagi" in refused.text
    linked = await submit(client, "/settings/whatsapp/confirm", {"code": code})
    assert (linked.status_code, linked.headers["location"]) == (303, "/settings?notice=whatsapp_linked")

    link = await link_of(database, vendor.id)
    assert link is not None and link.phone == NUMBER and link.code_hash is None
    page = await client.get("/settings")
    assert "0813-9000-1234" in page.text and 'action="/settings/whatsapp/unlink"' in page.text

    unlinked = await submit(client, "/settings/whatsapp/unlink", {})
    assert unlinked.status_code == 303 and await link_of(database, vendor.id) is None


async def test_a_vendor_links_a_number_through_the_api(client, codes, database, vendor):
    headers = await bearer(database, vendor)
    sent = await client.post("/api/v1/vendor/whatsapp/code", json={"phone": "0813 9000 1234"}, headers=headers)
    assert sent.status_code == 202 and sent.json()["code_sent_to"] == NUMBER

    linked = await client.post(
        "/api/v1/vendor/whatsapp/confirm", json={"code": codes.last_code(NUMBER)}, headers=headers
    )
    assert linked.status_code == 200 and linked.json()["phone"] == NUMBER
    assert (await client.get("/api/v1/vendor/whatsapp", headers=headers)).json()["phone"] == NUMBER


async def test_the_code_is_hashed_expires_and_has_five_tries(database, whatsapp_settings: Settings, vendor):
    policy = CodePolicy(secret_key=whatsapp_settings.secret_key)
    sender = RecordingCodeSender()

    async def send(now):
        async with database.sessionmaker() as session:
            await linking.send_link_code(
                session=session, settings=whatsapp_settings, user=vendor, phone=NUMBER, policy=policy,
                sender=sender, now=now,
            )  # fmt: skip
            await session.commit()

    async def confirm(code, now):
        async with database.sessionmaker() as session:
            try:
                return await linking.confirm_link(
                    session=session, settings=whatsapp_settings, user=vendor, code=code, policy=policy, now=now
                )
            finally:
                await session.commit()  # as the page does: a wrong try is kept

    await send(NOW)
    code = sender.last_code(NUMBER)
    stored = await link_of(database, vendor.id)
    assert stored is not None and code not in (stored.code_hash or "")
    with pytest.raises(TooManyAttempts):
        await send(NOW + timedelta(seconds=30))

    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(ValidationFailed):
            await confirm(wrong, NOW)
    with pytest.raises(ValidationFailed):
        await confirm(code, NOW)  # five wrong tries killed it
    # And a new code buys no five more guesses: none is sent until a day after the last one.
    with pytest.raises(TooManyAttempts):
        await send(NOW + timedelta(minutes=2))
    later = NOW + timedelta(hours=24, minutes=1)

    await send(later)
    with pytest.raises(ValidationFailed):
        await confirm(sender.last_code(NUMBER), later + timedelta(minutes=11))  # ten minutes are over
    await send(later + timedelta(minutes=12))
    link = await confirm(sender.last_code(NUMBER), later + timedelta(minutes=13))
    assert link.phone == NUMBER


async def test_wrong_codes_count_across_new_codes(database, whatsapp_settings: Settings, vendor):
    """Three wrong guesses, a new code, two more: the fifth wrong guess of the day ends it, whatever the code."""
    policy = CodePolicy(secret_key=whatsapp_settings.secret_key)
    sender = RecordingCodeSender()
    code = ""
    for minute in (0, 2):
        async with database.sessionmaker() as session:
            await linking.send_link_code(
                session=session, settings=whatsapp_settings, user=vendor, phone=NUMBER, policy=policy,
                sender=sender, now=NOW + timedelta(minutes=minute),
            )  # fmt: skip
            await session.commit()
        code = sender.last_code(NUMBER)
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(3 if minute == 0 else 2):
            async with database.sessionmaker() as session:
                with pytest.raises(ValidationFailed):
                    await linking.confirm_link(
                        session=session, settings=whatsapp_settings, user=vendor, code=wrong, policy=policy,
                        now=NOW + timedelta(minutes=minute),
                    )  # fmt: skip
                await session.commit()
    async with database.sessionmaker() as session:
        with pytest.raises(ValidationFailed):
            await linking.confirm_link(
                session=session, settings=whatsapp_settings, user=vendor, code=code, policy=policy,
                now=NOW + timedelta(minutes=3),
            )  # fmt: skip
    link = await link_of(database, vendor.id)
    assert link is not None and link.phone is None and link.wrong_attempts == 5


async def test_a_number_serves_one_shop_only(database, whatsapp_settings, world, zone, vendor):
    policy = CodePolicy(secret_key=whatsapp_settings.secret_key)
    await link_number(database, whatsapp_settings, vendor, NUMBER)
    other = await world.user(vendor.role, zone=zone)
    async with database.sessionmaker() as session:
        with pytest.raises(ValidationFailed):
            await linking.send_link_code(
                session=session, settings=whatsapp_settings, user=other, phone=NUMBER, policy=policy,
                sender=RecordingCodeSender(), now=NOW,
            )  # fmt: skip


@pytest.fixture
async def plain_app(settings: Settings, app_for: AppFor, database: Database) -> Litestar:
    """The site without WhatsApp settings."""
    return await app_for(settings)


async def test_without_whatsapp_settings_the_site_works_as_before(
    plain_app, database, ordering, canteen_staff, catering
):
    seller, product = catering
    async with browser(plain_app) as client:
        await log_in(client, seller.user)
        page = await client.get("/settings")
        assert page.status_code == 200 and "/settings/whatsapp/code" not in page.text
        headers = await bearer(database, seller.user)
        off = await client.post("/api/v1/vendor/whatsapp/code", json={"phone": NUMBER}, headers=headers)
        assert off.status_code == 404
        body = delivery(text_from(NUMBER, "TERIMA 1"))
        assert (await deliver(client, body)).status_code == 404

    order = await ordering.order(canteen_staff, product.id, 200)
    async with browser(plain_app) as client:
        await log_in(client, canteen_staff)
        detail = await client.get(f"/orders/{order.id}")
        assert f"https://wa.me/{seller.user.phone.lstrip('+')}?text=" in detail.text


async def test_unlinking_gives_up_the_messages_still_waiting_for_the_number(database, graph, whatsapp_settings, vendor):
    """A lost or sold phone: once the vendor unlinks it, what was still waiting to be sent (or retried) to it is
    not sent."""
    await link_number(database, whatsapp_settings, vendor, NUMBER)
    async with database.sessionmaker() as session:
        await queue_messages(session=session, messages=[(NUMBER, text_message(NUMBER, "Pesanan PK-000042"))], now=NOW)
        await session.commit()
    async with database.sessionmaker() as session:
        assert await linking.unlink(session=session, user=vendor, now=NOW) is True
        await session.commit()
    await run_job("send_whatsapp", database=database, settings=whatsapp_settings, now=NOW + timedelta(minutes=1))

    assert graph.sent_to(NUMBER, lambda message: message["type"] == "text") == []
    async with database.sessionmaker() as session:
        (waiting,) = (await session.execute(select(WhatsAppMessage))).scalars().all()
    assert waiting.sent_at is None and waiting.given_up_at == NOW
