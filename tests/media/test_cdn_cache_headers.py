"""What a CDN in front of the app may keep: public photos for a year, the same copy for everybody; a private
document (a certificate, a claim's photo, a canteen's papers) never by a shared cache, and never at a public
address; an address with no photo behind it only briefly."""

from __future__ import annotations

import re

from sqlalchemy import select

from backend.certification.models import Certificate
from backend.media.routes import MISSING_PHOTO_CACHE
from backend.media.storage import FileSystemStorage
from tests.conftest import browser, log_in, processed_photo
from tests.web.test_vendor_pages import add_halal, fill_profile

YEAR_IMMUTABLE = "public, max-age=31536000, immutable"


def max_age(cache_control: str) -> int:
    match = re.search(r"max-age=(\d+)", cache_control)
    return int(match.group(1)) if match else 0


async def test_a_public_photo_is_the_same_year_long_copy_for_a_visitor_and_a_logged_in_buyer(
    app, client, settings, worker
):
    FileSystemStorage(settings.media_dir).save("products/ab/photo-960.webp", processed_photo().detail.data)
    visitor = await client.get("/media/products/ab/photo-960.webp")
    async with browser(app) as buyer:
        await log_in(buyer, worker)
        logged_in = await buyer.get("/media/products/ab/photo-960.webp")

    for answer in (visitor, logged_in):
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == YEAR_IMMUTABLE
        assert "set-cookie" not in answer.headers
        assert "cookie" not in answer.headers.get("vary", "").lower()
    assert visitor.content == logged_in.content


async def test_a_missing_photo_is_kept_only_briefly_so_a_cdn_does_not_hide_it_once_it_exists(client):
    for method in (client.get, client.head):
        missing = await method("/media/products/cd/not-there-yet.webp")

        assert missing.status_code == 404
        assert missing.headers["cache-control"] == MISSING_PHOTO_CACHE
        assert max_age(missing.headers["cache-control"]) <= 60


async def test_a_certificate_document_is_private_and_has_no_public_address(app, client, vendor, database):
    await log_in(client, vendor)
    await fill_profile(client)
    assert (await add_halal(client)).status_code == 303
    async with database.sessionmaker() as session:
        certificate = (await session.execute(select(Certificate))).scalar_one()

    owner_copy = await client.get(f"/vendor/certificates/{certificate.id}/document")
    async with browser(app) as stranger:
        public_address = await stranger.get(f"/media/{certificate.document_key}")

    assert owner_copy.status_code == 200
    assert owner_copy.headers["cache-control"] == "private, no-store"
    assert public_address.status_code == 404
    assert "immutable" not in public_address.headers.get("cache-control", "")
    assert max_age(public_address.headers.get("cache-control", "")) <= 60
