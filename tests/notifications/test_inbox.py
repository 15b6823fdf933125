"""The inbox, as a procurement system reads it through the API and as a person reads it on the phone; and how
a browser turns notifications on or off."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlmodel import col

from backend.accounts import service as account_service
from backend.accounts.models import Role
from backend.clock import utcnow
from backend.i18n import translations
from backend.notifications.models import Notification, PushSubscription
from backend.notifications.push import MSG_KEY
from backend.notifications.service import INBOX_PAGE_SIZE
from tests.conftest import QueryCounter, browser, csrf_token, found, log_in, submit
from tests.notifications.conftest import Browser, b64url

EXPIRY = "Expires on %(date)s. Renew it soon and upload the new one."
EXPIRY_ID = "Berakhir pada %(date)s. Segera perpanjang dan unggah yang baru."


async def bearer(database, user) -> dict[str, str]:
    async with database.sessionmaker() as session:
        raw, _ = await account_service.create_api_token(session=session, user=user, name="pengadaan")
        await session.commit()
    return {"Authorization": f"Bearer {raw}"}


async def stored_subscriptions(database) -> list[PushSubscription]:
    async with database.sessionmaker() as session:
        return list((await session.execute(select(PushSubscription).order_by(col(PushSubscription.id)))).scalars())


async def unread_ids(database, user) -> set[int]:
    async with database.sessionmaker() as session:
        rows = await session.execute(
            select(col(Notification.id)).where(
                col(Notification.user_id) == user.id, col(Notification.read_at).is_(None)
            )
        )
        return set(rows.scalars())


# --- the API ----------------------------------------------------------------------------------------------


async def test_the_api_lists_only_my_notifications_newest_first_in_my_language(client, world, zone, phones, database):
    sri = await world.user(Role.VENDOR, zone=zone)
    budi = await world.user(Role.WORKER, zone=zone)
    await phones.notify(sri, message=EXPIRY, params={"date": "30 November 2026"}, url="/vendor/certificates")
    await phones.notify(sri, message="Hello, %(name)s", params={"name": "Sri"}, url="")
    await phones.notify(budi, message="Hello, %(name)s", params={"name": "Budi"})

    response = await client.get("/api/v1/inbox", headers=await bearer(database, sri))

    assert response.status_code == 200, response.text
    inbox = response.json()
    assert [item["text"] for item in inbox["items"]] == ["Halo, Sri", EXPIRY_ID % {"date": "30 November 2026"}]
    assert [item["url"] for item in inbox["items"]] == ["", "/vendor/certificates"]
    assert all(item["read"] is False and item["created_at"] for item in inbox["items"])
    assert inbox["page"] == 1 and inbox["has_more"] is False and inbox["unread_count"] == 2


async def test_the_inbox_api_pages_twenty_at_a_time(client, world, zone, phones, database):
    sri = await world.user(Role.VENDOR, zone=zone)
    for number in range(INBOX_PAGE_SIZE + 5):
        await phones.notify(sri, message="Hello, %(name)s", params={"name": f"Sri {number}"})
    token = await bearer(database, sri)

    first = (await client.get("/api/v1/inbox", headers=token)).json()
    second = (await client.get("/api/v1/inbox", params={"page": 2}, headers=token)).json()

    assert len(first["items"]) == INBOX_PAGE_SIZE and first["has_more"] is True
    assert first["items"][0]["text"] == "Halo, Sri 24"
    assert [item["text"] for item in second["items"]] == [f"Halo, Sri {n}" for n in (4, 3, 2, 1, 0)]
    assert second["has_more"] is False
    bad_page = await client.get("/api/v1/inbox", params={"page": 0}, headers=token)
    assert bad_page.status_code == 400 and bad_page.headers["content-type"] == "application/problem+json"


async def test_marking_read_touches_only_my_own_notifications(client, world, zone, phones, database):
    sri = await world.user(Role.VENDOR, zone=zone)
    budi = await world.user(Role.WORKER, zone=zone)
    for _ in range(3):
        await phones.notify(sri)
    await phones.notify(budi)
    first, _second, _third = sorted(await unread_ids(database, sri))
    [budis] = await unread_ids(database, budi)
    token = await bearer(database, sri)

    one = await client.post("/api/v1/inbox/read", json={"ids": [first, budis]}, headers=token)

    assert one.status_code == 200 and one.json() == {"marked": 1, "unread_count": 2}
    assert await unread_ids(database, budi) == {budis}  # another person's id is ignored

    rest = await client.post("/api/v1/inbox/read", json={"all": True}, headers=token)
    assert rest.json() == {"marked": 2, "unread_count": 0}
    assert await unread_ids(database, sri) == set() and await unread_ids(database, budi) == {budis}
    inbox = (await client.get("/api/v1/inbox", headers=token)).json()
    assert all(item["read"] for item in inbox["items"])

    nothing = await client.post("/api/v1/inbox/read", json={}, headers=token)
    assert nothing.status_code == 400 and nothing.json()["code"] == "invalid_request"


async def test_the_inbox_api_needs_a_token(client):
    response = await client.get("/api/v1/inbox")

    assert response.status_code == 401
    assert response.json()["detail"] == "Silakan masuk terlebih dahulu."


async def test_a_procurement_system_subscribes_a_browser_and_stops_it(
    client, world, zone, database, vapid_keys, push_service
):
    sri = await world.user(Role.VENDOR, zone=zone)
    token = await bearer(database, sri)
    browser = Browser()
    endpoint = push_service.endpoint("sri-phone")

    key = await client.get("/api/v1/push/key", headers=token)
    created = await client.post("/api/v1/push/subscriptions", json=browser.subscription(endpoint), headers=token)
    again = await client.post("/api/v1/push/subscriptions", json=browser.subscription(endpoint), headers=token)

    assert key.json() == {"public_key": vapid_keys.public_key}
    assert created.status_code == 201, created.text
    assert created.json()["endpoint"] == endpoint and again.json()["id"] == created.json()["id"]
    [stored] = await stored_subscriptions(database)
    assert (stored.user_id, stored.p256dh, stored.auth) == (sri.id, browser.p256dh, browser.auth)

    budi = await world.user(Role.WORKER, zone=zone)
    not_his = await client.request(
        "DELETE", "/api/v1/push/subscriptions", json={"endpoint": endpoint}, headers=await bearer(database, budi)
    )
    assert not_his.status_code == 204 and len(await stored_subscriptions(database)) == 1

    gone = await client.request(
        "DELETE", "/api/v1/push/subscriptions", json=browser.subscription(endpoint), headers=token
    )
    assert gone.status_code == 204 and await stored_subscriptions(database) == []


async def test_the_api_refuses_a_bad_push_address_or_bad_keys(client, world, zone, database, push_service):
    sri = await world.user(Role.VENDOR, zone=zone)
    token = await bearer(database, sri)
    good = Browser().subscription(push_service.endpoint("sri-phone"))
    cases = {
        "endpoint": [
            {**good, "endpoint": url}
            for url in (
                "ftp://push.example.com/x",
                "http://push.example.com/x",
                "https:///no-host",
                "/push/relative",
                "https://user:secret@push.example.com/x",
                "https://push.example.com/a b",
            )
        ],
        "keys.p256dh": [
            {**good, "keys": {**good["keys"], "p256dh": key}}
            for key in (
                "bm90IGEga2V5",
                "not base64url!",
                Browser().auth,
                "C" + good["keys"]["p256dh"][1:],
                b64url(b"\x04" + b"\x01" * 64),
            )
        ],  # the last is not a point of the curve
        "keys.auth": [{**good, "keys": {**good["keys"], "auth": secret}} for secret in ("c2hvcnQ", "*" * 22)],
    }
    for field, bodies in cases.items():
        for body in bodies:
            response = await client.post("/api/v1/push/subscriptions", json=body, headers=token)
            assert response.status_code == 422, (body, response.text)
            problem = response.json()
            assert problem["code"] == "validation_failed" and problem["detail"] == "Beberapa isian perlu diperbaiki."
            assert [error["field"] for error in problem["errors"]] == [field], body
    missing = await client.post("/api/v1/push/subscriptions", json={"endpoint": good["endpoint"]}, headers=token)
    assert missing.status_code == 400 and missing.json()["code"] == "invalid_request"
    assert await stored_subscriptions(database) == []


async def test_push_is_not_offered_when_the_site_has_no_vapid_keys(
    settings, app_for, world, zone, database, push_service
):
    sri = await world.user(Role.VENDOR, zone=zone)
    token = await bearer(database, sri)
    async with browser(await app_for(settings)) as client:
        key = await client.get("/api/v1/push/key", headers=token)
        subscribe = await client.post(
            "/api/v1/push/subscriptions", json=Browser().subscription(push_service.endpoint("x")), headers=token
        )
        await log_in(client, sri)
        inbox = await client.get("/inbox")

    assert key.status_code == 404 and key.headers["content-type"] == "application/problem+json"
    assert subscribe.status_code == 404 and await stored_subscriptions(database) == []
    assert inbox.status_code == 200
    assert "data-push-subscribe" not in inbox.text and "push.js" not in inbox.text


# --- the pages ------------------------------------------------------------------------------------------


async def test_the_inbox_page_shows_my_notifications_newest_first_unread_highlighted(
    client, app, world, zone, phones, database, vapid_keys
):
    sri = await world.user(Role.VENDOR, zone=zone)
    budi = await world.user(Role.WORKER, zone=zone)
    await phones.notify(sri, message=EXPIRY, params={"date": "30 November 2026"}, url="/vendor/certificates")
    await phones.notify(sri, message="Hello, %(name)s", params={"name": "Sri"}, url="https://evil.example/")
    await phones.notify(budi, message="Hello, %(name)s", params={"name": "Budi"})
    [older, newer] = sorted(await unread_ids(database, sri))
    async with database.sessionmaker() as session:
        (await session.get(Notification, older)).read_at = utcnow() - timedelta(minutes=1)
        await session.commit()
    await log_in(client, sri)

    with QueryCounter(app.state.database) as queries:
        page = await client.get("/inbox")

    assert page.status_code == 200
    assert queries.count <= 5, queries.statements
    lines = re.findall(r'<li class="item" id="notification-(\d+)"( data-unread)?>(.*?)</li>', page.text, re.S)
    assert [(int(number), bool(unread)) for number, unread, _ in lines] == [(newer, True), (older, False)]
    assert '<span class="badge">Baru</span>' in lines[0][2] and "<strong>Halo, Sri</strong>" in lines[0][2]
    assert "evil.example" not in page.text  # only this site's pages are linked
    assert '<a href="/vendor/certificates">' + EXPIRY_ID % {"date": "30 November 2026"} + "</a>" in lines[1][2]
    assert "Budi" not in page.text
    assert "WIB" in lines[0][2]
    button = found(r"<button[^>]*data-push-subscribe[^>]*>", page.text).group(0)
    assert " hidden " in button and f'data-key="{vapid_keys.public_key}"' in button
    assert re.search(r'<script src="/static/js/push.js\?v=\w+" defer></script>', page.text)


async def test_a_visitor_is_sent_to_log_in_from_the_inbox(client):
    response = await client.get("/inbox", follow_redirects=False)

    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Finbox"


async def test_mark_all_read_is_a_form_that_needs_its_csrf_token(client, world, zone, phones, database):
    sri = await world.user(Role.VENDOR, zone=zone)
    await phones.notify(sri)
    await phones.notify(sri)
    await log_in(client, sri)
    page = await client.get("/inbox")
    assert 'action="/inbox/read"' in page.text and 'name="_csrf_token"' in page.text

    forged = await client.post("/inbox/read", data={}, follow_redirects=False)
    assert forged.status_code == 403 and len(await unread_ids(database, sri)) == 2

    done = await submit(client, "/inbox/read", {})
    assert done.status_code == 303 and done.headers["location"] == "/inbox?notice=read"
    assert await unread_ids(database, sri) == set()
    after = await client.get(done.headers["location"])
    assert "data-unread" not in after.text and 'action="/inbox/read"' not in after.text


async def test_with_htmx_mark_all_read_swaps_the_list_in_place(client, world, zone, phones, database):
    sri = await world.user(Role.VENDOR, zone=zone)
    await phones.notify(sri)
    await log_in(client, sri)

    fragment = await client.post(
        "/inbox/read", headers={"HX-Request": "true", "HX-Target": "inbox", "X-CSRFToken": await csrf_token(client)}
    )

    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section class="card" id="inbox">') and "<html" not in fragment.text
    assert "data-unread" not in fragment.text
    assert fragment.headers["vary"] == "HX-Request"


async def test_the_phone_turns_notifications_on_and_off_with_the_csrf_token_in_a_header(
    client, world, zone, database, push_service
):
    sri = await world.user(Role.VENDOR, zone=zone)
    await log_in(client, sri)
    browser = Browser()
    subscription = browser.subscription(push_service.endpoint("sri-phone"))
    token = await csrf_token(client)

    forged = await client.post("/push/subscriptions", json=subscription)
    assert forged.status_code == 403 and await stored_subscriptions(database) == []

    on = await client.post("/push/subscriptions", json=subscription, headers={"X-CSRFToken": token})
    assert on.status_code == 201, on.text
    assert on.json()["message"] == translations("id").gettext("Notifications are on for this phone.")
    [stored] = await stored_subscriptions(database)
    assert stored.user_id == sri.id and stored.endpoint == subscription["endpoint"]

    bad = await client.post(
        "/push/subscriptions",
        headers={"X-CSRFToken": token},
        json={**subscription, "keys": {"p256dh": "AAAA", "auth": browser.auth}},
    )
    assert bad.status_code == 422
    assert bad.json()["message"] == translations("id").gettext(MSG_KEY)
    assert list(bad.json()["errors"]) == ["keys.p256dh"]
    shapeless = await client.post("/push/subscriptions", json={"endpoint": 5}, headers={"X-CSRFToken": token})
    assert shapeless.status_code == 422 and set(shapeless.json()["errors"]) == {"endpoint", "keys"}

    forged_off = await client.post("/push/unsubscribe", json={"endpoint": subscription["endpoint"]})
    assert forged_off.status_code == 403 and len(await stored_subscriptions(database)) == 1
    off = await client.post(
        "/push/unsubscribe", json={"endpoint": subscription["endpoint"]}, headers={"X-CSRFToken": token}
    )
    assert off.status_code == 200 and await stored_subscriptions(database) == []


async def test_a_page_number_out_of_range_shows_a_page_anyway(client, world, zone, phones):
    sri = await world.user(Role.VENDOR, zone=zone)
    await phones.notify(sri)
    await log_in(client, sri)

    for number in ("0", "abc", "99999999999999999999999"):
        response = await client.get("/inbox", params={"page": number})
        assert response.status_code == 200, number
