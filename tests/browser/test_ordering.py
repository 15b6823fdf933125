"""A canteen orders 200 nasi box on a phone, and the vendor accepts it on the order board with one tap."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from backend.clock import utcnow, wib_today

CANTEEN_STAFF = "081300000001"
CATERING_BU_SRI = "081500000001"
PHONE_WIDTH = 360


def next_working_day_after_tomorrow():
    """Catering closes orders at 15.00 the day before and works Monday to Saturday."""
    day = wib_today(utcnow()) + timedelta(days=2)
    while day.isoweekday() == 7:
        day += timedelta(days=1)
    return day


def test_a_canteen_orders_200_box_and_the_vendor_accepts_it_on_the_board(browser, live_server, log_in):
    day = next_working_day_after_tomorrow()
    canteen = browser.new_context(
        base_url=live_server,
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
        locale="id-ID",
        timezone_id="Asia/Jakarta",
    )
    vendor = browser.new_context(
        base_url=live_server,
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
        locale="id-ID",
        timezone_id="Asia/Jakarta",
    )
    try:
        page = canteen.new_page()
        log_in(page, CANTEEN_STAFF)
        page.goto("/catalogue?q=nasi+box+ayam")
        page.locator("#results").get_by_role("link", name="Nasi Box Ayam Bakar").first.tap()
        page.get_by_label("Jumlah (box)").fill("200")
        page.get_by_role("button", name="Masukkan ke keranjang").tap()
        # htmx replaces the form with a confirmation; the page itself stays.
        page.get_by_role("link", name="Lihat keranjang").tap()
        expect(page.get_by_text("Rp 2.600.000").first).to_be_visible()  # 200 × Rp 13.000, the tier from 200
        page.get_by_label("Tanggal kirim").fill(day.isoformat())
        # A new quantity swaps the line and, out of band, the totals; what was typed in the checkout form stays.
        page.get_by_label("Jumlah (box)").fill("250")
        page.get_by_role("button", name="Ubah").tap()
        expect(page.locator("#cart-total")).to_contain_text("Rp 3.250.000")  # 250 × Rp 13.000
        expect(page.locator("#checkout-total")).to_contain_text("Rp 3.250.000")
        expect(page.get_by_label("Jumlah (box)")).to_have_value("250")
        expect(page.get_by_label("Tanggal kirim")).to_have_value(day.isoformat())
        page.get_by_label("Jam kirim").select_option(label="11.00 WIB")
        page.get_by_role("radio").first.check()
        _screenshot(page, "cart")
        page.get_by_role("button", name="Buat pesanan").tap()
        expect(page.get_by_text("Terima kasih! Pesanan Anda sudah dibuat:")).to_be_visible()
        expect(page).to_have_url(re.compile(r"/orders\?placed=\d+"))
        number = page.locator(".alert a").first.inner_text()
        assert number.startswith("PK-")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        _screenshot(page, "placed")

        board = vendor.new_page()
        log_in(board, CATERING_BU_SRI)
        board.goto(f"/vendor/orders?day={day.isoformat()}")
        expect(board.get_by_text("11.00 WIB").first).to_be_visible()
        card = board.locator("article", has_text=number)
        expect(card).to_contain_text("Dipesan")
        card.get_by_role("button", name="Terima").tap()
        # One tap: the card is swapped in place by htmx and says it was accepted.
        expect(board.locator("article", has_text=number)).to_contain_text("Diterima penjual")
        assert board.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        _screenshot(board, "accepted")

        page.goto(page.locator(".alert a").first.get_attribute("href") or "/orders")
        expect(page.locator("body")).to_contain_text("Diterima penjual")
    finally:
        canteen.close()
        vendor.close()


def _screenshot(page, step: str) -> None:
    from tests.browser.conftest import _save_screenshot

    _save_screenshot(page, "test_a_canteen_orders_200_box_and_the_vendor_accepts_it_on_the_board", step)
