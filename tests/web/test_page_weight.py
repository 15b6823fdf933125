"""A phone's first visit stays light: the page, its stylesheet and its scripts, compressed, within 30 KB, with the
shell (header, bottom bar and its icons) around it. bench/page_weight.py prints the same figures for more pages."""

from __future__ import annotations

import re

import pytest

from backend.accounts.models import Role
from tests.conftest import log_in

BUDGET_BYTES = 30 * 1024
ASSET = re.compile(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"')


async def first_visit_bytes(client, path: str) -> int:
    """Compressed bytes over the wire of the page and every stylesheet and script it links (nothing cached)."""
    headers = {"Accept-Encoding": "br, gzip"}
    page = await client.get(path, headers=headers)
    assert page.status_code == 200, path
    total = page.num_bytes_downloaded
    for asset in ASSET.findall(page.text):
        answer = await client.get(asset.replace("&amp;", "&"), headers=headers)
        assert answer.status_code == 200 and answer.headers.get("content-encoding") in ("br", "gzip"), asset
        total += answer.num_bytes_downloaded
    return total


@pytest.mark.parametrize(
    ("role", "path"),
    [(None, "/catalogue"), (Role.VENDOR, "/vendor/profile"), (Role.CANTEEN_STAFF, "/catalogue")],
)
async def test_a_first_visit_is_at_most_30_kb_compressed(client, world, zone, canteen, role, path):
    seller = await world.seller(zone, business_name="Catering Bu Sri")
    for number in range(20):
        await world.live_product(seller, f"Nasi Box Menu {number:02d}")
    if role is not None:
        await log_in(
            client, await world.user(role, zone=zone, organisation=canteen if role == Role.CANTEEN_STAFF else None)
        )

    weight = await first_visit_bytes(client, path)

    assert 15 * 1024 < weight <= BUDGET_BYTES, weight  # htmx alone is 15 KB: the assets were counted
