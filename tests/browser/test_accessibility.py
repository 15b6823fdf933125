"""Every main page of each role, checked by axe-core in the real browser, and the app used with a keyboard only.

axe-core comes from the npm registry (tests/browser/package.json; `make test` installs it) and is injected into
each page. Besides axe's default WCAG A/AA rules, the AAA contrast rule (7:1) is on: these pages are read on a
phone at a factory gate or in a kitchen yard, in the sun. A page fails on any violation axe rates serious or
critical, with each rule, its help text and the elements it found; and unless its first Tab stop is the link
that skips the header to the main content.

Each role logs in once for the whole module (one phone-sized context per role); the pages are only read, except
the canteen's cart, which gets one line for the cart and checkout pages and loses it again at the end.

The keyboard tests press Tab, Enter and Space only, and check at every Tab stop that the focus ring shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from backend.demo import DEMO_PASSWORD
from tests.browser.conftest import ACTION_TIMEOUT_MS, PHONE, PlaywrightThread, as_typed

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
AXE_OPTIONS = {
    "rules": {"color-contrast-enhanced": {"enabled": True}},
    "resultTypes": ["violations"],
}
AXE_RUN = """options => axe.run(document, options).then(results => results.violations.map(violation => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    nodes: violation.nodes.map(node => {
        const why = (node.failureSummary || "").split("\\n").slice(1).join(" ");
        return `${node.target.join(" ")}  ${why}`;
    }),
})))"""
# Where the first press of Tab goes: the href of the first focusable element.
FIRST_TAB_STOP = """() => {
    const first = [...document.querySelectorAll("a[href], button, input, select, textarea, summary, [tabindex]")]
        .find(element => element.tabIndex >= 0 && !element.disabled && element.type !== "hidden");
    return first ? first.getAttribute("href") : null;
}"""

# The demo accounts (backend/demo.py). The first canteen's staff and the first vendor are the ones the ordering
# tests use; the cart line added here goes to the second staff member's cart (the same canteen).
VISITOR = None
CANTEEN_STAFF = "081300000002"
WORKER = "081400000001"
VENDOR = "081500000001"  # Catering Bu Sri: the demo's first vendor, product 1 is her Nasi Box Ayam Bakar
MANAGER = "081200000001"
ADMIN = "081100000001"

# (who, path): the demo data is loaded into a fresh database, so its first product, vendor, order, certificate
# and invoice have id 1.
PAGES = [
    pytest.param(VISITOR, "/", id="visitor-landing"),
    pytest.param(VISITOR, "/catalogue", id="visitor-catalogue"),
    pytest.param(VISITOR, "/catalogue?q=nasi+box&halal=1", id="visitor-search-results"),
    pytest.param(VISITOR, "/products/1", id="visitor-product"),
    pytest.param(VISITOR, "/vendors/1", id="visitor-vendor"),
    pytest.param(VISITOR, "/vendors/1/reviews", id="visitor-vendor-reviews"),
    pytest.param(VISITOR, "/login", id="visitor-login"),
    pytest.param(VISITOR, "/login/code", id="visitor-login-by-code"),
    pytest.param(VISITOR, "/login/code?phone=0812-3456-7890&sent=1", id="visitor-login-code-entry"),
    pytest.param(VISITOR, "/signup", id="visitor-signup"),
    pytest.param(VISITOR, "/signup?role=vendor", id="visitor-signup-vendor"),
    pytest.param(VISITOR, "/offline", id="visitor-offline"),
    pytest.param(CANTEEN_STAFF, "/canteen", id="canteen-home"),
    pytest.param(CANTEEN_STAFF, "/products/1", id="canteen-product-to-order"),
    pytest.param(CANTEEN_STAFF, "/cart", id="canteen-cart-and-checkout-form"),
    pytest.param(CANTEEN_STAFF, "/orders", id="canteen-orders"),
    pytest.param(CANTEEN_STAFF, "/orders/1", id="canteen-order"),
    pytest.param(CANTEEN_STAFF, "/canteen/standing-orders", id="canteen-standing-orders"),
    pytest.param(CANTEEN_STAFF, "/canteen/requests", id="canteen-requests"),
    pytest.param(CANTEEN_STAFF, "/canteen/invoices", id="canteen-invoices"),
    pytest.param(CANTEEN_STAFF, "/invoices/1", id="canteen-invoice"),
    pytest.param(CANTEEN_STAFF, "/canteen/reports", id="canteen-reports"),
    pytest.param(CANTEEN_STAFF, "/listings/1/report", id="canteen-report-a-listing"),
    pytest.param(CANTEEN_STAFF, "/inbox", id="canteen-inbox"),
    pytest.param(CANTEEN_STAFF, "/settings", id="canteen-settings"),
    pytest.param(WORKER, "/worker", id="worker-home"),
    pytest.param(WORKER, "/cart", id="worker-empty-cart"),
    pytest.param(VENDOR, "/vendor", id="vendor-home"),
    pytest.param(VENDOR, "/vendor/readiness", id="vendor-readiness"),
    pytest.param(VENDOR, "/vendor/products", id="vendor-products"),
    pytest.param(VENDOR, "/vendor/products/new", id="vendor-new-product-form"),
    pytest.param(VENDOR, "/vendor/products/1", id="vendor-product-form"),
    pytest.param(VENDOR, "/vendor/certificates", id="vendor-certificates"),
    pytest.param(VENDOR, "/vendor/certificates/1", id="vendor-certificate"),
    pytest.param(VENDOR, "/vendor/profile", id="vendor-profile"),
    pytest.param(VENDOR, "/vendor/orders", id="vendor-order-board"),
    pytest.param(VENDOR, "/vendor/orders/list", id="vendor-order-list"),
    pytest.param(VENDOR, "/vendor/orders/1", id="vendor-order"),
    pytest.param(VENDOR, "/vendor/orders/packing", id="vendor-packing-list"),
    pytest.param(VENDOR, "/vendor/reports", id="vendor-reports"),
    pytest.param(VENDOR, "/vendor/balance", id="vendor-balance"),
    pytest.param(VENDOR, "/vendor/requests", id="vendor-requests"),
    pytest.param(VENDOR, "/vendor/wanted", id="vendor-wanted"),
    pytest.param(MANAGER, "/manager", id="manager-home"),
    pytest.param(MANAGER, "/manager/queue", id="manager-review-queue"),
    pytest.param(MANAGER, "/manager/changes", id="manager-changes-to-listings-on-sale"),
    pytest.param(MANAGER, "/manager/reports", id="manager-reported-listings"),
    pytest.param(MANAGER, "/manager/certificates", id="manager-certificates-to-verify"),
    pytest.param(MANAGER, "/manager/vendors", id="manager-vendors"),
    pytest.param(MANAGER, "/manager/dashboard", id="manager-dashboard"),
    pytest.param(MANAGER, "/manager/funnel", id="manager-funnel"),
    pytest.param(MANAGER, "/manager/register/rows", id="manager-register-rows"),
    pytest.param(MANAGER, "/manager/canteens", id="manager-canteens"),
    pytest.param(MANAGER, "/manager/invoices", id="manager-invoices"),
    pytest.param(MANAGER, "/manager/delivery-points", id="manager-delivery-points"),
    pytest.param(MANAGER, "/manager/help-contacts", id="manager-help-contacts"),
    pytest.param(MANAGER, "/manager/register", id="manager-register-import"),
    pytest.param(MANAGER, "/manager/audit", id="manager-audit-log"),
    pytest.param(MANAGER, "/manager/requests", id="manager-requests"),
    pytest.param(MANAGER, "/manager/wanted", id="manager-wanted"),
    pytest.param(ADMIN, "/admin", id="admin-home"),
    pytest.param(ADMIN, "/admin/commission", id="admin-commission"),
    pytest.param(ADMIN, "/admin/balances", id="admin-balances"),
    pytest.param(ADMIN, "/admin/zones", id="admin-zones"),
    pytest.param(ADMIN, "/admin/zones/1", id="admin-zone"),
    pytest.param(ADMIN, "/admin/managers", id="admin-managers"),
    pytest.param(ADMIN, "/admin/users?phone=0815", id="admin-accounts"),
    pytest.param(ADMIN, "/admin/users/2", id="admin-account"),
    pytest.param(ADMIN, "/admin/settings", id="admin-settings"),
]


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE.exists():
        pytest.skip("axe-core is not installed: `npm ci --prefix tests/browser` (`make test` does it)")
    return AXE


def serious_violations(page: Any, axe_script: Path) -> list[dict[str, Any]]:
    """axe's violations of impact serious or critical on the page as it is now."""
    page.add_script_tag(path=str(axe_script))
    violations = page.evaluate(AXE_RUN, AXE_OPTIONS)
    return [violation for violation in violations if violation["impact"] in BLOCKING_IMPACTS]


def described(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(f"    {node}" for node in violation["nodes"])
    return "\n".join(lines)


def log_in_quickly(page: Any, phone: str) -> None:
    page.goto("/login")
    page.get_by_label("Nomor WhatsApp").fill(as_typed(phone))
    page.get_by_label("Kata sandi").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Masuk").click()


def put_a_nasi_box_in_the_cart(page: Any) -> None:
    page.goto("/products/1")
    page.get_by_role("button", name="Masukkan ke keranjang").click()
    expect(page.get_by_role("status")).to_contain_text("Ditambahkan")


def empty_the_cart(page: Any) -> None:
    page.goto("/cart")
    for _ in range(page.get_by_role("button", name=re.compile("^Hapus")).count()):
        page.get_by_role("button", name=re.compile("^Hapus")).first.click()
        page.wait_for_load_state()
    expect(page.get_by_text("Keranjang Anda kosong.")).to_be_visible()


@pytest.fixture(scope="module")
def page_of(
    browser: Any, live_server: str, playwright_thread: PlaywrightThread
) -> Iterator[Callable[[str | None], Any]]:
    """page_of(phone) is a page where that person is logged in (None: a visitor); each logs in once a module."""
    pages: dict[str | None, Any] = {}

    def page_of(phone: str | None) -> Any:
        if phone not in pages:
            # axe is injected as an inline script, which the pages' Content-Security-Policy refuses; the policy
            # itself is walked in test_content_security_policy.py.
            context = browser.new_context(base_url=live_server, bypass_csp=True, **PHONE)
            context.set_default_timeout(ACTION_TIMEOUT_MS)
            page = pages[phone] = context.new_page()
            if phone is not None:
                log_in_quickly(page, phone)
            if phone == CANTEEN_STAFF:
                put_a_nasi_box_in_the_cart(page)
        return pages[phone]

    yield page_of

    def close_all() -> None:
        for phone, page in pages.items():
            if phone == CANTEEN_STAFF:
                empty_the_cart(page)
            page.context.close()

    playwright_thread.run(close_all)


@pytest.mark.parametrize(("phone", "path"), PAGES)
def test_the_page_starts_with_a_skip_link_and_passes_axe_at_aaa_contrast(page_of, axe_script, phone, path):
    page = page_of(phone)

    response = page.goto(path)

    assert response is not None and response.status == 200, f"{path} answered {response and response.status}"
    assert page.evaluate(FIRST_TAB_STOP) == "#main", "the first Tab should reach a link that skips to the content"
    assert page.locator("main#main").count() == 1
    violations = serious_violations(page, axe_script)
    assert not violations, f"axe on {path}:\n{described(violations)}"


# --- with a keyboard only -----------------------------------------------------------------------------------

FOCUS_RING = """() => {
    const element = document.activeElement;
    const style = getComputedStyle(element);
    return {
        tag: element.tagName.toLowerCase(), text: (element.innerText || element.value || "").trim().slice(0, 40),
        outline: `${style.outlineStyle} ${style.outlineWidth}`,
    };
}"""
MOST_TAB_STOPS = 60


def tab_to(page: Any, target: Any) -> None:
    """Press Tab until `target` has the focus; at every stop on the way, the focus must be plain to see."""
    for _ in range(MOST_TAB_STOPS):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring["tag"] != "body":
            style, width = ring["outline"].split(" ", 1)
            assert style != "none" and float(width.removesuffix("px")) >= 2, (
                f"no visible focus on <{ring['tag']}> {ring['text']!r}: outline {ring['outline']}"
            )
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target} in {MOST_TAB_STOPS} presses")


def test_the_skip_link_is_the_first_tab_stop_and_jumps_past_the_header(page, screenshot):
    page.goto("/catalogue")

    page.keyboard.press("Tab")

    skip = page.get_by_role("link", name="Langsung ke isi")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    screenshot("skip-link")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)"), (
        "after the skip link, Tab should continue inside the main content, not in the header"
    )


def test_a_worker_with_only_a_keyboard_logs_in_searches_and_puts_keripik_in_the_cart(page, live_server, screenshot):
    page.goto("/login")
    tab_to(page, page.get_by_label("Nomor WhatsApp"))
    page.keyboard.type(as_typed(WORKER))
    tab_to(page, page.get_by_label("Kata sandi"))
    page.keyboard.type(DEMO_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server}/worker")

    tab_to(page, page.get_by_label("Cari produk lokal bersertifikat"))
    page.keyboard.type("keripik tempe")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/catalogue\?q=keripik\+tempe"))
    screenshot("results")

    tab_to(page, page.locator("#results").get_by_role("link", name="Keripik Tempe Original 250 g"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Keripik Tempe Original 250 g")).to_be_visible()

    tab_to(page, page.get_by_label("Jumlah (pak)"))
    page.keyboard.press("Control+A")
    page.keyboard.type("3")
    tab_to(page, page.get_by_role("button", name="Masukkan ke keranjang"))
    page.keyboard.press("Space")
    expect(page.get_by_role("status")).to_contain_text("Ditambahkan: 3 pak.")
    screenshot("added")

    tab_to(page, page.get_by_role("link", name="Lihat keranjang"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    line = page.locator("li.item", has_text="Keripik Tempe Original 250 g")
    expect(line).to_contain_text("3 pak")
    screenshot("cart")

    # The worker's cart is left as it was found, still by keyboard.
    tab_to(page, line.get_by_role("button", name=re.compile("^Hapus")))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Keranjang Anda kosong.")).to_be_visible()
