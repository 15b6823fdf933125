"""The platform's operator runs the marketplace from the admin pages, without the command line: creates a zone and
its delivery points, invites the zone's manager (who then approves listings there), finds a person by phone,
deactivates them, and sends a one-time link to set a new password. Everything the admin does is in the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.accounts import service as accounts
from backend.accounts.models import Role, User, Zone
from backend.administration import service as administration
from backend.catalog.models import ListingStatus, Product
from backend.clock import utcnow
from backend.moderation.models import AuditEntry
from backend.orders.models import DeliveryPoint
from tests.conftest import PASSWORD, QueryCounter, browser, found, log_in, submit

NEW_ZONE = {
    "code": "kik",
    "name": "Kawasan Industri Kendal",
    "regency": "Kabupaten Kendal",
    "province": "Jawa Tengah",
    "latitude": "-6,9175",
    "longitude": "110.2341",
    "commission": "4,5",
}
NEW_PASSWORD = "pasar-baru-2026"


async def audit_actions(database) -> list[str]:
    async with database.sessionmaker() as session:
        return list((await session.execute(select(col(AuditEntry.action)).order_by(col(AuditEntry.id)))).scalars())


def link_path(text: str, prefix: str) -> str:
    return found(rf'value="https?://[^/"]+({prefix}/[A-Za-z0-9_\-]+)"', text).group(1)


async def test_an_admin_creates_a_zone_and_its_manager_who_then_approves_a_listing_there(
    client, other_client, world, admin, codes, database
):
    await log_in(client, admin)
    home = await client.get("/admin")
    assert 'href="/admin/zones"' in home.text and 'href="/admin/managers"' in home.text

    created = await submit(client, "/admin/zones", NEW_ZONE)
    assert created.status_code == 303, created.text
    zone_path = created.headers["location"].split("?")[0]
    async with database.sessionmaker() as session:
        zone = (await session.execute(select(Zone).where(col(Zone.code) == "KIK"))).scalar_one()
    assert (zone.name, zone.latitude, zone.longitude, zone.commission_bps) == (
        "Kawasan Industri Kendal",
        -6.9175,
        110.2341,
        450,
    )
    assert zone_path == f"/admin/zones/{zone.id}"
    page = await client.get(created.headers["location"])
    assert "Kawasan dibuat." in page.text

    moved = await submit(client, zone_path, {**NEW_ZONE, "latitude": "-6.93", "commission": "5"})
    assert moved.status_code == 303
    added = await submit(
        client,
        f"{zone_path}/delivery-points",
        {"kind": "gate", "name": "Gerbang Utama KIK", "latitude": "-6.92", "longitude": "110.23"},
    )
    assert added.status_code == 303
    async with database.sessionmaker() as session:
        point = (await session.execute(select(DeliveryPoint))).scalar_one()
        zone = await session.get_one(Zone, zone.id)
    assert (point.zone_id, point.name, point.active) == (zone.id, "Gerbang Utama KIK", True)
    assert (zone.latitude, zone.commission_bps) == (-6.93, 500)

    invited = await submit(
        client,
        "/admin/managers/invitations",
        {"zone_id": zone.id, "full_name": "Budi Santoso", "phone": "0812-7000-1234"},
    )
    assert invited.status_code == 200, invited.text
    invitation = link_path(invited.text, "/invitations")
    assert "https://wa.me/6281270001234" in invited.text
    assert invitation not in (await client.get("/admin/managers")).text  # the link is shown once

    welcome = await other_client.get(invitation)
    assert welcome.status_code == 200 and "Kawasan Industri Kendal" in welcome.text
    accepted = await submit(other_client, invitation, {"password": NEW_PASSWORD})
    assert (accepted.status_code, accepted.headers["location"]) == (303, "/verify-phone"), accepted.text
    confirmed = await submit(other_client, "/verify-phone", {"code": codes.last_code("+6281270001234")})
    assert (confirmed.status_code, confirmed.headers["location"]) == (303, "/manager")
    assert (await submit(other_client, invitation, {"password": NEW_PASSWORD})).status_code == 410  # used once

    vendor = await world.user(Role.VENDOR, zone=zone)
    shop = await world.shop(vendor)
    queue = await other_client.get("/manager/queue")
    assert f'id="item-{shop.product.id}"' in queue.text
    approved = await submit(other_client, f"/manager/listings/{shop.product.id}/approve", {})
    assert approved.status_code == 303
    async with database.sessionmaker() as session:
        assert (await session.get_one(Product, shop.product.id)).status == ListingStatus.LIVE

    assert await audit_actions(database) == [
        "zone.create",
        "zone.update",
        "zone.commission",
        "delivery_point.add",
        "manager.invite",
        "listing.approve",
    ]
    audit = await client.get("/manager/audit")
    for words in ("Kawasan dibuat: Kawasan Industri Kendal", "Titik antar ditambahkan: Gerbang Utama KIK"):
        assert words in audit.text
    assert "Pengelola diundang: Budi Santoso" in audit.text and "<dd>— → 0812-7000-1234</dd>" in audit.text
    assert "<dd>4,5 % → 5 %</dd>" in audit.text


async def test_a_zone_with_a_taken_code_or_a_place_outside_indonesia_is_refused_with_messages(client, admin, zone):
    await log_in(client, admin)
    refused = await submit(client, "/admin/zones", {**NEW_ZONE, "code": "KITB", "latitude": "40"})
    assert refused.status_code == 400
    assert "Kawasan lain sudah memakai kode ini." in refused.text
    assert 'value="Kawasan Industri Kendal"' in refused.text  # what was typed stays


async def test_an_admin_moves_and_removes_a_manager(client, other_client, world, admin, manager, database):
    kendal = await world.zone("KIK", "Kawasan Industri Kendal")
    await log_in(other_client, manager)
    await log_in(client, admin)

    assert (await submit(client, f"/admin/managers/{manager.id}/move", {"zone_id": kendal.id})).status_code == 303
    async with database.sessionmaker() as session:
        assert (await session.get_one(User, manager.id)).zone_id == kendal.id

    removed = await submit(client, f"/admin/managers/{manager.id}/remove", {"reason": "Pindah tugas"})
    assert removed.status_code == 303
    assert (await other_client.get("/manager", follow_redirects=False)).headers["location"].startswith("/login")
    managers = await client.get("/admin/managers")
    assert f'id="manager-{manager.id}"' not in managers.text
    assert await audit_actions(database) == ["manager.move", "manager.remove"]


async def test_an_admin_finds_a_person_by_phone_and_deactivates_them(
    client, other_client, world, admin, zone, database
):
    person = await world.user(Role.WORKER, zone=zone, full_name="Rizky Pratama", phone="0814-5555-0101")
    await log_in(other_client, person)
    raw_token, _ = await _api_token(database, person)
    await log_in(client, admin)

    found_page = await client.get("/admin/users", params={"phone": "0814 5555 0101"})
    assert f'href="/admin/users/{person.id}"' in found_page.text and "Rizky Pratama" in found_page.text
    partial = await client.get("/admin/users", params={"phone": "5555"}, headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<ul class="items card">') and "Rizky Pratama" in partial.text
    nothing = await client.get("/admin/users", params={"phone": "0899-1111-2222"})
    assert "Tidak ada akun dengan nomor ini." in nothing.text

    detail = await client.get(f"/admin/users/{person.id}")
    assert 'data-sessions="1"' in detail.text
    deactivated = await submit(client, f"/admin/users/{person.id}/deactivate", {"reason": "Akun dilaporkan"})
    assert deactivated.status_code == 303

    assert (await other_client.get("/worker", follow_redirects=False)).headers["location"].startswith("/login")
    api = await other_client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw_token}"})
    assert api.status_code == 401
    refused = await submit(other_client, "/login", {"phone": person.phone, "password": PASSWORD})
    assert refused.status_code == 401
    detail = await client.get(f"/admin/users/{person.id}")
    assert 'data-active="false"' in detail.text and 'data-sessions="0"' in detail.text

    assert (await submit(client, f"/admin/users/{person.id}/reactivate", {"reason": ""})).status_code == 303
    await log_in(other_client, person)
    assert await audit_actions(database) == ["user.deactivate", "user.reactivate"]
    audit = await client.get("/manager/audit")
    assert "Akun dinonaktifkan: Rizky Pratama" in audit.text and "Alasan: Akun dilaporkan" in audit.text
    assert "<dt>Bisa masuk</dt><dd>Ya → Tidak</dd>" in audit.text  # in words, not True/False


async def test_an_admin_cannot_deactivate_their_own_account(client, admin):
    await log_in(client, admin)
    refused = await submit(client, f"/admin/users/{admin.id}/deactivate", {"reason": ""})
    assert refused.status_code == 403


async def test_a_password_link_works_once_and_ends_the_old_sessions(
    client, other_client, world, admin, zone, database, app
):
    person = await world.user(Role.VENDOR, zone=zone, full_name="Sri Rahayu")
    await log_in(other_client, person)
    await log_in(client, admin)

    answer = await submit(client, f"/admin/users/{person.id}/password-link", {})
    assert answer.status_code == 200
    link = link_path(answer.text, "/reset-password")
    assert link not in (await client.get(f"/admin/users/{person.id}")).text  # shown once

    async with world.database.sessionmaker() as session:
        stored = (await session.execute(select(AuditEntry))).scalar_one()
    assert (stored.action, stored.subject_id) == ("user.password_reset_link", person.id)

    async with browser(app) as owner:  # the owner opens the link on a phone that is not logged in
        form = await owner.get(link)
        assert form.status_code == 200 and "0857" in form.text
        assert "no-store" in form.headers["cache-control"]
        short = await submit(owner, link, {"password": "pendek"})
        assert short.status_code == 400
        done = await submit(owner, link, {"password": NEW_PASSWORD})
        assert (done.status_code, done.headers["location"]) == (303, "/login?notice=password_reset")
        again = await submit(owner, link, {"password": "lagi-lagi-2026"})
        assert again.status_code == 410
        assert (await owner.get(link)).status_code == 410

    # The browser that was logged in with the old password is logged out; the new password works, the old not.
    assert (await other_client.get("/vendor", follow_redirects=False)).headers["location"].startswith("/login")
    assert (await submit(other_client, "/login", {"phone": person.phone, "password": PASSWORD})).status_code == 401
    await log_in(other_client, person, NEW_PASSWORD)


async def test_a_password_link_expires_after_a_day_and_a_newer_link_replaces_it(client, world, admin, zone, database):
    person = await world.user(Role.WORKER, zone=zone)
    async with database.sessionmaker() as session:
        old, _ = await administration.create_password_reset_link(
            session=session, actor=admin, user_id=person.id, now=utcnow() - timedelta(hours=25)
        )
        await session.commit()
    expired = await client.get(f"/reset-password/{old}")
    assert expired.status_code == 410
    assert "Tautan ini sudah kedaluwarsa atau sudah dipakai." in expired.text
    assert (await submit(client, f"/reset-password/{old}", {"password": NEW_PASSWORD})).status_code == 410

    async with database.sessionmaker() as session:
        first, _ = await administration.create_password_reset_link(
            session=session, actor=admin, user_id=person.id, now=utcnow()
        )
        second, _ = await administration.create_password_reset_link(
            session=session, actor=admin, user_id=person.id, now=utcnow()
        )
        await session.commit()
    assert (await client.get(f"/reset-password/{first}")).status_code == 410
    assert (await client.get(f"/reset-password/{second}")).status_code == 200


async def test_an_admin_sets_the_platform_bank_account_that_transfers_and_invoices_name(
    client, admin, settings, database
):
    await log_in(client, admin)
    page = await client.get("/admin/settings")
    assert 'value="Bank Uji Batang"' in page.text  # from the server's settings until set here
    refused = await submit(
        client, "/admin/settings", {"bank_name": "BRI", "account_number": "12", "account_holder": "PT"}
    )
    assert refused.status_code == 400
    saved = await submit(
        client,
        "/admin/settings",
        {"bank_name": "Bank Jateng", "account_number": "1-234-567-890", "account_holder": "PT Pasar Kawasan"},
    )
    assert saved.status_code == 303
    async with database.sessionmaker() as session:
        bank = await administration.platform_bank(session=session, configured=settings.platform_bank)
    assert bank is not None
    assert (bank.name, bank.account_number, bank.account_holder) == ("Bank Jateng", "1234567890", "PT Pasar Kawasan")
    assert await audit_actions(database) == ["platform.bank_account"]
    audit = await client.get("/manager/audit")
    assert "Rekening bank platform diubah" in audit.text and "Bank Uji" not in audit.text


ADMIN_PAGES = ["/admin/zones", "/admin/managers", "/admin/users?phone=0812", "/admin/settings"]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.VENDOR, Role.CANTEEN_STAFF])
async def test_only_an_admin_may_open_the_admin_pages_and_api(client, world, zone, canteen, database, role):
    person = await world.user(role, zone=zone, organisation=canteen if role == Role.CANTEEN_STAFF else None)
    raw, _ = await _api_token(database, person)
    await log_in(client, person)
    for path in [*ADMIN_PAGES, f"/admin/zones/{zone.id}", f"/admin/users/{person.id}"]:
        assert (await client.get(path)).status_code == 403, path
    assert (await submit(client, "/admin/zones", NEW_ZONE)).status_code == 403
    assert (await submit(client, f"/admin/users/{person.id}/password-link", {})).status_code == 403
    auth = {"Authorization": f"Bearer {raw}"}
    assert (await client.get("/api/v1/admin/users", params={"phone": "0812"}, headers=auth)).status_code == 403
    assert (await client.post("/api/v1/admin/zones", json={}, headers=auth)).status_code == 403


async def test_someone_not_logged_in_is_sent_to_log_in(client):
    for path in ADMIN_PAGES:
        answer = await client.get(path, follow_redirects=False)
        assert answer.status_code in (302, 303) and answer.headers["location"].startswith("/login"), path


async def test_each_admin_page_takes_at_most_five_queries(client, world, admin, zone, app):
    person = await world.user(Role.WORKER, zone=zone, phone="0812-3333-4444")
    await log_in(client, admin)
    async with world.database.sessionmaker() as session:
        invitation, _ = await administration.invite_manager(
            session=session, actor=admin, zone_id=zone.id, phone="0812-9999-0000", full_name="Ani", now=utcnow()
        )
        reset, _ = await administration.create_password_reset_link(
            session=session, actor=admin, user_id=person.id, now=utcnow()
        )
        await session.commit()
    paths = [
        *ADMIN_PAGES,
        f"/admin/zones/{zone.id}",
        f"/admin/users/{person.id}",
        f"/invitations/{invitation}",
        f"/reset-password/{reset}",
    ]
    for path in paths:
        with QueryCounter(app.state.database) as queries:
            answer = await client.get(path)
        assert answer.status_code == 200, path
        assert queries.count <= 5, (path, queries.statements)


async def _api_token(database, user: User) -> tuple[str, object]:
    async with database.sessionmaker() as session:
        raw, token = await accounts.create_api_token(session=session, user=user, name="Integrasi")
        await session.commit()
    return raw, token
