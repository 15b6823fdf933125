"""A canteen that has just signed up applies for invoice terms in the app; the zone's manager asks for documents,
then grants 30 days (or refuses with a reason), and the canteen is told each time. Pages and the JSON API alike;
another zone's manager and another canteen see nothing of it.
"""

from __future__ import annotations

import html
import re

from sqlalchemy import select
from sqlmodel import col

from backend.accounts import service as account_service
from backend.accounts.models import Organisation, Role
from backend.moderation.models import AuditEntry
from backend.notifications.models import Notification
from backend.orders import cart
from backend.orders.models import PaymentMethod
from backend.payments.models import InvoiceTermsApplication, InvoiceTermsDocument, TermsApplicationStatus
from tests.conftest import app, jpeg_bytes, log_in, on_both_media_stores, submit  # noqa: F401  (`app` without card payments)

APPLICATION = {
    "company_name": "PT Garmen Nusantara Batang",
    "npwp": "01.234.567.8-901.000",
    "billing_address": "Blok C-3, Kawasan Industri Terpadu Batang, Gringsing",
    "requested_days": "30",
}


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


async def bearer(database, user) -> dict[str, str]:
    async with database.sessionmaker() as session:
        raw, _ = await account_service.create_api_token(session=session, user=user, name="pengadaan")
        await session.commit()
    return {"Authorization": f"Bearer {raw}"}


async def inbox(database, user) -> list[str]:
    async with database.sessionmaker() as session:
        query = select(Notification).where(col(Notification.user_id) == user.id).order_by(col(Notification.id))
        return [note.message for note in (await session.execute(query)).scalars()]


async def applications(database) -> list[InvoiceTermsApplication]:
    async with database.sessionmaker() as session:
        query = select(InvoiceTermsApplication).order_by(col(InvoiceTermsApplication.id))
        return list((await session.execute(query)).scalars())


async def a_new_canteen(world, zone):
    canteen = await world.organisation(zone, "Kantin PT Sepatu Baru", invoice_terms_days=None)
    return canteen, await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen)


@on_both_media_stores
async def test_a_new_canteen_applies_sends_the_documents_asked_for_and_is_granted_30_days(
    client, other_client, world, zone, manager, database, count_queries
):
    canteen, staff = await a_new_canteen(world, zone)
    colleague = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen)
    await log_in(client, staff)
    page = text_of((await client.get("/canteen/invoice-terms")).text)
    assert "Kantin PT Sepatu Baru belum punya tempo tagihan" in page

    refused = await submit(client, "/canteen/invoice-terms", {**APPLICATION, "npwp": "12345"})
    assert refused.status_code == 422
    assert "NPWP" in text_of(refused.text)
    assert await applications(database) == []

    sent = await submit(client, "/canteen/invoice-terms", APPLICATION)
    assert (sent.status_code, sent.headers["location"]) == (303, "/canteen/invoice-terms?notice=applied")
    [application] = await applications(database)
    assert (application.status, application.requested_days) == (TermsApplicationStatus.SUBMITTED, 30)
    assert await inbox(database, manager) == ["%(canteen)s applied for invoice terms of %(days)s days."]
    again = await submit(client, "/canteen/invoice-terms", APPLICATION)
    assert again.status_code == 422 and "sudah punya pengajuan yang menunggu" in text_of(again.text)

    await log_in(other_client, manager)
    count_queries.statements.clear()
    queue_page = await other_client.get("/manager/invoice-terms")
    assert count_queries.count <= 5, count_queries.statements
    queue = text_of(queue_page.text)
    assert "Kantin PT Sepatu Baru" in queue and "PT Garmen Nusantara Batang" in queue
    asked = await submit(
        other_client,
        f"/manager/invoice-terms/{application.id}/request-documents",
        {"note": "Foto NIB dan akta pendirian perusahaan."},
    )
    assert asked.status_code == 303
    assert "Foto NIB dan akta pendirian perusahaan." in text_of((await client.get("/canteen/invoice-terms")).text)
    assert len(await inbox(database, colleague)) == 1

    attached = await submit(
        client,
        f"/canteen/invoice-terms/{application.id}/documents",
        {"title": "NIB"},
        files={"document": ("nib.jpg", jpeg_bytes(900, 1200), "image/jpeg")},
    )
    assert attached.status_code == 303
    [application] = await applications(database)
    assert application.status == TermsApplicationStatus.SUBMITTED  # back with the manager
    async with database.sessionmaker() as session:
        document = (await session.execute(select(InvoiceTermsDocument))).scalar_one()
    shown = await other_client.get(f"/invoice-terms/documents/{document.id}")
    assert shown.status_code == 200 and shown.headers["cache-control"] == "private, no-store"

    granted = await submit(other_client, f"/manager/invoice-terms/{application.id}/grant", {"days": "30"})
    assert granted.status_code == 303
    async with database.sessionmaker() as session:
        assert (await session.get(Organisation, canteen.id)).invoice_terms_days == 30
        audit = (await session.execute(select(col(AuditEntry.action)))).scalars().all()
        choices = await cart.checkout_choices(session=session, buyer=staff, card_payments=False, bank_transfers=True)
    assert "organisation.invoice_terms" in audit
    assert PaymentMethod.INVOICE in choices.payment_methods
    assert (await inbox(database, staff))[-1].startswith("Invoice terms granted")
    count_queries.statements.clear()
    decided = await client.get("/canteen/invoice-terms")
    assert count_queries.count <= 5, count_queries.statements
    assert "Diberikan" in text_of(decided.text) and "NIB" in text_of(decided.text)


async def test_the_api_refuses_with_a_reason_and_keeps_other_zones_and_canteens_out(
    client, world, zone, manager, database
):
    canteen, staff = await a_new_canteen(world, zone)
    _, stranger = await a_new_canteen(world, zone)
    elsewhere = await world.zone("KIW", "Kawasan Industri Wijayakusuma")
    other_manager = await world.user(Role.MANAGER, zone=elsewhere)
    as_staff, as_manager = await bearer(database, staff), await bearer(database, manager)
    as_stranger, as_other_manager = await bearer(database, stranger), await bearer(database, other_manager)

    bad = await client.post(
        "/api/v1/canteen/invoice-terms/applications", json={**APPLICATION, "requested_days": 20}, headers=as_staff
    )
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
    assert [error["field"] for error in bad.json()["errors"]] == ["requested_days"]
    made = await client.post(
        "/api/v1/canteen/invoice-terms/applications", json={**APPLICATION, "requested_days": 14}, headers=as_staff
    )
    assert made.status_code == 201, made.text
    application_id = made.json()["id"]
    twice = await client.post("/api/v1/canteen/invoice-terms/applications", json=APPLICATION, headers=as_staff)
    assert twice.status_code == 409

    uploaded = await client.post(
        f"/api/v1/canteen/invoice-terms/applications/{application_id}/documents",
        data={"title": "Akta"},
        files={"document": ("akta.jpg", jpeg_bytes(900, 1200), "image/jpeg")},
        headers=as_staff,
    )
    assert uploaded.status_code == 201, uploaded.text
    document_id = uploaded.json()["documents"][0]["id"]
    for outsider in (as_stranger,):
        assert (
            await client.get(f"/api/v1/canteen/invoice-terms/documents/{document_id}", headers=outsider)
        ).status_code == 404
    hidden = await client.get(f"/api/v1/manager/invoice-terms/documents/{document_id}", headers=as_other_manager)
    assert hidden.status_code == 404
    assert (await client.get("/api/v1/manager/invoice-terms/applications", headers=as_other_manager)).json() == []
    blocked = await client.post(
        f"/api/v1/manager/invoice-terms/applications/{application_id}/grant",
        json={"days": 14},
        headers=as_other_manager,
    )
    assert blocked.status_code == 404

    short = await client.post(
        f"/api/v1/manager/invoice-terms/applications/{application_id}/refuse", json={"reason": "x"}, headers=as_manager
    )
    assert short.status_code == 400
    reason = "NPWP tidak cocok dengan nama perusahaan."
    refused = await client.post(
        f"/api/v1/manager/invoice-terms/applications/{application_id}/refuse",
        json={"reason": reason},
        headers=as_manager,
    )
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    late = await client.post(
        f"/api/v1/manager/invoice-terms/applications/{application_id}/grant", json={"days": 14}, headers=as_manager
    )
    assert late.status_code == 409  # decided once

    state = (await client.get("/api/v1/canteen/invoice-terms", headers=as_staff)).json()
    assert state["invoice_terms_days"] is None
    assert (state["application"]["status"], state["application"]["manager_note"]) == ("refused", reason)
    async with database.sessionmaker() as session:
        assert (await session.get(Organisation, canteen.id)).invoice_terms_days is None
    reapplied = await client.post("/api/v1/canteen/invoice-terms/applications", json=APPLICATION, headers=as_staff)
    assert reapplied.status_code == 201  # a refusal is not forever
