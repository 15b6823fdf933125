"""A canteen pays by virtual account: the payment page (and the API, for a procurement system) gives the bank,
the account number, the exact amount and until when it takes the transfer; the orders are placed when the
gateway's callback says the money arrived, once. Money of a virtual account cannot be pulled back through the
gateway: an order cancelled after payment is owed back to the canteen and recorded when the manager sends it.
Whatever the way a checkout was paid — card, QRIS, virtual account, invoice or cash — its completed orders enter
the same ledger the same way, and the ledger balances.

The gateway is a local stand-in for Xendit's HTTP API (backend.payments.demo_xendit), spoken to through the
official xendit-python SDK.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from litestar import Litestar
from sqlalchemy import select
from sqlmodel import col

from backend.clock import utcnow
from backend.config import Settings
from backend.db import Database
from backend.errors import ValidationFailed
from backend.orders.models import Order, OrderStatus, PaymentMethod
from backend.orders.states import change_status
from backend.payments import cash, gateway, invoices, ledger, transfers
from backend.payments.demo_xendit import DemoXendit
from backend.payments.methods import MSG_VA_CANTEENS
from backend.payments.models import Invoice, LedgerEntry, PaymentStatus, Refund, RefundStatus
from tests.conftest import AppFor, QueryCounter, log_in
from tests.orders.conftest import NEXT_MONDAY, NOW
from tests.orders.test_order_api import bearer, check_out, delivery_day
from tests.payments.conftest import (
    XENDIT_CALLBACK_TOKEN,
    deliver,
    orders_of,
    payment_of,
    send_callback,
)

S = OrderStatus
TEN_BOXES = 150_000  # 10 nasi box at Rp 15.000


@pytest.fixture
async def app(gateway_settings: Settings, app_for: AppFor, database: Database) -> Litestar:
    return await app_for(gateway_settings)


async def va_checkout(ordering, catering, buyer, *, now=None, day=None):
    _, nasi_box = catering
    await ordering.put_in_cart(buyer, nasi_box.id, 10)
    return await ordering.checkout(
        buyer, payment=PaymentMethod.VIRTUAL_ACCOUNT, now=now or utcnow(), day=day or delivery_day()
    )


async def test_a_canteen_pays_its_virtual_account_and_the_orders_are_placed_once(
    client, other_client, ordering, catering, canteen, canteen_staff, world, zone, fake_xendit: DemoXendit, database
):
    placement = await va_checkout(ordering, catering, canteen_staff)
    checkout_id = placement.checkout.id
    (order,) = placement.orders
    assert order.status == S.PENDING_PAYMENT and order.total == TEN_BOXES

    await log_in(client, canteen_staff)
    with QueryCounter(database) as queries:
        page = await client.get(f"/checkouts/{checkout_id}/pay")
    assert page.status_code == 200, page.text
    assert queries.count <= 5
    payment = await payment_of(database, checkout_id)
    (request,) = fake_xendit.requests_for(payment.reference)
    account = request["payment_method"]["virtual_account"]
    assert request["amount"] == TEN_BOXES and request["payment_method"]["type"] == "VIRTUAL_ACCOUNT"
    assert account["channel_code"] == "BNI" and account["channel_properties"]["customer_name"] == canteen.name
    assert account["channel_properties"]["expires_at"].startswith(f"{order.payment_due_at:%Y-%m-%dT%H:%M:%S}")
    number = account["channel_properties"]["virtual_account_number"]
    assert (payment.va_bank, payment.va_number) == ("BNI", number)
    assert f"<strong data-va-number>{number}</strong>" in page.text and "Rp 150.000" in page.text
    assert 'aria-label="QRIS"' not in page.text  # no QR code for a virtual account

    # A colleague of the same canteen sees the same account; nothing new is asked of Xendit.
    colleague = await world.user(canteen_staff.role, zone=zone, organisation=canteen, full_name="Budi Santoso")
    await log_in(other_client, colleague)
    assert number in (await other_client.get(f"/checkouts/{checkout_id}/pay")).text
    assert len(fake_xendit.seen("POST", "/payment_requests")) == 1

    callback = fake_xendit.pay(request["id"])
    outcomes = [(await send_callback(client, callback)).json()["outcome"] for _ in range(3)]
    assert outcomes == ["processed", "duplicate", "duplicate"]
    assert [o.status for o in await orders_of(database, checkout_id)] == [S.PLACED]
    assert (await payment_of(database, checkout_id)).status == PaymentStatus.SUCCEEDED
    status = await client.get(f"/checkouts/{checkout_id}/gateway/status", headers={"HX-Request": "true"})
    assert 'data-payment="succeeded"' in status.text
    # The poll brings the orders' new statuses too (out of band): the list above the status says placed.
    assert status.text.count('id="paying-for" hx-swap-oob="true"') == 1 and "status-placed" in status.text
    whole = (await client.get(f"/checkouts/{checkout_id}/pay")).text
    assert whole.count('id="paying-for"') == 1 and "hx-swap-oob" not in whole


async def test_a_procurement_system_gets_the_virtual_account_through_the_api(
    client, catering, canteen_staff, fake_xendit, database
):
    _, nasi_box = catering
    auth = await bearer(database, canteen_staff)
    added = await client.put(f"/api/v1/cart/lines/{nasi_box.id}", json={"quantity": 10}, headers=auth)
    assert added.status_code in (200, 201), added.text
    placed = await check_out(client, auth, "va-1", payment_method="virtual_account")
    assert placed.status_code == 201, placed.text
    checkout_id = placed.json()["checkout_id"]
    url = f"/api/v1/checkouts/{checkout_id}/gateway-payment"
    assert placed.headers["link"] == f'<{url}>; rel="payment"'

    started = await client.post(url, headers=auth)
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["method"] == "virtual_account" and body["status"] == "pending" and body["amount"] == TEN_BOXES
    assert body["bank"] == "BNI" and body["virtual_account_number"] and body["qr_string"] is None
    assert body["expires_at"] == body["pay_by"]
    assert (await client.post(url, headers=auth)).json() == body  # the same account on a retry

    fake_xendit.pay(fake_xendit.requests_for(body["reference"])[0]["id"])
    # Without the callback (yet) the status is still pending: only the gateway's word places the orders.
    assert (await client.get(url, headers=auth)).json()["status"] == "pending"


async def test_virtual_accounts_are_for_canteens(client, ordering, catering, worker, canteen_staff, database):
    _, nasi_box = catering
    await ordering.put_in_cart(worker, nasi_box.id, 10)
    gate = await ordering.gate()
    with pytest.raises(ValidationFailed) as refused:
        await ordering.checkout(
            worker, payment=PaymentMethod.VIRTUAL_ACCOUNT, point_id=gate.id, day=delivery_day(), now=utcnow()
        )
    assert MSG_VA_CANTEENS in [error.message for error in refused.value.errors]

    await ordering.put_in_cart(canteen_staff, nasi_box.id, 10)
    await log_in(client, canteen_staff)
    cart = await client.get("/cart")
    assert 'value="virtual_account"' in cart.text and 'value="qris"' in cart.text


async def test_an_order_cancelled_after_its_virtual_account_was_paid_is_owed_back_and_recorded_when_sent(
    client, ordering, catering, canteen_staff, manager, fake_xendit, database
):
    seller, _ = catering
    placement = await va_checkout(ordering, catering, canteen_staff)
    checkout_id = placement.checkout.id
    (order,) = placement.orders
    await log_in(client, canteen_staff)
    await client.get(f"/checkouts/{checkout_id}/pay")
    request_id = (await payment_of(database, checkout_id)).gateway_request_id
    assert (await send_callback(client, fake_xendit.pay(request_id))).json()["outcome"] == "processed"

    async with database.sessionmaker() as session:  # the vendor cannot cook that day after all
        await change_status(
            session=session,
            order_id=order.id,
            target=S.DECLINED,
            actor=seller.user,
            reason="Dapur tutup",
            now=utcnow(),
            today=NEXT_MONDAY,
        )
        await session.commit()
    async with database.sessionmaker() as session:
        refund = (await session.execute(select(Refund).where(col(Refund.order_id) == order.id))).scalar_one()
        (owed,) = await transfers.refunds_to_send(session=session, actor=manager)
    assert (refund.amount, refund.status, owed.refund.id) == (TEN_BOXES, RefundStatus.PENDING, refund.id)
    assert fake_xendit.seen("POST", "/refunds") == []  # nothing asked of the gateway: it cannot pull it back

    async with database.sessionmaker() as session:
        await transfers.record_refund_sent(
            session=session, actor=manager, refund_id=refund.id, reference="BNI 0099123", now=utcnow()
        )
        await session.commit()
    async with database.sessionmaker() as session:
        entries = (await session.execute(select(col(LedgerEntry.account), col(LedgerEntry.amount)))).all()
        assert await ledger.unbalanced_transactions(session=session) == []
    assert sorted(entries) == sorted(
        [("clearing", -TEN_BOXES), ("refunds", TEN_BOXES), ("refunds", -TEN_BOXES), ("clearing", TEN_BOXES)]
    )


# --- one ledger for every way to pay ----------------------------------------------------------------------


async def complete(database, order: Order, vendor_user, buyer) -> None:
    async with database.sessionmaker() as session:
        for target in (S.ACCEPTED, S.READY, S.DELIVERED):
            await change_status(
                session=session, order_id=order.id, target=target, actor=vendor_user, now=NOW, today=NEXT_MONDAY
            )
        await change_status(
            session=session, order_id=order.id, target=S.COMPLETED, actor=buyer, now=NOW, today=NEXT_MONDAY
        )
        await session.commit()


async def pay_through_gateway(database, settings: Settings, fake_xendit: DemoXendit, buyer, checkout_id: int) -> None:
    """The buyer opens the payment page and pays; Xendit's callback arrives (service level, on the fixed clock)."""
    async with database.sessionmaker() as session:
        await gateway.start_gateway_payment(
            session=session, settings=settings, actor=buyer, checkout_id=checkout_id, now=NOW
        )
        await session.commit()
    request_id = (await payment_of(database, checkout_id)).gateway_request_id
    assert request_id is not None
    payload = json.dumps(fake_xendit.pay(request_id)).encode()
    async with database.sessionmaker() as session:
        outcome = await gateway.receive_callback(
            session=session, settings=settings, payload=payload, token=XENDIT_CALLBACK_TOKEN, now=NOW
        )
        await session.commit()
    assert outcome == "processed"


async def test_card_qris_virtual_account_invoice_and_cash_orders_reconcile_in_one_ledger(
    client, ordering, catering, canteen_staff, worker, admin, gateway_settings, fake_stripe, fake_xendit, database
):
    seller, nasi_box = catering
    gate = await ordering.gate()
    placed: dict[PaymentMethod, Order] = {}
    for method, buyer in (
        (PaymentMethod.CARD, canteen_staff),
        (PaymentMethod.QRIS, worker),
        (PaymentMethod.VIRTUAL_ACCOUNT, canteen_staff),
        (PaymentMethod.INVOICE, canteen_staff),
        (PaymentMethod.CASH, worker),
    ):
        await ordering.put_in_cart(buyer, nasi_box.id, 10)
        point = gate.id if buyer is worker else None
        (placed[method],) = (await ordering.checkout(buyer, payment=method, point_id=point)).orders

    # Card: the canteen's system confirms its PaymentIntent with Stripe, whose signed event places the order.
    card = placed[PaymentMethod.CARD]
    started = await client.post(
        f"/api/v1/checkouts/{card.checkout_id}/payment", headers=await bearer(database, canteen_staff)
    )
    intent = fake_stripe.succeed_intent(started.json()["payment_intent_id"])
    assert (await deliver(client, fake_stripe.event("payment_intent.succeeded", intent))).status_code == 200
    # QRIS and the virtual account: paid at the gateway, placed by its callback.
    await pay_through_gateway(database, gateway_settings, fake_xendit, worker, placed[PaymentMethod.QRIS].checkout_id)
    await pay_through_gateway(
        database, gateway_settings, fake_xendit, canteen_staff, placed[PaymentMethod.VIRTUAL_ACCOUNT].checkout_id
    )
    for method, order in placed.items():
        (now_order,) = await orders_of(database, order.checkout_id)
        assert now_order.status == S.PLACED, method

    for method, order in placed.items():
        await complete(
            database,
            order,
            seller.user,
            worker if method in (PaymentMethod.QRIS, PaymentMethod.CASH) else canteen_staff,
        )
    async with database.sessionmaker() as session:
        await cash.mark_cash_received(
            session=session, actor=seller.user, order_id=placed[PaymentMethod.CASH].id, now=NOW + timedelta(hours=1)
        )
        invoice = (
            await session.execute(
                select(Invoice).where(col(Invoice.checkout_id) == placed[PaymentMethod.INVOICE].checkout_id)
            )
        ).scalar_one()
        await invoices.mark_invoice_paid(
            session=session, actor=admin, invoice_id=invoice.id, payment_reference="BCA 1", now=NOW
        )
        await session.commit()

    async with database.sessionmaker() as session:
        assert await ledger.unbalanced_transactions(session=session) == []
        rows = (
            await session.execute(select(col(LedgerEntry.order_id), col(LedgerEntry.account), col(LedgerEntry.amount)))
        ).all()
    by_order: dict[int, dict[str, int]] = {}
    for order_id, account, amount in rows:
        by_order.setdefault(order_id, {})[account] = amount
    commission = ledger.commission_for(TEN_BOXES, 500)
    same_as_card = {"clearing": -TEN_BOXES, "vendor": TEN_BOXES - commission, "commission": commission}
    for method in (PaymentMethod.CARD, PaymentMethod.QRIS, PaymentMethod.VIRTUAL_ACCOUNT, PaymentMethod.INVOICE):
        assert by_order[placed[method].id] == same_as_card, method
    # Cash stays with the vendor, who owes the platform its share.
    assert by_order[placed[PaymentMethod.CASH].id] == {"vendor": -commission, "commission": commission}
    assert sum(amount for _, _, amount in rows) == 0
