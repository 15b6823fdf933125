"""Invoice terms for canteens a manager has checked: the order is placed at once with an invoice due in 14 or 30
days, the canteen reads and prints it, a manager marks it paid once; an invoice past its due date is overdue, one
whose orders were all cancelled is void; a canteen without terms cannot order on invoice.

Service steps run on the ordering helpers' fixed clock (Monday 23 November 2026, 09.00 WIB). Pages run on the real
clock: an invoice meant to be overdue there is placed 40 days before today.
"""

from __future__ import annotations

import html
import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel, col

from backend.accounts import service as account_service
from backend.accounts.models import Organisation, Role
from backend.clock import format_date, utcnow, wib_today
from backend.db import Database
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.i18n import gettext, set_locale
from backend.moderation.models import AuditEntry
from backend.orders import cart
from backend.orders.delivery import DeliveryChoice
from backend.orders.models import DeliveryKind, Order, OrderStatus, PaymentMethod, StandingOrderRun
from backend.orders.placement import place_checkout
from backend.orders.standing import StandingOrderInput, create_standing_order, place_standing_orders
from backend.orders.states import change_status
from backend.payments import invoices
from backend.payments.invoices import InvoiceState
from backend.payments.models import Invoice
from tests.conftest import ROOT, TEST_BANK, app, found, log_in, submit  # noqa: F401  (`app` without card payments: this folder's conftest turns them on)
from tests.orders.conftest import NEXT_MONDAY, NOW

S = OrderStatus


def t(message: str, **params) -> str:
    set_locale("id")
    return gettext(message, **params)


def text_of(page: str) -> str:
    """What a person reads: the markup's text with its white space collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


async def invoice_of(database: Database, checkout_id: int) -> Invoice:
    async with database.sessionmaker() as session:
        return (await session.execute(select(Invoice).where(col(Invoice.checkout_id) == checkout_id))).scalar_one()


async def count(database: Database, model: type[SQLModel]) -> int:
    async with database.sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def set_terms(database, actor, organisation_id: int, days: int | None, npwp: str = "") -> Organisation:
    async with database.sessionmaker() as session:
        organisation = await invoices.set_invoice_terms(
            session=session, actor=actor, organisation_id=organisation_id, terms_days=days, npwp=npwp
        )
        await session.commit()
        return organisation


async def place_days_ago(database, buyer, product_id: int, quantity: int, days: int, key: str):
    """An invoice order the canteen placed `days` days ago (real clock), for delivery three days after that."""
    placed_at = utcnow() - timedelta(days=days)
    async with database.sessionmaker() as session:
        await cart.set_quantity(
            session=session, buyer=buyer, product_id=product_id, quantity=quantity, today=wib_today(placed_at)
        )
        placement = await place_checkout(
            session=session,
            buyer=buyer,
            idempotency_key=key,
            payment_method=PaymentMethod.INVOICE,
            now=placed_at,
            delivery=DeliveryChoice(
                day=wib_today(placed_at) + timedelta(days=3), slot=time(11), kind=DeliveryKind.CANTEEN
            ),
        )
        await session.commit()
        return placement


async def bearer(database, user) -> dict[str, str]:
    async with database.sessionmaker() as session:
        raw, _ = await account_service.create_api_token(session=session, user=user, name="pengadaan")
        await session.commit()
    return {"Authorization": f"Bearer {raw}"}


# --- placing on invoice ---------------------------------------------------------------------------------


async def test_an_invoice_order_is_placed_at_once_with_its_invoice_due_in_30_days(
    ordering, world, zone, catering, canteen_staff, canteen, manager, database
):
    _seller, nasi_box = catering
    await set_terms(database, manager, canteen.id, 30, npwp="012345678901000")
    await ordering.put_in_cart(canteen_staff, nasi_box.id, 200)
    placement = await ordering.checkout(canteen_staff)
    assert [order.status for order in placement.orders] == [S.PLACED]  # no waiting for a payment

    invoice = await invoice_of(database, placement.checkout.id)
    assert invoice.number == f"INV-2026-{placement.checkout.id:06d}"
    assert (invoice.amount, invoice.organisation_id) == (2_600_000, canteen.id)
    assert (invoice.issued_on, invoice.due_on) == (date(2026, 11, 23), date(2026, 12, 23))
    assert invoice.npwp == "01.234.567.8-901.000" and invoice.paid_at is None

    # The same request again (a double tap) answers with the same checkout: still one invoice.
    again = await ordering.checkout(canteen_staff, key=f"key-{ordering.keys}")
    assert again.replayed and await count(database, Invoice) == 1


async def test_14_day_terms_and_a_multi_vendor_checkout_make_one_invoice(
    ordering, world, zone, catering, canteen_staff, canteen, manager, database
):
    _seller, nasi_box = catering
    other = await world.seller(zone, business_name="Keripik Mbak Nur")
    snack = await world.live_product(other, "Keripik Tempe", price=12_000, min_order_qty=1, unit="pack")
    await set_terms(database, manager, canteen.id, 14)
    await ordering.put_in_cart(canteen_staff, nasi_box.id, 50)
    await ordering.put_in_cart(canteen_staff, snack.id, 24)
    placement = await ordering.checkout(canteen_staff)

    assert len(placement.orders) == 2
    invoice = await invoice_of(database, placement.checkout.id)
    assert invoice.amount == 50 * 14_000 + 24 * 12_000 == placement.checkout.total
    assert invoice.due_on == date(2026, 12, 7)
    assert await count(database, Invoice) == 1


async def test_a_canteen_without_invoice_terms_cannot_order_on_invoice(ordering, catering, database):
    seller, nasi_box = catering
    unchecked = await ordering.canteen_buyer("Kantin PT Baru", invoice_terms_days=None)
    before = await ordering.remaining(seller.vendor.id)
    await ordering.put_in_cart(unchecked, nasi_box.id, 100)

    with pytest.raises(ValidationFailed) as refused:
        await ordering.checkout(unchecked)
    assert [(e.field, e.message) for e in refused.value.errors] == [("payment_method", invoices.MSG_NO_TERMS)]
    assert await ordering.count_orders() == 0 and await count(database, Invoice) == 0
    assert await ordering.remaining(seller.vendor.id) == before  # nothing held


async def test_standing_orders_get_their_invoices_and_stop_when_terms_are_withdrawn(
    ordering, catering, canteen_staff, canteen, manager, database
):
    _seller, nasi_box = catering
    async with database.sessionmaker() as session:
        await create_standing_order(
            session=session,
            actor=canteen_staff,
            today=NOW.date(),
            data=StandingOrderInput(product_id=nasi_box.id, quantity=100, weekdays=[1], slot=time(11), days_ahead=7),
        )
        await session.commit()
    async with database.sessionmaker() as session:
        assert (await place_standing_orders(session=session, now=NOW)).placed == 1  # Monday 30 November
        await session.commit()
    assert await count(database, Invoice) == 1

    await set_terms(database, manager, canteen.id, None)
    async with database.sessionmaker() as session:
        run = await place_standing_orders(session=session, now=NOW + timedelta(days=7))  # Monday 7 December
        await session.commit()
    assert (run.placed, run.refused) == (0, 1)
    async with database.sessionmaker() as session:
        refused = (
            await session.execute(
                select(StandingOrderRun).where(col(StandingOrderRun.delivery_day) == date(2026, 12, 7))
            )
        ).scalar_one()
    assert refused.message == invoices.MSG_NO_TERMS and await count(database, Invoice) == 1


# --- terms: managers --------------------------------------------------------------------------------------


async def test_managers_grant_and_withdraw_terms_with_an_npwp_on_their_zones_canteens_only(
    world, canteen, manager, admin, canteen_staff, database
):
    other_zone = await world.zone(code="KIK", name="Kawasan Industri Kendal")
    stranger = await world.user(Role.MANAGER, zone=other_zone)
    with pytest.raises(NotFound):
        await set_terms(database, stranger, canteen.id, 30)
    with pytest.raises(NotFound):
        await set_terms(database, canteen_staff, canteen.id, 30)
    with pytest.raises(ValidationFailed) as bad_terms:
        await set_terms(database, manager, canteen.id, 60)
    assert bad_terms.value.errors[0].field == "invoice_terms_days"
    for npwp in ("12345", "01.234.567.8-901.00X", "1234567890123456789"):
        with pytest.raises(ValidationFailed) as bad_npwp:
            await set_terms(database, manager, canteen.id, 30, npwp=npwp)
        assert bad_npwp.value.errors[0].field == "npwp"

    await set_terms(database, manager, canteen.id, 14, npwp="3325 0101 0101 0001")  # the 16-digit NPWP (NIK)
    withdrawn = await set_terms(database, admin, canteen.id, None, npwp="3325010101010001")
    assert (withdrawn.invoice_terms_days, withdrawn.npwp) == (None, "3325010101010001")
    async with database.sessionmaker() as session:
        audit = (
            (
                await session.execute(
                    select(AuditEntry)
                    .where(col(AuditEntry.action) == "organisation.invoice_terms")
                    .order_by(col(AuditEntry.id))
                )
            )
            .scalars()
            .all()
        )
    assert [(entry.actor_id, entry.before, entry.after) for entry in audit] == [
        (manager.id, {"invoice_terms_days": 30, "npwp": ""}, {"invoice_terms_days": 14, "npwp": "3325010101010001"}),
        (
            admin.id,
            {"invoice_terms_days": 14, "npwp": "3325010101010001"},
            {"invoice_terms_days": None, "npwp": "3325010101010001"},
        ),
    ]


async def test_the_manager_sets_terms_on_the_canteens_page_without_javascript(
    client, world, zone, canteen, manager, catering, database, count_queries
):
    unchecked = await world.organisation(zone, "Kantin PT Baru", invoice_terms_days=None)
    await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=unchecked)
    await world.organisation(await world.zone(code="KIK", name="Kawasan Industri Kendal"), "Kantin Kendal")
    await log_in(client, manager)
    assert 'href="/manager/canteens"' in (await client.get("/manager")).text

    count_queries.statements.clear()
    page = await client.get("/manager/canteens")
    assert page.status_code == 200 and count_queries.count <= 5, count_queries.statements
    assert f'id="canteen-{unchecked.id}" data-terms=""' in page.text
    assert f'id="canteen-{canteen.id}" data-terms="30"' in page.text
    assert "Kantin Kendal" not in page.text  # another zone's canteen
    assert page.text.count('name="_csrf_token"') >= 3

    refused = await submit(
        client, f"/manager/canteens/{unchecked.id}/invoice-terms", {"invoice_terms_days": "30", "npwp": "123"}
    )
    assert refused.status_code == 400 and t(invoices.MSG_NPWP) in text_of(refused.text)
    saved = await submit(
        client,
        f"/manager/canteens/{unchecked.id}/invoice-terms",
        {"invoice_terms_days": "30", "npwp": "01.234.567.8-901.000"},
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/manager/canteens?notice=saved&canteen={unchecked.id}#canteen-{unchecked.id}"
    async with database.sessionmaker() as session:
        stored = await session.get(Organisation, unchecked.id)
    assert (stored.invoice_terms_days, stored.npwp) == (30, "01.234.567.8-901.000")
    kendal = (await world.organisation(await world.zone(code="KDL", name="Kendal 2"), "Kantin Lain")).id
    assert (
        await submit(client, f"/manager/canteens/{kendal}/invoice-terms", {"invoice_terms_days": ""})
    ).status_code == 404


async def test_the_cart_offers_invoice_only_to_canteens_with_terms(
    client, world, zone, catering, canteen_staff, database
):
    _seller, nasi_box = catering
    unchecked_org = await world.organisation(zone, "Kantin PT Baru", invoice_terms_days=None)
    unchecked = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=unchecked_org)
    for buyer in (canteen_staff, unchecked):
        async with database.sessionmaker() as session:
            await cart.set_quantity(
                session=session, buyer=buyer, product_id=nasi_box.id, quantity=50, today=wib_today(world.now)
            )
            await session.commit()

    await log_in(client, canteen_staff)
    assert 'name="payment_method" value="invoice"' in (await client.get("/cart")).text
    await log_in(client, unchecked)
    page = await client.get("/cart")
    assert 'value="invoice"' not in page.text and "data-no-invoice-terms" in page.text
    key = found(r'name="idempotency_key" value="([^"]+)"', page.text).group(1)
    refused = await submit(
        client,
        "/checkout",
        {
            "idempotency_key": key,
            "delivery_day": (wib_today(utcnow()) + timedelta(days=3)).isoformat(),
            "delivery_slot": "11:00",
            "delivery_place": "canteen",
            "payment_method": "invoice",
        },
    )
    assert refused.status_code == 400 and t(invoices.MSG_NO_TERMS) in text_of(refused.text)
    assert await count(database, Order) == 0


# --- reading and printing ---------------------------------------------------------------------------------


async def test_the_canteen_lists_and_prints_its_invoice_in_few_queries(
    client, world, zone, catering, canteen, canteen_staff, manager, database, count_queries
):
    _seller, nasi_box = catering
    await set_terms(database, manager, canteen.id, 30, npwp="012345678901000")
    placement = await place_days_ago(database, canteen_staff, nasi_box.id, 200, days=0, key="k1")
    invoice = await invoice_of(database, placement.checkout.id)
    colleague = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen)
    await log_in(client, colleague)  # every staff member of the canteen sees its invoices
    assert 'href="/canteen/invoices"' in (await client.get("/canteen")).text

    count_queries.statements.clear()
    listing = await client.get("/canteen/invoices")
    assert listing.status_code == 200 and count_queries.count <= 5, count_queries.statements
    assert f'data-invoice="{invoice.number}" data-state="open"' in listing.text and "Rp 2.600.000" in listing.text

    count_queries.statements.clear()
    page = await client.get(f"/invoices/{invoice.id}")
    assert page.status_code == 200 and count_queries.count <= 5, count_queries.statements
    text = text_of(page.text)
    for expected in (
        "Pasar Kawasan",
        canteen.name,
        "NPWP",
        "01.234.567.8-901.000",
        invoice.number,
        "Catering Bu Sri",
        placement.orders[0].number,
        "Nasi Box Ayam Bakar",
        "Rp 13.000",
        "Rp 2.600.000",
    ):
        assert expected in text, expected
    assert format_date(invoice.issued_on) in text and format_date(invoice.due_on) in text
    # Where to pay: the platform's account, the exact amount (on one line), the invoice number as the reference.
    details = found(r"<dl class=\"facts bank-details\".*?</dl>", page.text, re.S).group(0)
    for expected in (TEST_BANK.name, TEST_BANK.account_number, TEST_BANK.account_holder, invoice.number):
        assert expected in details, expected
    assert '<span class="money">Rp 2.600.000</span>' in details and format_date(invoice.due_on) in text_of(details)
    # The print styles are in app.css (the Content-Security-Policy allows no inline <style>).
    assert 'class="back no-print"' in page.text and 'class="invoice"' in page.text
    assert re.search(r"@media print \{\s*\.invoice \{", (ROOT / "static" / "css" / "app.css").read_text())
    assert "/manager/invoices" not in page.text  # no "mark paid" for the canteen


async def test_an_invoice_is_for_its_canteen_the_zones_managers_and_admins_only(
    client, world, zone, catering, canteen_staff, manager, admin, worker, database
):
    seller, nasi_box = catering
    placement = await place_days_ago(database, canteen_staff, nasi_box.id, 20, days=0, key="k1")
    invoice = await invoice_of(database, placement.checkout.id)
    other_canteen = await world.user(
        Role.CANTEEN_STAFF, zone=zone, organisation=await world.organisation(zone, "Kantin PT Lain")
    )
    other_manager = await world.user(Role.MANAGER, zone=await world.zone(code="KIK", name="Kendal"))

    for reader, status in (
        (other_canteen, 404),
        (other_manager, 404),
        (seller.user, 403),
        (worker, 403),
        (manager, 200),
        (admin, 200),
        (canteen_staff, 200),
    ):
        await log_in(client, reader)
        assert (await client.get(f"/invoices/{invoice.id}")).status_code == status, reader.role
    await log_in(client, other_canteen)
    assert invoice.number not in (await client.get("/canteen/invoices")).text
    await log_in(client, other_manager)
    assert invoice.number not in (await client.get("/manager/invoices")).text
    assert (
        await submit(client, f"/manager/invoices/{invoice.id}/paid", {"payment_reference": "BCA 1"})
    ).status_code == 404
    await log_in(client, canteen_staff)
    assert (
        await submit(client, f"/manager/invoices/{invoice.id}/paid", {"payment_reference": "BCA 1"})
    ).status_code == 403
    assert (await invoice_of(database, placement.checkout.id)).paid_at is None


# --- paid, overdue, void ---------------------------------------------------------------------------------


async def test_a_manager_marks_an_invoice_paid_once_from_the_list(
    client, catering, canteen_staff, manager, database, count_queries
):
    _seller, nasi_box = catering
    placement = await place_days_ago(database, canteen_staff, nasi_box.id, 200, days=0, key="k1")
    invoice = await invoice_of(database, placement.checkout.id)
    await log_in(client, manager)
    assert 'href="/manager/invoices"' in (await client.get("/manager")).text

    count_queries.statements.clear()
    listing = await client.get("/manager/invoices")
    assert listing.status_code == 200 and count_queries.count <= 5, count_queries.statements
    assert f'id="invoice-{invoice.id}" data-invoice="{invoice.number}" data-state="open"' in listing.text

    missing = await submit(client, f"/manager/invoices/{invoice.id}/paid", {"payment_reference": " "})
    assert missing.status_code == 400 and t(invoices.MSG_REFERENCE) in text_of(missing.text)
    paid = await submit(client, f"/manager/invoices/{invoice.id}/paid", {"payment_reference": "BCA 2611-0042"})
    assert paid.status_code == 303 and paid.headers["location"] == "/manager/invoices?notice=paid"
    stored = await invoice_of(database, placement.checkout.id)
    assert stored.paid_at is not None and stored.payment_reference == "BCA 2611-0042"
    assert stored.paid_recorded_by_id == manager.id

    again = await submit(client, f"/manager/invoices/{invoice.id}/paid", {"payment_reference": "BCA lagi"})
    assert again.status_code == 409 and t(invoices.MSG_ALREADY_PAID) in text_of(again.text)
    assert (await invoice_of(database, placement.checkout.id)).payment_reference == "BCA 2611-0042"
    assert invoice.number not in (await client.get("/manager/invoices")).text  # no longer to be paid
    assert 'data-state="paid"' in (await client.get("/manager/invoices?state=paid")).text
    async with database.sessionmaker() as session:
        audit = (await session.execute(select(AuditEntry).where(col(AuditEntry.action) == "invoice.paid"))).scalar_one()
    assert (audit.actor_id, audit.subject_id, audit.reason) == (manager.id, invoice.id, "BCA 2611-0042")

    await log_in(client, canteen_staff)
    assert f'data-invoice="{invoice.number}" data-state="paid"' in (await client.get("/canteen/invoices")).text


async def test_the_invoice_page_marks_paid_too(client, catering, canteen_staff, admin, database):
    _seller, nasi_box = catering
    placement = await place_days_ago(database, canteen_staff, nasi_box.id, 20, days=0, key="k1")
    invoice = await invoice_of(database, placement.checkout.id)
    await log_in(client, admin)
    page = await client.get(f"/invoices/{invoice.id}")
    assert f'action="/manager/invoices/{invoice.id}/paid"' in page.text
    paid = await submit(
        client, f"/manager/invoices/{invoice.id}/paid", {"payment_reference": "Mandiri 77", "back": "invoice"}
    )
    assert paid.status_code == 303 and paid.headers["location"] == f"/invoices/{invoice.id}?notice=paid"
    again = await submit(
        client, f"/manager/invoices/{invoice.id}/paid", {"payment_reference": "Mandiri 78", "back": "invoice"}
    )
    assert again.status_code == 409 and 'data-state="paid"' in again.text


async def test_an_unpaid_invoice_past_its_due_date_is_overdue(
    client, ordering, catering, canteen_staff, manager, database
):
    _seller, nasi_box = catering
    # On the fixed clock: issued 23 November, due 23 December; overdue from 24 December.
    placed = await ordering.order(canteen_staff, nasi_box.id, 20)
    async with database.sessionmaker() as session:
        for today, state in ((date(2026, 12, 23), InvoiceState.OPEN), (date(2026, 12, 24), InvoiceState.OVERDUE)):
            found = await invoices.list_invoices(session=session, actor=manager, today=today)
            assert [summary.state for summary in found.invoices] == [state]
            overdue = await invoices.list_invoices(
                session=session, actor=manager, today=today, states=(InvoiceState.OVERDUE,)
            )
            assert len(overdue.invoices) == (state == InvoiceState.OVERDUE)
    assert placed.status == S.PLACED

    # On the real clock: placed 40 days ago on 30-day terms.
    late = await place_days_ago(database, canteen_staff, nasi_box.id, 20, days=40, key="late")
    invoice = await invoice_of(database, late.checkout.id)
    await log_in(client, canteen_staff)
    listing = await client.get("/canteen/invoices")
    row = re.search(rf'<tr data-invoice="{invoice.number}" data-state="overdue">.*?</tr>', listing.text, re.S)
    assert row and 'class="badge badge-danger"' in row.group(0) and 'class="error"' in row.group(0)
    assert 'data-state="overdue"' in (await client.get(f"/invoices/{invoice.id}")).text
    await log_in(client, manager)
    overdue = await client.get("/manager/invoices?state=overdue")
    assert invoice.number in overdue.text and 'data-state="open"' not in overdue.text


async def test_cancelled_orders_leave_the_amount_due_and_an_all_cancelled_invoice_is_void(
    ordering, world, zone, catering, canteen_staff, manager, database
):
    seller, nasi_box = catering
    other = await world.seller(zone, business_name="Keripik Mbak Nur")
    snack = await world.live_product(other, "Keripik Tempe", price=12_000, min_order_qty=1, unit="pack")
    await ordering.put_in_cart(canteen_staff, nasi_box.id, 50)
    await ordering.put_in_cart(canteen_staff, snack.id, 10)
    placement = await ordering.checkout(canteen_staff)
    invoice = await invoice_of(database, placement.checkout.id)
    box_order, snack_order = sorted(placement.orders, key=lambda order: order.vendor_id != seller.vendor.id)

    async def detail():
        async with database.sessionmaker() as session:
            return await invoices.invoice_detail(
                session=session, actor=canteen_staff, invoice_id=invoice.id, today=NOW.date()
            )

    async with database.sessionmaker() as session:
        await change_status(
            session=session,
            order_id=snack_order.id,
            target=S.DECLINED,
            actor=other.user,
            reason="Stok habis",
            now=NOW,
            today=NEXT_MONDAY,
        )
        await session.commit()
    partly = await detail()
    assert (partly.amount_due, partly.state, partly.invoice.amount) == (700_000, InvoiceState.OPEN, 820_000)
    assert [item.counts for item in partly.orders] == [True, False]

    async with database.sessionmaker() as session:
        await change_status(
            session=session,
            order_id=box_order.id,
            target=S.CANCELLED,
            actor=canteen_staff,
            reason="Acara batal",
            now=NOW,
            today=NEXT_MONDAY,
        )
        await session.commit()
    void = await detail()
    assert (void.amount_due, void.state) == (0, InvoiceState.VOID)
    async with database.sessionmaker() as session:
        unpaid = await invoices.list_invoices(
            session=session, actor=manager, today=NOW.date(), states=(InvoiceState.OPEN, InvoiceState.OVERDUE)
        )
        assert unpaid.invoices == []
        with pytest.raises(Conflict) as refused:
            await invoices.mark_invoice_paid(
                session=session, actor=manager, invoice_id=invoice.id, payment_reference="BCA 1", now=NOW
            )
    assert refused.value.message == invoices.MSG_VOID


# --- API --------------------------------------------------------------------------------------------------


async def test_the_invoice_api_lists_shows_and_marks_paid_with_problem_bodies(
    client, world, zone, catering, canteen_staff, manager, database
):
    _seller, nasi_box = catering
    placement = await place_days_ago(database, canteen_staff, nasi_box.id, 200, days=0, key="k1")
    late = await place_days_ago(database, canteen_staff, nasi_box.id, 20, days=40, key="k2")
    invoice = await invoice_of(database, placement.checkout.id)
    as_canteen, as_manager = await bearer(database, canteen_staff), await bearer(database, manager)
    stranger = await bearer(
        database,
        await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=await world.organisation(zone, "Kantin Lain")),
    )

    mine = (await client.get("/api/v1/invoices", headers=as_canteen)).json()
    assert [(i["number"], i["state"]) for i in mine["invoices"]] == [
        (invoice.number, "open"),
        ((f"INV-{(await invoice_of(database, late.checkout.id)).issued_on.year}-{late.checkout.id:06d}"), "overdue"),
    ]
    overdue = (await client.get("/api/v1/invoices?state=overdue", headers=as_manager)).json()
    assert [i["checkout_id"] for i in overdue["invoices"]] == [late.checkout.id]
    assert (await client.get("/api/v1/invoices", headers=stranger)).json()["invoices"] == []

    one = (await client.get(f"/api/v1/invoices/{invoice.id}", headers=as_canteen)).json()
    assert (one["amount"], one["amount_due"], one["url"]) == (2_600_000, 2_600_000, f"/invoices/{invoice.id}")
    assert [
        (o["vendor_name"], o["counts"], [(line["quantity"], line["unit_price"]) for line in o["lines"]])
        for o in one["orders"]
    ] == [("Catering Bu Sri", True, [(200, 13_000)])]
    assert one["pay_to"] == {
        "bank_name": TEST_BANK.name,
        "account_number": TEST_BANK.account_number,
        "account_holder": TEST_BANK.account_holder,
        "amount": 2_600_000,
        "reference": invoice.number,
    }
    gone = await client.get(f"/api/v1/invoices/{invoice.id}", headers=stranger)
    assert gone.status_code == 404 and gone.headers["content-type"].startswith("application/problem+json")

    refused = await client.post(
        f"/api/v1/invoices/{invoice.id}/paid", json={"payment_reference": "BCA 1"}, headers=as_canteen
    )
    assert refused.status_code == 403
    paid = await client.post(
        f"/api/v1/invoices/{invoice.id}/paid", json={"payment_reference": "BCA 1"}, headers=as_manager
    )
    assert paid.status_code == 200 and paid.json()["state"] == "paid"
    twice = await client.post(
        f"/api/v1/invoices/{invoice.id}/paid", json={"payment_reference": "BCA 2"}, headers=as_manager
    )
    assert twice.status_code == 409 and twice.json()["code"] == "conflict"

    terms = await client.put(
        f"/api/v1/manager/canteens/{canteen_staff.organisation_id}/invoice-terms",
        json={"invoice_terms_days": 14, "npwp": "012345678901000"},
        headers=as_manager,
    )
    assert terms.status_code == 200 and terms.json()["npwp"] == "01.234.567.8-901.000"
    bad = await client.put(
        f"/api/v1/manager/canteens/{canteen_staff.organisation_id}/invoice-terms",
        json={"invoice_terms_days": 60},
        headers=as_manager,
    )
    assert bad.status_code == 400
    listed = (await client.get("/api/v1/manager/canteens", headers=as_manager)).json()
    assert {(c["name"], c["invoice_terms_days"]) for c in listed} == {
        ("Kantin PT Garmen Nusantara", 14),
        ("Kantin Lain", 30),
    }


async def test_two_managers_marking_at_once_record_one_payment(
    ordering, catering, canteen_staff, manager, admin, database
):
    if database.engine.dialect.name != "postgresql":
        pytest.skip("concurrent updates are tested on PostgreSQL")
    import asyncio

    _seller, nasi_box = catering
    await ordering.put_in_cart(canteen_staff, nasi_box.id, 20)
    placement = await ordering.checkout(canteen_staff)
    invoice = await invoice_of(database, placement.checkout.id)

    async def mark(actor, reference: str) -> str:
        async with database.sessionmaker() as session:
            try:
                await invoices.mark_invoice_paid(
                    session=session, actor=actor, invoice_id=invoice.id, payment_reference=reference, now=NOW
                )
                await asyncio.sleep(0.05)  # both transactions are open at once
                await session.commit()
            except Conflict:
                await session.rollback()
                return "refused"
            return reference

    results = await asyncio.gather(mark(manager, "BCA 1"), mark(admin, "BCA 2"))
    assert sorted(results).count("refused") == 1
    stored = await invoice_of(database, placement.checkout.id)
    assert stored.payment_reference in results
    async with database.sessionmaker() as session:
        assert (
            await session.execute(
                select(func.count()).select_from(AuditEntry).where(col(AuditEntry.action) == "invoice.paid")
            )
        ).scalar_one() == 1


async def test_an_invoice_names_the_bank_account_the_admin_set_on_the_settings_page(
    client, other_client, world, zone, catering, canteen, canteen_staff, manager, admin, database, count_queries
):
    _seller, nasi_box = catering
    await set_terms(database, manager, canteen.id, 30)
    placement = await place_days_ago(database, canteen_staff, nasi_box.id, 200, days=0, key="k1")
    invoice = await invoice_of(database, placement.checkout.id)
    await log_in(other_client, admin)
    saved = await submit(
        other_client,
        "/admin/settings",
        {"bank_name": "Bank Jateng", "account_number": "2-010-123-456", "account_holder": "PT Pasar Kawasan Batang"},
    )
    assert saved.status_code == 303

    await log_in(client, canteen_staff)
    count_queries.statements.clear()
    page = await client.get(f"/invoices/{invoice.id}")
    assert page.status_code == 200 and count_queries.count <= 5, count_queries.statements
    details = found(r"<dl class=\"facts bank-details\".*?</dl>", page.text, re.S).group(0)
    for expected in ("Bank Jateng", "2010123456", "PT Pasar Kawasan Batang"):
        assert expected in details, expected
    assert TEST_BANK.name not in page.text
    one = (await client.get(f"/api/v1/invoices/{invoice.id}", headers=await bearer(database, canteen_staff))).json()
    assert (one["pay_to"]["bank_name"], one["pay_to"]["account_number"]) == ("Bank Jateng", "2010123456")
