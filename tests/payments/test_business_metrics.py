"""What an operator watches the business by on /metrics: orders placed, payments confirmed (once each, however
often Stripe repeats itself) and webhook deliveries refused, by reason."""

from __future__ import annotations

import json
import time

from prometheus_client import REGISTRY

from backend.orders.models import PaymentMethod
from tests.conftest import browser
from tests.payments.conftest import deliver, stripe_signature
from tests.payments.test_bank_transfers import confirm, reference_of, transfer_checkout
from tests.payments.test_webhooks import paid_at_stripe  # noqa: F401  (fixture)

ORDERS = "pasar_orders_placed_total"
PAYMENTS = "pasar_payments_confirmed_total"
REJECTS = "pasar_webhook_rejects_total"


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_each_vendor_order_of_a_checkout_is_counted_by_how_it_is_paid(ordering, two_vendors, canteen_staff):
    (_seller, nasi_box), (_other, snack) = two_vendors
    before = counted(ORDERS, payment_method="card"), counted(ORDERS, payment_method="cash")
    await ordering.put_in_cart(canteen_staff, nasi_box.id, 200)
    await ordering.put_in_cart(canteen_staff, snack.id, 50)
    await ordering.checkout(canteen_staff, payment=PaymentMethod.CARD)

    assert counted(ORDERS, payment_method="card") - before[0] == 2
    assert counted(ORDERS, payment_method="cash") == before[1]


async def test_a_card_payment_is_counted_once_when_stripe_tells_twice(client, paid_at_stripe):  # noqa: F811
    _, event = paid_at_stripe
    before = counted(PAYMENTS, method="card")

    assert (await deliver(client, event)).json()["outcome"] == "processed"
    assert (await deliver(client, event)).json()["outcome"] == "duplicate"

    assert counted(PAYMENTS, method="card") - before == 1


async def test_a_bank_transfer_is_counted_once_when_the_manager_confirms_it(
    ordering, two_vendors, canteen_staff, manager, database
):
    placement = await transfer_checkout(ordering, two_vendors, canteen_staff)
    reference = await reference_of(database, placement.checkout.id)
    before = counted(PAYMENTS, method="bank_transfer")

    assert (await confirm(database, manager, reference, 3_000_000)).confirmed
    assert not (await confirm(database, manager, reference, 3_000_000)).confirmed

    assert counted(PAYMENTS, method="bank_transfer") - before == 1


async def test_refused_webhook_deliveries_are_counted_by_reason(
    client,
    paid_at_stripe,  # noqa: F811
    stripe_settings,
    app_for,
):
    _, event = paid_at_stripe
    body = json.dumps(event).encode()
    reasons = ("bad_signature", "signed_ahead", "no_secret")
    before = {reason: counted(REJECTS, reason=reason) for reason in reasons}

    await deliver(client, event, signature=f"t={int(time.time())},v1={'0' * 64}")
    await deliver(client, event, signature=None)
    await deliver(client, event, signature=stripe_signature(body, timestamp=int(time.time()) + 3600), payload=body)
    async with browser(await app_for(stripe_settings.model_copy(update={"stripe_webhook_secret": None}))) as other:
        assert (await deliver(other, event)).status_code == 400

    after = {reason: counted(REJECTS, reason=reason) - before[reason] for reason in reasons}
    assert after == {"bad_signature": 2, "signed_ahead": 1, "no_secret": 1}
    assert (await deliver(client, event)).json()["outcome"] == "processed"
