"""What a phone downloads and keeps: compressed text, static files kept for a year under their fingerprinted URL,
and a visitor's catalogue, product and vendor pages revalidated with an ETag (a 304 of a few hundred bytes)."""

from __future__ import annotations

import json

import anyio.to_thread
import pytest

from backend.catalog import service as catalog_service
from backend.catalog.models import Category, Fulfilment, Unit
from backend.catalog.schemas import ProductInput
from backend.csrf import CSRF_COOKIE
from backend.media.storage import FileSystemStorage, storage_from_settings
from backend.vendors.models import Vendor
from tests.conftest import QueryCounter, browser, found, log_in, on_both_media_stores, processed_photo

YEAR_IMMUTABLE = "public, max-age=31536000, immutable"
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")


def vary(response) -> set[str]:
    return {name.strip().lower() for name in response.headers.get("vary", "").split(",") if name.strip()}


async def static_urls(client) -> dict[str, str]:
    """The fingerprinted URLs a page links to, by file (/static/css/app.css → its URL with ?v=)."""
    page = await client.get("/login")
    urls = {}
    for pattern in (r'href="(/static/css/app\.css\?v=\w+)"', r'src="(/static/js/htmx[^"]+)"'):
        url = found(pattern, page.text).group(1)
        urls[url.split("?")[0]] = url
    manifest = found(r'<link rel="manifest" href="([^"]+)"', page.text).group(1)
    urls[manifest.split("?")[0]] = manifest
    icon = found(r'<link rel="icon" href="([^"]+)"', page.text).group(1)
    urls[icon.split("?")[0]] = icon
    return urls


@pytest.mark.parametrize("encoding", ["br", "gzip"])
async def test_text_is_compressed_with_what_the_browser_accepts(client, encoding):
    urls = await static_urls(client)
    answers = {
        "html": await client.get("/login", headers={"Accept-Encoding": encoding}),
        "css": await client.get(urls["/static/css/app.css"], headers={"Accept-Encoding": encoding}),
        "js": await client.get(urls["/static/js/htmx-2.0.11.min.js"], headers={"Accept-Encoding": encoding}),
        "json": await client.get("/schema/openapi.json", headers={"Accept-Encoding": encoding}),
        "webmanifest": await client.get(urls["/static/manifest.webmanifest"], headers={"Accept-Encoding": encoding}),
    }

    for kind, answer in answers.items():
        assert answer.status_code == 200, kind
        assert answer.headers.get("content-encoding") == encoding, kind
        assert "accept-encoding" in vary(answer), kind
        assert answer.num_bytes_downloaded < len(answer.content), kind  # what came over the wire was smaller
    assert json.loads(answers["json"].content)["info"]["title"] == "Pasar Kawasan API"
    assert json.loads(answers["webmanifest"].content)["start_url"] == "/"
    assert "<html" in answers["html"].text


async def test_brotli_is_preferred_when_the_browser_accepts_both(client):
    page = await client.get("/login", headers={"Accept-Encoding": "gzip, deflate, br"})

    assert page.headers["content-encoding"] == "br"
    assert "<html" in page.text  # httpx decoded it as brotli


async def test_nothing_is_compressed_for_a_browser_that_accepts_no_encoding(client):
    urls = await static_urls(client)
    for url in ("/login", urls["/static/css/app.css"], urls["/static/js/htmx-2.0.11.min.js"], "/schema/openapi.json"):
        answer = await client.get(url, headers={"Accept-Encoding": "identity"})

        assert answer.status_code == 200
        assert "content-encoding" not in answer.headers, url
        assert answer.num_bytes_downloaded == len(answer.content)


async def test_a_shared_cache_keeps_a_static_files_plain_and_compressed_copies_apart(client):
    css = (await static_urls(client))["/static/css/app.css"]

    for encoding in ("identity", "gzip", "br"):
        answer = await client.get(css, headers={"Accept-Encoding": encoding})

        assert answer.headers["cache-control"] == YEAR_IMMUTABLE
        assert vary(answer) == {"accept-encoding"}, encoding


async def test_images_are_not_compressed_again(client, settings):
    FileSystemStorage(settings.media_dir).save("products/photo-960.webp", processed_photo().detail.data)

    icon = await client.get("/static/icons/icon-512.png", headers={"Accept-Encoding": "br, gzip"})
    photo = await client.get("/media/products/photo-960.webp", headers={"Accept-Encoding": "br, gzip"})

    assert icon.status_code == 200 and photo.status_code == 200
    assert icon.headers["content-type"] == "image/png"
    assert photo.headers["content-type"] == "image/webp"
    assert "content-encoding" not in icon.headers
    assert "content-encoding" not in photo.headers


async def test_a_fingerprinted_static_url_is_kept_for_a_year_and_any_other_briefly(client):
    css = (await static_urls(client))["/static/css/app.css"]

    fingerprinted = await client.get(css)
    stale = await client.get("/static/css/app.css?v=0123456789")
    bare = await client.get("/static/css/app.css")

    assert fingerprinted.headers["cache-control"] == YEAR_IMMUTABLE
    for answer in (stale, bare):
        assert answer.status_code == 200
        assert answer.content == fingerprinted.content
        assert "immutable" not in answer.headers["cache-control"]
        assert "max-age=31536000" not in answer.headers["cache-control"]


async def product_on_sale(world, zone):
    seller = await world.seller(zone, business_name="Keripik Mbak Rina", daily_capacity=None)
    product = await world.live_product(
        seller, "Keripik Singkong", category="snacks", price=8000, unit="pack", fulfilment="ready_stock", stock=25
    )
    return seller, product


async def test_a_visitors_product_page_is_revalidated_with_an_etag(client, world, zone, database):
    seller, product = await product_on_sale(world, zone)
    await client.get("/")  # the browser has its CSRF cookie, as after any earlier visit

    first = await client.get(f"/products/{product.id}")
    again = await client.get(f"/products/{product.id}", headers={"If-None-Match": first.headers["etag"]})

    assert first.status_code == 200
    assert first.headers["cache-control"] == "private, no-cache"
    assert first.headers["etag"].startswith('W/"')
    assert "cookie" in vary(first)
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "private, no-cache"
    assert "content-type" not in again.headers and "content-encoding" not in again.headers
    for header in SECURITY_HEADERS:
        assert header in again.headers, header

    async with database.sessionmaker() as session:
        vendor = await session.get_one(Vendor, seller.vendor.id)
        await catalog_service.update_product(
            session=session,
            vendor=vendor,
            product_id=product.id,
            now=world.now,
            data=ProductInput(
                name="Keripik Singkong",
                category=Category.SNACKS,
                unit=Unit.PACK,
                price=8500,
                fulfilment=Fulfilment.READY_STOCK,
                stock=25,
                certificate_ids=list(seller.certificate_ids.values()),
            ),
        )
        await session.commit()
    repriced = await client.get(f"/products/{product.id}", headers={"If-None-Match": first.headers["etag"]})

    assert repriced.status_code == 200
    assert "Rp 8.500" in repriced.text
    assert repriced.headers["etag"] != first.headers["etag"]


async def test_a_visitors_catalogue_and_its_fragment_are_revalidated(client, world, zone):
    await product_on_sale(world, zone)
    await client.get("/")
    htmx = {"HX-Request": "true", "HX-Target": "results"}

    page = await client.get("/catalogue", params={"q": "keripik"})
    fragment = await client.get("/catalogue", params={"q": "keripik"}, headers=htmx)
    page_again = await client.get(
        "/catalogue", params={"q": "keripik"}, headers={"If-None-Match": page.headers["etag"]}
    )
    fragment_again = await client.get(
        "/catalogue", params={"q": "keripik"}, headers={**htmx, "If-None-Match": fragment.headers["etag"]}
    )
    other_query = await client.get("/catalogue", params={"q": "nasi"}, headers={"If-None-Match": page.headers["etag"]})

    assert "Keripik Singkong" in page.text and "Keripik Singkong" in fragment.text
    assert page.headers["etag"] != fragment.headers["etag"]
    assert {"hx-request", "cookie"} <= vary(page) and {"hx-request", "cookie"} <= vary(fragment)
    assert (page_again.status_code, fragment_again.status_code) == (304, 304)
    assert page_again.content == b"" and fragment_again.content == b""
    assert other_query.status_code == 200


async def test_a_vendors_page_is_revalidated(client, world, zone):
    seller, _ = await product_on_sale(world, zone)
    await client.get("/")

    first = await client.get(f"/vendors/{seller.vendor.id}")
    again = await client.get(f"/vendors/{seller.vendor.id}", headers={"If-None-Match": first.headers["etag"]})

    assert first.status_code == 200 and "Keripik Mbak Rina" in first.text
    assert again.status_code == 304


async def test_one_visitors_copy_is_never_confirmed_to_another_browser(app, client, world, zone):
    """The page holds a CSRF token bound to the first browser's cookie: a copy of it handed to a second browser
    (a shared cache replaying the tag, or a browser whose cookies were cleared) would fail its forms."""
    _, product = await product_on_sale(world, zone)

    first_visit = await client.get(f"/products/{product.id}")
    assert CSRF_COOKIE in first_visit.cookies  # the answer that sets the cookie is the browser's alone
    assert first_visit.headers["cache-control"] == "private, no-cache"
    kept = await client.get(f"/products/{product.id}")
    token = found(r'name="_csrf_token" value="([^"]+)"', kept.text).group(1)

    async with browser(app) as other:
        await other.get("/")
        replayed = await other.get(f"/products/{product.id}", headers={"If-None-Match": kept.headers["etag"]})
    async with browser(app) as without_cookies:
        cleared = await without_cookies.get(f"/products/{product.id}", headers={"If-None-Match": kept.headers["etag"]})

    assert replayed.status_code == 200
    assert replayed.headers["etag"] != kept.headers["etag"]
    assert token not in replayed.text
    assert cleared.status_code == 200
    assert CSRF_COOKIE in cleared.cookies


async def test_a_logged_in_buyers_pages_are_not_stored(client, world, zone, canteen_staff):
    seller, product = await product_on_sale(world, zone)
    await log_in(client, canteen_staff)

    for url in ("/catalogue", f"/products/{product.id}", f"/vendors/{seller.vendor.id}"):
        first = await client.get(url)
        again = await client.get(url, headers={"If-None-Match": '"anything", *'})

        assert first.status_code == 200, url
        assert first.headers["cache-control"] == "private, no-store", url
        assert "etag" not in first.headers, url
        assert again.status_code == 200, url


@on_both_media_stores
async def test_a_photo_carries_no_cookie_so_shared_caches_keep_it_and_costs_no_query(client, media_settings, app):
    await anyio.to_thread.run_sync(
        storage_from_settings(media_settings).save, "products/photo-960.webp", processed_photo().detail.data
    )
    client.cookies.clear()  # a first visit: the browser has no cookie yet

    with QueryCounter(app.state.database) as queries:
        photo = await client.get("/media/products/photo-960.webp")

    assert photo.status_code == 200 and photo.headers["cache-control"] == YEAR_IMMUTABLE
    assert "set-cookie" not in photo.headers
    assert CSRF_COOKIE not in client.cookies
    assert queries.count == 0, queries.statements


@on_both_media_stores
async def test_a_photo_answers_head_with_its_headers_and_no_body(client, media_settings):
    data = processed_photo().detail.data
    await anyio.to_thread.run_sync(storage_from_settings(media_settings).save, "products/photo-960.webp", data)
    client.cookies.clear()

    head = await client.head("/media/products/photo-960.webp")
    missing = await client.head("/media/products/no-such-photo.webp")

    assert head.status_code == 200, head.text
    assert head.content == b""
    assert head.headers["content-type"] == "image/webp"
    assert head.headers["content-length"] == str(len(data))
    assert head.headers["cache-control"] == YEAR_IMMUTABLE
    assert "set-cookie" not in head.headers
    assert missing.status_code == 404
