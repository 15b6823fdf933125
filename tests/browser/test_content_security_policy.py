"""The main pages work under the Content-Security-Policy: a buyer logs in, searches, adds to the cart, checks out
by card and is sent on to Stripe's page; a vendor drafts a product and uploads its photo through htmx; a market
manager reads the review queue and the certificates. Any CSP violation, any htmx error and any script error on
the way fails the test, and so does a page that arrives without the policy.

The demo data is shared with the other browser tests, so nothing here changes what they rely on: the buyer's
order is for the last day that can be chosen, and the vendor's product stays a draft."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import ACTION_TIMEOUT_MS, PHONE

WORKER = "081400000001"
VENDOR = "081500000006"  # Wulan Sari: no other browser test acts as her
MANAGER = "081200000001"

# Reported to the test through a binding, so a problem on a page that has since been left is not lost.
WATCH_FOR_PROBLEMS = """
(() => {
  const report = (text) => window.__reportProblem && window.__reportProblem(text);
  document.addEventListener("securitypolicyviolation", (event) => report(
    `CSP ${event.violatedDirective} refused ${event.blockedURI || "inline code"} in ${event.sourceFile}:${event.lineNumber}`
  ), true);
  for (const name of ["htmx:evalDisallowedError", "htmx:onLoadError", "htmx:swapError", "htmx:targetError",
                      "htmx:sendError", "htmx:responseError", "htmx:syntax:error"]) {
    document.addEventListener(name, (event) => report(`${name} on ${event.target && event.target.outerHTML
      ? event.target.outerHTML.slice(0, 120) : event.target}`), true);
  }
})();
"""
CONSOLE_PROBLEM = re.compile(r"Content Security Policy|Refused to|Permissions-Policy|htmx", re.IGNORECASE)


class Watched:
    """A phone whose pages report CSP violations, htmx errors, script errors and console complaints."""

    def __init__(self, browser: Any, live_server: str) -> None:
        self.problems: list[str] = []
        self.live_server = live_server
        self.context = browser.new_context(base_url=live_server, **PHONE)
        self.context.set_default_timeout(ACTION_TIMEOUT_MS)
        self.context.expose_binding(
            "__reportProblem", lambda source, text: self.problems.append(f"{page_url(source)}: {text}")
        )
        self.context.add_init_script(WATCH_FOR_PROBLEMS)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.problems.append(f"{self.page.url}: script error {error}"))
        self.page.on("console", self._console)
        self.page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning") and CONSOLE_PROBLEM.search(message.text):
            self.problems.append(f"{self.page.url}: console {message.type}: {message.text}")

    def _response(self, response: Any) -> None:
        # Every page the phone navigates to carries the policy (the fake Stripe's hosted page is not ours).
        if response.request.is_navigation_request() and response.url.startswith(self.live_server):
            policy = response.headers.get("content-security-policy", "")
            if "script-src 'self'" not in policy or "frame-ancestors 'none'" not in policy:
                self.problems.append(f"{response.url}: answered without our Content-Security-Policy ({policy!r})")

    def log_in(self, phone: str, log_in: Callable[..., None]) -> None:
        log_in(self.page, phone)

    def allows(self, feature: str) -> bool:
        return bool(self.page.evaluate(f"document.featurePolicy.allowsFeature('{feature}')"))

    def close(self) -> None:
        self.context.close()


def page_url(source: Any) -> str:
    frame = source.get("frame") if isinstance(source, dict) else None
    return frame.url if frame is not None else "?"


def phone_photo(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 900), (200, 150, 60)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def a_weekday_on_or_before(last: date) -> date:
    day = last
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def test_the_main_pages_work_under_the_content_security_policy(browser, live_server, log_in, tmp_path):
    buyer = Watched(browser, live_server)
    vendor = Watched(browser, live_server)
    manager = Watched(browser, live_server)
    try:
        # A buyer: login page, catalogue search (htmx), a product, the cart (htmx), checkout by card, to Stripe.
        page = buyer.page
        page.goto("/login")
        assert not buyer.allows("camera") and not buyer.allows("geolocation")
        buyer.log_in(WORKER, log_in)
        page.goto("/catalogue")
        assert buyer.allows("geolocation") and not buyer.allows("camera")  # "near me"
        with page.expect_response(re.compile(r"/catalogue\?.*q=nasi")):
            page.get_by_role("searchbox").first.fill("nasi")
        page.locator("#results").get_by_role("link").first.wait_for()
        page.goto("/products/1")
        page.get_by_role("button", name="Masukkan ke keranjang").tap()
        page.get_by_role("link", name="Lihat keranjang").tap()
        expect(page).to_have_url(re.compile(r"/cart$"))
        assert not buyer.allows("geolocation") and not buyer.allows("camera")
        last_day = date.fromisoformat(page.get_by_label("Tanggal kirim").get_attribute("max") or "")
        # A new day brings the times offered that day (htmx swaps the list): choose once it has come.
        with page.expect_response(re.compile(r"/cart/slots")):
            page.get_by_label("Tanggal kirim").fill(a_weekday_on_or_before(last_day).isoformat())
        expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
        page.get_by_label("Jam kirim").select_option(index=1)
        page.locator("select[name=delivery_place]").select_option(index=1)
        page.locator("[name=payment_method][value=card]").check()
        page.get_by_role("button", name="Buat pesanan").tap()
        expect(page).to_have_url(re.compile(r"/checkouts/\d+/pay$"))
        # The pay form's answer is a redirect to Stripe's page: form-action lets it through.
        with page.expect_navigation(url=re.compile(r"/c/pay/")):
            page.get_by_role("button", name=re.compile("dengan kartu")).tap()

        # A vendor: the profile (camera and location), a new draft product and its photo through htmx.
        page = vendor.page
        vendor.log_in(VENDOR, log_in)
        page.goto("/vendor/profile")
        assert vendor.allows("camera") and vendor.allows("geolocation")
        page.goto("/vendor/products/new")
        page.fill("[name=name]", "Keripik Uji Kebijakan")
        page.select_option("[name=category]", index=1)
        page.select_option("[name=unit]", index=1)
        page.fill("[name=price]", "10.000")
        page.fill("[name=min_order_qty]", "1")
        page.locator("[name=fulfilment]").first.check()
        page.get_by_role("button", name="Simpan sebagai draf").click()
        expect(page.get_by_text("Produk disimpan sebagai draf").first).to_be_visible()
        assert vendor.allows("camera") and not vendor.allows("geolocation")
        page.set_input_files("[name=photo]", str(phone_photo(tmp_path / "keripik.jpg")))
        page.get_by_role("button", name="Unggah foto").click()
        expect(page.locator("#photos img[src^='/media/products/']")).to_have_count(1)
        page.locator("#photos").get_by_role("button", name="Hapus").click()  # hx-confirm only for a listing on sale
        expect(page.locator("#photos img[src^='/media/products/']")).to_have_count(0)

        # A market manager: the review queue and the certificates (htmx forms), the delivery points (location).
        page = manager.page
        manager.log_in(MANAGER, log_in)
        for path in ("/manager/queue", "/manager/certificates", "/manager/dashboard"):
            page.goto(path)
            assert not manager.allows("geolocation") and not manager.allows("camera")
        page.goto("/manager/delivery-points")
        assert manager.allows("geolocation") and not manager.allows("camera")

        problems = buyer.problems + vendor.problems + manager.problems
        assert problems == [], "\n".join(problems)
    finally:
        for phone in (buyer, vendor, manager):
            phone.close()
