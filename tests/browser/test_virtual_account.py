"""A canteen pays by virtual account on a phone: the checkout sends them to the bank, the virtual account number,
the exact amount and until when it takes the transfer; they transfer from their bank (here: the stand-in for
Xendit, which then posts Xendit's callback to the server, and posts it twice more as Xendit does when it misses
the answer), and the page says the order is placed without being reloaded (htmx asks every few seconds). The
order is placed once, and the vendor is told of it once."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from datetime import date, datetime, timedelta

from playwright.sync_api import expect

from backend.clock import format_datetime_wib, utcnow, wib_today
from tests.browser.conftest import _save_screenshot

CANTEEN_STAFF = "081300000002"  # Agus Santoso, Kantin PT Garmen Nusantara Batang
NASI_BOX_BERKAH = "081500000002"
PRODUCT = "Nasi Box Rendang"  # Rp 18.000 a box, from 25 box; no other browser test orders it
QUANTITY = 25
AMOUNT = "Rp 450.000"
PHONE_WIDTH = 360
TEST = "test_a_canteen_pays_by_virtual_account_and_the_order_is_placed_once"


def a_weekday_three_days_on() -> date:
    day = wib_today(utcnow()) + timedelta(days=3)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return day


def phone(browser, live_server):
    return browser.new_context(
        base_url=live_server,
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
        locale="id-ID",
        timezone_id="Asia/Jakarta",
    )


def test_a_canteen_pays_by_virtual_account_and_the_order_is_placed_once(
    browser, live_server, live_server_process, log_in, browser_xendit
):
    day = a_weekday_three_days_on()
    canteen, vendor = phone(browser, live_server), phone(browser, live_server)
    try:
        page = canteen.new_page()
        log_in(page, CANTEEN_STAFF)
        page.goto("/catalogue?q=nasi+box+rendang")
        page.locator("#results").get_by_role("link", name=PRODUCT).first.tap()
        page.get_by_label("Jumlah (box)").fill(str(QUANTITY))
        page.get_by_role("button", name="Masukkan ke keranjang").tap()
        page.get_by_role("link", name="Lihat keranjang").tap()
        expect(page.locator("#checkout-total")).to_contain_text(AMOUNT)
        page.get_by_label("Tanggal kirim").fill(day.isoformat())
        page.get_by_label("Jam kirim").select_option(label="11.00 WIB")
        page.get_by_label("Virtual account", exact=True).check()
        page.get_by_role("button", name="Buat pesanan").tap()

        expect(page).to_have_url(re.compile(r"/checkouts/\d+/pay$"))
        expect(page.get_by_role("heading", name="Bayar dengan virtual account")).to_be_visible()
        waiting = page.locator("[data-payment=waiting]")
        expect(waiting).to_be_visible()
        (request,) = [pr for pr in browser_xendit.payment_requests.values() if pr["status"] == "PENDING"]
        account = request["payment_method"]["virtual_account"]
        assert request["amount"] == 450_000 and request["payment_method"]["type"] == "VIRTUAL_ACCOUNT"
        expect(waiting.locator("[data-va-bank]")).to_have_text("BNI")
        expect(waiting.locator("[data-va-number]")).to_have_text(
            account["channel_properties"]["virtual_account_number"]
        )
        expect(waiting).to_contain_text(AMOUNT)
        expires_at = datetime.fromisoformat(account["channel_properties"]["expires_at"].replace("Z", "+00:00"))
        expect(waiting.locator("dt", has_text="Bayar sebelum")).to_have_count(1)
        expect(waiting).to_contain_text(format_datetime_wib(expires_at, "id"))
        expect(page.get_by_role("img", name="QRIS")).to_have_count(0)  # an account number, no code to scan
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        _save_screenshot(page, TEST, "virtual-account")

        # The canteen transfers from its bank; Xendit tells the server, and tells it twice more (it missed the
        # answers): the first places the order, the others are known already.
        callback = browser_xendit.pay(request["id"])
        browser_xendit.redeliver(callback)
        browser_xendit.redeliver(callback)
        deliveries = browser_xendit.deliveries[-3:]
        assert [d.status for d in deliveries] == [200, 200, 200]
        assert [json.loads(d.body)["outcome"] for d in deliveries] == ["processed", "duplicate", "duplicate"]

        paid = page.locator("[data-payment=succeeded]")
        expect(paid).to_be_visible(timeout=15_000)
        expect(paid).to_contain_text("Pembayaran diterima")
        expect(page.locator("[data-va-number]")).to_have_count(0)
        placed = page.locator("main li", has_text="Nasi Box Berkah")
        expect(placed).to_have_count(1)
        expect(placed).to_contain_text("Dipesan")
        number = placed.get_by_role("link").inner_text()
        assert number.startswith("PK-")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        _save_screenshot(page, TEST, "paid")

        checkout_id = int(re.findall(r"/checkouts/(\d+)/pay", page.url)[0])
        path = live_server_process.environment["DATABASE_URL"].removeprefix("sqlite:///")
        with contextlib.closing(sqlite3.connect(path)) as db:
            orders = db.execute("SELECT status FROM vendor_order WHERE checkout_id = ?", (checkout_id,)).fetchall()
            payment = db.execute("SELECT status FROM payment WHERE checkout_id = ?", (checkout_id,)).fetchall()
        assert orders == [("placed",)] and payment == [("succeeded",)]

        board = vendor.new_page()
        log_in(board, NASI_BOX_BERKAH)
        board.goto("/inbox")
        told = board.locator("#inbox li", has_text=re.compile(rf"{number}\b"))
        expect(told).to_have_count(1)  # one notification of the order, however many callbacks came
        expect(told).to_contain_text("Pesanan")
        board.goto(f"/vendor/orders?day={day.isoformat()}")
        card = board.locator("article", has_text=number)
        expect(card).to_have_count(1)
        expect(card).to_contain_text("Dipesan")
        expect(card).to_contain_text(f"{QUANTITY}")
        assert board.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        _save_screenshot(board, TEST, "vendor-board")
    finally:
        canteen.close()
        vendor.close()
