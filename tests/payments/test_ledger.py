"""The commission ledger: each completed order is entered once (clearing −gross, vendor +net, commission
+commission), payouts take from what a vendor is owed, a rate change counts for orders completed after it, and the
ledger always balances. Then the pages and the API: the vendor's balance, the admin's rates and payouts.

Orders are placed on the ordering helpers' fixed clock (Monday 23 November 2026, 09.00 WIB); pages run on the real
clock, which only stamps when things happened.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from backend.accounts import service as account_service
from backend.accounts.models import User, Zone
from backend.errors import Forbidden, ValidationFailed
from backend.moderation.models import AuditEntry
from backend.orders.models import Order, OrderStatus
from backend.orders.states import AUTO_COMPLETE_AFTER, change_status, complete_delivered_orders
from backend.payments import invoices, ledger, payout_accounts
from backend.payments.ledger import commission_for, record_completed_order
from backend.payments.models import Invoice, LedgerEntry, Payout
from backend.payments.payout_accounts import PayoutAccountInput
from backend.vendors import service as vendor_service
from backend.vendors.models import Vendor
from tests.conftest import app, log_in, submit  # noqa: F401  (`app` without card payments: this folder's conftest turns them on)
from tests.orders.conftest import NEXT_MONDAY, NOW

S = OrderStatus


async def complete(database, order: Order, vendor_user, buyer, now=NOW) -> None:
    """The vendor accepts, prepares and delivers; the buyer confirms: the order completes."""
    async with database.sessionmaker() as session:
        for target in (S.ACCEPTED, S.READY, S.DELIVERED):
            await change_status(
                session=session, order_id=order.id, target=target, actor=vendor_user, now=now, today=NEXT_MONDAY
            )
        await change_status(
            session=session, order_id=order.id, target=S.COMPLETED, actor=buyer, now=now, today=NEXT_MONDAY
        )
        await session.commit()


async def canteens_pay(database, admin, *orders: Order) -> None:
    """The canteens pay the invoices of `orders` and the manager (here an admin) records it: only then may the
    vendors be paid for them."""
    async with database.sessionmaker() as session:
        for order in orders:
            invoice = (
                await session.execute(select(Invoice).where(col(Invoice.checkout_id) == order.checkout_id))
            ).scalar_one()
            await invoices.mark_invoice_paid(
                session=session, actor=admin, invoice_id=invoice.id, payment_reference=f"BCA {order.id}", now=NOW
            )
        await session.commit()


async def set_rate(database, admin, zone, bps: int) -> None:
    async with database.sessionmaker() as session:
        await ledger.set_commission_rate(session=session, actor=admin, zone_id=zone.id, commission_bps=bps)
        await session.commit()


async def record_account(database, vendor_user, holder: str = "Sri Rahayu") -> None:
    """The vendor records the bank account payouts go to (a payout needs one)."""
    async with database.sessionmaker() as session:
        vendor = await vendor_service.require_vendor(session=session, user=vendor_user)
        data = PayoutAccountInput(bank_name="Bank Jateng", account_number="2001-2345-678", account_holder=holder)
        await payout_accounts.save_payout_account(session=session, actor=vendor_user, vendor=vendor, data=data, now=NOW)
        await session.commit()


async def pay_out(database, admin, vendor_id: int, amount: int, reference: str = "BCA 0123456789") -> Payout:
    async with database.sessionmaker() as session:
        if await payout_accounts.payout_account(session=session, vendor_id=vendor_id) is None:
            vendor = await session.get(Vendor, vendor_id)
            await record_account(database, await session.get(User, vendor.user_id))
        try:
            payout = await ledger.record_payout(
                session=session, actor=admin, vendor_id=vendor_id, amount=amount, reference=reference, now=NOW
            )
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
        return payout


async def entries(database) -> list[LedgerEntry]:
    async with database.sessionmaker() as session:
        return list((await session.execute(select(LedgerEntry).order_by(col(LedgerEntry.id)))).scalars())


async def assert_balanced(database) -> None:
    """The whole ledger sums to zero, and so does every transaction in it."""
    async with database.sessionmaker() as session:
        total = (await session.execute(select(func.coalesce(func.sum(col(LedgerEntry.amount)), 0)))).scalar_one()
        assert total == 0
        assert await ledger.unbalanced_transactions(session=session) == []


async def balance_of(database, vendor) -> int:
    async with database.sessionmaker() as session:
        return (await ledger.vendor_balance(session=session, vendor=vendor)).balance


async def bearer(database, user) -> dict[str, str]:
    async with database.sessionmaker() as session:
        raw, _ = await account_service.create_api_token(session=session, user=user, name="keuangan")
        await session.commit()
    return {"Authorization": f"Bearer {raw}"}


# --- rounding -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gross", "bps", "commission"),
    [
        (2_600_000, 500, 130_000),  # 5 % of 200 box at Rp 13.000
        (10_010, 500, 501),  # Rp 500,50: half a rupiah rounds up
        (10_009, 500, 500),  # Rp 500,45 rounds down
        (15_000, 250, 375),  # 2,5 %
        (3, 3_333, 1),  # Rp 0,9999
        (1, 5_000, 1),  # Rp 0,50 at the highest rate
        (1, 4_999, 0),  # Rp 0,4999
        (123_456, 0, 0),  # no commission
    ],
)
def test_the_commission_is_rounded_half_up_to_a_whole_rupiah(gross, bps, commission):
    assert commission_for(gross, bps) == commission


# --- completing orders ------------------------------------------------------------------------------------


async def test_a_completed_order_is_entered_once_as_gross_commission_and_net(
    ordering, catering, canteen_staff, database
):
    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 200)  # 200 × Rp 13.000
    async with database.sessionmaker() as session:
        await change_status(
            session=session, order_id=order.id, target=S.ACCEPTED, actor=seller.user, now=NOW, today=NEXT_MONDAY
        )
        await session.commit()
    assert await entries(database) == []  # nothing before completion

    await complete_from_accepted(database, order, seller.user, canteen_staff)

    found = await entries(database)
    assert {(e.account, e.vendor_id, e.amount) for e in found} == {
        ("clearing", None, -2_600_000),
        ("vendor", seller.vendor.id, 2_470_000),
        ("commission", None, 130_000),
    }
    assert {e.transaction_id for e in found} == {f"order-{order.id}"} and {e.order_id for e in found} == {order.id}

    # The completion written again (a retried job, a second worker): nothing new.
    async with database.sessionmaker() as session:
        again = await session.get(Order, order.id)
        await record_completed_order(session=session, order=again, now=NOW)
        await session.commit()
    assert len(await entries(database)) == 3
    assert await balance_of(database, seller.vendor) == 2_470_000
    await assert_balanced(database)


async def complete_from_accepted(database, order, vendor_user, buyer):
    async with database.sessionmaker() as session:
        for target in (S.READY, S.DELIVERED):
            await change_status(
                session=session, order_id=order.id, target=target, actor=vendor_user, now=NOW, today=NEXT_MONDAY
            )
        await change_status(
            session=session, order_id=order.id, target=S.COMPLETED, actor=buyer, now=NOW, today=NEXT_MONDAY
        )
        await session.commit()


async def test_orders_that_complete_by_themselves_are_entered_too(ordering, catering, worker, database):
    seller, nasi_box = catering
    gate = await ordering.gate()
    order = await ordering.order(worker, nasi_box.id, 10, point_id=gate.id)  # 10 × Rp 15.000, cash
    async with database.sessionmaker() as session:
        for target in (S.ACCEPTED, S.READY, S.DELIVERED):
            await change_status(
                session=session, order_id=order.id, target=target, actor=seller.user, now=NOW, today=NEXT_MONDAY
            )
        await session.commit()
    async with database.sessionmaker() as session:
        assert await complete_delivered_orders(session=session, now=NOW + AUTO_COMPLETE_AFTER) == 1
        await session.commit()
    # Paid in cash: the vendor holds the Rp 150.000 and owes the platform its 5 %.
    assert {(e.account, e.amount) for e in await entries(database)} == {("vendor", -7_500), ("commission", 7_500)}
    await assert_balanced(database)
    async with database.sessionmaker() as session:
        shown = await ledger.vendor_balance(session=session, vendor=await session.get(Vendor, seller.vendor.id))
    assert [(o.gross, o.commission, o.net) for o in shown.orders] == [(150_000, 7_500, -7_500)]


async def test_a_zero_commission_writes_no_commission_line_and_still_balances(
    ordering, catering, canteen_staff, admin, zone, database
):
    seller, nasi_box = catering
    await set_rate(database, admin, zone, 0)
    order = await ordering.order(canteen_staff, nasi_box.id, 50)  # 50 × Rp 14.000
    await complete(database, order, seller.user, canteen_staff)
    assert {(e.account, e.amount) for e in await entries(database)} == {("clearing", -700_000), ("vendor", 700_000)}
    await assert_balanced(database)


# --- the ledger balances through orders, a rate change and payouts ---------------------------------------------


async def test_the_ledger_balances_through_orders_a_rate_change_and_payouts(
    ordering, world, zone, catering, canteen_staff, admin, database
):
    seller, nasi_box = catering
    other = await world.seller(zone, business_name="Dapur Limpung", daily_capacity=1000)
    snack = await world.live_product(other, "Keripik Tempe", price=12_345, min_order_qty=1, unit="pack")
    second_canteen = await ordering.canteen_buyer("Kantin PT Sinar")

    # At 5 %: 200 box (Rp 2.600.000) and 7 packs of snacks (Rp 86.415 → commission Rp 4.320,75 → Rp 4.321).
    first = await ordering.order(canteen_staff, nasi_box.id, 200)
    snacks = await ordering.order(second_canteen, snack.id, 7)
    await complete(database, first, seller.user, canteen_staff)
    await complete(database, snacks, other.user, second_canteen)
    # Placed before the change, completed after it: the rate when it completes counts.
    late = await ordering.order(second_canteen, nasi_box.id, 50)  # Rp 700.000

    await set_rate(database, admin, zone, 250)  # 2,5 %
    await complete(database, late, seller.user, second_canteen)
    more_snacks = await ordering.order(canteen_staff, snack.id, 3)  # Rp 37.035 → Rp 925,875 → Rp 926
    await complete(database, more_snacks, other.user, canteen_staff)
    cancelled = await ordering.order(canteen_staff, nasi_box.id, 10)
    async with database.sessionmaker() as session:
        await change_status(
            session=session,
            order_id=cancelled.id,
            target=S.CANCELLED,
            actor=canteen_staff,
            reason="Salah pesan",
            now=NOW,
            today=NEXT_MONDAY,
        )
        await session.commit()

    await canteens_pay(database, admin, first, snacks, late)
    await pay_out(database, admin, seller.vendor.id, 2_000_000, "BRI 555-01")
    await pay_out(database, admin, other.vendor.id, 86_415 - 4_321, "BNI 777-02")  # everything it was owed then

    commission = {e.order_id: e.amount for e in await entries(database) if e.account == "commission"}
    assert commission == {first.id: 130_000, snacks.id: 4_321, late.id: 17_500, more_snacks.id: 926}
    assert await balance_of(database, seller.vendor) == (2_600_000 - 130_000) + (700_000 - 17_500) - 2_000_000
    assert await balance_of(database, other.vendor) == 37_035 - 926
    await assert_balanced(database)
    async with database.sessionmaker() as session:
        # What the platform earned is the commission account; what it still holds for vendors is the vendor accounts.
        earned = (
            await session.execute(
                select(func.sum(col(LedgerEntry.amount))).where(col(LedgerEntry.account) == "commission")
            )
        ).scalar_one()
        owed = (
            await session.execute(select(func.sum(col(LedgerEntry.amount))).where(col(LedgerEntry.account) == "vendor"))
        ).scalar_one()
        clearing = (
            await session.execute(
                select(func.sum(col(LedgerEntry.amount))).where(col(LedgerEntry.account) == "clearing")
            )
        ).scalar_one()
        payouts = (await session.execute(select(func.sum(col(Payout.amount))))).scalar_one()
    gross = 2_600_000 + 86_415 + 700_000 + 37_035
    assert earned == 130_000 + 4_321 + 17_500 + 926
    assert owed == gross - earned - payouts
    assert clearing == -gross + payouts


async def test_a_payout_is_at_most_the_balance_needs_a_reference_and_is_for_admins(
    ordering, catering, canteen_staff, admin, manager, database
):
    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 10)  # Rp 150.000 → Rp 142.500 owed
    await complete(database, order, seller.user, canteen_staff)
    await canteens_pay(database, admin, order)

    with pytest.raises(ValidationFailed) as too_much:
        await pay_out(database, admin, seller.vendor.id, 142_501)
    assert too_much.value.errors[0].field == "amount" and too_much.value.errors[0].params == {"balance": "Rp 142.500"}
    with pytest.raises(ValidationFailed) as no_reference:
        await pay_out(database, admin, seller.vendor.id, 100, reference=" ")
    assert [e.field for e in no_reference.value.errors] == ["reference"]
    with pytest.raises(Forbidden):
        await pay_out(database, manager, seller.vendor.id, 100)

    payout = await pay_out(database, admin, seller.vendor.id, 142_500, "Mandiri 900-11")
    assert await balance_of(database, seller.vendor) == 0
    with pytest.raises(ValidationFailed) as twice:  # the same transfer sent again (a double tap, a retry)
        await pay_out(database, admin, seller.vendor.id, 142_500, "Mandiri 900-11")
    assert "reference" in [e.field for e in twice.value.errors]
    payout_entries = [
        (e.account, e.amount, e.payout_id, e.transaction_id) for e in await entries(database) if e.payout_id is not None
    ]
    assert payout_entries == [
        ("vendor", -142_500, payout.id, f"payout-{payout.id}"),
        ("clearing", 142_500, payout.id, f"payout-{payout.id}"),
    ]
    with pytest.raises(ValidationFailed):
        await pay_out(database, admin, seller.vendor.id, 1)  # nothing left
    async with database.sessionmaker() as session:
        audit = (
            await session.execute(select(AuditEntry).where(col(AuditEntry.action) == "vendor.payout"))
        ).scalar_one()
    assert (audit.actor_id, audit.subject_id, audit.reason) == (admin.id, seller.vendor.id, "Mandiri 900-11")
    await assert_balanced(database)


async def test_the_commission_rate_is_0_to_50_percent_set_by_admins_and_audited(zone, admin, manager, database):
    with pytest.raises(ValidationFailed):
        await set_rate(database, admin, zone, 5_001)
    with pytest.raises(Forbidden):
        await set_rate(database, manager, zone, 300)
    await set_rate(database, admin, zone, 5_000)
    async with database.sessionmaker() as session:
        assert (await session.get(Zone, zone.id)).commission_bps == 5_000
        audit = (
            await session.execute(select(AuditEntry).where(col(AuditEntry.action) == "zone.commission"))
        ).scalar_one()
    assert (audit.before, audit.after, audit.zone_id) == ({"commission_bps": 500}, {"commission_bps": 5_000}, zone.id)


async def test_two_payouts_at_once_cannot_spend_the_balance_twice(ordering, catering, canteen_staff, admin, database):
    if database.engine.dialect.name != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL")
    import asyncio

    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 10)
    await complete(database, order, seller.user, canteen_staff)
    await canteens_pay(database, admin, order)
    await record_account(database, seller.user)

    async def attempt(reference: str) -> bool:
        try:
            await pay_out(database, admin, seller.vendor.id, 100_000, reference)
        except ValidationFailed:
            return False
        return True

    results = await asyncio.gather(attempt("BCA 1"), attempt("BCA 2"))
    assert sorted(results) == [False, True]
    assert await balance_of(database, seller.vendor) == 42_500
    await assert_balanced(database)


async def test_an_invoice_orders_money_is_paid_out_only_once_the_canteen_paid_its_invoice(
    client, ordering, catering, canteen_staff, admin, database
):
    seller, nasi_box = catering
    on_invoice = await ordering.order(canteen_staff, nasi_box.id, 10)  # Rp 150.000 → Rp 142.500 owed
    await complete(database, on_invoice, seller.user, canteen_staff)
    async with database.sessionmaker() as session:
        owed = await ledger.vendor_balance(session=session, vendor=seller.vendor)
    assert (owed.balance, owed.awaiting_invoices, owed.payable) == (142_500, 142_500, 0)

    with pytest.raises(ValidationFailed) as unpaid:
        await pay_out(database, admin, seller.vendor.id, 1)
    assert unpaid.value.errors[0].params == {"payable": "Rp 0", "awaiting": "Rp 142.500"}
    await log_in(client, seller.user)
    page = await client.get("/vendor/balance")
    assert 'data-payable="0"' in page.text and 'data-awaiting="142500"' in page.text

    await canteens_pay(database, admin, on_invoice)
    await pay_out(database, admin, seller.vendor.id, 142_500, "BCA 777")
    assert await balance_of(database, seller.vendor) == 0
    await assert_balanced(database)


async def test_payouts_go_only_to_the_bank_account_the_vendor_recorded(
    client, ordering, catering, canteen_staff, admin, manager, database
):
    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 10)  # Rp 142.500 owed
    await complete(database, order, seller.user, canteen_staff)
    await canteens_pay(database, admin, order)
    async with database.sessionmaker() as session:
        with pytest.raises(ValidationFailed) as no_account:
            await ledger.record_payout(
                session=session, actor=admin, vendor_id=seller.vendor.id, amount=100, reference="BCA 1", now=NOW
            )
    assert [error.message for error in no_account.value.errors] == [payout_accounts.MSG_NO_ACCOUNT]

    await log_in(client, seller.user)
    assert "/vendor/payout-account" in (await client.get("/vendor/balance")).text
    wrong = await submit(
        client, "/vendor/payout-account", {"bank_name": "BRI", "account_number": "12-34", "account_holder": "Sri"}
    )
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.text
    saved = await submit(
        client,
        "/vendor/payout-account",
        {"bank_name": "BRI", "account_number": "0123-01-000456-50-7", "account_holder": "Sri Rahayu"},
    )
    assert saved.status_code == 303
    as_vendor = await bearer(database, seller.user)
    account = (await client.get("/api/v1/vendor/payout-account", headers=as_vendor)).json()
    assert (account["bank_name"], account["account_number"]) == ("BRI", "012301000456507")

    payout = await pay_out(database, admin, seller.vendor.id, 142_500, "BRI 99")
    assert (payout.bank_name, payout.account_number, payout.account_holder) == ("BRI", "012301000456507", "Sri Rahayu")
    changed = await client.put(
        "/api/v1/vendor/payout-account",
        json={"bank_name": "Bank Jateng", "account_number": "2001234567", "account_holder": "Sri Rahayu"},
        headers=as_vendor,
    )
    assert changed.status_code == 200
    async with database.sessionmaker() as session:
        changes = (
            (
                await session.execute(
                    select(AuditEntry)
                    .where(col(AuditEntry.action) == "vendor.payout_account")
                    .order_by(col(AuditEntry.id))
                )
            )
            .scalars()
            .all()
        )
    assert [(entry.before, entry.after) for entry in changes] == [
        (None, {"bank_name": "BRI", "account_number": "•••• 6507", "account_holder": "Sri Rahayu"}),
        (
            {"bank_name": "BRI", "account_number": "•••• 6507", "account_holder": "Sri Rahayu"},
            {"bank_name": "Bank Jateng", "account_number": "•••• 4567", "account_holder": "Sri Rahayu"},
        ),
    ]
    assert changes[0].actor_id == seller.user.id
    assert (
        await client.get("/api/v1/vendor/payout-account", headers=await bearer(database, manager))
    ).status_code == 403


# --- pages ----------------------------------------------------------------------------------------------------


async def test_a_vendor_reads_their_balance_orders_and_payouts_in_few_queries(
    client, ordering, catering, canteen_staff, admin, world, zone, database, count_queries
):
    seller, nasi_box = catering
    first = await ordering.order(canteen_staff, nasi_box.id, 200)
    second = await ordering.order(canteen_staff, nasi_box.id, 10)
    await complete(database, first, seller.user, canteen_staff)
    await complete(database, second, seller.user, canteen_staff)
    await canteens_pay(database, admin, first, second)
    await pay_out(database, admin, seller.vendor.id, 1_000_000, "BCA 0099")
    other = await world.seller(zone, business_name="Dapur Lain")
    await log_in(client, seller.user)

    count_queries.statements.clear()
    page = await client.get("/vendor/balance")
    assert page.status_code == 200
    assert count_queries.count <= 5, count_queries.statements
    balance = 2_470_000 + 142_500 - 1_000_000
    assert f'data-balance="{balance}"' in page.text and "Rp 1.612.500" in page.text
    assert f'data-order="{first.number}"' in page.text and "Rp 2.600.000" in page.text and "Rp 130.000" in page.text
    assert "Rp 2.470.000" in page.text and "BCA 0099" in page.text
    assert 'href="/vendor/balance"' in (await client.get("/vendor")).text

    # Another vendor sees their own (empty) balance, never this one's.
    await log_in(client, other.user)
    theirs = await client.get("/vendor/balance")
    assert 'data-balance="0"' in theirs.text and first.number not in theirs.text


async def test_only_vendors_have_a_balance_page_and_only_admins_the_money_pages(client, canteen_staff, manager, vendor):
    await log_in(client, canteen_staff)
    assert (await client.get("/vendor/balance")).status_code == 403
    await log_in(client, manager)
    for path in ("/admin/balances", "/admin/commission"):
        assert (await client.get(path)).status_code == 403
    refused = await submit(client, "/admin/zones/1/commission", {"commission": "10"})
    assert refused.status_code == 403


async def test_the_admin_sets_a_rate_and_records_a_payout_without_javascript(
    client, ordering, catering, canteen_staff, admin, zone, database, count_queries
):
    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 200)
    await complete(database, order, seller.user, canteen_staff)
    await canteens_pay(database, admin, order)
    await record_account(database, seller.user)
    await log_in(client, admin)
    assert 'href="/admin/commission"' in (await client.get("/admin")).text

    count_queries.statements.clear()
    rates = await client.get("/admin/commission")
    assert rates.status_code == 200 and count_queries.count <= 5
    assert 'data-commission-bps="500"' in rates.text and 'name="_csrf_token"' in rates.text
    refused = await submit(client, f"/admin/zones/{zone.id}/commission", {"commission": "60"})
    assert refused.status_code == 400 and 'aria-invalid="true"' in refused.text
    saved = await submit(client, f"/admin/zones/{zone.id}/commission", {"commission": "2,5"})
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/commission?notice=saved"
    async with database.sessionmaker() as session:
        assert (await session.get(Zone, zone.id)).commission_bps == 250
    assert 'data-commission-bps="250"' in (await client.get("/admin/commission")).text

    count_queries.statements.clear()
    balances = await client.get("/admin/balances")
    assert balances.status_code == 200 and count_queries.count <= 5, count_queries.statements
    assert f'id="vendor-{seller.vendor.id}" data-balance="2470000"' in balances.text
    too_much = await submit(
        client, f"/admin/vendors/{seller.vendor.id}/payouts", {"amount": "2.470.001", "reference": "BCA 1"}
    )
    assert too_much.status_code == 400 and "Rp 2.470.000" in too_much.text
    paid = await submit(
        client, f"/admin/vendors/{seller.vendor.id}/payouts", {"amount": "Rp 2.000.000", "reference": "BCA 0001"}
    )
    assert paid.status_code == 303 and paid.headers["location"] == "/admin/balances?notice=paid_out"
    assert 'data-balance="470000"' in (await client.get("/admin/balances")).text
    await assert_balanced(database)


async def test_the_ledger_api_gives_balances_rates_and_payouts(
    client, ordering, catering, canteen_staff, admin, zone, database
):
    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 10)
    await complete(database, order, seller.user, canteen_staff)
    await canteens_pay(database, admin, order)
    await record_account(database, seller.user)
    as_admin, as_vendor = await bearer(database, admin), await bearer(database, seller.user)

    rates = await client.put(
        f"/api/v1/admin/zones/{zone.id}/commission", json={"commission_bps": 5_001}, headers=as_admin
    )
    assert rates.status_code == 400
    rates = await client.put(
        f"/api/v1/admin/zones/{zone.id}/commission", json={"commission_bps": 1_000}, headers=as_admin
    )
    assert rates.status_code == 200 and rates.json()["commission_bps"] == 1_000
    assert (
        await client.put(f"/api/v1/admin/zones/{zone.id}/commission", json={"commission_bps": 1}, headers=as_vendor)
    ).status_code == 403

    over = await client.post(
        f"/api/v1/admin/vendors/{seller.vendor.id}/payouts",
        json={"amount": 200_000, "reference": "BCA 1"},
        headers=as_admin,
    )
    assert over.status_code == 422 and over.json()["errors"][0]["field"] == "amount"
    payout = await client.post(
        f"/api/v1/admin/vendors/{seller.vendor.id}/payouts",
        json={"amount": 100_000, "reference": "BCA 2"},
        headers=as_admin,
    )
    assert payout.status_code == 201, payout.text
    assert (await client.get("/api/v1/admin/balances", headers=as_admin)).json() == [
        {
            "vendor_id": seller.vendor.id,
            "business_name": "Catering Bu Sri",
            "zone_code": "KITB",
            "balance": 42_500,
            "paid_out": 100_000,
            "awaiting_invoices": 0,
            "payable": 42_500,
            "account": {
                "bank_name": "Bank Jateng",
                "account_number": "20012345678",
                "account_holder": "Sri Rahayu",
                "updated_at": "2026-11-23T02:00:00Z",
            },
        }
    ]
    mine = (await client.get("/api/v1/vendor/balance", headers=as_vendor)).json()
    assert mine["balance"] == 42_500
    assert [(o["number"], o["gross"], o["commission"], o["net"]) for o in mine["orders"]] == [
        (order.number, 150_000, 7_500, 142_500)
    ]
    assert [(p["amount"], p["reference"]) for p in mine["payouts"]] == [(100_000, "BCA 2")]
    assert (await client.get("/api/v1/vendor/balance", headers=as_admin)).status_code == 403
    await assert_balanced(database)


def test_money_pages_keep_the_number_formats_people_type():
    from backend.payments.ledger_schemas import bps_to_percent, percent_to_bps

    assert [percent_to_bps(text) for text in ("5", "2,5", "2.75", "0", "50", "12 %")] == [500, 250, 275, 0, 5000, 1200]
    assert [bps_to_percent(bps) for bps in (500, 250, 275, 0, 5000, 505)] == ["5", "2,5", "2,75", "0", "50", "5,05"]
    for bad in ("", "lima", "-1", "100", "2,555"):
        with pytest.raises(ValueError, match="commission must be between"):
            percent_to_bps(bad)


async def test_a_payout_above_what_buyers_paid_in_is_refused_on_the_page_and_the_api_even_within_the_balance(
    client, ordering, catering, canteen_staff, admin, database
):
    """Two invoice orders of Rp 150.000 (Rp 142.500 each for the vendor); the canteen paid one invoice. The vendor
    is owed Rp 285.000, but buyers paid in only Rp 142.500 of it: a rupiah more is refused everywhere."""
    seller, nasi_box = catering
    paid_order = await ordering.order(canteen_staff, nasi_box.id, 10)
    unpaid_order = await ordering.order(canteen_staff, nasi_box.id, 10)
    for order in (paid_order, unpaid_order):
        await complete(database, order, seller.user, canteen_staff)
    await canteens_pay(database, admin, paid_order)
    await record_account(database, seller.user)
    async with database.sessionmaker() as session:
        owed = await ledger.vendor_balance(session=session, vendor=seller.vendor)
    assert (owed.balance, owed.awaiting_invoices, owed.payable) == (285_000, 142_500, 142_500)

    with pytest.raises(ValidationFailed) as refused:
        await pay_out(database, admin, seller.vendor.id, 142_501)
    assert refused.value.errors[0].params == {"payable": "Rp 142.500", "awaiting": "Rp 142.500"}
    await log_in(client, admin)
    page = await submit(client, f"/admin/vendors/{seller.vendor.id}/payouts", {"amount": "142.501", "reference": "B1"})
    assert page.status_code == 400 and "Rp 142.500" in page.text
    api = await client.post(
        f"/api/v1/admin/vendors/{seller.vendor.id}/payouts",
        json={"amount": 142_501, "reference": "BCA 2"},
        headers=await bearer(database, admin),
    )
    assert api.status_code == 422 and api.json()["errors"][0]["field"] == "amount"
    assert await balance_of(database, seller.vendor) == 285_000  # nothing was paid out

    await pay_out(database, admin, seller.vendor.id, 142_500, "BCA 3")
    with pytest.raises(ValidationFailed):
        await pay_out(database, admin, seller.vendor.id, 1, "BCA 4")  # the rest waits for the open invoice
    await canteens_pay(database, admin, unpaid_order)
    await pay_out(database, admin, seller.vendor.id, 142_500, "BCA 5")
    assert await balance_of(database, seller.vendor) == 0
    await assert_balanced(database)
