"""The shell in a real phone-sized Chromium: logging in, roles, htmx with CSRF, the language switch, the PWA.

Each test that changes something uses a demo account no other test uses, so the tests do not depend on
each other's order (they share one server and one database).
"""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin

import pytest
from playwright.sync_api import expect

# The demo accounts (backend/demo.py, README.md), as a person reads them off the README.
ADMIN = "081100000001"
MANAGER = "081200000001"
CANTEEN_STAFF = "081300000001"
OTHER_CANTEEN_STAFF = "081300000002"  # only the language test uses it: it changes the account's language
WORKER = "081400000001"
VENDOR = "081500000001"
OTHER_VENDOR = "081500000002"  # only the token test uses it

PHONE_WIDTH = 360
ROLE_HOMES = [
    pytest.param(ADMIN, "/admin", id="admin"),
    pytest.param(MANAGER, "/manager", id="manager"),
    pytest.param(CANTEEN_STAFF, "/canteen", id="canteen"),
    pytest.param(WORKER, "/worker", id="worker"),
    pytest.param(VENDOR, "/vendor", id="vendor"),
]


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize(("phone", "home"), ROLE_HOMES)
def test_each_role_logs_in_with_a_typed_phone_number_and_lands_on_its_home(
    page, live_server, log_in, screenshot, phone, home
):
    page.goto("/login")
    expect(page.get_by_role("heading", name="Masuk")).to_be_visible()
    assert page_width(page) <= PHONE_WIDTH
    screenshot("login")

    log_in(page, phone)

    expect(page).to_have_url(live_server + home)
    expect(page.get_by_role("button", name="Keluar")).to_be_visible()
    expect(page.get_by_role("navigation", name="Menu utama").get_by_role("link", name="Akun")).to_be_visible()
    if home == "/admin":
        expect(page.get_by_role("heading", name="Administrasi")).to_be_visible()
    else:
        expect(page.get_by_text("Halo,", exact=False).first).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "id"
    assert page_width(page) <= PHONE_WIDTH, "the page scrolls sideways on a 360 px phone"
    screenshot("home")


def test_a_worker_opening_the_manager_page_sees_access_denied_in_indonesian(page, log_in, screenshot):
    log_in(page, WORKER)

    response = page.goto("/manager")

    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Akses ditolak")).to_be_visible()
    expect(page.get_by_text("Anda tidak diizinkan melakukan ini.")).to_be_visible()
    assert page_width(page) <= PHONE_WIDTH
    screenshot("forbidden")


def test_revoking_a_token_goes_through_htmx_with_the_csrf_header_without_reloading(page, log_in, screenshot):
    log_in(page, OTHER_VENDOR)
    page.goto("/settings")
    assert page.evaluate("htmx.version").startswith("2.0")

    page.get_by_label("Nama token").fill("Pengadaan SAP")
    with page.expect_navigation():
        page.get_by_role("button", name="Buat token").tap()
    expect(page.locator("#new-token")).to_have_text(re.compile(r"^pk_"))
    row = page.locator("li.token-row", has_text="Pengadaan SAP")
    expect(row).to_have_count(1)
    screenshot("created")

    page.evaluate("window.stillTheSamePage = true")
    with page.expect_response(lambda r: r.url.endswith("/revoke")) as revoked:
        row.get_by_role("button", name="Cabut").tap()

    request = revoked.value.request
    assert revoked.value.status == 200
    assert request.method == "POST"
    assert request.headers.get("hx-request") == "true"
    assert request.headers.get("x-csrftoken"), "htmx must send the CSRF header from the body's hx-headers"
    expect(row.get_by_text("Dicabut")).to_be_visible()
    expect(row.get_by_role("button", name="Cabut")).to_have_count(0)
    assert page.evaluate("window.stillTheSamePage") is True, "the page was reloaded instead of swapped"
    screenshot("revoked")

    page.reload()
    expect(page.locator("li.token-row", has_text="Pengadaan SAP").get_by_text("Dicabut")).to_be_visible()


def test_the_footer_switches_between_indonesian_and_english(page, log_in, screenshot):
    log_in(page, OTHER_CANTEEN_STAFF)
    expect(page.get_by_role("button", name="Keluar")).to_be_visible()

    with page.expect_navigation():
        page.get_by_role("button", name="English").tap()

    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Account")).to_be_visible()
    expect(page.get_by_text("Hello,", exact=False).first).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    screenshot("english")

    with page.expect_navigation():
        page.get_by_role("button", name="Bahasa Indonesia").tap()

    expect(page.get_by_role("button", name="Keluar")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "id"
    screenshot("indonesian")


def test_the_manifest_and_its_icons_load(page, live_server):
    page.goto("/login")
    manifest_url = urljoin(live_server, page.locator("link[rel=manifest]").get_attribute("href"))

    response = page.request.get(manifest_url)
    assert response.status == 200
    manifest = json.loads(response.text())
    assert manifest["start_url"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["icons"]

    for icon in manifest["icons"]:
        loaded = page.request.get(urljoin(manifest_url, icon["src"]))
        assert loaded.status == 200, icon["src"]
        assert loaded.headers["content-type"] == "image/png"
        size = page.evaluate(
            """src => new Promise((resolve, reject) => {
                const image = new Image();
                image.onload = () => resolve(`${image.naturalWidth}x${image.naturalHeight}`);
                image.onerror = () => reject(new Error("cannot decode " + src));
                image.src = src;
            })""",
            icon["src"],
        )
        assert size == icon["sizes"], icon["src"]


def test_with_the_service_worker_a_new_page_opened_offline_shows_the_offline_page(page, context, screenshot):
    page.goto("/")
    state = page.evaluate(
        """() => Promise.race([
            navigator.serviceWorker.ready.then(registration => registration.active.state),
            new Promise((_, reject) => setTimeout(() => reject(new Error("no service worker after 5 s")), 5000)),
        ])"""
    )
    assert state in ("activating", "activated")
    page.wait_for_function("navigator.serviceWorker.ready.then(r => r.active.state === 'activated')")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    # The stylesheet is cached on its way through the worker; wait for it so the offline page looks right.
    stylesheet = page.locator("link[rel=stylesheet]").get_attribute("href")
    page.wait_for_function("url => caches.match(url).then(hit => hit !== undefined)", arg=stylesheet)

    context.set_offline(True)
    try:
        page.goto("/signup")

        expect(page.get_by_role("heading", name="Anda sedang luring")).to_be_visible()
        assert (
            page.evaluate("getComputedStyle(document.querySelector('.topbar')).backgroundColor") == "rgb(11, 93, 59)"
        ), "the offline page should be styled from the cache"
        screenshot("offline")
    finally:
        context.set_offline(False)

    page.goto("/signup")
    expect(page.get_by_role("heading", name="Anda sedang luring")).to_have_count(0)


def test_a_manager_approves_the_waiting_listing_without_reloading(page, live_server, log_in, screenshot):
    log_in(page, MANAGER)
    page.goto(f"{live_server}/manager/queue")
    card = page.locator("article", has_text="Es Dawet Ayu Bandar")
    expect(card).to_be_visible()
    screenshot("queue")
    page.evaluate("window.stillTheSamePage = true")

    card.get_by_role("button", name="Setujui").click()

    # The approval says what buyers now see: who the vendor reaches.
    expect(page.get_by_text("Es Dawet Ayu Bandar 300 ml kini tayang untuk")).to_be_visible()
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    screenshot("approved")
