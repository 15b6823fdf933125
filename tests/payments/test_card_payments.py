"""A canteen pays its two vendors' orders with one card payment: through the API (a PaymentIntent it confirms with
Stripe itself) or on the pages (Stripe's hosted page). The orders are placed when Stripe says the money is there,
by its signed webhook or when asked, never because a browser came back to a success address.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from backend.i18n import gettext
from backend.notifications.models import Notification
from backend.orders.models import OrderStatus
from backend.payments.models import PaymentStatus
from backend.payments.service import MSG_CLOSED
from tests.conftest import found, log_in, submit
from tests.orders.test_order_api import bearer
from tests.payments.conftest import PUBLISHABLE_KEY, deliver, orders_of, payment_of

S = OrderStatus


async def notified(database, user_id: int) -> set[int | None]:
    async with database.sessionmaker() as session:
        return set(
            (
                await session.execute(select(col(Notification.order_id)).where(col(Notification.user_id) == user_id))
            ).scalars()
        )


# --- through the API --------------------------------------------------------------------------------------


async def test_a_procurement_system_pays_both_vendors_with_one_intent_and_the_webhook_places_both_orders(
    client, database, card_checkout, fake_stripe
):
    canteen = await bearer(database, card_checkout.buyer)
    url = f"/api/v1/checkouts/{card_checkout.checkout_id}/payment"

    started = await client.post(url, headers=canteen)
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["status"] == "pending" and body["currency"] == "idr"
    assert body["amount"] == 3_000_000 == card_checkout.total  # Rp 2.600.000 + Rp 400.000
    assert body["stripe_amount"] == 300_000_000
    assert body["client_secret"].startswith(body["payment_intent_id"] + "_secret_")
    assert body["publishable_key"] == PUBLISHABLE_KEY
    assert body["order_ids"] == [order.id for order in card_checkout.orders]

    # What Stripe was asked: IDR in hundredths, the checkout in the metadata, a key derived from the checkout.
    (asked,) = fake_stripe.seen("POST", "/v1/payment_intents")
    assert asked.params["amount"] == "300000000" and asked.params["currency"] == "idr"
    assert asked.params["metadata"] == {"checkout_id": str(card_checkout.checkout_id)}
    assert asked.idempotency_key == f"checkout-{card_checkout.checkout_id}-intent"

    # Asking again (a retry, a second device) gives the same intent.
    again = await client.post(url, headers=canteen)
    assert again.json()["payment_intent_id"] == body["payment_intent_id"]
    assert again.json()["client_secret"] == body["client_secret"]
    assert len(fake_stripe.intents_for_checkout(card_checkout.checkout_id)) == 1
    assert {order.status for order in await orders_of(database, card_checkout.checkout_id)} == {S.PENDING_PAYMENT}

    # The canteen's system confirms the card with Stripe; Stripe sends its signed event.
    intent = fake_stripe.succeed_intent(body["payment_intent_id"])
    delivered = await deliver(client, fake_stripe.event("payment_intent.succeeded", intent))
    assert delivered.status_code == 200, delivered.text
    assert delivered.json() == {"received": True, "outcome": "processed"}

    assert [order.status for order in await orders_of(database, card_checkout.checkout_id)] == [S.PLACED, S.PLACED]
    payment = await payment_of(database, card_checkout.checkout_id)
    assert payment.status == PaymentStatus.SUCCEEDED and payment.intent_id == intent["id"]
    assert payment.succeeded_at is not None and payment.amount == 3_000_000
    for seller, order in zip(card_checkout.sellers, card_checkout.orders, strict=True):
        assert order.id in await notified(database, seller.user.id)  # each vendor is told of their order

    status = await client.get(url, headers=canteen)
    assert status.json()["status"] == "succeeded" and status.json()["client_secret"] is None


async def test_someone_elses_checkout_is_not_found_and_a_cancelled_one_cannot_be_paid(
    client, database, card_checkout, ordering, world, zone
):
    url = f"/api/v1/checkouts/{card_checkout.checkout_id}/payment"
    stranger = await bearer(database, await ordering.canteen_buyer("Kantin PT Lain"))
    assert (await client.post(url, headers=stranger)).status_code == 404

    canteen = await bearer(database, card_checkout.buyer)
    for order in card_checkout.orders:
        moved = await client.post(
            f"/api/v1/orders/{order.id}/transitions",
            headers=canteen,
            json={"status": "cancelled", "reason": "Salah pesan"},
        )
        assert moved.status_code == 200, moved.text
    refused = await client.post(url, headers=canteen)
    assert refused.status_code == 409 and refused.json()["code"] == "conflict"


async def test_a_card_checkout_through_the_api_says_where_to_pay(client, database, two_vendors, canteen_staff):
    from tests.orders.test_order_api import check_out

    (_seller, nasi_box), _ = two_vendors
    canteen = await bearer(database, canteen_staff)
    await client.put(f"/api/v1/cart/lines/{nasi_box.id}", json={"quantity": 100}, headers=canteen)
    placed = await check_out(client, canteen, "card-1", payment_method="card")
    assert placed.status_code == 201, placed.text
    checkout_id = placed.json()["checkout_id"]
    assert placed.headers["link"] == f'</api/v1/checkouts/{checkout_id}/payment>; rel="payment"'
    assert placed.json()["orders"][0]["status"] == "pending_payment"


# --- on the pages: Stripe's hosted page -----------------------------------------------------------------------


async def test_a_buyer_pays_on_stripes_page_and_coming_back_places_the_orders_only_because_stripe_says_so(
    client, database, card_checkout, fake_stripe
):
    await log_in(client, card_checkout.buyer)
    pay_url = f"/checkouts/{card_checkout.checkout_id}/pay"
    pay_page = await client.get(pay_url)
    assert pay_page.status_code == 200
    assert "Rp 3.000.000" in pay_page.text and "Catering Bu Sri" in pay_page.text and "Dapur Pak Joko" in pay_page.text
    assert f'action="{pay_url}"' in pay_page.text
    assert "js.stripe.com" not in pay_page.text  # no Stripe.js, nothing from a CDN

    to_stripe = await submit(client, pay_url, {})
    assert to_stripe.status_code == 303, to_stripe.text
    session_id = to_stripe.headers["location"].rsplit("/", 1)[1]
    assert to_stripe.headers["location"] == f"https://checkout.stripe.com/c/pay/{session_id}"
    (asked,) = fake_stripe.seen("POST", "/v1/checkout/sessions")
    assert asked.idempotency_key == f"checkout-{card_checkout.checkout_id}-session"
    assert [
        (line["price_data"]["unit_amount"], line["price_data"]["currency"]) for line in asked.params["line_items"]
    ] == [("260000000", "idr"), ("40000000", "idr")]  # one line per vendor's order, in Stripe's hundredths
    assert asked.params["payment_intent_data"]["metadata"] == {"checkout_id": str(card_checkout.checkout_id)}
    assert asked.params["success_url"] == (
        f"http://testserver.local/checkouts/{card_checkout.checkout_id}/return?session_id={{CHECKOUT_SESSION_ID}}"
    )
    # A second tap goes to the same page at Stripe.
    assert (await submit(client, pay_url, {})).headers["location"] == to_stripe.headers["location"]
    assert len(fake_stripe.sessions) == 1

    # Coming back to the success address without having paid changes nothing: Stripe is asked and says unpaid.
    forged = await client.get(f"/checkouts/{card_checkout.checkout_id}/return?session_id={session_id}")
    assert forged.status_code == 200 and 'data-payment="waiting"' in forged.text
    assert 'hx-trigger="every 5s"' in forged.text
    assert {order.status for order in await orders_of(database, card_checkout.checkout_id)} == {S.PENDING_PAYMENT}
    assert (await payment_of(database, card_checkout.checkout_id)).status == PaymentStatus.PENDING

    # The buyer pays on Stripe's page and is sent back; the webhook has not arrived yet: the page asks Stripe.
    _, intent, back = fake_stripe.pay_session(session_id)
    returned = await client.get(back.removeprefix("http://testserver.local"))
    assert returned.status_code == 200 and 'data-payment="succeeded"' in returned.text
    assert [order.status for order in await orders_of(database, card_checkout.checkout_id)] == [S.PLACED, S.PLACED]
    payment = await payment_of(database, card_checkout.checkout_id)
    assert payment.status == PaymentStatus.SUCCEEDED and payment.intent_id == intent["id"]

    # Stripe's events arrive afterwards and change nothing more.
    hosted = fake_stripe.public(fake_stripe.sessions[session_id])
    for event in (
        fake_stripe.event("checkout.session.completed", hosted),
        fake_stripe.event("payment_intent.succeeded", intent),
    ):
        assert (await deliver(client, event)).json()["outcome"] == "ignored"
    assert [order.status for order in await orders_of(database, card_checkout.checkout_id)] == [S.PLACED, S.PLACED]
    # The pay page now sends the buyer to the confirmation.
    to_confirmation = await client.get(pay_url, follow_redirects=False)
    assert to_confirmation.headers["location"] == f"/checkouts/{card_checkout.checkout_id}/return"


async def test_the_return_page_alone_never_places_orders_whatever_the_address_says(
    client, database, card_checkout, fake_stripe
):
    await log_in(client, card_checkout.buyer)
    await submit(client, f"/checkouts/{card_checkout.checkout_id}/pay", {})
    (session_id,) = fake_stripe.sessions
    other = fake_stripe._create_session({"line_items": [], "success_url": "x", "metadata": {"checkout_id": "999"}})
    fake_stripe.pay_session(other["id"])  # somebody's paid session, for another checkout

    for query in (
        "",
        "?session_id=cs_test_made_up",
        f"?session_id={other['id']}",
        "?session_id=<script>",
        "?paid=1&payment_status=paid",
    ):
        page = await client.get(f"/checkouts/{card_checkout.checkout_id}/return{query}")
        assert page.status_code == 200 and 'data-payment="waiting"' in page.text, query
    assert {order.status for order in await orders_of(database, card_checkout.checkout_id)} == {S.PENDING_PAYMENT}

    # htmx asks again: only the status fragment comes back.
    fragment = await client.get(
        f"/checkouts/{card_checkout.checkout_id}/return?session_id={session_id}", headers={"HX-Request": "true"}
    )
    assert fragment.text.lstrip().startswith('<section id="payment-status"')


async def test_a_worker_checks_out_by_card_on_the_cart_page_and_is_sent_to_pay(
    client, database, catering, worker, ordering, fake_stripe
):
    from tests.web.test_order_pages import DAY, checkout_form

    _seller, nasi_box = catering
    gate = await ordering.gate()
    await log_in(client, worker)
    await submit(client, "/cart/lines", {"product_id": nasi_box.id, "quantity": 10})
    cart_page = await client.get("/cart")
    assert 'value="card"' in cart_page.text  # card is offered once Stripe is set up
    placed = await submit(
        client, "/checkout", checkout_form(cart_page.text, delivery_place=str(gate.id), payment_method="card")
    )
    assert placed.status_code == 303, placed.text
    checkout_id = int(found(r"^/checkouts/(\d+)/pay$", placed.headers["location"]).group(1))
    pay_page = await client.get(placed.headers["location"])
    assert "Rp 150.000" in pay_page.text  # 10 × Rp 15.000
    (order,) = await orders_of(database, checkout_id)
    assert order.status == S.PENDING_PAYMENT and order.delivery_day == DAY

    order_page = await client.get(f"/orders/{order.id}")
    assert f'href="/checkouts/{checkout_id}/pay"' in order_page.text  # "pay by card" while it waits


async def test_a_cancelled_checkout_shows_it_cannot_be_paid(client, database, card_checkout, fake_stripe):
    await log_in(client, card_checkout.buyer)
    for order in card_checkout.orders:
        cancelled = await submit(client, f"/orders/{order.id}/status", {"target": "cancelled", "reason": "Batal"})
        assert cancelled.status_code == 303, cancelled.text
    pay_url = f"/checkouts/{card_checkout.checkout_id}/pay"
    assert gettext(MSG_CLOSED) in (await client.get(pay_url)).text
    refused = await submit(client, pay_url, {})
    assert refused.status_code == 409 and gettext(MSG_CLOSED) in refused.text
    assert fake_stripe.requests == []


async def test_the_payment_pages_take_few_queries(client, database, card_checkout, fake_stripe, count_queries):
    await log_in(client, card_checkout.buyer)
    await submit(client, f"/checkouts/{card_checkout.checkout_id}/pay", {})
    for url in (f"/checkouts/{card_checkout.checkout_id}/pay", f"/checkouts/{card_checkout.checkout_id}/return"):
        count_queries.statements.clear()
        assert (await client.get(url)).status_code == 200
        assert count_queries.count <= 5, (url, count_queries.statements)
