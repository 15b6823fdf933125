"""In the demo (`make run`: development, no Xendit key), a worker on a 360 px phone pays a snack by QRIS: the page,
labelled "Demo", has a button that makes the local stand-in for Xendit pay and post its callback, and the page
(polling) then says the order is placed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from backend.clock import utcnow, wib_today
from backend.demo import WORKER
from tests.browser.conftest import PlaywrightThread, _save_screenshot, phones_on
from tests.browser.test_new_canteen import log_in, no_sideways_scroll
from tests.conftest import DemoServer

TEST = "test_a_worker_pays_by_qris_in_the_demo_with_its_button"


@pytest.fixture
def phones(
    browser: Any, demo_server: DemoServer, playwright_thread: PlaywrightThread, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Page]]:
    yield from phones_on(browser, demo_server.url, playwright_thread, request)


def test_a_worker_pays_by_qris_in_the_demo_with_its_button(phones, demo_server: DemoServer):
    assert "Demo QRIS and virtual accounts: a local stand-in for Xendit" in demo_server.server.log()
    page = phones()
    log_in(page, WORKER.phone)
    page.goto("/catalogue?q=keripik+tempe+original")
    page.locator("#results").get_by_role("link", name="Keripik Tempe Original 250 g").first.tap()
    page.get_by_role("button", name="Masukkan ke keranjang").tap()
    page.get_by_role("link", name="Lihat keranjang").tap()
    page.get_by_label("Tanggal kirim").fill((wib_today(utcnow()) + timedelta(days=3)).isoformat())
    page.get_by_label("Jam kirim").select_option(label="11.00 WIB")
    page.get_by_label("Tempat pengiriman").select_option(label="Diambil sendiri di penjual")
    page.get_by_label("QRIS").check()
    page.get_by_role("button", name="Buat pesanan").tap()

    expect(page).to_have_url(re.compile(r"/checkouts/\d+/pay$"))
    expect(page.get_by_role("img", name="QRIS")).to_be_visible()
    demo = page.locator("[data-demo-payment]")
    expect(demo).to_contain_text("Demo")
    no_sideways_scroll(page)
    _save_screenshot(page, TEST, "qris-demo")

    demo.get_by_role("button", name="Bayar sekarang (demo)").tap()
    expect(page.locator("[data-payment=succeeded]")).to_be_visible(timeout=15_000)
    expect(page.locator("#paying-for li")).to_contain_text("Dipesan")
    expect(page.locator("[data-demo-payment]")).to_have_count(0)
    no_sideways_scroll(page)
    _save_screenshot(page, TEST, "paid")
