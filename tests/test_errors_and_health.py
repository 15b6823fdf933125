"""Errors are friendly Indonesian pages or JSON problem bodies, never stack traces; health endpoints."""

from __future__ import annotations

import re

import pytest
from litestar import get
from litestar.testing import AsyncTestClient

from backend.accounts.models import Role
from backend.accounts.service import create_api_token
from backend.app import create_app
from backend.json_bodies import JSON_BODY_LIMIT
from tests.conftest import ROOT, browser, jpeg_bytes


async def test_an_unknown_page_is_a_friendly_indonesian_404(client):
    response = await client.get("/tidak-ada")

    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in response.text
    assert "Kembali ke beranda" in response.text


async def test_an_unknown_api_path_is_a_json_problem(client):
    response = await client.get("/api/v1/tidak-ada")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 404


async def test_a_crash_shows_a_500_page_without_a_stack_trace(settings, database):
    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    @get("/api/v1/boom", sync_to_thread=False)
    def api_boom() -> None:
        raise RuntimeError("secret internal detail")

    app = create_app(settings)
    app.register(boom)
    app.register(api_boom)
    async with AsyncTestClient(app) as client:
        page = await client.get("/boom")
        api = await client.get("/api/v1/boom")

    assert page.status_code == 500
    assert "Terjadi kesalahan" in page.text
    assert "secret internal detail" not in page.text and "Traceback" not in page.text
    assert api.status_code == 500
    assert api.json()["code"] == "internal_error"
    assert "secret internal detail" not in api.text


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


async def test_readiness_fails_when_the_database_is_unreachable(settings, tmp_path):

    broken = settings.model_copy(update={"database_url": "postgresql+asyncpg://nobody@127.0.0.1:1/none"})
    async with AsyncTestClient(create_app(broken)) as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"


async def test_the_openapi_document_describes_the_api(client):
    response = await client.get("/schema/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert "/api/v1/me" in document["paths"]
    assert "/api/v1/tokens/{token_id}" in document["paths"]
    assert not any(path.startswith(("/login", "/static")) for path in document["paths"])


# Every path under /schema a viewer could live at (Litestar's own render plugins).
SCHEMA_VIEWERS = (
    "/schema",
    "/schema/swagger",
    "/schema/scalar",
    "/schema/redoc",
    "/schema/elements",
    "/schema/rapidoc",
)
# Scripts, styles or images from another host: a CDN (or anybody) could then run code on our pages.
ANOTHER_HOST = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


async def test_in_production_the_api_document_is_served_without_viewers_from_a_cdn(settings, app_for, database):
    production = settings.model_copy(update={"environment": "production"})
    async with browser(await app_for(production)) as client:
        document = await client.get("/schema/openapi.json")
        viewers = {path: await client.get(path) for path in SCHEMA_VIEWERS}
        # What anybody sees (secure cookies keep a plain-http test client from logging in here); the templates
        # of every other page are checked below.
        pages = {path: await client.get(path) for path in ("/", "/login", "/signup", "/offline")}

    assert document.status_code == 200
    assert "/api/v1/me" in document.json()["paths"]
    for path, answer in viewers.items():
        assert answer.status_code == 404 or "json" in answer.headers["content-type"], path
        assert not ANOTHER_HOST.search(answer.text), path
    for path, answer in pages.items():
        assert answer.status_code == 200, path
        assert not ANOTHER_HOST.search(answer.text), path


def test_no_template_or_static_file_loads_anything_from_another_host():
    files = [
        *ROOT.glob("web/templates/**/*.html"),
        *ROOT.glob("static/**/*.js"),
        *ROOT.glob("static/**/*.css"),
        *ROOT.glob("static/**/*.webmanifest"),
    ]
    assert files
    assert [str(path.relative_to(ROOT)) for path in files if ANOTHER_HOST.search(path.read_text())] == []


async def test_a_developer_still_gets_the_api_viewers(settings, app_for, database):
    development = settings.model_copy(update={"environment": "development"})
    async with browser(await app_for(development)) as client:
        swagger = await client.get("/schema/swagger")
        document = await client.get("/schema/openapi.json")

    assert (swagger.status_code, document.status_code) == (200, 200)
    assert "swagger-ui" in swagger.text


async def api_token(world, user) -> dict[str, str]:
    async with world.database.sessionmaker() as session:
        raw, _ = await create_api_token(session=session, user=user, name="Skrip")
        await session.commit()
    return {"Authorization": f"Bearer {raw}"}


@pytest.mark.parametrize(
    ("body", "what"),
    ids=["objects", "arrays", "just too deep"],
    argvalues=[
        (b'{"name":' * 20_000 + b'"x"' + b"}" * 20_000, "20,000 nested objects"),
        (b"[" * 100_000 + b"]" * 100_000, "100,000 nested arrays"),
        (b'{"name": "Skrip", "extra": ' + b"[" * 33 + b"]" * 33 + b"}", "33 levels"),
    ],
)
async def test_json_nested_too_deeply_is_a_bad_request_not_a_crash(client, world, worker, body, what):
    auth = await api_token(world, worker)

    response = await client.post("/api/v1/tokens", content=body, headers={**auth, "Content-Type": "application/json"})

    assert response.status_code == 400, what
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert (problem["status"], problem["code"]) == (400, "json_too_deep")
    assert problem["detail"] == "Isi JSON bersarang terlalu dalam: paling banyak 32 tingkat."


async def test_json_nested_within_the_limit_and_brackets_inside_strings_are_accepted(client, world, worker):
    auth = await api_token(world, worker)
    name = "[[[{{{" * 10  # brackets inside a string are text, not nesting

    response = await client.post(
        "/api/v1/tokens", headers=auth, json={"name": name, "extra": [[[[{"a": [1, {"b": '\\"]'}]}]]]]}
    )

    assert response.status_code == 201, response.text
    assert response.json()["name"] == name


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_json_body_over_the_size_limit_is_refused_before_it_is_read(client, world, worker, chunked):
    auth = await api_token(world, worker)
    body = b'{"name": "Skrip", "padding": "' + b"x" * (JSON_BODY_LIMIT + 1) + b'"}'

    async def in_pieces():
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = await client.post(
        "/api/v1/tokens", content=in_pieces() if chunked else body, headers={**auth, "Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 413


async def test_an_api_photo_upload_may_still_be_larger_than_a_json_body(client, world, zone):
    vendor = await world.user(Role.VENDOR, zone=zone)
    shop = await world.shop(vendor, submit=False)
    auth = await api_token(world, vendor)
    photo = jpeg_bytes(1200, 900) + b"\0" * JSON_BODY_LIMIT  # a JPEG reader stops at its end marker

    response = await client.post(
        f"/api/v1/vendor/products/{shop.product.id}/photos",
        headers=auth,
        files={"photo": ("besar.jpg", photo, "image/jpeg")},
    )

    assert response.status_code == 201, response.text
