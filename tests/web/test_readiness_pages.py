"""The readiness path on pages and the API: a vendor sees what stands between them and selling into the zone, the
next step and who helps; the zone's manager keeps the help contacts, which another zone's manager cannot touch."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlmodel import col

from backend.accounts.models import Role
from backend.clock import utcnow
from backend.moderation.models import AuditEntry
from backend.vendors import help_contacts
from backend.vendors.help_contacts import HelpContact, HelpContactInput
from tests.conftest import log_in, submit
from tests.vendors.test_vendor_api import make_token

PLUT = {
    "name": "PLUT-KUMKM Kabupaten Batang",
    "kind": "plut",
    "phone": "0812-3456-7890",
    "address": "Jl. Gajah Mada 1, Batang",
    "opening_hours": "Senin–Jumat 08.00–15.00",
    "note": "Pendampingan NIB dan foto produk",
}


async def contacts_in(database) -> list[HelpContact]:
    async with database.sessionmaker() as session:
        return list((await session.execute(select(HelpContact).order_by(col(HelpContact.id)))).scalars())


async def add_contact(database, manager, **fields) -> HelpContact:
    async with database.sessionmaker() as session:
        contact = await help_contacts.add_help_contact(
            session=session, actor=manager, data=HelpContactInput(**{**PLUT, **fields}), now=utcnow()
        )
        await session.commit()
        return contact


def steps_on(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-step="(\w+)" data-done="(yes|no)"', html))


# --- the vendor ----------------------------------------------------------------------------------------------


async def test_a_vendor_with_halal_but_no_nib_reads_nib_as_the_next_step_in_plain_indonesian(
    client, world, zone, manager, database, count_queries
):
    await add_contact(database, manager)
    await add_contact(
        database, manager, name="Pendamping PPH Bu Aminah", kind="halal_companion", phone="0813 1111 2222"
    )
    seller = await world.seller(zone, business_name="Catering Bu Sri", certificates=("halal",))
    await world.organisation(zone)
    await log_in(client, seller.user)

    count_queries.statements.clear()
    page = await client.get("/vendor/readiness")

    assert page.status_code == 200
    assert count_queries.count <= 5, count_queries.statements
    steps = steps_on(page.text)
    assert steps == {
        "profile": "yes",
        "nib": "no",
        "food_permit": "no",
        "halal": "yes",
        "photo": "no",
        "reach": "yes",
        "first_sale": "no",
    }
    assert "3 dari 7 langkah selesai" in page.text
    assert re.search(r'data-step="nib" data-done="no" aria-current="step"', page.text)
    assert "Daftarkan usaha Anda di OSS (oss.go.id)" in page.text and 'href="https://oss.go.id"' in page.text
    # The free self-declare route to halal, in plain words, where halal is still to do.
    assert "SEHATI" not in page.text.split('id="step-halal"')[1].split("</li>")[0]  # done: no explanation needed
    # The zone's help, with WhatsApp chats.
    assert "PLUT-KUMKM Kabupaten Batang" in page.text and "Pendamping PPH Bu Aminah" in page.text
    assert 'href="https://wa.me/6281234567890?text=' in page.text
    assert "Senin–Jumat 08.00–15.00" in page.text


async def test_the_halal_step_explains_the_free_self_declare_route(client, world, zone):
    seller = await world.seller(zone, business_name="Keripik Bu Ani", certificates=("nib",))
    await log_in(client, seller.user)

    page = await client.get("/vendor/readiness")

    halal = page.text.split('id="step-halal"')[1].split("</li>")[0]
    assert 'data-done="no"' in page.text.split('id="step-halal"')[1][:80]
    assert "SEHATI" in halal and "ptsp.halal.go.id" in halal and "PPH" in halal and "gratis" in halal
    assert 'href="https://ptsp.halal.go.id"' in halal


async def test_the_vendor_home_sums_up_readiness_without_another_query(client, world, zone, database, count_queries):
    seller = await world.seller(zone, business_name="Catering Bu Sri", certificates=("halal",))
    await world.live_product(seller, "Nasi Box Ayam Bakar")
    await log_in(client, seller.user)

    count_queries.statements.clear()
    home = await client.get("/vendor")

    assert home.status_code == 200
    assert count_queries.count <= 5, count_queries.statements
    card = home.text.split('id="readiness"')[1].split("</section>")[0]
    assert "3 dari 7 langkah selesai · Berikutnya: NIB (Nomor Induk Berusaha)" in re.sub(r"<[^>]+>", "", card)
    assert 'href="/vendor/readiness"' in card


async def test_a_vendor_without_a_profile_is_led_to_it_first(client, vendor, database, count_queries):
    await log_in(client, vendor)

    count_queries.statements.clear()
    home = await client.get("/vendor")
    assert count_queries.count <= 5, count_queries.statements
    assert "0 dari 7 langkah selesai" in home.text

    page = await client.get("/vendor/readiness")
    assert page.status_code == 200
    assert re.search(r'data-step="profile" data-done="no" aria-current="step"', page.text)
    assert "Hanya untuk makanan olahan" in page.text  # nothing says yet whether the shop sells food


async def test_other_roles_cannot_open_the_checklist(client, worker, manager):
    await log_in(client, worker)
    assert (await client.get("/vendor/readiness")).status_code == 403


async def test_the_api_answers_the_same_checklist(client, world, zone, manager, database):
    contact = await add_contact(database, manager)
    seller = await world.seller(zone, business_name="Catering Bu Sri", certificates=("halal",))
    auth = await make_token(client, seller.user)

    answer = await client.get("/api/v1/vendor/readiness", headers=auth)

    assert answer.status_code == 200
    body = answer.json()
    assert (body["done"], body["total"], body["next_step"]) == (2, 7, "nib")
    nib = next(step for step in body["steps"] if step["key"] == "nib")
    assert nib["done"] is False and nib["link"] == "https://oss.go.id" and nib["help_contact_ids"] == [contact.id]
    assert body["help_contacts"][0]["phone"] == "+6281234567890"
    assert body["help_contacts"][0]["whatsapp_url"] == "https://wa.me/6281234567890"


# --- the manager's help contacts -----------------------------------------------------------------------------


async def test_the_manager_adds_corrects_and_removes_a_help_contact_each_in_the_audit_log(
    client, manager, database, count_queries
):
    await log_in(client, manager)
    home = await client.get("/manager")
    assert 'href="/manager/help-contacts"' in home.text

    added = await submit(client, "/manager/help-contacts", PLUT)
    assert added.status_code == 303 and added.headers["location"] == "/manager/help-contacts?notice=added"
    (contact,) = await contacts_in(database)
    assert (contact.zone_id, contact.phone, contact.kind) == (manager.zone_id, "+6281234567890", "plut")

    count_queries.statements.clear()
    listing = await client.get("/manager/help-contacts?notice=added")
    assert count_queries.count <= 5, count_queries.statements
    assert "Kontak ditambahkan" in listing.text and "PLUT-KUMKM Kabupaten Batang" in listing.text

    form = await client.get(f"/manager/help-contacts/{contact.id}")
    assert form.status_code == 200 and 'value="0812-3456-7890"' in form.text
    wrong = await submit(client, f"/manager/help-contacts/{contact.id}", {**PLUT, "phone": "12", "note": "Baru"})
    assert wrong.status_code == 400 and "Ketik nomor HP (WhatsApp)" in wrong.text and 'value="12"' in wrong.text
    saved = await submit(client, f"/manager/help-contacts/{contact.id}", {**PLUT, "opening_hours": "Senin–Sabtu"})
    assert saved.status_code == 303 and saved.headers["location"] == "/manager/help-contacts?notice=saved"
    (contact,) = await contacts_in(database)
    assert contact.opening_hours == "Senin–Sabtu"

    removed = await submit(client, f"/manager/help-contacts/{contact.id}/remove", {})
    assert removed.status_code == 303 and removed.headers["location"] == "/manager/help-contacts?notice=removed"
    assert await contacts_in(database) == []

    async with database.sessionmaker() as session:
        entries = (await session.execute(select(AuditEntry).order_by(col(AuditEntry.id)))).scalars().all()
    assert [entry.action for entry in entries] == ["help_contact.add", "help_contact.edit", "help_contact.remove"]
    assert entries[1].before == {"opening_hours": "Senin–Jumat 08.00–15.00"}
    assert entries[1].after == {"opening_hours": "Senin–Sabtu"}
    assert all(entry.zone_id == manager.zone_id and entry.actor_id == manager.id for entry in entries)
    audit = await client.get("/manager/audit")
    assert "Kontak bantuan ditambahkan" in audit.text and "Kontak bantuan diperbaiki" in audit.text


async def test_a_landline_or_a_blank_name_is_refused_in_indonesian_and_nothing_is_saved(client, manager, database):
    await log_in(client, manager)

    landline = await submit(client, "/manager/help-contacts", {**PLUT, "phone": "(0285) 391234"})
    nameless = await submit(client, "/manager/help-contacts", {**PLUT, "name": "  "})
    odd_kind = await submit(client, "/manager/help-contacts", {**PLUT, "kind": "warung"})

    assert landline.status_code == 400 and "Ketik nomor HP (WhatsApp)" in landline.text
    assert 'value="Jl. Gajah Mada 1, Batang"' in landline.text  # what was typed stays
    assert nameless.status_code == 400 and "Ketik nama kantor atau orangnya." in nameless.text
    assert odd_kind.status_code == 400 and "Pilih jenis bantuannya." in odd_kind.text
    assert await contacts_in(database) == []


async def test_a_manager_of_another_zone_cannot_see_or_change_the_contacts(client, world, manager, database):
    contact = await add_contact(database, manager)
    elsewhere = await world.zone(code="KIW", name="Kawasan Industri Wijayakusuma")
    other = await world.user(Role.MANAGER, zone=elsewhere)
    await log_in(client, other)

    assert f'data-contact="{contact.id}"' not in (await client.get("/manager/help-contacts")).text
    assert (await client.get(f"/manager/help-contacts/{contact.id}")).status_code == 404
    edited = await submit(client, f"/manager/help-contacts/{contact.id}", {**PLUT, "name": "Diganti"})
    removed = await submit(client, f"/manager/help-contacts/{contact.id}/remove", {})

    assert (edited.status_code, removed.status_code) == (404, 404)
    (kept,) = await contacts_in(database)
    assert kept.name == "PLUT-KUMKM Kabupaten Batang"


async def test_changing_contacts_needs_the_csrf_token(client, manager, database):
    contact = await add_contact(database, manager)
    await log_in(client, manager)

    for url in (
        "/manager/help-contacts",
        f"/manager/help-contacts/{contact.id}",
        f"/manager/help-contacts/{contact.id}/remove",
    ):
        refused = await client.post(url, data={**PLUT, "name": "Tanpa token"}, follow_redirects=False)
        assert refused.status_code == 403, url
    (kept,) = await contacts_in(database)
    assert kept.name == "PLUT-KUMKM Kabupaten Batang"


async def test_vendors_cannot_keep_help_contacts(client, vendor, manager, database):
    contact = await add_contact(database, manager)
    await log_in(client, vendor)

    assert (await client.get("/manager/help-contacts")).status_code == 403
    assert (await submit(client, f"/manager/help-contacts/{contact.id}/remove", {})).status_code == 403
    assert len(await contacts_in(database)) == 1


async def test_the_manager_api_keeps_contacts_of_the_own_zone_only(client, other_client, world, manager, database):
    auth = await make_token(client, manager)

    created = await client.post("/api/v1/manager/help-contacts", json=PLUT, headers=auth)
    assert created.status_code == 201, created.text
    contact = created.json()
    assert contact["phone"] == "+6281234567890" and contact["kind_label"].startswith("PLUT-KUMKM")

    corrected = await client.put(
        f"/api/v1/manager/help-contacts/{contact['id']}", json={**PLUT, "phone": None}, headers=auth
    )
    assert corrected.status_code == 200 and corrected.json()["phone"] is None
    listed = await client.get("/api/v1/manager/help-contacts", headers=auth)
    assert [c["name"] for c in listed.json()] == ["PLUT-KUMKM Kabupaten Batang"]

    refused = await client.post("/api/v1/manager/help-contacts", json={**PLUT, "phone": "021-555-0101"}, headers=auth)
    assert refused.status_code == 422 and "phone" in refused.text
    assert len(await contacts_in(database)) == 1

    elsewhere = await world.zone(code="KIW", name="Kawasan Industri Wijayakusuma")
    other_auth = await make_token(other_client, await world.user(Role.MANAGER, zone=elsewhere))
    for answer in (
        await other_client.get(f"/api/v1/manager/help-contacts/{contact['id']}", headers=other_auth),
        await other_client.put(f"/api/v1/manager/help-contacts/{contact['id']}", json=PLUT, headers=other_auth),
        await other_client.delete(f"/api/v1/manager/help-contacts/{contact['id']}", headers=other_auth),
    ):
        assert answer.status_code == 404
    assert (await other_client.get("/api/v1/manager/help-contacts", headers=other_auth)).json() == []

    gone = await client.delete(f"/api/v1/manager/help-contacts/{contact['id']}", headers=auth)
    assert gone.status_code == 204 and await contacts_in(database) == []


async def test_the_manager_sees_how_far_each_vendor_is_in_a_fixed_number_of_queries(
    client, world, zone, manager, database, count_queries
):
    ready = await world.seller(zone, business_name="Catering Bu Sri", certificates=("halal", "nib", "pirt"))
    await world.live_product(ready, "Nasi Box Ayam Bakar")
    await world.organisation(zone)
    for name in ("Keripik Bu Ani", "Konveksi Pak Budi", "Frozen Bu Tini"):
        await world.seller(zone, business_name=name, certificates=())
    await log_in(client, manager)

    count_queries.statements.clear()
    listing = await client.get("/manager/vendors")

    assert listing.status_code == 200
    assert count_queries.count <= 5, count_queries.statements
    done = dict(re.findall(r'id="vendor-(\d+)">.*?data-readiness="(\d+/\d+)"', listing.text, re.S))
    assert done[str(ready.vendor.id)] == "6/7"  # all but the first sale
    assert sorted(done.values()) == ["2/7", "2/7", "2/7", "6/7"]  # profile and reach: no certificate, no product
    assert "Berikutnya: Penjualan pertama" in listing.text
