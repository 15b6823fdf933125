"""A worker pays a snack by QRIS on a phone: the checkout sends them to the QRIS code for the exact amount, they
pay it from their banking app (here: the stand-in for Xendit, which then posts Xendit's callback to the server),
and the page says the order is placed without being reloaded (htmx asks every few seconds)."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from backend.clock import utcnow, wib_today
from tests.browser.conftest import _save_screenshot

WORKER = "081400000001"
PHONE_WIDTH = 360


def test_a_worker_pays_by_qris_and_the_page_sees_the_order_placed(browser, live_server, log_in, browser_xendit):
    day = wib_today(utcnow()) + timedelta(days=3)
    context = browser.new_context(
        base_url=live_server,
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
        locale="id-ID",
        timezone_id="Asia/Jakarta",
    )
    try:
        page = context.new_page()
        log_in(page, WORKER)
        page.goto("/catalogue?q=keripik+tempe+pedas")
        page.locator("#results").get_by_role("link", name="Keripik Tempe Pedas 250 g").first.tap()
        page.get_by_role("button", name="Masukkan ke keranjang").tap()
        page.get_by_role("link", name="Lihat keranjang").tap()
        page.get_by_label("Tanggal kirim").fill(day.isoformat())
        page.get_by_label("Jam kirim").select_option(label="11.00 WIB")
        page.get_by_label("Tempat pengiriman").select_option(label="Diambil sendiri di penjual")
        page.get_by_label("QRIS").check()
        page.get_by_role("button", name="Buat pesanan").tap()

        expect(page).to_have_url(re.compile(r"/checkouts/\d+/pay$"))
        code = page.get_by_role("img", name="QRIS")
        expect(code).to_be_visible()
        expect(page.locator("[data-payment=waiting]")).to_contain_text("Rp 13.000")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        _save_screenshot(page, "test_a_worker_pays_by_qris_and_the_page_sees_the_order_placed", "qris")

        (request,) = [pr for pr in browser_xendit.payment_requests.values() if pr["status"] == "PENDING"]
        assert request["amount"] == 13000
        browser_xendit.pay(request["id"])  # the worker's banking app pays; Xendit tells the server
        assert browser_xendit.deliveries[-1].status == 200

        expect(page.locator("[data-payment=succeeded]")).to_be_visible(timeout=15_000)
        expect(code).to_have_count(0)
        _save_screenshot(page, "test_a_worker_pays_by_qris_and_the_page_sees_the_order_placed", "paid")
    finally:
        context.close()
