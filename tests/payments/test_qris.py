"""A worker pays a lunch by QRIS: the payment page shows a dynamic QRIS code for the exact amount (drawn on the
page, downloadable), expiring when the payment window closes, and the order is placed when the gateway's
callback says the money arrived: once, however many times the callback comes, whatever order callbacks come in,
only with the gateway's token, and only for a payment the gateway confirms when asked. A payment that arrives
after the orders were cancelled unpaid is owed back to the worker, in the ledger.

The gateway is a local stand-in for Xendit's HTTP API (backend.payments.demo_xendit), spoken to through the
official xendit-python SDK. The orders here are placed on the real clock (the pages and callbacks run on it).
"""

from __future__ import annotations

import asyncio
import html
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from sqlalchemy import func, select
from sqlmodel import col

from backend.clock import utcnow
from backend.config import Settings
from backend.db import Database
from backend.errors import ValidationFailed
from backend.orders.delivery import DeliveryChoice
from backend.orders.models import DeliveryKind, Order, OrderEvent, OrderStatus, PaymentMethod
from backend.orders.placement import place_checkout
from backend.orders.states import cancel_unpaid_orders
from backend.payments import methods
from backend.payments.demo_xendit import DemoXendit
from backend.payments.gateway import receive_callback, start_gateway_payment
from backend.payments.models import GatewayCallback, LedgerEntry, PaymentStatus, Refund, RefundStatus
from backend.payments.refunds import retry_pending_refunds
from backend.payments.transfers import refunds_to_send
from tests.conftest import AppFor, QueryCounter, browser, log_in
from tests.orders.conftest import ELEVEN
from tests.orders.test_order_api import bearer, delivery_day
from tests.payments.conftest import XENDIT_CALLBACK_TOKEN, orders_of, payment_of, send_callback

S = OrderStatus
P = PaymentMethod
LUNCH = 15_000


@pytest.fixture
async def app(gateway_settings: Settings, app_for: AppFor, database: Database) -> Litestar:
    """The app with every way to pay set up, QRIS through the fake Xendit."""
    return await app_for(gateway_settings)


@pytest.fixture
async def lunch(world, zone):
    """Warung Bu Tini's nasi ayam geprek, Rp 15.000 a plate, from one plate."""
    seller = await world.seller(zone, business_name="Warung Bu Tini", daily_capacity=100)
    product = await world.live_product(seller, "Nasi Ayam Geprek", price=LUNCH, min_order_qty=1)
    return seller, product


@pytest.fixture
async def qris_checkout(ordering, lunch, worker):
    """Rizky's lunch (one plate, Rp 15.000) to collect at the gate, to pay by QRIS; placed now."""
    gate = await ordering.gate()
    _, plate = lunch
    await ordering.put_in_cart(worker, plate.id, 1)
    return await ordering.checkout(
        worker, payment=PaymentMethod.QRIS, point_id=gate.id, day=delivery_day(), now=utcnow()
    )


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


async def count(database: Database, model: Any, *where: Any) -> int:
    async with database.sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def placed_events(database: Database, checkout_id: int) -> int:
    async with database.sessionmaker() as session:
        return (
            await session.execute(
                select(func.count())
                .select_from(OrderEvent)
                .join(Order, col(Order.id) == col(OrderEvent.order_id))
                .where(col(Order.checkout_id) == checkout_id, col(OrderEvent.to_status) == S.PLACED)
            )
        ).scalar_one()


async def open_pay_page(client, checkout_id: int) -> Any:
    page = await client.get(f"/checkouts/{checkout_id}/pay")
    assert page.status_code == 200, page.text
    return page


# --- paying ----------------------------------------------------------------------------------------------


async def test_a_workers_lunch_paid_by_qris_is_placed_once_however_often_the_callback_comes(
    client, worker, qris_checkout, fake_xendit: DemoXendit, database
):
    checkout_id = qris_checkout.checkout.id
    (order,) = qris_checkout.orders
    assert order.status == S.PENDING_PAYMENT and order.total == LUNCH
    await log_in(client, worker)

    with QueryCounter(database) as queries:
        page = await open_pay_page(client, checkout_id)
    assert queries.count <= 5
    payment = await payment_of(database, checkout_id)
    # One dynamic QRIS code for exactly the lunch, known to Xendit by the payment's reference, expiring when the
    # order is cancelled unpaid.
    (request,) = fake_xendit.requests_for(payment.reference)
    assert request["amount"] == LUNCH and request["currency"] == "IDR"
    assert request["payment_method"]["type"] == "QR_CODE"
    assert request["payment_method"]["qr_code"]["channel_code"] == "QRIS"
    expires = request["payment_method"]["qr_code"]["channel_properties"]["expires_at"]
    assert order.payment_due_at is not None and expires.startswith(f"{order.payment_due_at:%Y-%m-%dT%H:%M:%S}")
    assert payment.gateway_request_id == request["id"] and payment.qr_string
    assert payment.expires_at == order.payment_due_at
    # The code is drawn on the page (an SVG, no image from elsewhere), with the amount and the time to pay by.
    assert '<svg role="img" aria-label="QRIS"' in page.text and "<script" not in page.text.split("<main", 1)[-1]
    assert "Rp 15.000" in text_of(page.text) and 'data-payment="waiting"' in page.text
    assert f'hx-get="/checkouts/{checkout_id}/gateway/status"' in page.text

    # Seeing the page again (or a double tap) asks Xendit for nothing new.
    await open_pay_page(client, checkout_id)
    assert len(fake_xendit.seen("POST", "/payment_requests")) == 1

    callback = fake_xendit.pay(request["id"])
    outcomes = [(await send_callback(client, callback)).json()["outcome"] for _ in range(3)]
    assert outcomes == ["processed", "duplicate", "duplicate"]
    assert [o.status for o in await orders_of(database, checkout_id)] == [S.PLACED]
    assert await placed_events(database, checkout_id) == 1
    paid = await payment_of(database, checkout_id)
    assert paid.status == PaymentStatus.SUCCEEDED and paid.gateway_payment_id == callback["data"]["id"]

    # The same payment told again under another delivery id (Xendit retrying after a lost answer) does nothing.
    again = {**callback, "data": {**callback["data"], "id": "py-another-delivery"}}
    assert (await send_callback(client, again)).json()["outcome"] == "ignored"
    assert await placed_events(database, checkout_id) == 1

    status = await client.get(f"/checkouts/{checkout_id}/gateway/status", headers={"HX-Request": "true"})
    assert 'data-payment="succeeded"' in status.text and "hx-get" not in status.text


async def test_the_qris_code_downloads_as_png_and_svg_for_the_buyer_only(
    client, other_client, worker, world, zone, qris_checkout, fake_xendit, database
):
    checkout_id = qris_checkout.checkout.id
    await log_in(client, worker)
    await open_pay_page(client, checkout_id)
    png = await client.get(f"/checkouts/{checkout_id}/qris.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert png.headers["content-type"] == "image/png" and "attachment" in png.headers["content-disposition"]
    svg = await client.get(f"/checkouts/{checkout_id}/qris.svg")
    assert svg.status_code == 200 and b"<svg" in svg.content and b"<script" not in svg.content
    assert (await client.get(f"/checkouts/{checkout_id}/qris.gif")).status_code == 404

    someone_else = await world.user(worker.role, zone=zone, full_name="Agus Salim")
    await log_in(other_client, someone_else)
    assert (await other_client.get(f"/checkouts/{checkout_id}/qris.png")).status_code == 404
    assert (await other_client.get(f"/checkouts/{checkout_id}/pay")).status_code == 404


# --- callbacks that must change nothing ------------------------------------------------------------------


async def test_a_callback_without_the_gateways_token_is_refused_and_changes_nothing(
    client, worker, qris_checkout, fake_xendit, database
):
    checkout_id = qris_checkout.checkout.id
    await log_in(client, worker)
    await open_pay_page(client, checkout_id)
    payment = await payment_of(database, checkout_id)
    callback = fake_xendit.pay(payment.gateway_request_id)

    for token in (None, "", "forged-token", "callback-token-pasar-kawasan-012345678"):
        refused = await send_callback(client, callback, token=token)
        assert refused.status_code == 401, token
        assert refused.json()["code"] == "bad_callback_token"
    assert await count(database, GatewayCallback) == 0
    assert [o.status for o in await orders_of(database, checkout_id)] == [S.PENDING_PAYMENT]

    # The real one still works afterwards.
    assert (await send_callback(client, callback)).json()["outcome"] == "processed"


async def test_a_callback_with_the_token_but_not_for_our_payment_is_rejected_and_kept_with_the_reason(
    client, worker, qris_checkout, fake_xendit, database
):
    """The token proves who sent it, not what was paid: the payment request is read back from Xendit."""
    checkout_id = qris_checkout.checkout.id
    await log_in(client, worker)
    await open_pay_page(client, checkout_id)
    payment = await payment_of(database, checkout_id)

    # Claims to pay our reference, but with a payment request that is still unpaid at Xendit.
    unpaid = {
        "event": "payment.succeeded",
        "data": {
            "id": "py-claimed",
            "payment_request_id": payment.gateway_request_id,
            "reference_id": payment.reference,
            "amount": LUNCH,
            "currency": "IDR",
            "status": "SUCCEEDED",
        },
    }
    # Xendit, asked itself, says that payment request is unpaid: not acted on, not kept, answered 503 (a real
    # callback comes again; see the next test).
    assert (await send_callback(client, unpaid)).status_code == 503
    # A payment request paid, but for another amount and another reference (somebody else's Rp 1.000).
    other = fake_xendit.create(
        {
            "reference_id": "PK-OTHER1",
            "amount": 1000,
            "currency": "IDR",
            "payment_method": {"type": "QR_CODE", "qr_code": {"channel_code": "QRIS"}},
        }
    )
    paid_other = fake_xendit.pay(other["id"])
    paid_other["data"]["reference_id"] = payment.reference  # the callback lies about whose it is
    assert (await send_callback(client, paid_other)).json()["outcome"] == "rejected"
    # And a reference we never made.
    unknown = fake_xendit.pay(fake_xendit.create({**other, "reference_id": "PK-NOBODY"})["id"])
    assert (await send_callback(client, unknown)).json()["outcome"] == "rejected"

    assert [o.status for o in await orders_of(database, checkout_id)] == [S.PENDING_PAYMENT]
    async with database.sessionmaker() as session:
        reasons = (await session.execute(select(col(GatewayCallback.rejected_reason)))).scalars().all()
    assert len(reasons) == 2 and all(reasons)


async def test_a_callback_xendit_does_not_yet_confirm_is_answered_503_and_acted_on_when_it_comes_again(
    client, worker, qris_checkout, fake_xendit, database
):
    """Xendit's read of a payment may lag behind its callback: refused for good, a real payment would stay
    unplaced and nobody would owe it back. The callback is kept only once it is acted on."""
    checkout_id = qris_checkout.checkout.id
    await log_in(client, worker)
    await open_pay_page(client, checkout_id)
    payment = await payment_of(database, checkout_id)
    callback = fake_xendit.pay(payment.gateway_request_id)
    fake_xendit.payment_requests[payment.gateway_request_id]["status"] = "PENDING"  # its read is behind

    assert (await send_callback(client, callback)).status_code == 503
    assert await count(database, GatewayCallback) == 0
    assert [o.status for o in await orders_of(database, checkout_id)] == [S.PENDING_PAYMENT]

    fake_xendit.payment_requests[payment.gateway_request_id]["status"] = "SUCCEEDED"
    assert (await send_callback(client, callback)).json()["outcome"] == "processed"
    assert [o.status for o in await orders_of(database, checkout_id)] == [S.PLACED]
    assert (await send_callback(client, callback)).json()["outcome"] == "duplicate"


async def test_a_callback_before_the_payment_request_was_stored_places_the_order_once(
    client, worker, qris_checkout, fake_xendit, database
):
    """Xendit made the code and the worker paid it, but our side never stored Xendit's answer (lost on the
    way): the callback finds the payment by its reference, and the page shows it paid without a new code."""
    checkout_id = qris_checkout.checkout.id
    payment = await payment_of(database, checkout_id)
    assert payment.gateway_request_id is None
    request = fake_xendit.create(
        {
            "reference_id": payment.reference,
            "amount": LUNCH,
            "currency": "IDR",
            "payment_method": {"type": "QR_CODE", "qr_code": {"channel_code": "QRIS"}},
        }
    )
    callback = fake_xendit.pay(request["id"])
    assert (await send_callback(client, callback)).json()["outcome"] == "processed"
    paid = await payment_of(database, checkout_id)
    assert paid.status == PaymentStatus.SUCCEEDED and paid.gateway_request_id == request["id"]
    assert [o.status for o in await orders_of(database, checkout_id)] == [S.PLACED]

    await log_in(client, worker)
    page = await open_pay_page(client, checkout_id)
    assert 'data-payment="succeeded"' in page.text
    assert fake_xendit.seen("POST", "/payment_requests") == []
    # Other events about it, before or after, change nothing.
    expired = {"event": "payment_request.expired", "data": {"id": request["id"], "reference_id": payment.reference}}
    assert (await send_callback(client, expired)).json()["outcome"] == "ignored"
    assert (await send_callback(client, callback)).json()["outcome"] == "duplicate"
    assert await placed_events(database, checkout_id) == 1


async def test_when_xendit_cannot_be_asked_the_callback_is_answered_503_and_works_when_sent_again(
    client, worker, qris_checkout, fake_xendit, database
):
    checkout_id = qris_checkout.checkout.id
    await log_in(client, worker)
    await open_pay_page(client, checkout_id)
    callback = fake_xendit.pay((await payment_of(database, checkout_id)).gateway_request_id)
    fake_xendit.outage()
    assert (await send_callback(client, callback)).status_code == 503
    assert await count(database, GatewayCallback) == 0  # rolled back: Xendit's next try is not a duplicate
    fake_xendit.recover()
    assert (await send_callback(client, callback)).json()["outcome"] == "processed"
    assert [o.status for o in await orders_of(database, checkout_id)] == [S.PLACED]


async def test_when_xendit_is_down_the_page_says_so_and_the_order_keeps_waiting(
    client, worker, qris_checkout, fake_xendit, database
):
    checkout_id = qris_checkout.checkout.id
    await log_in(client, worker)
    fake_xendit.outage()
    page = await client.get(f"/checkouts/{checkout_id}/pay")
    assert page.status_code == 503 and 'role="alert"' in page.text
    payment = await payment_of(database, checkout_id)
    assert payment.gateway_request_id is None and "500" in payment.last_error
    assert [o.status for o in await orders_of(database, checkout_id)] == [S.PENDING_PAYMENT]
    fake_xendit.recover()
    page = await open_pay_page(client, checkout_id)
    assert '<svg role="img" aria-label="QRIS"' in page.text
    assert (await payment_of(database, checkout_id)).last_error == ""


# --- a payment after the window ---------------------------------------------------------------------------


async def late_payment(client, qris_checkout, fake_xendit, database) -> Order:
    """The worker opens the QRIS page, the order expires unpaid, then the worker's bank pays at the last second
    and Xendit's callback comes after the order was cancelled."""
    checkout_id = qris_checkout.checkout.id
    (order,) = qris_checkout.orders
    await open_pay_page(client, checkout_id)
    request_id = (await payment_of(database, checkout_id)).gateway_request_id
    assert order.payment_due_at is not None
    async with database.sessionmaker() as session:
        assert await cancel_unpaid_orders(session=session, now=order.payment_due_at + timedelta(seconds=1)) == 1
        await session.commit()
    assert (await payment_of(database, checkout_id)).status == PaymentStatus.CANCELED

    assert (await send_callback(client, fake_xendit.pay(request_id))).json()["outcome"] == "processed"
    assert [o.status for o in await orders_of(database, checkout_id)] == [S.CANCELLED]
    assert (await payment_of(database, checkout_id)).status == PaymentStatus.SUCCEEDED
    return order


async def refund_and_ledger(database, order: Order, manager) -> tuple[Refund, list[tuple[str, int]], list[Any]]:
    async with database.sessionmaker() as session:
        refund = (await session.execute(select(Refund).where(col(Refund.order_id) == order.id))).scalar_one()
        entries = [
            (account, amount)
            for account, amount in (
                await session.execute(select(col(LedgerEntry.account), col(LedgerEntry.amount)))
            ).all()
        ]
        owed = await refunds_to_send(session=session, actor=manager)
    return refund, sorted(entries), owed


async def send_refunds(database, settings: Settings) -> int:
    async with database.sessionmaker() as session:
        sent = await retry_pending_refunds(session=session, settings=settings, now=utcnow())
        await session.commit()
    return sent


async def test_a_qris_payment_after_the_order_expired_is_given_back_through_the_gateway(
    client, worker, manager, qris_checkout, fake_xendit, gateway_settings, database
):
    await log_in(client, worker)
    order = await late_payment(client, qris_checkout, fake_xendit, database)
    refund, entries, owed = await refund_and_ledger(database, order, manager)
    # Owed back, to the app or bank it came from: not a transfer the staff make.
    assert (refund.amount, refund.status) == (LUNCH, RefundStatus.PENDING)
    assert entries == [] and owed == []
    page = await open_pay_page(client, qris_checkout.checkout.id)
    assert "data-owed-back" in page.text and len(fake_xendit.seen("POST", "/payment_requests")) == 1

    fake_xendit.outage()  # the job tries while Xendit is down: the refund waits
    assert await send_refunds(database, gateway_settings) == 0
    fake_xendit.recover()
    assert await send_refunds(database, gateway_settings) == 1
    assert await send_refunds(database, gateway_settings) == 0  # sent once
    tried, asked = fake_xendit.seen("POST", "/refunds")  # once while Xendit was down, once accepted
    assert tried == asked
    assert asked["amount"] == LUNCH and asked["payment_request_id"] == qris_checkout_request(fake_xendit)
    refund, entries, owed = await refund_and_ledger(database, order, manager)
    assert refund.status == RefundStatus.SUCCEEDED and refund.gateway_refund_id in fake_xendit.refunds
    assert entries == [] and owed == []
    # The worker's order says so, and so does the API.
    order_page = await client.get(f"/orders/{order.id}")
    assert 'data-refund="succeeded" data-refund-method="qris"' in order_page.text
    detail = await client.get(f"/api/v1/orders/{order.id}", headers=await bearer(database, worker))
    assert detail.json()["refund"]["method"] == "qris" and detail.json()["refund"]["status"] == "succeeded"


def qris_checkout_request(fake_xendit: DemoXendit) -> str:
    (request,) = fake_xendit.payment_requests.values()
    return str(request["id"])


async def test_a_qris_refund_the_gateway_cannot_make_is_owed_back_by_hand_in_the_ledger(
    client, worker, manager, qris_checkout, fake_xendit, gateway_settings, database
):
    """The worker's issuer takes no QRIS refunds: the market manager transfers it back and records it."""
    await log_in(client, worker)
    order = await late_payment(client, qris_checkout, fake_xendit, database)
    fake_xendit.refuse_refunds()
    assert await send_refunds(database, gateway_settings) == 0
    refund, entries, owed = await refund_and_ledger(database, order, manager)
    assert refund.status == RefundStatus.PENDING and refund.gateway_refund_id is None
    assert "REFUND_NOT_SUPPORTED" in refund.last_error
    assert entries == [("clearing", -LUNCH), ("refunds", LUNCH)]
    assert [row.refund.id for row in owed] == [refund.id]
    assert await send_refunds(database, gateway_settings) == 0  # not asked of the gateway again
    assert len(fake_xendit.seen("POST", "/refunds")) == 1


async def test_a_qris_refund_the_gateway_reports_failed_is_owed_back_by_hand_once(
    client, worker, manager, qris_checkout, fake_xendit, gateway_settings, database
):
    await log_in(client, worker)
    order = await late_payment(client, qris_checkout, fake_xendit, database)
    fake_xendit.refund_status = "PENDING"
    assert await send_refunds(database, gateway_settings) == 1
    refund, entries, owed = await refund_and_ledger(database, order, manager)
    assert refund.status == RefundStatus.PENDING and entries == [] and owed == []

    failed = fake_xendit.refund_callback(refund.gateway_refund_id, "FAILED")
    assert (await send_callback(client, failed, token="forged")).status_code == 401
    assert [(await send_callback(client, failed)).json()["outcome"] for _ in range(2)] == ["processed", "duplicate"]
    # A late "succeeded" about it changes nothing now: it is the staff's to send.
    late = fake_xendit.refund_callback(refund.gateway_refund_id, "SUCCEEDED")
    assert (await send_callback(client, late)).json()["outcome"] == "ignored"
    refund, entries, owed = await refund_and_ledger(database, order, manager)
    assert refund.status == RefundStatus.PENDING
    assert entries == [("clearing", -LUNCH), ("refunds", LUNCH)]
    assert [row.refund.id for row in owed] == [refund.id]


async def test_a_refund_callback_the_gateway_does_not_confirm_changes_nothing(
    client, worker, manager, qris_checkout, fake_xendit, gateway_settings, database
):
    """Anyone holding the callback token could say a refund failed: believed, the staff would send back by hand
    what Xendit gives back too. The refund is read back from Xendit first."""
    await log_in(client, worker)
    order = await late_payment(client, qris_checkout, fake_xendit, database)
    fake_xendit.refund_status = "PENDING"
    assert await send_refunds(database, gateway_settings) == 1
    (sent,) = fake_xendit.refunds
    claimed = {"event": "refund.failed", "data": {**fake_xendit.refunds[sent], "status": "FAILED"}}  # Xendit: pending

    assert (await send_callback(client, claimed)).status_code == 503
    refund, entries, owed = await refund_and_ledger(database, order, manager)
    assert refund.status == RefundStatus.PENDING and entries == [] and owed == []
    assert await count(database, GatewayCallback) == 1  # the payment's only

    succeeded = fake_xendit.refund_callback(sent, "SUCCEEDED")
    assert (await send_callback(client, succeeded)).json()["outcome"] == "processed"
    refund, entries, owed = await refund_and_ledger(database, order, manager)
    assert refund.status == RefundStatus.SUCCEEDED and entries == [] and owed == []


@pytest.mark.postgres_only
async def test_a_refund_callback_that_overtakes_the_job_sending_it_is_answered_503_until_the_job_has_committed(
    client, worker, manager, qris_checkout, fake_xendit, gateway_settings, database
):
    """The refunds job sends a batch in one transaction: Xendit's callback about a refund may come before the job
    has committed the refund's id. It is not spent on a refund we cannot see yet."""
    await log_in(client, worker)
    order = await late_payment(client, qris_checkout, fake_xendit, database)
    fake_xendit.refund_status = "PENDING"
    async with database.sessionmaker() as job:
        assert await retry_pending_refunds(session=job, settings=gateway_settings, now=utcnow()) == 1
        (sent,) = fake_xendit.refunds  # at Xendit, not yet committed here
        failed = fake_xendit.refund_callback(sent, "FAILED")
        assert (await send_callback(client, failed)).status_code == 503
        await job.commit()
    assert (await send_callback(client, failed)).json()["outcome"] == "processed"
    refund, entries, owed = await refund_and_ledger(database, order, manager)
    assert refund.gateway_refund_id == sent and [row.refund.id for row in owed] == [refund.id]
    assert entries == [("clearing", -LUNCH), ("refunds", LUNCH)]


# --- what checkout offers ---------------------------------------------------------------------------------


def test_qris_is_offered_to_everyone_and_virtual_accounts_to_canteens_once_the_gateway_is_set_up():
    worker = methods.Offer(role="worker", card=True, bank_transfer=True, gateway=True)
    canteen = methods.Offer(role="canteen_staff", invoice_terms=True, card=True, gateway=True)
    assert methods.offered(worker) == [P.CASH, P.QRIS, P.BANK_TRANSFER, P.CARD]
    assert methods.offered(canteen) == [P.INVOICE, P.QRIS, P.VIRTUAL_ACCOUNT, P.CARD]
    assert methods.offered(methods.Offer(role="worker")) == [P.CASH]
    # The amount decides too: QRIS carries at most Rp 10.000.000, a virtual account at least Rp 10.000.
    assert P.QRIS not in methods.offered(canteen, amount=12_000_000)
    assert P.VIRTUAL_ACCOUNT not in methods.offered(canteen, amount=5_000)
    assert methods.offered(canteen, amount=LUNCH) == [P.INVOICE, P.QRIS, P.VIRTUAL_ACCOUNT, P.CARD]


async def test_the_cart_offers_qris_only_when_the_gateway_is_set_up(
    client, worker, ordering, lunch, app_for, stripe_settings
):
    _, plate = lunch
    await ordering.put_in_cart(worker, plate.id, 1)
    await log_in(client, worker)
    cart = await client.get("/cart")
    assert 'value="qris"' in cart.text and 'value="virtual_account"' not in cart.text

    async with browser(await app_for(stripe_settings)) as without_gateway:
        await log_in(without_gateway, worker)
        assert 'value="qris"' not in (await without_gateway.get("/cart")).text


async def test_placing_refuses_qris_without_the_gateway_or_above_its_limit(ordering, lunch, worker, database):
    gate = await ordering.gate()
    _, plate = lunch
    await ordering.put_in_cart(worker, plate.id, 1)
    async with database.sessionmaker() as session:
        with pytest.raises(ValidationFailed) as refused:
            await place_checkout(
                session=session,
                buyer=worker,
                delivery=DeliveryChoice(
                    day=delivery_day(), slot=ELEVEN, kind=DeliveryKind.ZONE_POINT, point_id=gate.id
                ),
                payment_method=PaymentMethod.QRIS,
                idempotency_key="k",
                now=utcnow(),
            )
        await session.rollback()
    assert refused.value.errors[0].message == methods.MSG_GATEWAY_UNAVAILABLE
    assert methods.amount_problem(PaymentMethod.QRIS, 10_000_001) is not None
    assert methods.amount_problem(PaymentMethod.QRIS, 10_000_000) is None


# --- at the same moment (PostgreSQL) ---------------------------------------------------------------------


async def callback_in_own_transaction(database, settings: Settings, callback: dict[str, Any]) -> str:
    """One app worker receiving one delivery: its own connection and transaction, committed at the end."""
    async with database.sessionmaker() as session:
        outcome = await receive_callback(
            session=session,
            settings=settings,
            payload=json.dumps(callback).encode(),
            token=XENDIT_CALLBACK_TOKEN,
            now=utcnow(),
        )
        await session.commit()
        return outcome


async def test_callbacks_delivered_to_several_workers_at_once_place_the_order_once(
    worker, qris_checkout, fake_xendit, gateway_settings, database
):
    if database.engine.dialect.name != "postgresql":
        pytest.skip("concurrent deliveries are tested on PostgreSQL")
    checkout_id = qris_checkout.checkout.id
    async with database.sessionmaker() as session:
        await start_gateway_payment(
            session=session, settings=gateway_settings, actor=worker, checkout_id=checkout_id, now=utcnow()
        )
        await session.commit()
    callback = fake_xendit.pay((await payment_of(database, checkout_id)).gateway_request_id)
    retold = {**callback, "data": {**callback["data"], "id": "py-retold"}}
    outcomes = await asyncio.gather(
        *(callback_in_own_transaction(database, gateway_settings, c) for c in (callback,) * 4 + (retold,) * 2)
    )
    assert sorted(outcomes) == ["duplicate", "duplicate", "duplicate", "duplicate", "ignored", "processed"]
    assert await placed_events(database, checkout_id) == 1
    assert [o.status for o in await orders_of(database, checkout_id)] == [S.PLACED]
