"""A short or damaged delivery: a canteen ordered 200 nasi box at Rp 13.000, 10 arrived damaged. The canteen
reports it on receipt, the vendor answers, and the agreed difference (Rp 130.000) is given back as the order was
paid; the ledger enters the order for what the canteen finally pays. The report holds the order's completion.

Service-level stories on the ordering helpers' fixed clock (Monday 23 November 2026, 09.00 WIB), then one page and
one API story."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.errors import Conflict, Forbidden, NotFound, StatusConflict, ValidationFailed
from backend.moderation.models import AuditEntry
from backend.notifications.models import Notification
from backend.orders import claims
from backend.orders.claim_models import ClaimKind, ClaimState, CreditNote, Settlement
from backend.orders.claims import ClaimAction, ReportedLine
from backend.orders.models import Order, OrderLine, OrderStatus, PaymentMethod
from backend.orders.states import AUTO_COMPLETE_AFTER, change_status, complete_delivered_orders
from backend.payments import invoices, ledger
from backend.payments.ledger import commission_for
from backend.payments.models import Invoice, LedgerAccount, LedgerEntry
from tests.conftest import jpeg_bytes, log_in, on_both_media_stores, submit
from tests.orders.conftest import NEXT_MONDAY, NOW
from tests.orders.test_order_api import bearer

S = OrderStatus
A = ClaimAction


async def delivered(database, ordering, seller, buyer, product, quantity=200, **checkout) -> Order:
    """The order placed, accepted, prepared and delivered by the vendor."""
    order = await ordering.order(buyer, product.id, quantity, **checkout)
    async with database.sessionmaker() as session:
        for target in (S.ACCEPTED, S.READY, S.DELIVERED):
            await change_status(
                session=session, order_id=order.id, target=target, actor=seller.user, now=NOW, today=NEXT_MONDAY
            )
        await session.commit()
    return order


async def line_of(database, order: Order) -> OrderLine:
    async with database.sessionmaker() as session:
        return (await session.execute(select(OrderLine).where(col(OrderLine.order_id) == order.id))).scalar_one()


async def report(database, actor, order, line, quantity=10, kind=ClaimKind.DAMAGED, note="Basi, kotak penyok"):
    async with database.sessionmaker() as session:
        try:
            claim = await claims.report_delivery_problem(
                session=session,
                actor=actor,
                order_id=order.id,
                lines=[ReportedLine(order_line_id=line.id, kind=kind, quantity=quantity, note=note)],
                now=NOW,
            )
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
        return claim


async def act(database, actor, order, action, quantities=None, reason=""):
    async with database.sessionmaker() as session:
        try:
            view = await claims.act_on_claim(
                session=session,
                actor=actor,
                order_id=order.id,
                action=action,
                quantities=quantities,
                reason=reason,
                now=NOW,
            )
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
        return view


async def complete(database, order, buyer):
    async with database.sessionmaker() as session:
        await change_status(
            session=session, order_id=order.id, target=S.COMPLETED, actor=buyer, now=NOW, today=NEXT_MONDAY
        )
        await session.commit()


async def vendor_entries(database, order) -> dict[str, int]:
    async with database.sessionmaker() as session:
        rows = await session.execute(
            select(col(LedgerEntry.account), col(LedgerEntry.amount)).where(col(LedgerEntry.order_id) == order.id)
        )
        return dict(rows.all())


async def inbox_of(database, user) -> list[Notification]:
    async with database.sessionmaker() as session:
        return list(
            (
                await session.execute(
                    select(Notification).where(col(Notification.user_id) == user.id).order_by(col(Notification.id))
                )
            ).scalars()
        )


@pytest.fixture
async def nasi_order(database, ordering, catering, canteen_staff):
    seller, nasi_box = catering
    order = await delivered(database, ordering, seller, canteen_staff, nasi_box)
    assert order.total == 2_600_000
    return order


async def test_ten_damaged_of_200_boxes_become_a_credit_note_and_the_ledger_enters_the_reduced_order(
    database, catering, canteen_staff, nasi_order, world, zone, canteen
):
    seller, _ = catering
    line = await line_of(database, nasi_order)
    colleague = await world.user(canteen_staff.role, zone=zone, organisation=canteen)
    # Any staff of the ordering canteen may report; the vendor is told.
    await report(database, colleague, nasi_order, line)
    assert [n.url for n in await inbox_of(database, seller.user)][-1] == f"/vendor/orders/{nasi_order.id}/claim"

    # The order cannot complete while the report is open, neither by the buyer nor by the job.
    with pytest.raises(StatusConflict):
        await complete(database, nasi_order, canteen_staff)
    async with database.sessionmaker() as session:
        assert await complete_delivered_orders(session=session, now=NOW + AUTO_COMPLETE_AFTER + timedelta(hours=1)) == 0

    view = await act(database, seller.user, nasi_order, A.ACCEPT)
    assert view.claim.state == ClaimState.SETTLED and view.claim.settlement == Settlement.CREDIT_NOTE
    assert view.claim.amount == 130_000
    async with database.sessionmaker() as session:
        note = (await session.execute(select(CreditNote))).scalar_one()
        assert (note.amount, note.order_id) == (130_000, nasi_order.id)
        listed = await invoices.list_invoices(session=session, actor=canteen_staff, today=NOW.date())
        assert listed.invoices[0].amount_due == 2_470_000  # what the canteen owes on its invoice
        detail = await invoices.invoice_detail(
            session=session, actor=canteen_staff, invoice_id=note.invoice_id, today=NOW.date()
        )
        assert detail.amount_due == 2_470_000
    # The canteen's staff hear of it.
    assert any("settled" in n.message for n in await inbox_of(database, canteen_staff))

    await complete(database, nasi_order, canteen_staff)
    gross = 2_600_000 - 130_000
    commission = commission_for(gross, 500)
    assert commission == 123_500
    assert await vendor_entries(database, nasi_order) == {
        LedgerAccount.CLEARING: -gross,
        LedgerAccount.VENDOR: gross - commission,
        LedgerAccount.COMMISSION: commission,
    }
    # The vendor is owed Rp 130.000 less its commission (Rp 6.500) less than without the report.
    full_net = 2_600_000 - commission_for(2_600_000, 500)
    async with database.sessionmaker() as session:
        balance = await ledger.vendor_balance(session=session, vendor=seller.vendor)
    assert full_net - balance.balance == 130_000 - 6_500
    assert balance.orders[0].gross == gross


async def test_a_proposal_disputed_goes_to_the_manager_who_sets_the_agreed_quantity(
    database, catering, canteen_staff, nasi_order, manager
):
    seller, _ = catering
    line = await line_of(database, nasi_order)
    await report(database, canteen_staff, nasi_order, line, quantity=10)

    with pytest.raises(ValidationFailed) as refused:
        await act(database, seller.user, nasi_order, A.PROPOSE, {line.id: 201}, reason="")
    assert set(refused.value.by_field()) == {"reason", f"quantity-{line.id}"}
    with pytest.raises(Forbidden):  # the buyer cannot answer for the vendor
        await act(database, canteen_staff, nasi_order, A.ACCEPT)

    await act(database, seller.user, nasi_order, A.PROPOSE, {line.id: 4}, reason="Hanya 4 kotak penyok di foto")
    with pytest.raises(Conflict):  # a second answer is refused
        await act(database, seller.user, nasi_order, A.ACCEPT)
    with pytest.raises(Conflict):  # not the manager's step yet
        await act(database, manager, nasi_order, A.DECIDE, {line.id: 7}, reason="x")
    await act(database, canteen_staff, nasi_order, A.DISPUTE, reason="Sepuluh kotak basi, ada saksi")
    assert any(n.url == f"/manager/claims/{nasi_order.id}" for n in await inbox_of(database, manager))
    async with database.sessionmaker() as session:
        queue = await claims.disputed_claims(session=session, actor=manager)
    assert [item.order.id for item in queue] == [nasi_order.id]

    view = await act(database, manager, nasi_order, A.DECIDE, {line.id: 7}, reason="Tujuh kotak terbukti rusak")
    assert (view.claim.amount, view.claim.settlement) == (7 * 13_000, Settlement.CREDIT_NOTE)
    async with database.sessionmaker() as session:
        (entry,) = (await session.execute(select(AuditEntry))).scalars()
    assert (entry.action, entry.actor_id, entry.reason) == ("claim.decide", manager.id, "Tujuh kotak terbukti rusak")
    assert entry.after == {"agreed": "7 box Nasi Box Ayam Bakar", "amount": 91_000}
    assert entry.subject_label == nasi_order.number
    with pytest.raises(Conflict):  # idempotent: settled once
        await act(database, manager, nasi_order, A.DECIDE, {line.id: 9}, reason="lagi")


async def test_only_the_orders_parties_see_or_act_and_quantities_stay_within_the_line(
    database, ordering, catering, canteen_staff, nasi_order, world, zone
):
    seller, _ = catering
    line = await line_of(database, nasi_order)
    stranger_canteen = await ordering.canteen_buyer("Kantin PT Lain")
    other_seller = await world.seller(zone, business_name="Dapur Lain")
    for stranger in (stranger_canteen, other_seller.user):
        with pytest.raises(NotFound):
            await report(database, stranger, nasi_order, line)
    with pytest.raises(Forbidden):
        await report(database, seller.user, nasi_order, line)
    with pytest.raises(ValidationFailed) as refused:  # never more than was ordered
        await report(database, canteen_staff, nasi_order, line, quantity=201)
    assert f"quantity-{line.id}" in refused.value.by_field()

    await report(database, canteen_staff, nasi_order, line, quantity=200, kind=ClaimKind.SHORT)
    with pytest.raises(Conflict):
        await report(database, canteen_staff, nasi_order, line)
    for stranger in (stranger_canteen, other_seller.user):
        with pytest.raises(NotFound):
            await act(database, stranger, nasi_order, A.ACCEPT)
    view = await act(database, seller.user, nasi_order, A.ACCEPT)
    assert view.claim.amount == 2_600_000 == nasi_order.total  # at most the line's value


async def test_a_cash_order_records_the_cash_given_back_and_the_commission_on_what_was_kept(
    database, ordering, catering, worker
):
    seller, nasi_box = catering
    gate = await ordering.gate()
    order = await delivered(database, ordering, seller, worker, nasi_box, quantity=10, point_id=gate.id)
    assert order.payment_method == PaymentMethod.CASH and order.total == 150_000
    line = await line_of(database, order)
    await report(database, worker, order, line, quantity=2, kind=ClaimKind.SHORT, note="")
    view = await act(database, seller.user, order, A.ACCEPT)
    assert (view.claim.amount, view.claim.settlement) == (30_000, Settlement.CASH_REFUND)
    await complete(database, order, worker)
    assert await vendor_entries(database, order) == {
        LedgerAccount.VENDOR: -commission_for(120_000, 500),
        LedgerAccount.COMMISSION: commission_for(120_000, 500),
    }


# --- pages and API ---------------------------------------------------------------------------------------------


@on_both_media_stores
async def test_pages_report_with_a_photo_answer_and_show_the_credit_on_both_sides(
    client, other_client, database, catering, canteen_staff, nasi_order, count_queries
):
    seller, _ = catering
    line = await line_of(database, nasi_order)
    await log_in(client, canteen_staff)
    order_page = await client.get(f"/orders/{nasi_order.id}")
    assert f'href="/orders/{nasi_order.id}/claim"' in order_page.text
    count_queries.statements.clear()
    form = await client.get(f"/orders/{nasi_order.id}/claim")
    assert count_queries.count <= 5, count_queries.statements
    assert form.status_code == 200 and "Laporkan kiriman kurang atau rusak" in form.text

    # A file that is not a photo is refused with a message, and nothing is recorded.
    bad = await submit(
        client,
        f"/orders/{nasi_order.id}/claim",
        {f"quantity-{line.id}": "10", f"kind-{line.id}": "damaged", f"note-{line.id}": "Basi"},
        files={f"photo-{line.id}": ("foto.jpg", b"not a picture", "image/jpeg")},
    )
    assert bad.status_code == 400 and "bukan foto" in bad.text.lower()
    sent = await submit(
        client,
        f"/orders/{nasi_order.id}/claim",
        {f"quantity-{line.id}": "10", f"kind-{line.id}": "damaged", f"note-{line.id}": "Basi"},
        files={f"photo-{line.id}": ("foto.jpg", jpeg_bytes(), "image/jpeg")},
    )
    assert sent.status_code == 303, sent.text
    photo = await client.get(f"/claims/{nasi_order.id}/lines/{line.id}/photo")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/webp"
    assert photo.headers["cache-control"] == "private, no-store"

    await log_in(other_client, seller.user)
    board_view = await other_client.get(f"/vendor/orders/{nasi_order.id}")
    assert f'href="/vendor/orders/{nasi_order.id}/claim"' in board_view.text
    answered = await submit(other_client, f"/vendor/orders/{nasi_order.id}/claim", {"action": "accept"})
    assert answered.status_code == 303, answered.text
    count_queries.statements.clear()
    vendor_view = await other_client.get(f"/vendor/orders/{nasi_order.id}/claim")
    assert count_queries.count <= 5, count_queries.statements
    assert "Rp 130.000" in vendor_view.text and 'data-claim-state="settled"' in vendor_view.text
    buyer_view = await client.get(f"/orders/{nasi_order.id}/claim")
    assert "Rp 130.000" in buyer_view.text and "CN-" in buyer_view.text
    async with database.sessionmaker() as session:
        invoice = (
            await session.execute(select(Invoice).where(col(Invoice.checkout_id) == nasi_order.checkout_id))
        ).scalar_one()
    invoice_page = await client.get(f"/invoices/{invoice.id}")
    assert "data-credit-note=" in invoice_page.text and 'data-amount-due="2470000"' in invoice_page.text
    again = await submit(other_client, f"/vendor/orders/{nasi_order.id}/claim", {"action": "accept"})
    assert again.status_code == 409


async def test_the_api_reports_answers_and_keeps_strangers_out(
    client, database, ordering, catering, canteen_staff, nasi_order, manager
):
    seller, _ = catering
    line = await line_of(database, nasi_order)
    buyer = await bearer(database, canteen_staff)
    stranger = await bearer(database, await ordering.canteen_buyer("Kantin PT Lain"))
    url = f"/api/v1/orders/{nasi_order.id}/claim"
    body = {"lines": [{"order_line_id": line.id, "kind": "damaged", "quantity": 10, "note": "Basi"}]}

    assert (await client.post(url, json=body, headers=stranger)).status_code == 404
    too_many = await client.post(
        url, json={"lines": [{"order_line_id": line.id, "kind": "short", "quantity": 500}]}, headers=buyer
    )
    assert too_many.status_code == 422
    twice = await client.post(url, json={"lines": body["lines"] * 2}, headers=buyer)
    assert twice.status_code == 422, twice.text
    created = await client.post(url, json=body, headers=buyer)
    assert created.status_code == 201, created.text
    assert created.json()["state"] == "open"
    assert (await client.get(url, headers=stranger)).status_code == 404
    photo_url = f"{url}/lines/{line.id}/photo"
    with_photo = await client.post(photo_url, files={"photo": ("rusak.jpg", jpeg_bytes(), "image/jpeg")}, headers=buyer)
    assert with_photo.status_code == 200, with_photo.text
    assert with_photo.json()["lines"][0]["photo_url"] == photo_url
    assert (await client.get(photo_url, headers=stranger)).status_code == 404

    vendor = await bearer(database, seller.user)
    proposed = await client.post(
        f"{url}/actions",
        json={"action": "propose", "quantities": [{"order_line_id": line.id, "quantity": 5}], "reason": "Lima saja"},
        headers=vendor,
    )
    assert proposed.status_code == 200, proposed.text
    accepted = await client.post(f"{url}/actions", json={"action": "accept_proposal"}, headers=buyer)
    assert accepted.status_code == 200, accepted.text
    answer = accepted.json()
    assert (answer["state"], answer["amount"], answer["settlement"]) == ("settled", 65_000, "credit_note")
    assert answer["lines"][0]["agreed_quantity"] == 5
    again = await client.post(f"{url}/actions", json={"action": "accept_proposal"}, headers=buyer)
    assert again.status_code == 409
    detail = (await client.get(f"/api/v1/orders/{nasi_order.id}", headers=vendor)).json()
    assert detail["claim"]["amount"] == 65_000
    assert (await client.get(photo_url, headers=vendor)).headers["content-type"] == "image/webp"
    board = await client.get(f"/api/v1/vendor/board?day={nasi_order.delivery_day}", headers=vendor)
    (slot,) = board.json()["slots"]
    assert [order["claim_state"] for order in slot["orders"]] == ["settled"]


async def test_a_dispute_reaches_the_managers_queue_and_the_manager_decides_on_the_page_or_the_api(
    client, other_client, database, world, catering, canteen_staff, nasi_order, manager
):
    seller, _ = catering
    line = await line_of(database, nasi_order)
    await report(database, canteen_staff, nasi_order, line, quantity=10)
    await act(database, seller.user, nasi_order, A.PROPOSE, {line.id: 2}, reason="Hanya 2 kotak penyok")

    await log_in(client, canteen_staff)
    without_reason = await submit(client, f"/orders/{nasi_order.id}/claim/actions", {"action": "dispute"})
    assert without_reason.status_code == 400 and "Tuliskan alasannya" in without_reason.text
    disputed = await submit(
        client, f"/orders/{nasi_order.id}/claim/actions", {"action": "dispute", "reason": "Sepuluh kotak basi"}
    )
    assert disputed.status_code == 303, disputed.text

    headers = await bearer(database, manager)
    queue = (await client.get("/api/v1/claims/disputed", headers=headers)).json()
    assert [(item["order_id"], item["dispute_reason"]) for item in queue] == [(nasi_order.id, "Sepuluh kotak basi")]
    other_zone = await world.zone("KIT2", "Kawasan Industri Lain")
    stranger = await bearer(database, await world.user(manager.role, zone=other_zone))
    assert (await client.get("/api/v1/claims/disputed", headers=stranger)).json() == []
    assert (await client.get(f"/api/v1/orders/{nasi_order.id}/claim", headers=stranger)).status_code == 404

    await log_in(other_client, manager)
    assert f"/manager/claims/{nasi_order.id}" in (await other_client.get("/manager/claims")).text
    decided = await submit(
        other_client,
        f"/manager/claims/{nasi_order.id}",
        {"action": "decide", f"quantity-{line.id}": "7", "reason": "Tujuh kotak terbukti rusak"},
    )
    assert decided.status_code == 303, decided.text
    claim = (await client.get(f"/api/v1/orders/{nasi_order.id}/claim", headers=headers)).json()
    assert (claim["state"], claim["amount"], claim["lines"][0]["agreed_quantity"]) == ("settled", 91_000, 7)
    assert "Rp 91.000" in (await client.get(f"/orders/{nasi_order.id}/claim")).text


async def test_a_vendor_waiting_for_the_buyers_answer_hands_the_report_to_the_manager(
    database, catering, canteen_staff, nasi_order, manager
):
    seller, _ = catering
    line = await line_of(database, nasi_order)
    await report(database, canteen_staff, nasi_order, line, quantity=10)
    await act(database, seller.user, nasi_order, A.PROPOSE, {line.id: 3}, reason="Tiga kotak saja")
    view = await act(database, seller.user, nasi_order, A.DISPUTE, reason="Pembeli tidak menjawab tiga hari")
    assert view.claim.state == ClaimState.DISPUTED
    assert any("market manager" in n.message for n in await inbox_of(database, canteen_staff))
    assert any(n.url == f"/manager/claims/{nasi_order.id}" for n in await inbox_of(database, manager))
    with pytest.raises(Conflict):  # only the manager settles it now
        await act(database, canteen_staff, nasi_order, A.ACCEPT_PROPOSAL)
