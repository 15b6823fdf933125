"""A canteen posts a request from its phone, caterers answer, the canteen compares and accepts; a manager hides
an abusive request. Pages on the real clock."""

from __future__ import annotations

from datetime import timedelta

import httpx
from markupsafe import escape
from sqlalchemy import inspect, select

from backend.accounts.models import Role
from backend.clock import utcnow, wib_today
from backend.errors import N_
from backend.moderation.models import AuditEntry
from backend.orders.models import StandingOrder
from backend.requests.models import BuyerRequest, RequestOffer, RequestStatus
from backend.requests.service import MSG_ALREADY_DECIDED, MSG_OFFER_CHANGED, MSG_REASON, MSG_START
from tests.conftest import csrf_token, found, log_in, submit
from tests.web.test_order_pages import t


def request_form(**changes: object) -> dict[str, object]:
    start = wib_today(utcnow()) + timedelta(days=7)
    return {
        "title": "Nasi box sarapan",
        "category": "catering",
        "quantity": "300",
        "unit": "box",
        "weekdays": ["1", "2", "3", "4", "5"],
        "slot": "06:00",
        "expected_price": "12.000",
        "required_certificates": ["halal"],
        "start_date": start.isoformat(),
        "expires_on": "",
        "notes": "Untuk shift pagi",
        **changes,
    }


async def saved(database, model) -> list:
    async with database.sessionmaker() as session:
        return list((await session.execute(select(model).order_by(*inspect(model).primary_key))).scalars())


async def post_request(client, canteen_staff, **changes) -> int:
    await log_in(client, canteen_staff)
    answer = await submit(client, "/canteen/requests", request_form(**changes))
    assert answer.status_code == 303, answer.text
    return int(found(r"/canteen/requests/(\d+)\?notice=posted", answer.headers["location"]).group(1))


async def test_a_canteen_posts_two_caterers_offer_and_the_canteen_accepts_one(
    app, client, database, canteen_staff, catering, second_caterer, count_queries
):
    request_id = await post_request(client, canteen_staff)
    (posted,) = await saved(database, BuyerRequest)
    assert (posted.title, posted.expected_price, posted.required_certificates) == ("Nasi box sarapan", 12000, ["halal"])
    count_queries.statements.clear()
    detail = await client.get(f"/canteen/requests/{request_id}?notice=posted")
    assert detail.status_code == 200 and count_queries.count <= 5, count_queries.statements
    assert t("No offers yet.") in detail.text and "06.00 WIB" in detail.text

    prices = {}
    for (seller, product), choice in ((catering, None), (second_caterer, "new")):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as vendor_browser:
            await log_in(vendor_browser, seller.user)
            count_queries.statements.clear()
            listing = await vendor_browser.get("/vendor/requests")
            assert listing.status_code == 200 and count_queries.count <= 5, count_queries.statements
            assert f'href="/vendor/requests/{request_id}"' in listing.text and "Nasi box sarapan" in listing.text
            count_queries.statements.clear()
            page = await vendor_browser.get(f"/vendor/requests/{request_id}")
            assert page.status_code == 200 and count_queries.count <= 5, count_queries.statements
            form = {"start_date": request_form()["start_date"], "notes": "Siap"}
            if choice == "new":
                form |= {
                    "product": "new",
                    "new_product_name": "Nasi Box Sarapan Spesial",
                    "new_product_price": "11.900",
                }
            else:
                form |= {"product": str(product.id)}
            answer = await submit(vendor_browser, f"/vendor/requests/{request_id}/offer", form)
            assert answer.status_code == 303, answer.text
            prices[seller.vendor.business_name] = (await vendor_browser.get(answer.headers["location"])).text

    count_queries.statements.clear()
    compare = await client.get(f"/canteen/requests/{request_id}")
    assert count_queries.count <= 5, count_queries.statements
    assert "Catering Bu Sri" in compare.text and "Dapur Mbak Rina" in compare.text
    assert "Rp 13.000" in compare.text and "Rp 11.900" in compare.text
    assert (
        t("This product is new and waits for the manager's review: it can be accepted once approved.") in compare.text
    )
    offers = {offer.vendor_id: offer for offer in await saved(database, RequestOffer)}
    chosen = offers[catering[0].vendor.id]
    accepted = await submit(client, f"/canteen/requests/{request_id}/offers/{chosen.id}/accept", {})
    assert accepted.status_code == 303 and accepted.headers["location"].endswith("notice=accepted")
    (standing,) = await saved(database, StandingOrder)
    assert (standing.product_id, standing.quantity) == (catering[1].id, 300)
    standing_page = await client.get("/canteen/standing-orders")
    assert t("Agreed price") in standing_page.text and "Rp 13.000" in standing_page.text

    again = await submit(client, f"/canteen/requests/{request_id}/offers/{chosen.id}/accept", {})
    assert again.status_code == 409 and t(MSG_ALREADY_DECIDED) in again.text
    assert len(await saved(database, StandingOrder)) == 1


async def test_a_canteen_closes_its_request_from_its_page(client, database, canteen_staff):
    request_id = await post_request(client, canteen_staff)
    closed = await submit(client, f"/canteen/requests/{request_id}/close", {})
    assert closed.status_code == 303 and closed.headers["location"].endswith("notice=closed")
    page = await client.get(closed.headers["location"])
    assert t("Request closed. Vendors no longer see it.") in page.text
    assert f"/canteen/requests/{request_id}/close" not in page.text
    again = await submit(client, f"/canteen/requests/{request_id}/close", {})
    assert again.status_code == 409
    (request_row,) = await saved(database, BuyerRequest)
    assert request_row.status == RequestStatus.CLOSED


async def test_a_refused_request_keeps_what_was_typed_and_saves_nothing(client, database, canteen_staff):
    await log_in(client, canteen_staff)
    today = wib_today(utcnow())
    refused = await submit(
        client, "/canteen/requests", request_form(start_date=today.isoformat(), title="<b>Nasi</b> pedas")
    )
    assert refused.status_code == 400
    assert t(MSG_START) in refused.text
    assert "&lt;b&gt;Nasi&lt;/b&gt; pedas" in refused.text and "<b>Nasi</b>" not in refused.text
    assert await saved(database, BuyerRequest) == []


async def test_a_form_without_the_csrf_token_is_refused(client, database, canteen_staff):
    await log_in(client, canteen_staff)
    await csrf_token(client)
    answer = await client.post("/canteen/requests", data=request_form(), follow_redirects=False)
    assert answer.status_code == 403
    assert await saved(database, BuyerRequest) == []


async def test_a_request_is_out_of_sight_of_vendors_it_does_not_fit_and_of_other_canteens(
    app, client, other_client, world, zone, database, canteen_staff, far_caterer, tailor
):
    request_id = await post_request(client, canteen_staff)
    for seller, _ in (far_caterer, tailor):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as browser:
            await log_in(browser, seller.user)
            assert (await browser.get(f"/vendor/requests/{request_id}")).status_code == 404
            assert f"/vendor/requests/{request_id}" not in (await browser.get("/vendor/requests")).text
            answer = await submit(
                browser,
                f"/vendor/requests/{request_id}/offer",
                {"product": "new", "new_product_price": "10000", "start_date": request_form()["start_date"]},
            )
            assert answer.status_code == 404
    other_canteen = await world.organisation(zone, name="Kantin PT Lain")
    stranger = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=other_canteen)
    await log_in(other_client, stranger)
    assert (await other_client.get(f"/canteen/requests/{request_id}")).status_code == 404
    assert f'href="/canteen/requests/{request_id}"' not in (await other_client.get("/canteen/requests")).text
    assert await saved(database, RequestOffer) == []


async def test_a_manager_hides_an_abusive_request_with_a_reason(
    client, other_client, database, canteen_staff, manager, count_queries
):
    request_id = await post_request(client, canteen_staff, title="Jual pulsa murah")
    await log_in(other_client, manager)
    count_queries.statements.clear()
    listing = await other_client.get("/manager/requests")
    assert listing.status_code == 200 and count_queries.count <= 5, count_queries.statements
    assert "Jual pulsa murah" in listing.text
    refused = await submit(other_client, f"/manager/requests/{request_id}/hide", {"reason": "x"})
    assert refused.status_code == 400
    hidden = await submit(other_client, f"/manager/requests/{request_id}/hide", {"reason": "Iklan, bukan permintaan"})
    assert hidden.status_code == 303
    (request_row,) = await saved(database, BuyerRequest)
    assert request_row.status == RequestStatus.HIDDEN
    (entry,) = await saved(database, AuditEntry)
    assert (entry.action, entry.reason) == ("request.hide", "Iklan, bukan permintaan")
    assert "Jual pulsa murah" not in (await other_client.get("/manager/requests")).text
    assert N_(MSG_REASON)


async def test_an_offer_changed_after_the_canteen_opened_it_is_not_accepted_unseen(
    app, client, database, canteen_staff, catering
):
    """The canteen opens the offers at Rp 13.000; the caterer changes its offer to a new product before the tap.
    The accept names the offer as it was shown, so it is refused with the new price, and nothing is decided."""
    request_id = await post_request(client, canteen_staff)
    seller, product = catering
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as vendor:
        await log_in(vendor, seller.user)
        offer_form = {"start_date": request_form()["start_date"], "product": str(product.id)}
        assert (await submit(vendor, f"/vendor/requests/{request_id}/offer", offer_form)).status_code == 303
        compare = await client.get(f"/canteen/requests/{request_id}")
        (offer,) = await saved(database, RequestOffer)
        shown = {
            "unit_price": found(r'name="unit_price" value="(\d+)"', compare.text).group(1),
            "product_id": found(r'name="product_id" value="(\d+)"', compare.text).group(1),
        }
        assert shown == {"unit_price": "13000", "product_id": str(product.id)}
        dearer = offer_form | {"product": "new", "new_product_name": "Nasi Box Premium", "new_product_price": "19.000"}
        assert (await submit(vendor, f"/vendor/requests/{request_id}/offer", dearer)).status_code == 303

    refused = await submit(client, f"/canteen/requests/{request_id}/offers/{offer.id}/accept", shown)
    assert refused.status_code == 409
    changed = t(MSG_OFFER_CHANGED) % {"vendor": "Catering Bu Sri", "price": "Rp 19.000"}
    assert str(escape(changed)) in refused.text
    ((request,), (still,)) = (await saved(database, BuyerRequest), await saved(database, RequestOffer))
    assert request.status == RequestStatus.OPEN and still.status == "open"
    assert await saved(database, StandingOrder) == []
