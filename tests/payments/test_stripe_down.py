"""Stripe down, failing or slow: the orders keep waiting (nothing is lost), the buyer is told plainly and can try
again, and the try that works uses the same idempotency key, so there is only ever one PaymentIntent."""

from __future__ import annotations

from markupsafe import escape

from backend.i18n import gettext, set_locale
from backend.orders.models import OrderStatus
from backend.payments.models import PaymentStatus
from backend.payments.service import MSG_UNAVAILABLE
from tests.conftest import browser, log_in, submit
from tests.orders.test_order_api import bearer
from tests.payments.conftest import deliver, orders_of, payment_of, start_paying
from tests.payments.test_webhooks import stored_events

S = OrderStatus


def shown(message: str) -> str:
    set_locale("id")
    return str(escape(gettext(message)))


async def test_stripe_answering_500_gives_the_api_a_503_and_a_later_try_makes_one_intent(
    client, database, card_checkout, fake_stripe
):
    canteen = await bearer(database, card_checkout.buyer)
    url = f"/api/v1/checkouts/{card_checkout.checkout_id}/payment"
    fake_stripe.outage()
    refused = await client.post(url, headers=canteen)
    assert refused.status_code == 503
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "payment_unavailable" and refused.json()["detail"] == gettext(MSG_UNAVAILABLE)

    tries = fake_stripe.seen("POST", "/v1/payment_intents")
    assert len(tries) == 3  # the SDK's two retries
    assert {attempt.idempotency_key for attempt in tries} == {f"checkout-{card_checkout.checkout_id}-intent"}
    payment = await payment_of(database, card_checkout.checkout_id)
    assert payment.status == PaymentStatus.PENDING and payment.intent_id is None
    assert "APIError 500" in payment.last_error
    assert {order.status for order in await orders_of(database, card_checkout.checkout_id)} == {S.PENDING_PAYMENT}

    fake_stripe.recover()
    started = await client.post(url, headers=canteen)
    assert started.status_code == 200, started.text
    assert len(fake_stripe.intents_for_checkout(card_checkout.checkout_id)) == 1
    payment = await payment_of(database, card_checkout.checkout_id)
    assert payment.intent_id == started.json()["payment_intent_id"] and payment.last_error == ""


async def test_a_passing_failure_is_absorbed_by_the_sdks_retries_with_the_same_key(
    app_for, stripe_settings, database, card_checkout, fake_stripe
):
    # A patient client: with the tests' half-second timeout, a busy machine's stall on the third try would
    # exhaust the retries and turn this into the outage test.
    patient = await app_for(stripe_settings.model_copy(update={"stripe_timeout_seconds": 10.0}))
    fake_stripe.fail_next(2)
    async with browser(patient) as client:
        started = await client.post(
            f"/api/v1/checkouts/{card_checkout.checkout_id}/payment",
            headers=await bearer(database, card_checkout.buyer),
        )
    assert started.status_code == 200, started.text
    keys = [attempt.idempotency_key for attempt in fake_stripe.seen("POST", "/v1/payment_intents")]
    assert keys == [f"checkout-{card_checkout.checkout_id}-intent"] * 3
    assert len(fake_stripe.payment_intents) == 1


async def test_stripe_timing_out_after_creating_the_intent_still_makes_one_intent(
    client, database, card_checkout, fake_stripe
):
    canteen = await bearer(database, card_checkout.buyer)
    url = f"/api/v1/checkouts/{card_checkout.checkout_id}/payment"
    fake_stripe.slow(3)  # longer than the client waits (0.5 s in the tests)
    assert (await client.post(url, headers=canteen)).status_code == 503
    assert len(fake_stripe.payment_intents) == 1  # Stripe made it, but the answer never arrived
    assert (await payment_of(database, card_checkout.checkout_id)).intent_id is None

    fake_stripe.recover()
    started = await client.post(url, headers=canteen)
    assert started.status_code == 200
    (intent_id,) = fake_stripe.payment_intents
    assert started.json()["payment_intent_id"] == intent_id  # the same intent, by its idempotency key


async def test_the_buyer_sees_a_clear_message_and_a_retry_button_when_stripe_cannot_be_reached(
    client, database, card_checkout, fake_stripe
):
    await log_in(client, card_checkout.buyer)
    pay_url = f"/checkouts/{card_checkout.checkout_id}/pay"
    fake_stripe.refuse_connections()
    refused = await submit(client, pay_url, {})
    assert refused.status_code == 503
    assert shown(MSG_UNAVAILABLE) in refused.text
    assert f'action="{pay_url}"' in refused.text and shown("Try again") in refused.text
    assert {order.status for order in await orders_of(database, card_checkout.checkout_id)} == {S.PENDING_PAYMENT}
    payment = await payment_of(database, card_checkout.checkout_id)
    assert payment.status == PaymentStatus.PENDING and "APIConnectionError" in payment.last_error

    # Coming back while Stripe is away: still waiting, no error page.
    waiting = await client.get(f"/checkouts/{card_checkout.checkout_id}/return")
    assert waiting.status_code == 200

    fake_stripe.accept_connections()
    to_stripe = await submit(client, pay_url, {})
    assert to_stripe.status_code == 303 and to_stripe.headers["location"].startswith("https://checkout.stripe.com/")
    assert len(fake_stripe.sessions) == 1


async def test_a_payment_event_stripe_cannot_confirm_now_is_answered_503_and_acts_when_delivered_again(
    client, database, card_checkout, fake_stripe
):
    started = await start_paying(client, database, card_checkout)
    event = fake_stripe.event("payment_intent.succeeded", fake_stripe.succeed_intent(started["payment_intent_id"]))
    fake_stripe.outage()
    refused = await deliver(client, event)
    assert refused.status_code == 503 and refused.json()["code"] == "payment_unavailable"
    assert await stored_events(database) == []  # so Stripe's next delivery is not taken for a duplicate
    assert {order.status for order in await orders_of(database, card_checkout.checkout_id)} == {S.PENDING_PAYMENT}

    fake_stripe.recover()
    assert (await deliver(client, event)).json()["outcome"] == "processed"
    assert [order.status for order in await orders_of(database, card_checkout.checkout_id)] == [S.PLACED, S.PLACED]
