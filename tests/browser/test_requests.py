"""Issue 20's first story on phones, in Chromium: a canteen posts what it needs, two caterers answer, the canteen
accepts one, and the standing order it became places and holds its first day."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import date, timedelta
from typing import Any

from playwright.sync_api import expect

from backend.clock import utcnow, wib_today
from tests.app_process import run_command

CANTEEN_STAFF = "081300000001"
CATERING_BU_SRI = "081500000001"
NASI_BOX_BERKAH = "081500000002"
PHONE_WIDTH = 360
QUANTITY = 100


def first_weekday_two_days_on() -> date:
    """A Monday-to-Friday day at least two days ahead: orders for it are still open today."""
    day = wib_today(utcnow()) + timedelta(days=2)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return day


def phone(browser: Any, live_server: str) -> Any:
    return browser.new_context(
        base_url=live_server,
        viewport={"width": PHONE_WIDTH, "height": 740},
        is_mobile=True,
        has_touch=True,
        locale="id-ID",
        timezone_id="Asia/Jakarta",
    )


def test_a_canteen_posts_a_request_two_caterers_offer_and_the_accepted_one_is_placed_and_held(
    browser, live_server, live_server_process, log_in
):
    start = first_weekday_two_days_on()
    title = f"Nasi box sarapan {start:%d%m}"
    contexts = [phone(browser, live_server) for _ in range(3)]
    try:
        canteen = contexts[0].new_page()
        log_in(canteen, CANTEEN_STAFF)
        canteen.goto("/canteen/requests")
        canteen.get_by_label("Apa yang Anda butuhkan?").fill(title)
        canteen.get_by_label("Jumlah per hari").fill(str(QUANTITY))
        canteen.get_by_label("Jam kirim").select_option(label="06.00")
        canteen.get_by_label("Harga yang diharapkan per satuan (Rp, boleh kosong)").fill("16.000")
        canteen.get_by_label("Halal").check()
        canteen.get_by_label("Hari pengiriman pertama").fill(start.isoformat())
        with canteen.expect_navigation():
            canteen.get_by_role("button", name="Kirim permintaan").tap()
        expect(canteen.get_by_text("Permintaan terkirim.")).to_be_visible()
        request_url = canteen.url.split("?")[0]
        assert canteen.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH

        for context, vendor_phone, product in (
            (contexts[1], CATERING_BU_SRI, "Nasi Box Ayam Bakar"),
            (contexts[2], NASI_BOX_BERKAH, "Nasi Box Rendang"),
        ):
            vendor = context.new_page()
            log_in(vendor, vendor_phone)
            vendor.goto("/vendor/requests")
            with vendor.expect_navigation():
                vendor.get_by_role("link", name=title).tap()
            vendor.get_by_label(product).check()
            with vendor.expect_navigation():
                vendor.get_by_role("button", name="Kirim penawaran").tap()
            expect(vendor.get_by_text("Penawaran terkirim. Kantin sudah diberi tahu.")).to_be_visible()
            assert vendor.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH

        canteen.goto(request_url)
        offers = canteen.locator("article")
        expect(offers).to_have_count(2)
        berkah = canteen.locator("article", has_text="Nasi Box Berkah")
        expect(berkah).to_contain_text("Rp 17.000")  # the tier from 100 box
        with canteen.expect_navigation():
            berkah.get_by_role("button", name="Terima penawaran ini").tap()
        expect(canteen.get_by_role("status")).to_contain_text("Penawaran diterima: kini menjadi pesanan rutin")
        expect(canteen.get_by_role("button", name="Terima penawaran ini")).to_have_count(0)

        # The standing-order job places the first day through the usual placement, capacity held.
        run_command(["backend", "run-order-jobs"], live_server_process.environment)
        path = live_server_process.environment["DATABASE_URL"].removeprefix("sqlite:///")
        with contextlib.closing(sqlite3.connect(path)) as db:
            placed = db.execute(
                "SELECT o.delivery_day, o.held_capacity FROM vendor_order o JOIN vendor v ON v.id = o.vendor_id "
                "WHERE o.standing_order_id IS NOT NULL AND v.business_name = 'Nasi Box Berkah' "
                "ORDER BY o.delivery_day"
            ).fetchall()
            held = db.execute(
                "SELECT c.held FROM capacity_day c JOIN vendor v ON v.id = c.vendor_id "
                "WHERE v.business_name = 'Nasi Box Berkah' AND c.day = ?",
                (start.isoformat(),),
            ).fetchone()
        assert placed[0] == (start.isoformat(), QUANTITY)
        assert held is not None and held[0] >= QUANTITY
    finally:
        for context in contexts:
            context.close()
