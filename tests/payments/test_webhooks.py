"""Stripe's webhook: only events signed with the endpoint's secret are believed, and each acts once — delivered
twice, in the wrong order, or about things we do not handle."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from backend.orders.models import OrderEvent, OrderStatus
from backend.payments.models import PaymentStatus, StripeEvent
from tests.conftest import browser, log_in
from tests.payments.conftest import deliver, orders_of, payment_of, start_paying, stripe_signature

S = OrderStatus


async def stored_events(database) -> list[tuple[str, str]]:
    async with database.sessionmaker() as session:
        return list((await session.execute(select(col(StripeEvent.id), col(StripeEvent.type)).order_by(col(StripeEvent.id)))).all())


async def placed_events(database, checkout) -> int:
    """How many times the checkout's orders were moved to placed (each must be once)."""
    async with database.sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(OrderEvent).where(
            col(OrderEvent.order_id).in_([order.id for order in checkout.orders]),
            col(OrderEvent.to_status) == S.PLACED))).scalar_one()


@pytest.fixture
async def paid_at_stripe(client, database, card_checkout, fake_stripe):
    """The checkout's intent, paid at Stripe; its event is ready to deliver."""
    started = await start_paying(client, database, card_checkout)
    intent = fake_stripe.succeed_intent(started["payment_intent_id"])
    return intent, fake_stripe.event("payment_intent.succeeded", intent)


async def test_an_event_without_a_valid_signature_is_refused_and_changes_nothing(
        client, database, card_checkout, paid_at_stripe):
    _, event = paid_at_stripe
    body = json.dumps(event).encode()
    now = int(time.time())
    attempts = {
        "missing": await deliver(client, event, signature=None),
        "forged": await deliver(client, event, signature=f"t={now},v1={'0' * 64}"),
        "other secret": await deliver(client, event, signature=stripe_signature(body, secret="whsec_someone_else")),
        "stale": await deliver(client, event, signature=stripe_signature(body, timestamp=now - 3600)),
        "tampered": await deliver(client, event, signature=stripe_signature(body),
                                  payload=body.replace(b'"succeeded"', b'"succeeded" ')),
        "garbage header": await deliver(client, event, signature="v1=abc"),
    }
    for name, refused in attempts.items():
        assert refused.status_code == 400, name
        assert refused.headers["content-type"].startswith("application/problem+json"), name
        assert refused.json()["code"] == "bad_signature", name
    assert await stored_events(database) == []
    assert {order.status for order in await orders_of(database, card_checkout.checkout_id)} == {S.PENDING_PAYMENT}
    assert (await payment_of(database, card_checkout.checkout_id)).status == PaymentStatus.PENDING

    # The same event, signed, is believed.
    assert (await deliver(client, event)).json()["outcome"] == "processed"


async def test_without_a_webhook_secret_no_event_is_believed(database, card_checkout, paid_at_stripe,
                                                             stripe_settings, app_for):
    _, event = paid_at_stripe
    async with browser(await app_for(stripe_settings.model_copy(update={"stripe_webhook_secret": None}))) as other:
        assert (await deliver(other, event)).status_code == 400
    assert await stored_events(database) == []


async def test_an_event_of_a_type_we_do_not_handle_is_acknowledged_and_ignored(client, database, fake_stripe):
    event = fake_stripe.event("customer.created", {"id": "cus_123", "object": "customer"})
    answered = await deliver(client, event)
    assert answered.status_code == 200 and answered.json() == {"received": True, "outcome": "ignored"}
    assert await stored_events(database) == [(event["id"], "customer.created")]
    assert (await deliver(client, event)).json()["outcome"] == "duplicate"


async def test_the_same_event_delivered_twice_places_the_orders_once(client, database, card_checkout,
                                                                    paid_at_stripe):
    _, event = paid_at_stripe
    first, second = await deliver(client, event), await deliver(client, event)
    assert (first.json()["outcome"], second.json()["outcome"]) == ("processed", "duplicate")
    assert await placed_events(database, card_checkout) == 2  # two orders, once each
    assert [order.status for order in await orders_of(database, card_checkout.checkout_id)] == [S.PLACED, S.PLACED]


async def test_events_in_any_order_never_undo_a_payment(client, database, card_checkout, fake_stripe, paid_at_stripe):
    intent, succeeded = paid_at_stripe
    failed_earlier = fake_stripe.event("payment_intent.payment_failed", {
        **intent, "status": "requires_payment_method",
        "last_payment_error": {"type": "card_error", "message": "Your card was declined."}})
    session_completed = fake_stripe.event("checkout.session.completed", {
        "id": "cs_test_x", "object": "checkout.session", "payment_status": "paid", "status": "complete",
        "payment_intent": intent["id"], "amount_total": intent["amount"],
        "metadata": {"checkout_id": str(card_checkout.checkout_id)}})
    succeeded_again = fake_stripe.event("payment_intent.succeeded", intent)  # another event id, same news

    assert (await deliver(client, succeeded)).json()["outcome"] == "processed"
    for late in (failed_earlier, session_completed, succeeded_again):
        assert (await deliver(client, late)).json()["outcome"] == "ignored", late["type"]

    payment = await payment_of(database, card_checkout.checkout_id)
    assert payment.status == PaymentStatus.SUCCEEDED and payment.last_error == ""
    assert [order.status for order in await orders_of(database, card_checkout.checkout_id)] == [S.PLACED, S.PLACED]
    assert await placed_events(database, card_checkout) == 2


async def test_a_declined_card_is_recorded_the_orders_wait_and_a_second_try_succeeds(
        client, database, card_checkout, fake_stripe):
    started = await start_paying(client, database, card_checkout)
    declined = fake_stripe.fail_intent(started["payment_intent_id"], "Your card has insufficient funds.")
    assert (await deliver(client, fake_stripe.event("payment_intent.payment_failed", declined))
            ).json()["outcome"] == "processed"
    payment = await payment_of(database, card_checkout.checkout_id)
    assert payment.status == PaymentStatus.FAILED and payment.last_error == "Your card has insufficient funds."
    assert {order.status for order in await orders_of(database, card_checkout.checkout_id)} == {S.PENDING_PAYMENT}

    await log_in(client, card_checkout.buyer)
    pay_page = await client.get(f"/checkouts/{card_checkout.checkout_id}/pay")
    assert "Your card has insufficient funds." in pay_page.text  # why, and the button to try again

    succeeded = fake_stripe.succeed_intent(started["payment_intent_id"])
    assert (await deliver(client, fake_stripe.event("payment_intent.succeeded", succeeded))
            ).json()["outcome"] == "processed"
    assert (await payment_of(database, card_checkout.checkout_id)).status == PaymentStatus.SUCCEEDED
    assert [order.status for order in await orders_of(database, card_checkout.checkout_id)] == [S.PLACED, S.PLACED]


async def test_a_payment_of_the_wrong_amount_does_not_place_the_orders(client, database, card_checkout,
                                                                       fake_stripe, paid_at_stripe):
    intent, _ = paid_at_stripe
    short = fake_stripe.event("payment_intent.succeeded", {**intent, "amount": 100_00, "amount_received": 100_00})
    assert (await deliver(client, short)).json()["outcome"] == "ignored"
    assert {order.status for order in await orders_of(database, card_checkout.checkout_id)} == {S.PENDING_PAYMENT}


async def test_events_about_payments_that_are_not_ours_are_ignored(client, database, fake_stripe):
    foreign = {"id": "pi_foreign", "object": "payment_intent", "amount": 5000, "amount_received": 5000,
               "currency": "idr", "status": "succeeded", "metadata": {}}
    refund = {"id": "re_foreign", "object": "refund", "status": "succeeded", "amount": 5000, "metadata": {}}
    for event in (fake_stripe.event("payment_intent.succeeded", foreign),
                  fake_stripe.event("refund.updated", refund)):
        answered = await deliver(client, event)
        assert answered.status_code == 200 and answered.json()["outcome"] == "ignored"
