"""Cash on delivery for workers: refused above the limit per vendor order, and the vendor records the cash once
the order is handed over, once only, for their own orders only.

Orders are placed on the ordering helpers' fixed clock (Monday 23 November 2026, 09.00 WIB) for the next Monday;
pages run on the real clock.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.accounts import service as account_service
from backend.clock import utcnow, wib_today
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.i18n import gettext, set_locale
from backend.orders import cart
from backend.orders.delivery import DeliveryChoice
from backend.orders.models import DeliveryKind, Order, OrderStatus, PaymentMethod
from backend.orders.placement import place_checkout
from backend.orders.states import change_status
from backend.payments import cash
from backend.payments.models import LedgerEntry
from tests.conftest import app, found, log_in, submit  # noqa: F401  (`app` without card payments: this folder's conftest turns them on)
from tests.orders.conftest import ELEVEN, NEXT_MONDAY, NOW

S = OrderStatus
HTMX = {"HX-Request": "true"}


def t(message: str, **params) -> str:
    set_locale("id")
    return gettext(message, **params)


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


async def move(database, order_id: int, actor, *targets: OrderStatus) -> None:
    async with database.sessionmaker() as session:
        for target in targets:
            await change_status(
                session=session, order_id=order_id, target=target, actor=actor, now=NOW, today=NEXT_MONDAY
            )
        await session.commit()


async def stored(database, order_id: int) -> Order:
    async with database.sessionmaker() as session:
        return await session.get(Order, order_id)


async def bearer(database, user) -> dict[str, str]:
    async with database.sessionmaker() as session:
        raw, _ = await account_service.create_api_token(session=session, user=user, name="kasir")
        await session.commit()
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
async def cash_order(ordering, catering, worker):
    """Rizky's 10 box (Rp 150.000), cash on delivery at the gate."""
    gate = await ordering.gate()
    _, nasi_box = catering
    return await ordering.order(worker, nasi_box.id, 10, point_id=gate.id)


# --- the limit -------------------------------------------------------------------------------------------


async def test_cash_is_refused_for_a_vendor_order_above_the_limit_and_nothing_is_held(
    ordering, world, zone, catering, worker, database
):
    seller, nasi_box = catering
    other = await world.seller(zone, business_name="Keripik Mbak Nur")
    snack = await world.live_product(other, "Keripik Tempe", price=12_000, min_order_qty=1, unit="pack")
    gate = await ordering.gate()
    before = await ordering.remaining(seller.vendor.id)
    await ordering.put_in_cart(worker, nasi_box.id, 40)  # 40 × Rp 15.000 = Rp 600.000
    await ordering.put_in_cart(worker, snack.id, 2)

    with pytest.raises(ValidationFailed) as refused:
        await ordering.checkout(worker, point_id=gate.id)
    (error,) = refused.value.errors
    assert (error.field, error.message) == (f"vendor-{seller.vendor.id}", cash.MSG_OVER_LIMIT)
    assert error.params == {"limit": "Rp 500.000", "vendor": "Catering Bu Sri", "total": "Rp 600.000"}
    assert await ordering.count_orders() == 0 and await ordering.remaining(seller.vendor.id) == before

    # The same cart is placed where the platform set the limit at its total.
    async with database.sessionmaker() as session:
        placed = await place_checkout(
            session=session,
            buyer=worker,
            payment_method=PaymentMethod.CASH,
            idempotency_key="higher",
            now=NOW,
            cash_limit=600_000,
            delivery=DeliveryChoice(day=NEXT_MONDAY, slot=ELEVEN, kind=DeliveryKind.ZONE_POINT, point_id=gate.id),
        )
        await session.commit()
    assert sorted(order.total for order in placed.orders) == [24_000, 600_000]


async def test_the_cart_says_the_limit_and_refuses_above_it_next_to_the_vendor(
    client, ordering, catering, worker, database
):
    seller, nasi_box = catering
    await ordering.gate()
    async with database.sessionmaker() as session:
        await cart.set_quantity(
            session=session, buyer=worker, product_id=nasi_box.id, quantity=40, today=wib_today(utcnow())
        )
        await session.commit()
    await log_in(client, worker)
    page = await client.get("/cart")
    assert t("Cash on delivery is for orders up to %(limit)s per vendor.", limit="Rp 500.000") in text_of(page.text)
    key = found(r'name="idempotency_key" value="([^"]+)"', page.text).group(1)
    point = found(r'<option value="(\d+)"', page.text.split('id="f-delivery_place"')[1]).group(1)

    refused = await submit(
        client,
        "/checkout",
        {
            "idempotency_key": key,
            "delivery_day": (wib_today(utcnow()) + timedelta(days=3)).isoformat(),
            "delivery_slot": "11:00",
            "delivery_place": point,
            "payment_method": "cash",
        },
    )
    assert refused.status_code == 400
    vendor_block = refused.text.split(f'id="vendor-{seller.vendor.id}"')[1].split("</section>")[0]
    assert t(cash.MSG_OVER_LIMIT, limit="Rp 500.000", vendor="Catering Bu Sri", total="Rp 600.000") in text_of(
        vendor_block
    )
    async with database.sessionmaker() as session:
        assert (await session.execute(select(Order))).first() is None


async def test_the_checkout_api_refuses_cash_above_the_limit(client, ordering, catering, worker, database):
    seller, nasi_box = catering
    gate = await ordering.gate()
    auth = await bearer(database, worker)
    await client.put(f"/api/v1/cart/lines/{nasi_box.id}", json={"quantity": 40}, headers=auth)
    refused = await client.post(
        "/api/v1/checkouts",
        headers={**auth, "Idempotency-Key": "c-1"},
        json={
            "delivery_day": (wib_today(utcnow()) + timedelta(days=3)).isoformat(),
            "delivery_slot": "11:00",
            "delivery_kind": "zone_point",
            "delivery_point_id": gate.id,
            "payment_method": "cash",
        },
    )
    assert refused.status_code == 422
    assert [error["field"] for error in refused.json()["errors"]] == [f"vendor-{seller.vendor.id}"]


# --- cash received ------------------------------------------------------------------------------------------


async def test_a_cash_order_completes_and_the_vendor_records_the_cash_once(
    client, catering, worker, cash_order, database, count_queries
):
    seller, _ = catering
    await log_in(client, seller.user)
    placed_page = await client.get(f"/vendor/orders/{cash_order.id}")
    assert 'data-cash="due"' in placed_page.text and 'data-action="cash-received"' not in placed_page.text
    too_early = await submit(client, f"/vendor/orders/{cash_order.id}/cash-received", {})
    assert too_early.status_code == 409 and t(cash.MSG_NOT_HANDED_OVER) in text_of(too_early.text)

    await move(database, cash_order.id, seller.user, S.ACCEPTED, S.READY, S.DELIVERED)
    count_queries.statements.clear()
    page = await client.get(f"/vendor/orders/{cash_order.id}")
    assert count_queries.count <= 5, count_queries.statements
    assert f'action="/vendor/orders/{cash_order.id}/cash-received"' in page.text
    assert t("Cash received: %(amount)s", amount="Rp 150.000") in text_of(page.text)

    received = await submit(client, f"/vendor/orders/{cash_order.id}/cash-received", {"back": "detail"})
    assert received.status_code == 303
    assert received.headers["location"] == f"/vendor/orders/{cash_order.id}?notice=cash_received"
    order = await stored(database, cash_order.id)
    assert order.cash_received_at is not None and order.cash_received_by_id == seller.user.id
    first_mark = order.cash_received_at
    shown = await client.get(received.headers["location"])
    assert 'data-cash="received"' in shown.text and 'data-action="cash-received"' not in shown.text

    again = await submit(client, f"/vendor/orders/{cash_order.id}/cash-received", {"back": "detail"})
    assert again.status_code == 409 and t(cash.MSG_ALREADY_RECEIVED) in text_of(again.text)
    assert (await stored(database, cash_order.id)).cash_received_at == first_mark

    # The worker confirms: the order completes and is entered in the ledger; the cash stays recorded.
    await move(database, cash_order.id, worker, S.COMPLETED)
    async with database.sessionmaker() as session:
        amounts = {
            entry.account: entry.amount
            for entry in (
                await session.execute(select(LedgerEntry).where(col(LedgerEntry.order_id) == cash_order.id))
            ).scalars()
        }
    # The vendor holds the Rp 150.000 in cash and owes the platform its 5 %.
    assert amounts == {"vendor": -7_500, "commission": 7_500}


async def test_the_board_records_the_cash_in_place_with_htmx(client, catering, cash_order, database):
    seller, _ = catering
    await move(database, cash_order.id, seller.user, S.ACCEPTED, S.READY, S.DELIVERED)
    await log_in(client, seller.user)
    board = await client.get(f"/vendor/orders?day={cash_order.delivery_day.isoformat()}")
    assert f'hx-post="/vendor/orders/{cash_order.id}/cash-received"' in board.text

    answer = await submit(client, f"/vendor/orders/{cash_order.id}/cash-received", {"back": "board"}, headers=HTMX)
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith(f'<div class="cash-line" id="cash-{cash_order.id}" data-cash="received">')
    again = await submit(client, f"/vendor/orders/{cash_order.id}/cash-received", {"back": "board"}, headers=HTMX)
    assert again.status_code == 200 and t(cash.MSG_ALREADY_RECEIVED) in text_of(again.text)


async def test_only_the_orders_vendor_records_its_cash_and_only_for_cash_orders(
    client, world, zone, catering, ordering, canteen_staff, worker, cash_order, database
):
    seller, nasi_box = catering
    await move(database, cash_order.id, seller.user, S.ACCEPTED, S.READY, S.DELIVERED)
    intruder = await world.seller(zone, business_name="Dapur Lain")
    async with database.sessionmaker() as session:
        with pytest.raises(NotFound):
            await cash.mark_cash_received(session=session, actor=intruder.user, order_id=cash_order.id, now=NOW)
        with pytest.raises(NotFound):
            await cash.mark_cash_received(session=session, actor=worker, order_id=cash_order.id, now=NOW)

    await log_in(client, intruder.user)
    assert (await submit(client, f"/vendor/orders/{cash_order.id}/cash-received", {})).status_code == 404
    await log_in(client, worker)
    assert (await submit(client, f"/vendor/orders/{cash_order.id}/cash-received", {})).status_code == 403
    assert (await stored(database, cash_order.id)).cash_received_at is None

    invoice_order = await ordering.order(canteen_staff, nasi_box.id, 20)
    await move(database, invoice_order.id, seller.user, S.ACCEPTED, S.READY, S.DELIVERED)
    async with database.sessionmaker() as session:
        with pytest.raises(Conflict) as not_cash:
            await cash.mark_cash_received(session=session, actor=seller.user, order_id=invoice_order.id, now=NOW)
    assert not_cash.value.message == cash.MSG_NOT_CASH
    await log_in(client, seller.user)
    assert "data-cash=" not in (await client.get(f"/vendor/orders/{invoice_order.id}")).text


async def test_the_api_records_the_cash_once_for_the_orders_vendor(client, world, zone, catering, cash_order, database):
    seller, _ = catering
    await move(database, cash_order.id, seller.user, S.ACCEPTED, S.READY, S.DELIVERED)
    mine, theirs = (
        await bearer(database, seller.user),
        await bearer(database, (await world.seller(zone, business_name="Dapur Lain")).user),
    )
    assert (await client.post(f"/api/v1/orders/{cash_order.id}/cash-received", headers=theirs)).status_code == 404
    first = await client.post(f"/api/v1/orders/{cash_order.id}/cash-received", headers=mine)
    assert first.status_code == 200 and first.json()["number"] == cash_order.number
    assert first.json()["cash_received_at"].endswith(("Z", "+00:00"))
    second = await client.post(f"/api/v1/orders/{cash_order.id}/cash-received", headers=mine)
    assert second.status_code == 409 and second.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("status", "received", "step"),
    [
        (S.PLACED, False, cash.CashStep.DUE),
        (S.ACCEPTED, False, cash.CashStep.DUE),
        (S.READY, False, cash.CashStep.DUE),
        (S.DELIVERED, False, cash.CashStep.RECEIVABLE),
        (S.COMPLETED, False, cash.CashStep.RECEIVABLE),
        (S.COMPLETED, True, cash.CashStep.RECEIVED),
        (S.DECLINED, False, None),
        (S.CANCELLED, False, None),
    ],
)
def test_the_vendor_collects_cash_at_hand_over_and_records_it_once(status, received, step):
    """The page shows the button, the reminder or the record from the same rule the recording itself checks."""
    assert cash.cash_step(_order(PaymentMethod.CASH, status, cash_received_at=NOW if received else None)) == step


def test_an_order_paid_otherwise_has_no_cash_step():
    assert cash.cash_step(_order(PaymentMethod.CARD, S.DELIVERED)) is None


def _order(method: PaymentMethod, status: OrderStatus, **fields: Any) -> Order:
    """An order as the rule sees it: its payment method, status and cash record (nothing else is read)."""
    return Order(payment_method=method, status=status, **fields)
