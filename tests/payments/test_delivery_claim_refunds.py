"""A card-paid canteen order of 200 nasi box (Rp 13.000) arrives with 10 damaged: the agreed Rp 130.000 is refunded
from the checkout's card payment through Stripe (the fake), once, and both sides see it on the order."""

from __future__ import annotations

from backend.orders.claim_models import ClaimKind, Settlement
from backend.orders.claims import ClaimAction
from backend.orders.models import OrderStatus
from backend.orders.states import change_status
from backend.payments.models import RefundStatus
from tests.conftest import log_in
from tests.orders.conftest import NEXT_MONDAY, NOW
from tests.orders.test_delivery_claims import act, line_of, report
from tests.orders.test_order_api import bearer
from tests.payments.conftest import refund_of
from tests.payments.test_refunds import paid, send_refunds  # noqa: F401  (`paid` is a fixture)

S = OrderStatus


async def test_ten_damaged_boxes_of_a_card_order_are_refunded_at_stripe_once(
    client,
    other_client,
    database,
    card_checkout,
    fake_stripe,
    paid,  # noqa: F811
    stripe_settings,
):
    nasi, _snack = card_checkout.orders
    seller = card_checkout.sellers[0]
    async with database.sessionmaker() as session:
        for target in (S.ACCEPTED, S.READY, S.DELIVERED):
            await change_status(
                session=session, order_id=nasi.id, target=target, actor=seller.user, now=NOW, today=NEXT_MONDAY
            )
        await session.commit()
    line = await line_of(database, nasi)
    await report(database, card_checkout.buyer, nasi, line, quantity=10, kind=ClaimKind.DAMAGED)
    view = await act(database, seller.user, nasi, ClaimAction.ACCEPT)
    assert (view.claim.amount, view.claim.settlement) == (130_000, Settlement.CARD_REFUND)

    refund = await refund_of(database, nasi.id)
    assert (refund.amount, refund.status) == (130_000, RefundStatus.PENDING)
    assert await send_refunds(database, stripe_settings) == 1
    (asked,) = fake_stripe.seen("POST", "/v1/refunds")
    assert asked.params["amount"] == "13000000"  # Rp 130.000 in Stripe's hundredths
    assert asked.params["payment_intent"] == paid["id"]
    assert (await refund_of(database, nasi.id)).status == RefundStatus.SUCCEEDED
    assert await send_refunds(database, stripe_settings) == 0

    await log_in(client, card_checkout.buyer)
    buyer_page = await client.get(f"/orders/{nasi.id}")
    assert 'data-refund="succeeded"' in buyer_page.text and "Rp 130.000" in buyer_page.text
    await log_in(other_client, seller.user)
    vendor_page = await other_client.get(f"/vendor/orders/{nasi.id}")
    assert 'data-refund="succeeded"' in vendor_page.text and "Rp 130.000" in vendor_page.text
    # The API says the same as the pages.
    as_buyer = await bearer(database, card_checkout.buyer)
    refund_shown = (await client.get(f"/api/v1/orders/{nasi.id}", headers=as_buyer)).json()["refund"]
    assert (refund_shown["amount"], refund_shown["method"], refund_shown["status"]) == (130_000, "card", "succeeded")
