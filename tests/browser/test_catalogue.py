"""A canteen's purchaser finds certified food near the factory on a phone, online and then offline."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from backend.clock import utcnow, wib_today

CANTEEN_STAFF = "081300000001"
PHONE_WIDTH = 360


def test_a_canteen_searches_while_typing_filters_halal_and_opens_a_vendor(page, live_server, log_in, screenshot):
    log_in(page, CANTEEN_STAFF)
    page.get_by_role("link", name="Katalog").tap()
    expect(page.get_by_role("heading", name="Produk lokal bersertifikat")).to_be_visible()
    # Catering closes orders at 15:00 the day before: plan two days ahead, whatever the hour of the test, on a
    # weekday (the demo's caterers do not cook on Sundays).
    day = wib_today(utcnow()) + timedelta(days=2)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    page.get_by_text("Filter dan urutan").tap()
    page.get_by_label("Tersedia untuk").fill(day.isoformat())
    expect(page).to_have_url(re.compile(r"date=\d{4}-"))
    expect(page.locator("#results")).to_contain_text("sisa")
    results = page.locator("#results")
    expect(results.get_by_role("link", name="Nasi Box Ayam Bakar")).to_be_visible()
    screenshot("catalogue")

    page.get_by_role("searchbox").press_sequentially("kerip", delay=60)
    # htmx swaps the results in place: the search box keeps its focus and what was typed.
    expect(results.get_by_role("link", name="Keripik Tempe Pedas 250 g")).to_be_visible()
    expect(results.get_by_role("link", name="Nasi Box Ayam Bakar")).to_have_count(0)
    expect(page.get_by_role("searchbox")).to_be_focused()
    expect(page).to_have_url(re.compile(r"q=kerip"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    screenshot("typed")

    page.get_by_role("searchbox").fill("nasi box")
    page.get_by_label("Hanya yang halal").check()
    expect(results.get_by_role("link", name="Nasi Box Rendang")).to_be_visible()
    for name in results.get_by_role("listitem").all_inner_texts():
        assert "Halal" in name
    screenshot("halal")

    results.get_by_role("link", name=re.compile("^Catering")).first.tap()
    expect(page.get_by_role("heading", name="Sertifikat terverifikasi")).to_be_visible()
    whatsapp = page.get_by_role("link", name="Chat lewat WhatsApp").get_attribute("href")
    assert whatsapp.startswith("https://wa.me/62") and "Pasar%20Kawasan" in whatsapp
    screenshot("vendor")


def test_the_catalogue_works_without_javascript(browser, live_server, playwright_thread):
    # The test itself runs on the Playwright thread (see conftest), so it drives the browser directly.
    context = browser.new_context(
        base_url=live_server, java_script_enabled=False, viewport={"width": 360, "height": 740}, locale="id-ID"
    )
    try:
        page = context.new_page()
        page.goto("/catalogue")
        page.get_by_role("searchbox").fill("jamu")
        page.get_by_role("button", name="Cari", exact=True).click()
        expect(page).to_have_url(re.compile(r"/catalogue\?.*q=jamu"))
        expect(page.locator("#results").get_by_role("link", name="Jamu Beras Kencur 250 ml")).to_be_visible()
        expect(page.get_by_role("button", name="Di dekat saya")).to_be_hidden()  # needs JavaScript
    finally:
        context.close()


def test_offline_the_last_catalogue_pages_are_readable_and_marked_as_saved(page, context, screenshot):
    page.goto("/catalogue")
    page.wait_for_function("navigator.serviceWorker.ready.then(r => r.active.state === 'activated')")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.goto("/catalogue?q=nasi")
    expect(page.locator("[data-saved-copy-note]")).to_be_hidden()
    # The worker saves the page after answering; wait until it is in the saved pages.
    page.wait_for_function("""() => caches.keys()
        .then(keys => Promise.all(keys.filter(key => key.startsWith("pk-pages-"))
            .map(key => caches.open(key).then(cache => cache.match("/catalogue?q=nasi")))))
        .then(hits => hits.some(Boolean))""")

    context.set_offline(True)
    try:
        page.goto("/catalogue?q=nasi")
        expect(page.locator("#results").get_by_role("link", name="Nasi Box Ayam Bakar")).to_be_visible()
        expect(page.locator("[data-saved-copy-note]")).to_be_visible()
        expect(page.locator("[data-saved-copy-note]")).to_contain_text("salinan tersimpan")
        screenshot("offline-catalogue")
        page.goto("/products/1?never=visited")
        expect(page.get_by_role("heading", name="Anda sedang luring")).to_be_visible()
    finally:
        context.set_offline(False)


def test_only_a_search_sent_with_enter_is_marked_as_submitted_not_the_words_typed(page, live_server, log_in):
    """The "dicari" list counts the search the buyer settled on: the answers while typing go without "cari";
    Enter sends it (the browser's implicit submission clicks the search button, which htmx then includes)."""
    log_in(page, CANTEEN_STAFF)
    page.goto("/catalogue")
    searches: list[str] = []
    page.on("request", lambda request: searches.append(request.url) if "/catalogue?" in request.url else None)
    page.get_by_role("searchbox").press_sequentially("rendang", delay=60)
    expect(page).to_have_url(re.compile(r"q=rendang"))
    assert searches and not any("cari=" in url for url in searches), searches
    with page.expect_request(lambda request: "/catalogue?" in request.url and "cari=1" in request.url):
        page.get_by_role("searchbox").press("Enter")
