"""Canteens' procurement systems use personal API tokens, created and revoked on the settings page."""

from __future__ import annotations

import re

from sqlalchemy import select

from backend.accounts import service as accounts
from backend.accounts.models import ApiToken, Role
from tests.conftest import PASSWORD, found, log_in, submit


async def create_token_on_settings_page(client, name: str = "SAP pengadaan") -> str:
    response = await submit(client, "/settings/tokens", {"name": name})
    assert response.status_code == 200
    match = re.search(r'id="new-token">(pk_[^<]+)<', response.text)
    assert match, "the new token is shown once"
    return match.group(1)


async def test_a_canteen_creates_a_token_and_its_system_reads_the_account(client, canteen_staff, database):
    await log_in(client, canteen_staff)
    raw = await create_token_on_settings_page(client)

    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})

    assert response.status_code == 200
    body = response.json()
    assert body["phone"] == canteen_staff.phone
    assert body["role"] == "canteen_staff"
    assert "password_hash" not in body
    async with database.sessionmaker() as session:
        token = (await session.execute(select(ApiToken))).scalar_one()
    assert token.token_hash != raw and raw not in token.token_hash
    assert token.last_used_at is not None
    assert raw not in (await client.get("/settings")).text  # shown only once


async def test_a_revoked_token_stops_working(client, canteen_staff):
    await log_in(client, canteen_staff)
    raw = await create_token_on_settings_page(client)
    page = await client.get("/settings")
    token_id = found(r'id="token-(\d+)"', page.text).group(1)

    response = await submit(client, f"/settings/tokens/{token_id}/revoke", {})
    assert response.status_code == 303

    refused = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "not_authenticated"


async def test_tokens_can_be_listed_created_and_revoked_through_the_api(client, worker):
    await log_in(client, worker)
    raw = await create_token_on_settings_page(client, "Skrip laporan")
    auth = {"Authorization": f"Bearer {raw}"}

    created = await client.post("/api/v1/tokens", json={"name": "Integrasi kedua"}, headers=auth)
    assert created.status_code == 201
    second = created.json()
    assert second["token"].startswith("pk_")

    listed = await client.get("/api/v1/tokens", headers=auth)
    assert [token["name"] for token in listed.json()] == ["Integrasi kedua", "Skrip laporan"]
    assert all("token" not in token and "token_hash" not in token for token in listed.json())

    revoked = await client.delete(f"/api/v1/tokens/{second['id']}", headers=auth)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {second['token']}"})).status_code == 401


async def test_nobody_can_read_or_revoke_another_persons_token(client, other_client, worker, canteen_staff):
    await log_in(client, canteen_staff)
    await create_token_on_settings_page(client, "Milik kantin")
    canteen_token_id = found(r'id="token-(\d+)"', (await client.get("/settings")).text).group(1)
    await log_in(other_client, worker)
    worker_raw = await create_token_on_settings_page(other_client, "Milik pekerja")
    auth = {"Authorization": f"Bearer {worker_raw}"}

    assert (await other_client.get(f"/api/v1/tokens/{canteen_token_id}", headers=auth)).status_code == 404
    assert (await other_client.delete(f"/api/v1/tokens/{canteen_token_id}", headers=auth)).status_code == 404
    page_attempt = await submit(other_client, f"/settings/tokens/{canteen_token_id}/revoke", {})
    assert page_attempt.status_code == 404
    assert "Token API ini tidak ada" in page_attempt.text

    still_active = await client.get("/settings")
    assert "Dicabut" not in still_active.text


async def test_the_api_ignores_browser_cookies(client, worker):
    await log_in(client, worker)

    response = await client.get("/api/v1/me")

    assert response.status_code == 401


async def test_a_token_name_is_required(client, worker):
    await log_in(client, worker)

    response = await submit(client, "/settings/tokens", {"name": "  "})

    assert response.status_code == 422
    assert "Beri nama token" in response.text


async def test_bad_api_input_gets_a_problem_body(client, worker):
    await log_in(client, worker)
    raw = await create_token_on_settings_page(client)

    response = await client.post("/api/v1/tokens", json={"name": ""}, headers={"Authorization": f"Bearer {raw}"})

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert body["detail"]
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_changing_the_password_revokes_every_api_token_and_the_settings_page_says_so(
    client, canteen_staff, database
):
    await log_in(client, canteen_staff)
    made_on_the_page = await create_token_on_settings_page(client, "SAP pengadaan")
    made_through_the_api = (
        await client.post(
            "/api/v1/tokens", json={"name": "Skrip laporan"}, headers={"Authorization": f"Bearer {made_on_the_page}"}
        )
    ).json()
    old_tokens = (made_on_the_page, made_through_the_api["token"])

    changed = await submit(
        client, "/settings/password", {"current_password": PASSWORD, "new_password": "sandi-baru-kantin-9"}
    )
    assert changed.status_code == 303
    page = await client.get(changed.headers["location"])

    for raw in old_tokens:
        refused = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
        assert refused.status_code == 401, refused.text
        assert refused.json()["code"] == "not_authenticated"
    assert "Token API Anda juga sudah dicabut" in page.text
    rows = re.findall(r'<li class="token-row".*?</li>', page.text, re.DOTALL)
    assert len(rows) == 2 and all("Dicabut" in row and "/revoke" not in row for row in rows)
    # A new token works, and the API lists the old ones as revoked.
    fresh = await create_token_on_settings_page(client, "SAP pengadaan baru")
    listed = (await client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {fresh}"})).json()
    assert {token["name"]: token["revoked_at"] is not None for token in listed} == {
        "SAP pengadaan baru": False,
        "Skrip laporan": True,
        "SAP pengadaan": True,
    }


async def test_a_password_change_without_tokens_says_nothing_about_tokens(client, worker):
    await log_in(client, worker)
    changed = await submit(
        client, "/settings/password", {"current_password": PASSWORD, "new_password": "sandi-baru-pekerja-9"}
    )
    page = await client.get(changed.headers["location"])

    assert "Kata sandi Anda sudah diganti" in page.text
    assert "Token API" not in page.text.split("<h2>")[0]


async def test_a_password_change_revokes_only_that_persons_tokens(world, zone, database):
    alice = await world.user(Role.WORKER, zone=zone)
    bob = await world.user(Role.WORKER, zone=zone)
    async with database.sessionmaker() as session:
        await accounts.create_api_token(session=session, user=alice, name="Alice")
        _, bobs = await accounts.create_api_token(session=session, user=bob, name="Bob")
        alice = await session.merge(alice)
        revoked = await accounts.change_password(
            session=session,
            user=alice,
            current_password=PASSWORD,
            new_password="sandi-baru-alice-1",
            password_hash_profile="fast",
            now=world.now,
        )
        await session.commit()
        tokens = {token.name: token.revoked_at for token in (await session.execute(select(ApiToken))).scalars()}

    assert revoked == 1
    assert tokens["Alice"] is not None and tokens["Bob"] is None
    assert bobs.revoked_at is None
