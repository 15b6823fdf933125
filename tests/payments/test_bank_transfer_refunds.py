"""Money that came in by bank transfer and must go back is never lost: an order cancelled or declined after its
transfer was confirmed, one cancelled while the transfer was on its way, and the agreed part of a short delivery
each become a refund owed to the buyer, in the ledger at once; the buyer and the vendor see it on the order, the
zone's manager (or an admin) sees it among the transfers to send back, sends it from the bank and records it with
the bank's reference, once; the ledger then shows it paid, and nothing of it ever goes to Stripe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.accounts.models import Role
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.moderation.models import AuditEntry
from backend.notifications.models import Notification
from backend.orders.claim_models import Settlement
from backend.orders.claims import ClaimAction
from backend.orders.models import OrderStatus
from backend.orders.states import cancel_unpaid_orders, change_status
from backend.payments import ledger, transfers
from backend.payments.models import LedgerEntry, RefundStatus
from backend.payments.refunds import retry_pending_refunds
from tests.conftest import app, log_in, submit  # noqa: F401  (`app` without card payments)
from tests.orders.conftest import NEXT_MONDAY, NOW
from tests.orders.test_delivery_claims import act, line_of, report
from tests.orders.test_order_api import bearer
from tests.payments.conftest import refund_of
from tests.payments.test_bank_transfers import confirm, reference_of, t, transfer_checkout

S = OrderStatus


async def move(database, order_id: int, target: OrderStatus, actor) -> None:
    async with database.sessionmaker() as session:
        await change_status(
            session=session,
            order_id=order_id,
            target=target,
            actor=actor,
            reason="Salah pesan" if target in (S.CANCELLED, S.DECLINED) else "",
            now=NOW,
            today=NEXT_MONDAY,
        )
        await session.commit()


async def send_back(database, actor, refund_id: int, reference: str = "BCA 0312-7781"):
    async with database.sessionmaker() as session:
        try:
            refund = await transfers.record_refund_sent(
                session=session, actor=actor, refund_id=refund_id, reference=reference, now=NOW + timedelta(hours=2)
            )
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
        return refund


async def refund_lines(database, refund_id: int) -> list[tuple[str, str, int]]:
    async with database.sessionmaker() as session:
        return [
            (entry.transaction_id, entry.account, entry.amount)
            for entry in (
                await session.execute(
                    select(LedgerEntry).where(col(LedgerEntry.refund_id) == refund_id).order_by(col(LedgerEntry.id))
                )
            ).scalars()
        ]


async def to_send(database, actor) -> list[transfers.RefundToSend]:
    async with database.sessionmaker() as session:
        return await transfers.refunds_to_send(session=session, actor=actor)


async def test_a_paid_transfer_order_cancelled_later_is_owed_back_then_sent_once_and_the_ledger_balances(
    ordering, two_vendors, canteen_staff, manager, world, database, stripe_settings
):
    placement = await transfer_checkout(ordering, two_vendors, canteen_staff)
    reference = await reference_of(database, placement.checkout.id)
    await confirm(database, manager, reference, 3_000_000)
    snack_order = placement.orders[1]  # Rp 400.000 of the Rp 3.000.000 transferred
    await move(database, snack_order.id, S.CANCELLED, canteen_staff)

    refund = await refund_of(database, snack_order.id)
    assert (refund.amount, refund.status) == (400_000, RefundStatus.PENDING)
    assert await refund_lines(database, refund.id) == [
        (f"refund-{refund.id}", "clearing", -400_000),
        (f"refund-{refund.id}", "refunds", 400_000),
    ]
    (waiting,) = await to_send(database, manager)
    assert (waiting.order_number, waiting.refund.amount, waiting.transfer_reference, waiting.buyer_name) == (
        snack_order.number,
        400_000,
        reference,
        "Dewi Lestari",
    )
    # The refund job sends card refunds to Stripe; this money is in the platform's bank, not at Stripe.
    async with database.sessionmaker() as session:
        assert await retry_pending_refunds(session=session, settings=stripe_settings, now=NOW) == 0
        await session.commit()
    assert (await refund_of(database, snack_order.id)).status == RefundStatus.PENDING

    elsewhere = await world.user(Role.MANAGER, zone=await world.zone(code="KIDL", name="Kawasan Industri Kendal"))
    assert await to_send(database, elsewhere) == []
    for stranger in (elsewhere, canteen_staff):
        with pytest.raises(NotFound):
            await send_back(database, stranger, refund.id)
    with pytest.raises(ValidationFailed) as no_reference:
        await send_back(database, manager, refund.id, reference=" ")
    assert no_reference.value.errors[0].field == "reference"

    sent = await send_back(database, manager, refund.id)
    assert (sent.status, sent.sent_reference, sent.sent_by_id) == (RefundStatus.SUCCEEDED, "BCA 0312-7781", manager.id)
    with pytest.raises(Conflict):
        await send_back(database, manager, refund.id, reference="BCA lagi")
    assert await to_send(database, manager) == []
    assert await refund_lines(database, refund.id) == [
        (f"refund-{refund.id}", "clearing", -400_000),
        (f"refund-{refund.id}", "refunds", 400_000),
        (f"refund-sent-{refund.id}", "clearing", 400_000),
        (f"refund-sent-{refund.id}", "refunds", -400_000),
    ]
    async with database.sessionmaker() as session:
        assert await ledger.unbalanced_transactions(session=session) == []
        audit = (
            await session.execute(select(AuditEntry).where(col(AuditEntry.action) == "payment.refund_sent"))
        ).scalar_one()
        told = (
            await session.execute(select(Notification).where(col(Notification.user_id) == canteen_staff.id))
        ).scalars()
        assert any(note.message == transfers.NOTE_REFUND_SENT for note in told)
    assert (audit.actor_id, audit.reason) == (manager.id, "BCA 0312-7781")


async def test_an_order_declined_by_its_vendor_or_cancelled_before_the_transfer_arrived_is_owed_back_too(
    ordering, two_vendors, canteen_staff, manager, database
):
    placement = await transfer_checkout(ordering, two_vendors, canteen_staff)
    nasi_order, snack_order = placement.orders
    reference = await reference_of(database, placement.checkout.id)
    # The buyer cancels the snacks while the transfer of the whole Rp 3.000.000 is on its way; it arrives.
    await move(database, snack_order.id, S.CANCELLED, canteen_staff)
    await confirm(database, manager, reference, 3_000_000)
    assert (await refund_of(database, snack_order.id)).amount == 400_000
    # The caterer then declines the nasi box.
    await move(database, nasi_order.id, S.DECLINED, two_vendors[0][0].user)
    assert (await refund_of(database, nasi_order.id)).amount == 2_600_000
    assert sorted(item.refund.amount for item in await to_send(database, manager)) == [400_000, 2_600_000]


async def test_a_short_delivery_of_a_transfer_order_is_sent_back_by_the_platform_not_by_the_vendor_in_cash(
    client, ordering, two_vendors, canteen_staff, manager, database
):
    placement = await transfer_checkout(ordering, two_vendors, canteen_staff)
    await confirm(database, manager, await reference_of(database, placement.checkout.id), 3_000_000)
    nasi_order = placement.orders[0]  # 200 box at Rp 13.000
    seller = two_vendors[0][0]
    for target in (S.ACCEPTED, S.READY, S.DELIVERED):
        await move(database, nasi_order.id, target, seller.user)
    await report(database, canteen_staff, nasi_order, await line_of(database, nasi_order), quantity=10)
    view = await act(database, seller.user, nasi_order, ClaimAction.ACCEPT)
    assert (view.claim.amount, view.claim.settlement) == (130_000, Settlement.BANK_REFUND)
    refund = await refund_of(database, nasi_order.id)
    assert (refund.amount, refund.status) == (130_000, RefundStatus.PENDING)

    await move(database, nasi_order.id, S.COMPLETED, canteen_staff)
    async with database.sessionmaker() as session:
        clearing = (
            await session.execute(
                select(col(LedgerEntry.amount)).where(
                    col(LedgerEntry.account) == "clearing",
                    (col(LedgerEntry.order_id) == nasi_order.id) | (col(LedgerEntry.refund_id) == refund.id),
                )
            )
        ).scalars()
        # The whole Rp 2.600.000 transferred is accounted for: Rp 2.470.000 to the vendor and commission, Rp
        # 130.000 owed back to the buyer.
        assert sum(clearing) == -2_600_000
        assert await ledger.unbalanced_transactions(session=session) == []

    await log_in(client, canteen_staff)
    claim_page = await client.get(f"/orders/{nasi_order.id}/claim")
    assert t("Pasar Kawasan transfers this back to the bank account the payment came from.") in claim_page.text
    assert t("The vendor gives this back in cash.") not in claim_page.text


# --- pages and API --------------------------------------------------------------------------------------


async def test_the_buyer_and_vendor_see_it_owed_and_the_manager_records_it_sent_on_the_page(
    client, other_client, ordering, two_vendors, canteen_staff, manager, database, count_queries
):
    placement = await transfer_checkout(ordering, two_vendors, canteen_staff)
    await confirm(database, manager, await reference_of(database, placement.checkout.id), 3_000_000)
    snack_order = placement.orders[1]
    await move(database, snack_order.id, S.DECLINED, two_vendors[1][0].user)
    refund = await refund_of(database, snack_order.id)

    await log_in(client, canteen_staff)
    owed = await client.get(f"/orders/{snack_order.id}")
    assert 'data-refund="pending" data-refund-method="bank_transfer"' in owed.text
    assert "Rp 400.000" in owed.text and "kartu" not in owed.text.split('data-refund="pending"')[1].split("</li>")[0]
    await log_in(other_client, two_vendors[1][0].user)
    vendor_page = await other_client.get(f"/vendor/orders/{snack_order.id}")
    assert 'data-refund="pending" data-refund-method="bank_transfer"' in vendor_page.text

    await log_in(other_client, manager)
    count_queries.statements.clear()
    listing = await other_client.get("/manager/transfers")
    assert listing.status_code == 200 and count_queries.count <= 5, count_queries.statements
    assert f'data-refund-to-send="{snack_order.number}"' in listing.text
    refused = await submit(other_client, f"/manager/transfers/refunds/{refund.id}/sent", {"reference": "x"})
    assert refused.status_code == 400 and 'aria-invalid="true"' in refused.text
    done = await submit(other_client, f"/manager/transfers/refunds/{refund.id}/sent", {"reference": "BCA 0312-7781"})
    assert done.status_code == 303 and done.headers["location"] == f"/manager/transfers?sent={snack_order.number}"
    again = await submit(other_client, f"/manager/transfers/refunds/{refund.id}/sent", {"reference": "BCA 2"})
    assert again.status_code == 409
    assert f'data-refund-to-send="{snack_order.number}"' not in (await other_client.get("/manager/transfers")).text

    sent = await client.get(f"/orders/{snack_order.id}")
    assert 'data-refund="succeeded" data-refund-method="bank_transfer"' in sent.text and "BCA 0312-7781" in sent.text


async def test_the_api_lists_transfers_back_and_records_one_sent(
    client, ordering, two_vendors, canteen_staff, manager, database
):
    placement = await transfer_checkout(ordering, two_vendors, canteen_staff)
    await confirm(database, manager, await reference_of(database, placement.checkout.id), 3_000_000)
    snack_order = placement.orders[1]
    await move(database, snack_order.id, S.CANCELLED, canteen_staff)
    as_buyer, as_manager = await bearer(database, canteen_staff), await bearer(database, manager)
    order_url = f"/api/v1/orders/{snack_order.id}"
    owed = (await client.get(order_url, headers=as_buyer)).json()["refund"]
    assert (owed["amount"], owed["method"], owed["status"], owed["sent_reference"]) == (
        400_000,
        "bank_transfer",
        "pending",
        "",
    )
    (listed,) = (await client.get("/api/v1/transfers/refunds", headers=as_manager)).json()
    assert (listed["order_number"], listed["amount"]) == (snack_order.number, 400_000)
    assert (
        await client.get("/api/v1/transfers/refunds", headers=await bearer(database, canteen_staff))
    ).status_code == 403
    url = f"/api/v1/transfers/refunds/{listed['refund_id']}/sent"
    bad = await client.post(url, json={"reference": ""}, headers=as_manager)
    assert bad.status_code in (400, 422) and bad.headers["content-type"].startswith("application/problem+json")
    sent = await client.post(url, json={"reference": "BCA 0312-7781"}, headers=as_manager)
    assert sent.status_code == 200, sent.text
    assert (sent.json()["status"], sent.json()["reference"]) == ("succeeded", "BCA 0312-7781")
    assert (await client.post(url, json={"reference": "BCA 2"}, headers=as_manager)).status_code == 409
    assert (await client.get("/api/v1/transfers/refunds", headers=as_manager)).json() == []
    sent_back = (await client.get(order_url, headers=as_buyer)).json()["refund"]
    assert (sent_back["status"], sent_back["sent_reference"]) == ("succeeded", "BCA 0312-7781")


async def test_a_transfer_confirmed_after_its_orders_expired_tells_the_manager_to_send_it_back(
    client, ordering, two_vendors, canteen_staff, manager, database
):
    placement = await transfer_checkout(ordering, two_vendors, canteen_staff)
    reference = await reference_of(database, placement.checkout.id)
    async with database.sessionmaker() as session:
        assert await cancel_unpaid_orders(session=session, now=NOW + timedelta(minutes=31)) == 2
        await session.commit()
    await log_in(client, manager)
    late = await submit(client, "/manager/transfers/confirm", {"reference": reference, "amount": "3.000.000"})
    assert late.status_code == 303
    assert late.headers["location"] == f"/manager/transfers?confirmed={reference}&owed_back=3000000"
    shown = await client.get(late.headers["location"])
    assert 'data-owed-back="3000000"' in shown.text and "Rp 3.000.000" in shown.text
    for order in placement.orders:
        assert f'data-refund-to-send="{order.number}"' in shown.text
