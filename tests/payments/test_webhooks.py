"""Stripe's webhook: only events signed with the endpoint's secret are believed, and each acts once — delivered
twice, in the wrong order, or about things we do not handle. A signed event places orders only for the payment we
created, as Stripe confirms it when asked; any other is acknowledged and stored as rejected."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from backend.orders.models import OrderEvent, OrderStatus, PaymentMethod
from backend.payments.models import PaymentStatus, StripeEvent
from tests.conftest import browser, log_in, submit
from tests.payments.conftest import deliver, has_payment, orders_of, payment_of, start_paying, stripe_signature

S = OrderStatus


async def stored_events(database) -> list[tuple[str, str]]:
    async with database.sessionmaker() as session:
        return list(
            (
                await session.execute(select(col(StripeEvent.id), col(StripeEvent.type)).order_by(col(StripeEvent.id)))
            ).all()
        )


async def placed_events(database, checkout) -> int:
    """How many times the checkout's orders were moved to placed (each must be once)."""
    async with database.sessionmaker() as session:
        return (
            await session.execute(
                select(func.count())
                .select_from(OrderEvent)
                .where(
                    col(OrderEvent.order_id).in_([order.id for order in checkout.orders]),
                    col(OrderEvent.to_status) == S.PLACED,
                )
            )
        ).scalar_one()


@pytest.fixture
async def paid_at_stripe(client, database, card_checkout, fake_stripe):
    """The checkout's intent, paid at Stripe; its event is ready to deliver."""
    started = await start_paying(client, database, card_checkout)
    intent = fake_stripe.succeed_intent(started["payment_intent_id"])
    return intent, fake_stripe.event("payment_intent.succeeded", intent)


async def test_an_event_without_a_valid_signature_is_refused_and_changes_nothing(
    client, database, card_checkout, paid_at_stripe
):
    _, event = paid_at_stripe
    body = json.dumps(event).encode()
    now = int(time.time())
    attempts = {
        "missing": await deliver(client, event, signature=None),
        "forged": await deliver(client, event, signature=f"t={now},v1={'0' * 64}"),
        "other secret": await deliver(client, event, signature=stripe_signature(body, secret="whsec_someone_else")),
        "stale": await deliver(client, event, signature=stripe_signature(body, timestamp=now - 3600)),
        "tampered": await deliver(
            client, event, signature=stripe_signature(body), payload=body.replace(b'"succeeded"', b'"succeeded" ')
        ),
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


async def test_without_a_webhook_secret_no_event_is_believed(
    database, card_checkout, paid_at_stripe, stripe_settings, app_for
):
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


async def test_the_same_event_delivered_twice_places_the_orders_once(client, database, card_checkout, paid_at_stripe):
    _, event = paid_at_stripe
    first, second = await deliver(client, event), await deliver(client, event)
    assert (first.json()["outcome"], second.json()["outcome"]) == ("processed", "duplicate")
    assert await placed_events(database, card_checkout) == 2  # two orders, once each
    assert [order.status for order in await orders_of(database, card_checkout.checkout_id)] == [S.PLACED, S.PLACED]


async def test_events_in_any_order_never_undo_a_payment(client, database, card_checkout, fake_stripe, paid_at_stripe):
    intent, succeeded = paid_at_stripe
    failed_earlier = fake_stripe.event(
        "payment_intent.payment_failed",
        {
            **intent,
            "status": "requires_payment_method",
            "last_payment_error": {"type": "card_error", "message": "Your card was declined."},
        },
    )
    session_completed = fake_stripe.event(
        "checkout.session.completed",
        {
            "id": "cs_test_x",
            "object": "checkout.session",
            "payment_status": "paid",
            "status": "complete",
            "payment_intent": intent["id"],
            "amount_total": intent["amount"],
            "metadata": {"checkout_id": str(card_checkout.checkout_id)},
        },
    )
    succeeded_again = fake_stripe.event("payment_intent.succeeded", intent)  # another event id, same news

    assert (await deliver(client, succeeded)).json()["outcome"] == "processed"
    for late in (failed_earlier, succeeded_again):
        assert (await deliver(client, late)).json()["outcome"] == "ignored", late["type"]
    # No Checkout Session was made for this checkout: Stripe, asked, knows none by that id.
    assert (await deliver(client, session_completed)).json()["outcome"] == "rejected"

    payment = await payment_of(database, card_checkout.checkout_id)
    assert payment.status == PaymentStatus.SUCCEEDED and payment.last_error == ""
    assert [order.status for order in await orders_of(database, card_checkout.checkout_id)] == [S.PLACED, S.PLACED]
    assert await placed_events(database, card_checkout) == 2


async def test_a_declined_card_is_recorded_the_orders_wait_and_a_second_try_succeeds(
    client, database, card_checkout, fake_stripe
):
    started = await start_paying(client, database, card_checkout)
    declined = fake_stripe.fail_intent(started["payment_intent_id"], "Your card has insufficient funds.")
    assert (await deliver(client, fake_stripe.event("payment_intent.payment_failed", declined))).json()[
        "outcome"
    ] == "processed"
    payment = await payment_of(database, card_checkout.checkout_id)
    assert payment.status == PaymentStatus.FAILED and payment.last_error == "Your card has insufficient funds."
    assert {order.status for order in await orders_of(database, card_checkout.checkout_id)} == {S.PENDING_PAYMENT}

    await log_in(client, card_checkout.buyer)
    pay_page = await client.get(f"/checkouts/{card_checkout.checkout_id}/pay")
    assert "Your card has insufficient funds." in pay_page.text  # why, and the button to try again

    succeeded = fake_stripe.succeed_intent(started["payment_intent_id"])
    assert (await deliver(client, fake_stripe.event("payment_intent.succeeded", succeeded))).json()[
        "outcome"
    ] == "processed"
    assert (await payment_of(database, card_checkout.checkout_id)).status == PaymentStatus.SUCCEEDED
    assert [order.status for order in await orders_of(database, card_checkout.checkout_id)] == [S.PLACED, S.PLACED]


async def test_a_payment_of_the_wrong_amount_does_not_place_the_orders(
    client, database, card_checkout, fake_stripe, paid_at_stripe
):
    intent, _ = paid_at_stripe
    short = fake_stripe.event("payment_intent.succeeded", {**intent, "amount": 100_00, "amount_received": 100_00})
    assert "100" in await deliver_rejected(client, database, short)  # the event's copy is not Stripe's
    fake_stripe.payment_intents[intent["id"]].update(amount=100_00, amount_received=100_00)
    short_at_stripe = fake_stripe.event("payment_intent.succeeded", fake_stripe.payment_intents[intent["id"]])
    assert "costs 300000000" in await deliver_rejected(client, database, short_at_stripe)
    assert {order.status for order in await orders_of(database, card_checkout.checkout_id)} == {S.PENDING_PAYMENT}


async def test_events_about_payments_that_are_not_ours_are_ignored(client, database, fake_stripe):
    foreign = {
        "id": "pi_foreign",
        "object": "payment_intent",
        "amount": 5000,
        "amount_received": 5000,
        "currency": "idr",
        "status": "succeeded",
        "metadata": {},
    }
    refund = {"id": "re_foreign", "object": "refund", "status": "succeeded", "amount": 5000, "metadata": {}}
    for event in (fake_stripe.event("payment_intent.succeeded", foreign), fake_stripe.event("refund.updated", refund)):
        answered = await deliver(client, event)
        assert answered.status_code == 200 and answered.json()["outcome"] == "ignored"


async def test_an_event_signed_more_than_five_minutes_ahead_is_refused(client, database, card_checkout, paid_at_stripe):
    _, event = paid_at_stripe
    body = json.dumps(event).encode()
    ahead = await deliver(
        client, event, signature=stripe_signature(body, timestamp=int(time.time()) + 3600), payload=body
    )
    assert ahead.status_code == 400 and ahead.json()["code"] == "bad_signature"
    assert await stored_events(database) == []
    assert {order.status for order in await orders_of(database, card_checkout.checkout_id)} == {S.PENDING_PAYMENT}

    # A clock a little ahead of ours is not a forgery.
    skewed = await deliver(
        client, event, signature=stripe_signature(body, timestamp=int(time.time()) + 120), payload=body
    )
    assert skewed.status_code == 200 and skewed.json()["outcome"] == "processed"


# --- signed with our secret, but not the payment we asked Stripe for ------------------------------------------


async def rejection_of(database, event_id: str) -> str:
    """Why the stored event was rejected (the test fails when it was not)."""
    async with database.sessionmaker() as session:
        reason = (
            await session.execute(select(col(StripeEvent.rejected_reason)).where(col(StripeEvent.id) == event_id))
        ).scalar_one()
    assert reason is not None, f"event {event_id} was not rejected"
    return reason


async def assert_still_waiting(database, checkout_id: int, intent_id: str | None) -> None:
    assert {order.status for order in await orders_of(database, checkout_id)} == {S.PENDING_PAYMENT}
    payment = await payment_of(database, checkout_id)
    assert payment.status == PaymentStatus.PENDING and payment.intent_id == intent_id


async def deliver_rejected(client, database, event) -> str:
    """Delivered, acknowledged (so Stripe stops sending it), stored as rejected; returns why."""
    answered = await deliver(client, event)
    assert answered.status_code == 200, answered.text
    assert answered.json() == {"received": True, "outcome": "rejected"}, event["type"]
    reason = await rejection_of(database, event["id"])
    assert reason, event["type"]
    return reason


async def test_a_payment_in_dollars_of_the_same_number_places_nothing(
    client, database, card_checkout, fake_stripe, caplog
):
    started = await start_paying(client, database, card_checkout)
    intent = fake_stripe.succeed_intent(started["payment_intent_id"])
    fake_stripe.payment_intents[intent["id"]]["currency"] = "usd"  # US$ 3,000,000.00 is not Rp 3.000.000
    event = fake_stripe.event("payment_intent.succeeded", {**intent, "currency": "usd"})

    answered = await deliver(client, event)
    await assert_still_waiting(database, card_checkout.checkout_id, intent["id"])
    assert answered.status_code == 200 and answered.json()["outcome"] == "rejected"
    assert "usd" in await rejection_of(database, event["id"])
    assert any(record.levelname == "ERROR" and event["id"] in record.getMessage() for record in caplog.records)
    assert (await deliver(client, event)).json()["outcome"] == "duplicate"


async def test_an_intent_still_processing_sent_as_succeeded_places_nothing_until_stripe_says_so(
    client, database, card_checkout, fake_stripe
):
    started = await start_paying(client, database, card_checkout)
    intent_id = started["payment_intent_id"]
    fake_stripe.payment_intents[intent_id]["status"] = "processing"
    processing = fake_stripe.public(fake_stripe.payment_intents[intent_id])
    # The event's own copy says processing; another claims success though Stripe, asked, says processing.
    for claimed in (processing, {**processing, "status": "succeeded", "amount_received": processing["amount"]}):
        event = fake_stripe.event("payment_intent.succeeded", claimed)
        answered = await deliver(client, event)
        await assert_still_waiting(database, card_checkout.checkout_id, intent_id)
        assert answered.json()["outcome"] == "rejected"
        assert "processing" in await rejection_of(database, event["id"])

    succeeded = fake_stripe.succeed_intent(intent_id)
    assert (await deliver(client, fake_stripe.event("payment_intent.succeeded", succeeded))).json()[
        "outcome"
    ] == "processed"
    assert [order.status for order in await orders_of(database, card_checkout.checkout_id)] == [S.PLACED, S.PLACED]


async def test_a_checkout_session_paid_in_dollars_places_nothing_by_webhook_or_by_coming_back(
    client, database, card_checkout, fake_stripe
):
    await log_in(client, card_checkout.buyer)
    await submit(client, f"/checkouts/{card_checkout.checkout_id}/pay", {})
    (session_id,) = fake_stripe.sessions
    fake_stripe.sessions[session_id]["currency"] = "usd"
    hosted, _, back = fake_stripe.pay_session(session_id)

    returned = await client.get(back.removeprefix("http://testserver.local"))
    assert returned.status_code == 200 and 'data-payment="waiting"' in returned.text
    await assert_still_waiting(database, card_checkout.checkout_id, None)
    reason = await deliver_rejected(client, database, fake_stripe.event("checkout.session.completed", hosted))
    assert "usd" in reason
    await assert_still_waiting(database, card_checkout.checkout_id, None)


async def test_an_intent_we_never_created_that_names_our_checkout_places_nothing(
    client, database, card_checkout, fake_stripe
):
    def someone_elses_intent() -> dict:
        made = fake_stripe._create_intent(
            {
                "amount": str(card_checkout.total * 100),
                "currency": "idr",
                "metadata": {"checkout_id": str(card_checkout.checkout_id)},
            }
        )
        return fake_stripe.succeed_intent(made["id"])

    # Before the buyer started paying, and once our intent exists.
    reason = await deliver_rejected(
        client, database, fake_stripe.event("payment_intent.succeeded", someone_elses_intent())
    )
    assert {order.status for order in await orders_of(database, card_checkout.checkout_id)} == {S.PENDING_PAYMENT}
    assert not await has_payment(database, card_checkout.checkout_id)
    started = await start_paying(client, database, card_checkout)
    reason = await deliver_rejected(
        client, database, fake_stripe.event("payment_intent.succeeded", someone_elses_intent())
    )
    assert started["payment_intent_id"] in reason
    await assert_still_waiting(database, card_checkout.checkout_id, started["payment_intent_id"])
    # Nor does it make the payment fail.
    foreign_decline = fake_stripe.fail_intent(someone_elses_intent()["id"])
    await deliver_rejected(client, database, fake_stripe.event("payment_intent.payment_failed", foreign_decline))
    await assert_still_waiting(database, card_checkout.checkout_id, started["payment_intent_id"])

    # Our own intent, paid, still places the orders.
    ours = fake_stripe.succeed_intent(started["payment_intent_id"])
    assert (await deliver(client, fake_stripe.event("payment_intent.succeeded", ours))).json()["outcome"] == "processed"
    assert [order.status for order in await orders_of(database, card_checkout.checkout_id)] == [S.PLACED, S.PLACED]


async def test_an_intent_already_stored_on_another_checkout_is_acknowledged_as_rejected_and_changes_neither(
    client, database, card_checkout, fake_stripe, ordering, two_vendors
):
    # A second canteen's checkout of the same total, to be paid on Stripe's hosted page (no intent stored yet).
    (_, nasi_box), (_, snack) = two_vendors
    other_buyer = await ordering.canteen_buyer("Kantin PT Lain")
    await ordering.put_in_cart(other_buyer, nasi_box.id, 200)
    await ordering.put_in_cart(other_buyer, snack.id, 50)
    other_id = (await ordering.checkout(other_buyer, payment=PaymentMethod.CARD)).checkout.id
    await log_in(client, other_buyer)
    assert (await submit(client, f"/checkouts/{other_id}/pay", {})).status_code == 303

    started = await start_paying(client, database, card_checkout)
    intent = fake_stripe.succeed_intent(started["payment_intent_id"])
    naming_the_other = {**intent, "metadata": {"checkout_id": str(other_id)}}
    for event in (
        fake_stripe.event("payment_intent.succeeded", naming_the_other),
        fake_stripe.event(
            "payment_intent.payment_failed",
            {
                **naming_the_other,
                "status": "requires_payment_method",
                "last_payment_error": {"message": "Your card was declined."},
            },
        ),
    ):
        await deliver_rejected(client, database, event)
        await assert_still_waiting(database, card_checkout.checkout_id, intent["id"])
        await assert_still_waiting(database, other_id, None)
        assert (await payment_of(database, other_id)).last_error == ""
