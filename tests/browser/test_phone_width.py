"""Every page a person can reach fits a 360 px phone: no sideways scrolling, for each role.

Each demo person opens their home and follows the links they see there, then the links on those pages (the same
site, GET only, at most MAX_PAGES pages a person), and each page is measured as it is drawn. New pages are covered
by being linked, not by being listed here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

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
