"""Each role sees its own home; other pages are closed to it; forms need their CSRF token."""

from __future__ import annotations

import pytest

from backend.accounts.models import Role
from tests.conftest import csrf_token, log_in, submit

HOMES = {
    "vendor": ("/vendor", "Toko Anda"),
    "canteen_staff": ("/canteen", "Tim pembelian"),
    "worker": ("/worker", "Kawasan Anda"),
    "manager": ("/manager", "Pengguna di kawasan"),
    "admin": ("/admin", "Administrasi"),
}


@pytest.fixture(params=list(HOMES))
async def persona(request, world, zone, canteen):
    role = Role(request.param)
    user = await world.user(
        role, zone=None if role == Role.ADMIN else zone, organisation=canteen if role == Role.CANTEEN_STAFF else None
    )
    return role, user


async def test_each_role_logs_in_to_its_own_home_page_in_indonesian(client, persona, count_queries):
    role, user = persona
    response = await log_in(client, user)
    path, heading = HOMES[role.value]
    assert response.headers["location"] == path

    count_queries.statements.clear()
    page = await client.get(path)

    assert page.status_code == 200
    assert heading in page.text
    assert '<html lang="id">' in page.text
    assert "Keluar" in page.text
    assert count_queries.count <= 5, count_queries.statements


async def test_a_worker_cannot_open_a_manager_page(client, worker, manager):
    await log_in(client, worker)

    response = await client.get("/manager")

    assert response.status_code == 403
    assert "Akses ditolak" in response.text
    assert "Traceback" not in response.text


async def test_a_visitor_is_sent_to_login_from_a_private_page(client):
    response = await client.get("/manager", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fmanager"


async def test_a_logged_in_person_opening_the_front_page_goes_to_their_home(client, canteen_staff):
    await log_in(client, canteen_staff)

    response = await client.get("/", follow_redirects=False)

    assert response.headers["location"] == "/canteen"


async def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(client, worker):
    await csrf_token(client)
    response = await client.post(
        "/login", data={"phone": worker.phone, "password": "rahasia-kantin-42"}, follow_redirects=False
    )

    assert response.status_code == 403
    assert "Formulir ini sudah kedaluwarsa" in response.text
    assert "pk_session" not in response.cookies


async def test_a_form_with_a_forged_csrf_token_is_refused(client, worker):
    await csrf_token(client)
    response = await client.post(
        "/login",
        data={"phone": worker.phone, "password": "rahasia-kantin-42", "_csrf_token": "forged"},
        follow_redirects=False,
    )

    assert response.status_code == 403


async def test_an_htmx_request_sends_the_token_as_a_header(client, worker):
    await log_in(client, worker)
    await submit(client, "/settings/tokens", {"name": "Laptop"})
    settings_page = await client.get("/settings")
    token_id = settings_page.text.split('id="token-')[1].split('"')[0]

    refused = await client.post(f"/settings/tokens/{token_id}/revoke", headers={"HX-Request": "true"})
    assert refused.status_code == 403

    accepted = await client.post(
        f"/settings/tokens/{token_id}/revoke", headers={"HX-Request": "true", "x-csrftoken": await csrf_token(client)}
    )
    assert accepted.status_code == 200
    assert accepted.text.lstrip().startswith('<li class="token-row"')
    assert "Dicabut" in accepted.text


async def test_the_language_switch_shows_english_and_remembers_it_for_the_account(client, other_client, worker):
    await log_in(client, worker)
    response = await submit(client, "/language", {"locale": "en", "next": "/worker"})
    assert response.headers["location"] == "/worker"

    page = await client.get("/worker")
    assert '<html lang="en">' in page.text
    assert "Log out" in page.text

    await log_in(other_client, worker)  # another device without the cookie follows the account's choice
    assert "Log out" in (await other_client.get("/worker")).text
