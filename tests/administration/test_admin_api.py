"""The admin API does what the admin pages do, with the same rules: procurement and operations tools create zones,
invite managers, find and deactivate accounts and make password links with a personal API token."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from backend.accounts import service as accounts
from backend.accounts.models import Role, User
from backend.moderation.models import AuditEntry
from tests.conftest import PASSWORD, log_in, submit

ZONE = {
    "code": "KIK",
    "name": "Kawasan Industri Kendal",
    "regency": "Kabupaten Kendal",
    "province": "Jawa Tengah",
    "latitude": -6.9175,
    "longitude": 110.2341,
    "commission_bps": 450,
}


async def bearer(database, user: User) -> dict[str, str]:
    async with database.sessionmaker() as session:
        raw, _ = await accounts.create_api_token(session=session, user=user, name="Operasional")
        await session.commit()
    return {"Authorization": f"Bearer {raw}"}


async def test_an_admin_runs_zones_managers_and_accounts_through_the_api(
    client, other_client, world, admin, zone, codes, database
):
    auth = await bearer(database, admin)

    created = await client.post("/api/v1/admin/zones", json=ZONE, headers=auth)
    assert created.status_code == 201, created.text
    kendal = created.json()
    assert (kendal["code"], kendal["commission_bps"]) == ("KIK", 450)
    taken = await client.post("/api/v1/admin/zones", json={**ZONE, "code": "kitb"}, headers=auth)
    assert taken.status_code == 422 and taken.headers["content-type"].startswith("application/problem+json")

    changed = await client.put(f"/api/v1/admin/zones/{kendal['id']}", json={**ZONE, "latitude": -6.93}, headers=auth)
    assert changed.status_code == 200 and changed.json()["latitude"] == -6.93
    point = await client.post(
        f"/api/v1/admin/zones/{kendal['id']}/delivery-points",
        json={"kind": "dormitory", "name": "Asrama Blok A", "latitude": -6.92, "longitude": 110.23},
        headers=auth,
    )
    assert point.status_code == 201, point.text
    points = (await client.get(f"/api/v1/admin/zones/{kendal['id']}/delivery-points", headers=auth)).json()
    assert [p["name"] for p in points] == ["Asrama Blok A"]

    invited = await client.post(
        "/api/v1/admin/manager-invitations",
        json={"zone_id": kendal["id"], "full_name": "Budi Santoso", "phone": "0812 7000 1234"},
        headers=auth,
    )
    assert invited.status_code == 201, invited.text
    link = invited.json()["link"]
    second = await client.post(
        "/api/v1/admin/manager-invitations",
        json={"zone_id": kendal["id"], "full_name": "Ani Lestari", "phone": "0812 7000 5678"},
        headers=auth,
    )
    open_ones = (await client.get("/api/v1/admin/manager-invitations", headers=auth)).json()
    assert [i["full_name"] for i in open_ones] == ["Ani Lestari", "Budi Santoso"]
    withdrawn = await client.delete(f"/api/v1/admin/manager-invitations/{second.json()['id']}", headers=auth)
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"] is not None
    second_path = second.json()["link"].removeprefix("http://testserver.local")
    assert (await other_client.get(second_path)).status_code == 410
    assert link.startswith("http://testserver.local/invitations/")
    path = link.removeprefix("http://testserver.local")
    assert (await submit(other_client, path, {"password": "kendal-2026-aman"})).status_code == 303
    assert (await submit(other_client, "/verify-phone", {"code": codes.last_code("+6281270001234")})).status_code == 303
    managers = (await client.get("/api/v1/admin/managers", headers=auth)).json()
    assert [(m["full_name"], m["zone_id"]) for m in managers] == [("Budi Santoso", kendal["id"])]
    manager_id = managers[0]["id"]
    moved = await client.put(f"/api/v1/admin/managers/{manager_id}/zone", json={"zone_id": zone.id}, headers=auth)
    assert moved.status_code == 200 and moved.json()["zone_id"] == zone.id

    worker = await world.user(Role.WORKER, zone=zone, phone="0814-5555-0101")
    await log_in(other_client, worker)
    found_users = (await client.get("/api/v1/admin/users", params={"phone": "081455550101"}, headers=auth)).json()
    assert [u["id"] for u in found_users] == [worker.id]
    assert "password_hash" not in found_users[0]
    short = await client.get("/api/v1/admin/users", params={"phone": "08"}, headers=auth)
    assert short.status_code == 422

    off = await client.post(f"/api/v1/admin/users/{worker.id}/deactivate", json={"reason": "Dilaporkan"}, headers=auth)
    assert off.status_code == 201 and off.json()["is_active"] is False
    assert (await other_client.get("/worker", follow_redirects=False)).headers["location"].startswith("/login")
    refused_link = await client.post(f"/api/v1/admin/users/{worker.id}/password-reset-link", headers=auth)
    assert refused_link.status_code == 422  # reactivate first

    on = await client.post(f"/api/v1/admin/users/{worker.id}/reactivate", json={"reason": ""}, headers=auth)
    assert on.json()["is_active"] is True
    reset = await client.post(f"/api/v1/admin/users/{worker.id}/password-reset-link", headers=auth)
    assert reset.status_code == 201
    reset_path = reset.json()["link"].removeprefix("http://testserver.local")
    assert (await submit(other_client, reset_path, {"password": "sandi-baru-2026"})).status_code == 303
    assert (await submit(other_client, "/login", {"phone": worker.phone, "password": PASSWORD})).status_code == 401

    bank = await client.put(
        "/api/v1/admin/settings/bank-account",
        json={"bank_name": "BRI", "account_number": "0123 4567 89", "account_holder": "PT Pasar Kawasan"},
        headers=auth,
    )
    assert bank.json() == {
        "bank_name": "BRI",
        "account_number": "0123456789",
        "account_holder": "PT Pasar Kawasan",
        "stored": True,
    }

    async with database.sessionmaker() as session:
        actions = list((await session.execute(select(col(AuditEntry.action)).order_by(col(AuditEntry.id)))).scalars())
    assert actions == [
        "zone.create",
        "zone.update",
        "delivery_point.add",
        "manager.invite",
        "manager.invite",
        "manager.invitation_withdraw",
        "manager.move",
        "user.deactivate",
        "user.reactivate",
        "user.password_reset_link",
        "platform.bank_account",
    ]


async def test_the_bank_account_falls_back_to_the_server_settings_until_an_admin_sets_one(client, admin, database):
    auth = await bearer(database, admin)
    configured = (await client.get("/api/v1/admin/settings/bank-account", headers=auth)).json()
    assert (configured["bank_name"], configured["stored"]) == ("Bank Uji Batang", False)
