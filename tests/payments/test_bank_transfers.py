"""Any buyer can pay by bank transfer to the platform's account: the checkout gets a payment reference, the
amount and the same payment window as a card; the zone's manager (or an admin) confirms the money arrived, and
the orders go on exactly as after a card payment. Unpaid in time, they are cancelled like unpaid card orders.

Service-level steps run on the ordering helpers' fixed clock (Monday 23 November 2026, 09.00 WIB); HTTP requests
run on the real clock. The app here has no Stripe keys: a new canteen still has a way to pay.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.accounts.models import Role
from backend.errors import NotFound, ValidationFailed
from backend.i18n import gettext, set_locale
from backend.moderation.models import AuditEntry
from backend.orders.delivery import DeliveryChoice
from backend.orders.models import DeliveryKind, OrderStatus, PaymentMethod
from backend.orders.placement import MSG_TRANSFER_UNAVAILABLE, place_checkout
from backend.orders.states import cancel_unpaid_orders, change_status
from backend.payments import transfers
from backend.payments.models import LedgerEntry, PaymentStatus
from backend.payments.transfers import MSG_NOT_FOUND, MSG_WRONG_AMOUNT, normalise_reference
from tests.conftest import TEST_BANK, app, found, log_in, submit  # noqa: F401  (`app` without card payments)
from tests.orders.conftest import ELEVEN, NEXT_MONDAY, NOW
from tests.orders.test_order_api import bearer, check_out, delivery_day
from tests.payments.conftest import orders_of, payment_of

S = OrderStatus
REFERENCE = re.compile(r"PK-[2-9A-HJ-NP-Z]{6}")


def t(message: str, **params: object) -> str:
    set_locale("id")
    return gettext(message, **params)


async def transfer_checkout(ordering, two_vendors, buyer):
    """200 nasi box (Rp 2.600.000) and 50 snack box (Rp 400.000) to pay by bank transfer: Rp 3.000.000."""
    (_seller, nasi_box), (_other, snack) = two_vendors
    await ordering.put_in_cart(buyer, nasi_box.id, 200)
    await ordering.put_in_cart(buyer, snack.id, 50)
    return await ordering.checkout(buyer, payment=PaymentMethod.BANK_TRANSFER)


async def reference_of(database, checkout_id: int) -> str:
    reference = (await payment_of(database, checkout_id)).reference
    assert reference is not None
    return reference


async def confirm(database, actor, reference: str, amount: int, now=NOW) -> transfers.Confirmation:
    async with database.sessionmaker() as session:
        try:
            confirmation = await transfers.confirm_transfer(
                session=session, actor=actor, reference=reference, amount=amount, now=now
            )
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
        return confirmation


async def move(database, order_id: int, target: OrderStatus, actor) -> None:
    async with database.sessionmaker() as session:
        await change_status(
            session=session, order_id=order_id, target=target, actor=actor, reason="", now=NOW, today=NEXT_MONDAY
        )
        await session.commit()


# --- the service ------------------------------------------------------------------------------------------


def test_references_are_short_unambiguous_and_read_as_typed():
    references = {transfers.new_reference() for _ in range(200)}
    assert len(references) == 200 and all(REFERENCE.fullmatch(reference) for reference in references)
    assert all(not reference[3:].isdigit() for reference in references)  # never mistaken for PK-000123
    assert normalise_reference(" pk 7f3k-2q ") == normalise_reference("7F3K2Q") == "PK-7F3K2Q"
    for typo in ("", "PK-7F3K2", "PK-7F3K2Q9", "PK-0OI1AA"):
        with pytest.raises(ValidationFailed):
            normalise_reference(typo)


async def test_a_manager_confirms_a_transfer_once_and_the_orders_go_on_as_after_a_card_payment(
    ordering, two_vendors, canteen_staff, manager, database
):
    placement = await transfer_checkout(ordering, two_vendors, canteen_staff)
    checkout_id = placement.checkout.id
    assert [order.status for order in placement.orders] == [S.PENDING_PAYMENT, S.PENDING_PAYMENT]
    assert {order.payment_due_at for order in placement.orders} == {NOW + timedelta(minutes=30)}
    payment = await payment_of(database, checkout_id)
    reference = await reference_of(database, checkout_id)
    assert REFERENCE.fullmatch(reference) and payment.amount == 3_000_000
    assert payment.status == PaymentStatus.PENDING

    async with database.sessionmaker() as session:
        (awaited,) = await transfers.transfers_to_confirm(session=session, actor=manager)
    assert (awaited.reference, awaited.payment.amount, awaited.buyer_name) == (
        reference,
        3_000_000,
        "Dewi Lestari",
    )
    assert awaited.pay_by == NOW + timedelta(minutes=30)

    # The statement shows Rp 2.900.000: refused, naming what is expected; nothing changes.
    with pytest.raises(ValidationFailed) as wrong:
        await confirm(database, manager, reference.lower(), 2_900_000)
    (error,) = wrong.value.errors
    assert (error.field, error.message) == ("amount", MSG_WRONG_AMOUNT)
    assert error.params["expected"] == "Rp 3.000.000" and error.params["received"] == "Rp 2.900.000"
    assert {order.status for order in await orders_of(database, checkout_id)} == {S.PENDING_PAYMENT}

    confirmed = await confirm(database, manager, reference, 3_000_000, now=NOW + timedelta(minutes=5))
    assert confirmed.confirmed
    assert [order.status for order in await orders_of(database, checkout_id)] == [S.PLACED, S.PLACED]
    paid = await payment_of(database, checkout_id)
    assert (paid.status, paid.succeeded_at, paid.confirmed_by_id) == (
        PaymentStatus.SUCCEEDED,
        NOW + timedelta(minutes=5),
        manager.id,
    )
    again = await confirm(database, manager, reference, 3_000_000, now=NOW + timedelta(minutes=9))
    assert not again.confirmed and again.payment.succeeded_at == NOW + timedelta(minutes=5)
    async with database.sessionmaker() as session:
        audit = (await session.execute(select(AuditEntry))).scalars().all()
        assert [(entry.action, entry.actor_id) for entry in audit] == [("payment.transfer_confirmed", manager.id)]
        assert await transfers.transfers_to_confirm(session=session, actor=manager) == []

    # Completed, the order enters the ledger as a card order does: clearing −gross, vendor +net, commission.
    order = placement.orders[1]
    vendor_user = two_vendors[1][0].user
    for target in (S.ACCEPTED, S.READY, S.DELIVERED):
        await move(database, order.id, target, vendor_user)
    await move(database, order.id, S.COMPLETED, canteen_staff)
    async with database.sessionmaker() as session:
        entries = {
            entry.account: entry.amount
            for entry in (
                await session.execute(select(LedgerEntry).where(col(LedgerEntry.order_id) == order.id))
            ).scalars()
        }
    assert entries["clearing"] == -400_000 and entries["vendor"] + entries.get("commission", 0) == 400_000


async def test_only_the_buyers_zone_manager_or_an_admin_confirms(
    ordering, two_vendors, canteen_staff, world, admin, database
):
    placement = await transfer_checkout(ordering, two_vendors, canteen_staff)
    reference = await reference_of(database, placement.checkout.id)
    elsewhere = await world.zone(code="KIDL", name="Kawasan Industri Kendal")
    other_manager = await world.user(Role.MANAGER, zone=elsewhere)
    for stranger in (other_manager, canteen_staff):
        with pytest.raises(NotFound) as refused:
            await confirm(database, stranger, reference, 3_000_000)
        assert refused.value.message == MSG_NOT_FOUND
    async with database.sessionmaker() as session:
        assert await transfers.transfers_to_confirm(session=session, actor=other_manager) == []
    assert (await confirm(database, admin, reference, 3_000_000)).confirmed


async def test_an_unpaid_transfer_expires_like_an_unpaid_card_order_and_money_arriving_late_is_owed_back(
    ordering, two_vendors, canteen_staff, manager, database
):
    placement = await transfer_checkout(ordering, two_vendors, canteen_staff)
    reference = await reference_of(database, placement.checkout.id)
    async with database.sessionmaker() as session:
        assert await cancel_unpaid_orders(session=session, now=NOW + timedelta(minutes=29)) == 0
        assert await cancel_unpaid_orders(session=session, now=NOW + timedelta(minutes=31)) == 2
        await session.commit()
    assert {order.status for order in await orders_of(database, placement.checkout.id)} == {S.CANCELLED}
    assert (await payment_of(database, placement.checkout.id)).status == PaymentStatus.CANCELED
    assert await ordering.remaining(two_vendors[0][0].vendor.id) == 500  # the capacity is back
    # The buyer transferred after all, an hour late: the orders stay cancelled (their capacity may be sold again)
    # and the whole Rp 3.000.000 is owed back, listed for the manager to send.
    late = await confirm(database, manager, reference, 3_000_000, now=NOW + timedelta(hours=1))
    assert (late.confirmed, late.owed_back) == (True, 3_000_000)
    assert {order.status for order in await orders_of(database, placement.checkout.id)} == {S.CANCELLED}
    async with database.sessionmaker() as session:
        owed = await transfers.refunds_to_send(session=session, actor=manager)
    assert sorted(item.refund.amount for item in owed) == [400_000, 2_600_000]
    again = await confirm(database, manager, reference, 3_000_000, now=NOW + timedelta(hours=2))
    assert (again.confirmed, again.owed_back) == (False, 0)


async def test_bank_transfer_is_refused_while_the_platforms_account_is_not_set(ordering, catering, worker, database):
    _seller, nasi_box = catering
    gate = await ordering.gate()
    await ordering.put_in_cart(worker, nasi_box.id, 10)
    async with database.sessionmaker() as session:
        with pytest.raises(ValidationFailed) as refused:
            await place_checkout(
                session=session,
                buyer=worker,
                delivery=ordering_delivery(gate.id),
                payment_method=PaymentMethod.BANK_TRANSFER,
                idempotency_key="k-1",
                now=NOW,
                bank_transfers=False,
            )
        await session.rollback()
    assert [(e.field, e.message) for e in refused.value.errors] == [("payment_method", MSG_TRANSFER_UNAVAILABLE)]


def ordering_delivery(point_id: int):
    return DeliveryChoice(day=NEXT_MONDAY, slot=ELEVEN, kind=DeliveryKind.ZONE_POINT, point_id=point_id, notes="")


# --- pages ------------------------------------------------------------------------------------------------


async def test_a_new_canteen_pays_by_bank_transfer_and_the_manager_confirms_it_on_the_page(
    client, ordering, catering, world, zone, manager, database, count_queries
):
    _seller, nasi_box = catering
    newcomer = await ordering.canteen_buyer("Kantin Baru", invoice_terms_days=None)  # just signed up
    await ordering.put_in_cart(newcomer, nasi_box.id, 200)
    await log_in(client, newcomer)
    cart_page = await client.get("/cart")
    assert 'name="payment_method" value="bank_transfer"' in cart_page.text
    assert 'value="card"' not in cart_page.text and 'value="invoice"' not in cart_page.text  # no Stripe, no terms
    key = found(r'name="idempotency_key" value="([0-9a-f]+)"', cart_page.text).group(1)
    placed = await submit(
        client,
        "/checkout",
        {
            "delivery_day": delivery_day().isoformat(),  # beyond the lead time, whatever the hour
            "delivery_slot": "11:00",
            "delivery_place": "canteen",
            "payment_method": "bank_transfer",
            "idempotency_key": key,
        },
    )
    assert placed.status_code == 303, placed.text
    pay_url = placed.headers["location"]
    checkout_id = int(found(r"/checkouts/(\d+)/pay", pay_url).group(1))
    reference = await reference_of(database, checkout_id)

    count_queries.statements.clear()
    page = await client.get(pay_url)
    assert page.status_code == 200 and count_queries.count <= 5, count_queries.statements
    for expected in (TEST_BANK.name, TEST_BANK.account_number, TEST_BANK.account_holder, reference, "Rp 2.600.000"):
        assert expected in page.text, expected
    assert "data-transfer-deadline" in page.text and '<span class="money">Rp 2.600.000</span>' in page.text

    stranger = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=await world.organisation(zone))
    await log_in(client, stranger)
    assert (await client.get(pay_url)).status_code == 404

    await log_in(client, manager)
    assert 'href="/manager/transfers"' in (await client.get("/manager")).text
    count_queries.statements.clear()
    listing = await client.get("/manager/transfers")
    assert listing.status_code == 200 and count_queries.count <= 5 and f'data-transfer="{reference}"' in listing.text
    wrong = await submit(client, "/manager/transfers/confirm", {"reference": reference, "amount": "2.500.000"})
    assert wrong.status_code == 400
    assert t(MSG_WRONG_AMOUNT, reference=reference, expected="Rp 2.600.000", received="Rp 2.500.000") in wrong.text
    unknown = await submit(client, "/manager/transfers/confirm", {"reference": "PK-ZZZZZZ", "amount": "2600000"})
    assert unknown.status_code == 404 and t(MSG_NOT_FOUND) in unknown.text
    done = await submit(client, "/manager/transfers/confirm", {"reference": reference, "amount": "Rp 2.600.000"})
    assert done.status_code == 303 and done.headers["location"] == f"/manager/transfers?confirmed={reference}"
    twice = await submit(client, "/manager/transfers/confirm", {"reference": reference, "amount": "2600000"})
    assert twice.status_code == 303  # nothing more happens
    assert f'data-transfer="{reference}"' not in (await client.get("/manager/transfers")).text

    await log_in(client, newcomer)
    assert 'data-payment="succeeded"' in (await client.get(pay_url)).text
    assert {order.status for order in await orders_of(database, checkout_id)} == {S.PLACED}


# --- the API ----------------------------------------------------------------------------------------------


async def test_the_api_pays_by_bank_transfer_and_confirms_with_problem_bodies(
    client, catering, worker, world, zone, manager, database, count_queries
):
    _seller, nasi_box = catering
    buyer = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=await world.organisation(zone))
    auth = await bearer(database, buyer)
    added = await client.put(f"/api/v1/cart/lines/{nasi_box.id}", json={"quantity": 50}, headers=auth)
    assert added.status_code == 200, added.text
    count_queries.statements.clear()
    placed = await check_out(client, auth, "bank-1", payment_method="bank_transfer")
    assert placed.status_code == 201, placed.text
    assert count_queries.count <= 15, count_queries.statements  # the placement budget, reference included
    checkout_id = placed.json()["checkout_id"]
    assert placed.headers["link"] == f'</api/v1/checkouts/{checkout_id}/transfer>; rel="payment"'

    transfer = (await client.get(f"/api/v1/checkouts/{checkout_id}/transfer", headers=auth)).json()
    assert transfer["status"] == "pending" and transfer["pay_by"] is not None
    pay_to = transfer["pay_to"]
    assert (pay_to["bank_name"], pay_to["account_number"], pay_to["account_holder"]) == tuple(TEST_BANK)
    assert pay_to["amount"] == 700_000 and REFERENCE.fullmatch(pay_to["reference"])
    other = await bearer(database, worker)
    assert (await client.get(f"/api/v1/checkouts/{checkout_id}/transfer", headers=other)).status_code == 404

    as_manager = await bearer(database, manager)
    (awaited,) = (await client.get("/api/v1/transfers", headers=as_manager)).json()
    assert (awaited["reference"], awaited["amount"], awaited["checkout_id"]) == (
        pay_to["reference"],
        700_000,
        checkout_id,
    )
    assert (await client.get("/api/v1/transfers", headers=auth)).status_code == 403

    url = "/api/v1/transfers/confirm"
    for body, status, field in (
        ({"reference": pay_to["reference"], "amount": 0}, 400, "amount"),  # not an amount at all
        ({"reference": "PK-1", "amount": 700_000}, 422, "reference"),  # cannot be a reference
    ):
        bad = await client.post(url, json=body, headers=as_manager)
        assert bad.status_code == status and bad.headers["content-type"].startswith("application/problem+json")
        assert [error["field"] for error in bad.json()["errors"]] == [field]
    elsewhere = await world.user(Role.MANAGER, zone=await world.zone(code="KIDL", name="Kawasan Industri Kendal"))
    stranger = await client.post(
        url, json={"reference": pay_to["reference"], "amount": 700_000}, headers=await bearer(database, elsewhere)
    )
    assert stranger.status_code == 404
    wrong = await client.post(url, json={"reference": pay_to["reference"], "amount": 70_000}, headers=as_manager)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "amount"
    confirmed = await client.post(url, json={"reference": pay_to["reference"], "amount": 700_000}, headers=as_manager)
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["status"], confirmed.json()["confirmed"]) == ("succeeded", True)
    again = await client.post(url, json={"reference": pay_to["reference"], "amount": 700_000}, headers=as_manager)
    assert (again.status_code, again.json()["confirmed"]) == (200, False)
    assert (await client.get(f"/api/v1/checkouts/{checkout_id}/transfer", headers=auth)).json()["status"] == "succeeded"
