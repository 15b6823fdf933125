"""A market manager keeps the zone's delivery points: adds a gate standing at it, closes a dormitory that moved,
opens it again; workers of the zone choose among the open ones. Another zone's manager cannot touch them."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from backend.accounts.models import Role
from backend.orders.delivery import zone_delivery_points
from backend.orders.models import DeliveryPoint
from tests.conftest import log_in, submit

GATE = {"kind": "gate", "name": "Gerbang 1 KITB", "latitude": "-6,9530", "longitude": "110.0300"}


async def points(database) -> list[DeliveryPoint]:
    async with database.sessionmaker() as session:
        return list((await session.execute(select(DeliveryPoint).order_by(col(DeliveryPoint.id)))).scalars())


async def choices_of(database, worker) -> list[str]:
    async with database.sessionmaker() as session:
        return [point.name for point in await zone_delivery_points(session=session, zone_id=worker.zone_id)]


async def test_the_manager_adds_a_gate_and_workers_of_the_zone_can_choose_it(client, manager, worker, database):
    await log_in(client, manager)
    home = await client.get("/manager")
    assert 'href="/manager/delivery-points"' in home.text
    empty = await client.get("/manager/delivery-points")
    assert empty.status_code == 200 and 'action="/manager/delivery-points"' in empty.text

    added = await submit(client, "/manager/delivery-points", GATE)

    assert added.status_code == 303 and added.headers["location"] == "/manager/delivery-points?notice=added"
    (point,) = await points(database)
    assert (point.kind, point.name, point.latitude, point.longitude) == ("gate", "Gerbang 1 KITB", -6.953, 110.03)
    assert point.zone_id == manager.zone_id and point.active
    assert await choices_of(database, worker) == ["Gerbang 1 KITB"]
    listing = await client.get("/manager/delivery-points")
    assert "Gerbang 1 KITB" in listing.text and f'action="/manager/delivery-points/{point.id}/close"' in listing.text


async def test_a_point_needs_a_name_a_kind_and_a_place(client, manager, database):
    await log_in(client, manager)

    nameless = await submit(client, "/manager/delivery-points", {**GATE, "name": " "})
    nowhere = await submit(client, "/manager/delivery-points", {**GATE, "latitude": "", "longitude": ""})
    garbled = await submit(client, "/manager/delivery-points", {**GATE, "latitude": "enam"})
    odd_kind = await submit(client, "/manager/delivery-points", {**GATE, "kind": "warung"})

    for refused, field in ((nameless, "name"), (nowhere, "longitude"), (garbled, "latitude"), (odd_kind, "kind")):
        assert refused.status_code == 400
        assert f'id="e-{field}"' in refused.text, field
    assert 'value="Gerbang 1 KITB"' in nowhere.text  # what was typed stays
    assert await points(database) == []


async def test_closing_takes_a_point_off_the_workers_choice_and_opening_brings_it_back(
    client, manager, worker, database
):
    await log_in(client, manager)
    await submit(client, "/manager/delivery-points", GATE)
    await submit(client, "/manager/delivery-points", {**GATE, "kind": "dormitory", "name": "Asrama Blok A"})
    _gate, dormitory = await points(database)

    closed = await submit(client, f"/manager/delivery-points/{dormitory.id}/close", {})

    assert closed.status_code == 303
    assert await choices_of(database, worker) == ["Gerbang 1 KITB"]
    listing = await client.get("/manager/delivery-points")
    assert f'id="point-{dormitory.id}" data-active="false"' in listing.text  # still listed, as closed
    assert f'action="/manager/delivery-points/{dormitory.id}/open"' in listing.text

    assert (await submit(client, f"/manager/delivery-points/{dormitory.id}/open", {})).status_code == 303
    assert sorted(await choices_of(database, worker)) == ["Asrama Blok A", "Gerbang 1 KITB"]
    assert (await submit(client, f"/manager/delivery-points/{dormitory.id}/move", {})).status_code == 404


async def test_a_manager_of_another_zone_cannot_close_it(client, other_client, world, manager, worker, database):
    await log_in(client, manager)
    await submit(client, "/manager/delivery-points", GATE)
    (point,) = await points(database)
    elsewhere = await world.zone(code="KIW", name="Kawasan Industri Wijayakusuma")
    stranger = await world.user(Role.MANAGER, zone=elsewhere)
    await log_in(other_client, stranger)

    refused = await submit(other_client, f"/manager/delivery-points/{point.id}/close", {})

    assert refused.status_code == 404
    assert (await points(database))[0].active
    assert f'id="point-{point.id}"' not in (await other_client.get("/manager/delivery-points")).text
    assert await choices_of(database, worker) == ["Gerbang 1 KITB"]


async def test_only_managers_keep_delivery_points(client, worker, admin, database):
    await log_in(client, worker)
    assert (await client.get("/manager/delivery-points")).status_code == 403
    assert (await submit(client, "/manager/delivery-points", GATE)).status_code == 403
    assert await points(database) == []


async def test_adding_a_point_needs_the_csrf_token(client, manager, database):
    await log_in(client, manager)
    forged = await client.post("/manager/delivery-points", data=GATE, follow_redirects=False)
    assert forged.status_code == 403
    assert await points(database) == []
