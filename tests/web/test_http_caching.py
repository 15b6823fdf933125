"""What a phone downloads and keeps: compressed text, static files kept for a year under their fingerprinted URL."""

from __future__ import annotations

import json

import pytest

from tests.conftest import found

YEAR_IMMUTABLE = "public, max-age=31536000, immutable"


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


async def test_images_are_not_compressed_again(client):
    icon = await client.get("/static/icons/icon-512.png", headers={"Accept-Encoding": "br, gzip"})

    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/png"
    assert "content-encoding" not in icon.headers


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
