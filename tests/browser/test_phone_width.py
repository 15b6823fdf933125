"""Every page a person can reach fits a 360 px phone: no sideways scrolling, for each role.

Each demo person opens their home and follows the links they see there, then the links on those pages (the same
site, GET only, at most MAX_PAGES pages a person), and each page is measured as it is drawn. New pages are covered
by being linked, not by being listed here.

And the phone shell: each person walks their main places by tapping the bottom bar, and on each of them every
link and button a thumb uses is at least 44 × 44 px.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.test_shell import ADMIN, CANTEEN_STAFF, MANAGER, PHONE_WIDTH, VENDOR, WORKER

MAX_PAGES = 30
# Not pages: downloads, documents, photos, and what ends the session.
SKIPPED = ("/logout", "/media/", "/static/", "/schema", "/api/")
SKIPPED_ENDINGS = (".csv", "/document", ".pdf")


# The innermost elements that reach past the screen's right edge, named so a failure says what to mend.
WIDEST = """width => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 1 && ![...e.children].some(
        c => c.getBoundingClientRect().right > width + 1))
    .slice(0, 3)
    .map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '')
        + ' ' + (e.textContent || '').trim().slice(0, 30))"""


def _links(page, live_server: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if (
            href.startswith(live_server)
            and not parts.path.startswith(SKIPPED)
            and not parts.path.endswith(SKIPPED_ENDINGS)
        ):
            paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return paths


@pytest.mark.parametrize(
    ("phone", "home"),
    [
        pytest.param(ADMIN, "/admin", id="admin"),
        pytest.param(MANAGER, "/manager", id="manager"),
        pytest.param(CANTEEN_STAFF, "/canteen", id="canteen"),
        pytest.param(WORKER, "/worker", id="worker"),
        pytest.param(VENDOR, "/vendor", id="vendor"),
    ],
)
def test_every_page_a_person_reaches_fits_a_360_px_phone(page, live_server, log_in, phone, home):
    log_in(page, phone)
    to_visit: list[str] = [home]
    seen: set[str] = set()
    too_wide: list[tuple[str, int, list[str]]] = []
    while to_visit and len(seen) < MAX_PAGES:
        path = to_visit.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(path)
        if response is None or response.status >= 400 or "text/html" not in response.headers.get("content-type", ""):
            continue
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE_WIDTH:
            too_wide.append((path, width, page.evaluate(WIDEST, PHONE_WIDTH)))
        if path == home or path.count("/") <= 2:
            to_visit += [link for link in _links(page, live_server) if link not in seen]
    assert len(seen) >= 5, seen  # the crawl really walked the site
    assert too_wide == [], f"pages that scroll sideways on a 360 px phone: {too_wide}"


TAP_TARGET_PX = 44
# Links and buttons smaller than a thumb, named so a failure says what to mend. Not counted: a link inside a
# sentence (inline, with other words around it: WCAG 2.5.8's exception), and what is not drawn. A link whose
# ::after is stretched over its card (a product in the catalogue) is as large as the card.
TOO_SMALL_TO_TAP = """size => {
    const small = [];
    const positioned = element => {
        let parent = element.parentElement;
        while (parent && getComputedStyle(parent).position === 'static') parent = parent.parentElement;
        return parent || element;
    };
    const words = element => (element.textContent || '').replace(/\\s+/g, ' ').trim();
    for (const element of document.querySelectorAll('a[href], button, summary, input[type=submit]')) {
        const style = getComputedStyle(element);
        let box = element.getBoundingClientRect();
        if (style.visibility === 'hidden' || (box.width === 0 && box.height === 0)) continue;
        if (box.right <= 0 || box.left >= window.innerWidth) continue;  // the skip link, until it has focus
        if (style.display === 'inline' && words(element.parentElement) !== words(element)) continue;
        const after = getComputedStyle(element, '::after');
        if (after.position === 'absolute' && after.content !== 'none') box = positioned(element).getBoundingClientRect();
        if (box.width < size - 0.5 || box.height < size - 0.5) {
            small.push(`${element.tagName.toLowerCase()} "${words(element).slice(0, 30)}" `
                + `${Math.round(box.width)}x${Math.round(box.height)}`);
        }
    }
    return small;
}"""

# Each role's bottom bar, as a person reads it.
MAIN_PLACES = [
    pytest.param(VENDOR, ["Beranda", "Pesanan", "Produk", "Saldo", "Akun"], id="vendor"),
    pytest.param(CANTEEN_STAFF, ["Katalog", "Keranjang", "Pesanan", "Rutin", "Akun"], id="canteen"),
    pytest.param(WORKER, ["Katalog", "Keranjang", "Pesanan", "Akun"], id="worker"),
    pytest.param(MANAGER, ["Antrean", "Vendor", "Laporan", "Akun"], id="manager"),
    pytest.param(ADMIN, ["Beranda", "Kawasan", "Pengguna", "Saldo", "Akun"], id="admin"),
]


@pytest.mark.parametrize(("phone", "places"), MAIN_PLACES)
def test_each_role_walks_its_main_places_through_the_bottom_bar_with_thumb_sized_targets(
    page, log_in, screenshot, phone, places
):
    log_in(page, phone)
    bar = page.get_by_role("navigation", name="Menu utama")
    problems: dict[str, list[str]] = {}
    header_height = page.evaluate("document.querySelector('.topbar').getBoundingClientRect().height")
    assert header_height <= 56, f"the header should be one row on a phone, it is {header_height} px high"
    problems["home"] = page.evaluate(TOO_SMALL_TO_TAP, TAP_TARGET_PX)

    assert bar.locator("a > span:not(.tab-badge)").all_inner_texts() == places
    for label in places:
        with page.expect_navigation():
            bar.get_by_role("link", name=label).tap()
        expect(bar.get_by_role("link", name=label)).to_have_attribute("aria-current", "page")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_WIDTH, f"{label} ({page.url}) scrolls sideways: {page.evaluate(WIDEST, PHONE_WIDTH)}"
        problems[label] = page.evaluate(TOO_SMALL_TO_TAP, TAP_TARGET_PX)
        screenshot(label)

    assert {place: small for place, small in problems.items() if small} == {}, "tap targets under 44 px"
