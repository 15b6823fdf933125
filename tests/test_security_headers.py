"""Security headers on every answer, and cross-site requests refused: a CSRF token belongs to the browser session
it was handed to, and an unsafe page request from another site is refused before anything changes."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from backend.accounts.models import ApiToken, Role
from backend.accounts.service import create_api_token
from backend.config import Settings
from tests.conftest import ROOT, browser, csrf_token, log_in

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self' https://checkout.stripe.com; "
    "frame-ancestors 'none'"
)
EVERY_ANSWER = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "cross-origin-opener-policy": "same-origin",
}
PRODUCTION_SECRET = "production-secret-key-for-the-header-tests-0123456789"
CROSS_SITE_MESSAGE = "Permintaan ini datang dari situs web lain dan ditolak"
EXPIRED_FORM_MESSAGE = "Formulir ini sudah kedaluwarsa"


def features(answer) -> dict[str, str]:
    """The Permissions-Policy as {feature: allowlist}."""
    policy = answer.headers["permissions-policy"]
    return dict(item.strip().split("=", 1) for item in policy.split(","))


def assert_secured(answer) -> None:
    for name, value in EVERY_ANSWER.items():
        assert answer.headers.get(name) == value, (answer.request.url, name, answer.headers.get(name))
    allowed = features(answer)
    for feature in ("camera", "geolocation", "microphone", "payment", "usb"):
        assert allowed[feature] == "()", (answer.request.url, feature)


async def api_tokens(database) -> int:
    async with database.sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(ApiToken))).scalar_one()


# --- headers ---------------------------------------------------------------------------------------------


async def test_a_page_a_fragment_an_api_answer_and_error_pages_carry_the_security_headers(
    client, world, vendor, worker
):
    shop = await world.shop(vendor)
    page = await client.get("/login")
    fragment = await client.get(f"/vendors/{shop.vendor.id}/reviews", headers={"HX-Request": "true"})
    api = await client.get("/api/v1/zones")
    not_found = await client.get("/no-such-page")
    api_not_found = await client.get("/api/v1/no-such-thing")
    await log_in(client, worker)
    forbidden = await client.get("/manager")

    assert [page.status_code, fragment.status_code, api.status_code] == [200, 200, 200]
    assert not fragment.text.lstrip().startswith("<!doctype")
    assert [not_found.status_code, api_not_found.status_code, forbidden.status_code] == [404, 404, 403]
    for answer in (page, fragment, api, not_found, api_not_found, forbidden):
        assert_secured(answer)
    assert "strict-transport-security" not in page.headers, "no HSTS outside production"


async def test_hsts_only_in_production(settings, app_for, database):
    production = await app_for(
        settings.model_copy(
            update={"environment": "production", "secret_key": PRODUCTION_SECRET, "password_hash_profile": "standard"}
        )
    )
    async with browser(production) as client:
        answer = await client.get("/login")
    assert answer.status_code == 200
    assert answer.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert_secured(answer)


async def test_the_openapi_viewers_are_left_without_a_csp_on_a_developers_machine_only(settings, app_for, database):
    development = await app_for(settings.model_copy(update={"environment": "development"}))
    async with browser(development) as client:
        viewer = await client.get("/schema/swagger")
        page = await client.get("/login")
    assert viewer.status_code == 200 and "content-security-policy" not in viewer.headers
    assert page.headers["content-security-policy"] == CSP
    assert "strict-transport-security" not in page.headers


async def test_the_camera_and_location_are_allowed_only_on_the_pages_that_use_them(
    client, other_client, world, vendor, canteen_staff
):
    seller = vendor
    shop = await world.shop(seller)
    await log_in(client, seller)
    product_form = await client.get(f"/vendor/products/{shop.product.id}")
    profile = await client.get("/vendor/profile")
    certificates = await client.get("/vendor/certificates")
    orders = await client.get("/vendor/orders")
    await log_in(other_client, canteen_staff)
    canteen_home = await other_client.get("/canteen")
    catalogue = await other_client.get("/catalogue")
    cart = await other_client.get("/cart")

    # The phone offers camera, gallery or file: a BPJPH certificate received as a PDF on WhatsApp can be attached.
    for form in (product_form, profile, certificates):
        assert 'type="file"' in form.text and "capture=" not in form.text
    assert 'accept="image/*,application/pdf"' in certificates.text
    assert (features(product_form)["camera"], features(product_form)["geolocation"]) == ("(self)", "()")
    assert (features(certificates)["camera"], features(certificates)["geolocation"]) == ("(self)", "()")
    assert (features(profile)["camera"], features(profile)["geolocation"]) == ("(self)", "(self)")
    for page in (canteen_home, catalogue):
        assert "js/location.js" in page.text
        assert (features(page)["camera"], features(page)["geolocation"]) == ("()", "(self)")
    for page in (orders, cart):
        assert page.status_code == 200
        assert (features(page)["camera"], features(page)["geolocation"]) == ("()", "()")
    for page in (product_form, profile, catalogue):
        assert features(page)["microphone"] == "()" and features(page)["payment"] == "()"


INLINE_CODE = re.compile(
    r"<script(?![^>]*\ssrc=)[^>]*>"  # a script block without src
    r"|<style\b|\sstyle=|\shx-on[:-]|\son[a-z]+=|javascript:",
    re.IGNORECASE,
)


def test_no_template_has_inline_script_style_or_event_handlers():
    """The CSP refuses them: every behaviour lives in static/js, every style in static/css."""
    offending = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "web" / "templates").rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if INLINE_CODE.search(line)
    ]
    assert offending == []


def test_htmx_is_configured_to_run_under_the_csp():
    base = (ROOT / "web" / "templates" / "base.html").read_text()
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", base)
    assert config, "base.html configures htmx with a meta tag"
    assert json.loads(config.group(1)) == {
        "allowEval": False,
        "allowScriptTags": False,
        "includeIndicatorStyles": False,
    }
    css = (ROOT / "static" / "css" / "app.css").read_text()
    assert ".htmx-request .htmx-indicator" in css, "htmx's indicator styles, no longer injected, are in app.css"


# --- CSRF tokens bound to the session --------------------------------------------------------------------


async def test_a_token_and_cookie_from_another_browser_are_refused_with_this_persons_session(
    client, other_client, world, zone, worker, database
):
    """The double-submit cookie alone is not enough: the token must have been handed to this session."""
    stranger = await world.user(Role.WORKER, zone=zone, full_name="Orang Lain")
    await log_in(other_client, stranger)
    strangers_token = await csrf_token(other_client)
    strangers_cookie = other_client.cookies["pk_csrf"]
    await log_in(client, worker)

    # The stranger's token with the worker's own cookies, then with the stranger's CSRF cookie planted too.
    own_cookies = await client.post(
        "/settings/tokens", data={"name": "dicuri", "_csrf_token": strangers_token}, follow_redirects=False
    )
    client.cookies.set("pk_csrf", strangers_cookie, domain="testserver.local")
    planted_cookie = await client.post(
        "/settings/tokens", data={"name": "dicuri", "_csrf_token": strangers_token}, follow_redirects=False
    )

    for refused in (own_cookies, planted_cookie):
        assert refused.status_code == 403
        assert EXPIRED_FORM_MESSAGE in refused.text
    assert await api_tokens(database) == 0
    # The worker's own page token still works.
    accepted = await client.post("/settings/tokens", data={"name": "sendiri", "_csrf_token": await csrf_token(client)})
    assert accepted.status_code == 200 and await api_tokens(database) == 1


async def test_logging_in_makes_the_visitors_token_stale(client, worker, database):
    visitors_token = await csrf_token(client)
    await log_in(client, worker)

    stale = await client.post("/settings/tokens", data={"name": "lama", "_csrf_token": visitors_token})
    fresh_token = await csrf_token(client)
    fresh = await client.post("/settings/tokens", data={"name": "baru", "_csrf_token": fresh_token})

    assert stale.status_code == 403 and fresh.status_code == 200
    assert fresh_token != visitors_token
    assert await api_tokens(database) == 1


async def test_a_visitors_token_works_only_with_its_own_browser(client, other_client, worker):
    first_token = await csrf_token(client)
    await csrf_token(other_client)

    refused = await other_client.post(
        "/login", data={"phone": worker.phone, "password": "x", "_csrf_token": first_token}, follow_redirects=False
    )

    assert refused.status_code == 403
    assert "pk_session" not in other_client.cookies


# --- Origin and Sec-Fetch-Site ---------------------------------------------------------------------------

CROSS_SITE = [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": "https://shop.testserver.local"},
    {"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"},
]


@pytest.mark.parametrize("headers", CROSS_SITE, ids=lambda headers: ",".join(f"{k}={v}" for k, v in headers.items()))
async def test_a_form_sent_from_another_site_is_refused_and_changes_nothing(client, worker, database, headers):
    await log_in(client, worker)
    token = await csrf_token(client)

    refused = await client.post("/settings/tokens", data={"name": "dari luar", "_csrf_token": token}, headers=headers)
    refused_htmx = await client.post(
        "/settings/tokens", data={"name": "dari luar"}, headers={**headers, "HX-Request": "true", "X-CSRFToken": token}
    )

    for answer in (refused, refused_htmx):
        assert answer.status_code == 403
        assert CROSS_SITE_MESSAGE in answer.text and '<html lang="id">' in answer.text
        assert_secured(answer)
    assert await api_tokens(database) == 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "http://testserver.local", "Sec-Fetch-Site": "same-origin"},
        {"Origin": "https://testserver.local"},  # TLS ended by a proxy in front
        {"Sec-Fetch-Site": "none"},
    ],
    ids=["no-headers", "same-origin", "https-behind-proxy", "typed-in"],
)
async def test_a_form_from_our_own_pages_is_accepted(client, worker, database, headers):
    await log_in(client, worker)

    accepted = await client.post(
        "/settings/tokens", data={"name": "sendiri", "_csrf_token": await csrf_token(client)}, headers=headers
    )

    assert accepted.status_code == 200
    assert await api_tokens(database) == 1


async def test_with_a_public_base_url_only_that_origin_is_our_own(settings: Settings, app_for, database, world, zone):
    app = await app_for(settings.model_copy(update={"public_base_url": "https://pasarkawasan.example/"}))
    user = await world.user(Role.WORKER, zone=zone)
    async with browser(app) as client:
        await log_in(client, user)
        token = await csrf_token(client)
        host_origin = await client.post(
            "/settings/tokens",
            data={"name": "a", "_csrf_token": token},
            headers={"Origin": "http://testserver.local"},
        )
        public_origin = await client.post(
            "/settings/tokens",
            data={"name": "b", "_csrf_token": token},
            headers={"Origin": "https://pasarkawasan.example"},
        )
    assert host_origin.status_code == 403 and public_origin.status_code == 200
    assert await api_tokens(database) == 1


async def test_the_api_and_the_webhook_need_neither_a_token_nor_our_origin(client, worker, database):
    async with database.sessionmaker() as session:
        raw, _ = await create_api_token(session=session, user=worker, name="pengadaan")
        await session.commit()
    cross_site = {"Origin": "https://procurement.example", "Sec-Fetch-Site": "cross-site"}

    created = await client.post(
        "/api/v1/tokens", json={"name": "SAP"}, headers={"Authorization": f"Bearer {raw}", **cross_site}
    )
    body = b'{"id": "evt_1", "type": "payment_intent.succeeded"}'
    webhook_plain = await client.post("/api/v1/stripe/webhook", content=body)
    webhook_cross_site = await client.post("/api/v1/stripe/webhook", content=body, headers=cross_site)

    assert created.status_code == 201, created.text
    assert_secured(created)
    assert webhook_cross_site.status_code == webhook_plain.status_code != 403
    assert webhook_cross_site.json()["code"] == webhook_plain.json()["code"]
