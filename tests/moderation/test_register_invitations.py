"""A manager invites the register's UMKM by WhatsApp, or marks them as invited; the first invitation is what the
district funnel counts."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from backend.accounts.models import Role
from backend.moderation.models import AuditEntry
from tests.conftest import csrf_token, log_in, submit
from tests.moderation.test_register_import import REGISTER, invitations, run_import


async def ids_by_name(database) -> dict[str, int]:
    return {row.business_name: row.id for row in await invitations(database)}


async def test_the_manager_ticks_rows_and_marks_them_invited_once(client, manager, database, count_queries):
    await run_import(database, manager, REGISTER.encode())
    ids = await ids_by_name(database)
    await log_in(client, manager)

    count_queries.statements.clear()
    page = await client.get("/manager/register/rows")
    assert page.status_code == 200
    assert count_queries.count <= 5, count_queries.statements
    assert 'data-rows="3"' in page.text and "Undang lewat WhatsApp" in page.text

    answer = await submit(
        client,
        "/manager/register/rows/invited",
        {"ids": [str(ids["Catering Bu Sri"]), str(ids["Keripik Mbak Nur"])], "back_state": "not_invited"},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/manager/register/rows?notice=marked&state=not_invited"
    first = {row.business_name: row.invited_at for row in await invitations(database)}
    assert first["Catering Bu Sri"] is not None and first["Batik Tulis Ketanggan"] is None

    # Marking again keeps the first invitation's time; the list shows who is left to invite.
    again = await submit(client, "/manager/register/rows/invited", {"one": str(ids["Catering Bu Sri"])})
    assert again.headers["location"] == "/manager/register/rows?notice=none_marked"
    assert {row.business_name: row.invited_at for row in await invitations(database)} == first
    left = await client.get("/manager/register/rows?state=not_invited")
    assert 'data-rows="1"' in left.text and "Batik Tulis Ketanggan" in left.text
    invited = await client.get("/manager/register/rows?state=invited&kecamatan=gringsing")
    assert 'data-rows="1"' in invited.text and "Catering Bu Sri" in invited.text

    async with database.sessionmaker() as session:
        actions = (
            await session.execute(select(col(AuditEntry.action)).where(col(AuditEntry.action) == "register.invite"))
        ).all()
    assert len(actions) == 2


async def test_another_zone_s_rows_are_not_found_and_vendors_are_refused(client, world, manager, database):
    await run_import(database, manager, REGISTER.encode())
    ids = await ids_by_name(database)
    other_zone = await world.zone("KIW", name="Kawasan Industri Wiradesa")
    stranger = await world.user(Role.MANAGER, zone=other_zone)
    await log_in(client, stranger)

    page = await client.get("/manager/register/rows")
    assert 'data-rows="0"' in page.text and "Catering Bu Sri" not in page.text
    marked = await submit(client, "/manager/register/rows/invited", {"one": str(ids["Catering Bu Sri"])})
    assert marked.status_code == 404
    opened = await client.post(
        f"/manager/register/rows/{ids['Catering Bu Sri']}/invited", headers={"x-csrftoken": await csrf_token(client)}
    )
    assert opened.status_code == 404
    assert all(row.invited_at is None for row in await invitations(database))

    vendor = await world.user(Role.VENDOR, zone=other_zone)
    client.cookies.clear()
    await log_in(client, vendor)
    assert (await client.get("/manager/register/rows")).status_code == 403


async def test_the_invitation_is_only_recorded_with_the_page_s_csrf_token(client, manager, database):
    await run_import(database, manager, REGISTER.encode())
    ids = await ids_by_name(database)
    await log_in(client, manager)

    forged = await client.post(f"/manager/register/rows/{ids['Catering Bu Sri']}/invited")

    assert forged.status_code == 403
    assert all(row.invited_at is None for row in await invitations(database))
