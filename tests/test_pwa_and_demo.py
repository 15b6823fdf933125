"""The installable shell (manifest, icons, service worker, offline page) and the demo data."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlmodel import col

from backend.accounts.models import Organisation, Role, User, Zone
from backend.demo import ALL_ACCOUNTS, DEMO_PASSWORD, load_demo
from backend.media.storage import FileSystemStorage
from tests.conftest import found, submit


async def test_the_page_links_a_manifest_whose_icons_exist(client):
    page = await client.get("/login")
    manifest_url = found(r'<link rel="manifest" href="([^"]+)"', page.text).group(1)

    manifest = json.loads((await client.get(manifest_url)).text)

    assert manifest["start_url"] == "/"
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        response = await client.get(icon["src"])
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"


async def test_static_files_are_cached_for_a_year_and_compressed(client):
    page = await client.get("/login")
    htmx_url = found(r'<script src="(/static/js/htmx-2\.0\.11\.min\.js\?v=[0-9a-f]+)"', page.text).group(1)

    response = await client.get(htmx_url, headers={"Accept-Encoding": "gzip"})

    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["cache-control"]
    assert response.headers.get("content-encoding") == "gzip"


async def test_the_service_worker_is_served_from_the_root_and_never_cached_stale(client):
    response = await client.get("/sw.js")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert "/offline" in response.text
    assert "pk-shell-__VERSION__" not in response.text  # the cache name follows the shell's content


async def test_the_offline_page_speaks_indonesian(client):
    response = await client.get("/offline")

    assert "Anda sedang luring" in response.text


async def test_the_demo_loads_once_with_every_role_and_each_can_log_in(client, database, settings):
    async with database.sessionmaker() as session:
        assert (
            await load_demo(
                session=session, password_hash_profile="fast", storage=FileSystemStorage(settings.media_dir)
            )
            is True
        )
        await session.commit()
    async with database.sessionmaker() as session:
        assert (
            await load_demo(
                session=session, password_hash_profile="fast", storage=FileSystemStorage(settings.media_dir)
            )
            is False
        )
        roles = dict(
            (await session.execute(select(col(User.role), func.count(col(User.id))).group_by(col(User.role)))).all()
        )
        zones = (await session.execute(select(col(Zone.code)))).scalars().all()
        canteens = (await session.execute(select(func.count(col(Organisation.id))))).scalar_one()

    assert zones == ["KITB"]
    assert canteens == 1
    assert roles == {Role.ADMIN: 1, Role.MANAGER: 1, Role.CANTEEN_STAFF: 2, Role.WORKER: 1, Role.VENDOR: 6}
    for account in ALL_ACCOUNTS:
        response = await submit(client, "/login", {"phone": account.phone, "password": DEMO_PASSWORD})
        assert response.status_code == 303, account
        await submit(client, "/logout", {})


async def test_a_visitor_of_the_demo_finds_iced_tea_by_its_short_words(client, database, settings):
    """Buyers type "es" (ice) and "teh" (tea): the demo has something live for both."""
    async with database.sessionmaker() as session:
        await load_demo(session=session, password_hash_profile="fast", storage=FileSystemStorage(settings.media_dir))
        await session.commit()
    for words in ("es", "teh", "es teh"):
        page = await client.get("/catalogue", params={"q": words})
        assert page.status_code == 200
        assert "Es Teh Manis 300 ml" in page.text, words
