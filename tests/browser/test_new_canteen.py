"""Issue 17's "done when", on a 360 px phone in Indonesian, against the server `make run` starts: a canteen that
has just signed up pays its first order by card on the demo's stand-in for Stripe and its second by bank transfer
(confirmed by the zone's manager), applies for invoice terms, is granted them and orders on invoice, then reports
a short delivery with a photo; the vendor agrees, and the agreed difference is refunded to the card, seen on both
sides and in the ledger.

The server here is `python -m backend serve` in development without any Stripe key, as `make run` runs it: it
starts the stand-in for Stripe itself (its hosted payment page included) and shows the demo bank account. Every
buyer page the canteen visits is checked for horizontal scrolling at 360 px.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time as clock
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from backend.clock import utcnow, wib_today
from backend.config import DEMO_PLATFORM_BANK
from backend.demo import ADMIN, DEMO_PASSWORD, MANAGER
from backend.phone import normalize_phone
from tests.app_process import ServerProcess
from tests.browser.conftest import PlaywrightThread, _save_screenshot, as_typed, phones_on
from tests.browser.test_journey import small_photo
from tests.conftest import DemoServer

VENDOR_PHONE = "081500000001"  # Catering Bu Sri, a demo vendor delivering to the zone
NASI_AYAM = "Nasi Box Ayam Bakar"  # Rp 15.000, Rp 14.000 from 50 box
NASI_BANDENG = "Nasi Box Ikan Bandeng Presto"  # Rp 14.000
CANTEEN = "Kantin PT Sinar Batang"
BUYER = ("Wulan Sari", "085712340017", "kantin-sinar-2026")


@pytest.fixture
def phones(
    browser: Any, demo_server: DemoServer, playwright_thread: PlaywrightThread, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Page]]:
    """phone() hands a person a phone of their own on `make run`'s server (JavaScript on)."""
    yield from phones_on(browser, demo_server.url, playwright_thread, request)


def no_sideways_scroll(page: Page) -> None:
    """The page fits the phone's width: nothing to scroll sideways."""
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    if widths[0] > widths[1]:
        too_wide = page.evaluate(WIDER_THAN_THE_SCREEN)
        pytest.fail(f"{page.url} scrolls sideways at 360 px ({widths[0]} > {widths[1]}): {too_wide}")


# The innermost elements that reach past the right edge, as "tag.class: right edge", to say what to fix.
WIDER_THAN_THE_SCREEN = """
[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5))
  .slice(0, 5)
  .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}: ${Math.round(e.getBoundingClientRect().right)}`)
"""


def code_sent_to(server: ServerProcess, number: str) -> str:
    """The newest one-time code the server sent to the number: the development sender prints it to the log."""
    pattern = re.compile(rf"one-time code for {re.escape(normalize_phone(number))}: (\d{{6}})")
    deadline = clock.monotonic() + 10
    while not (codes := pattern.findall(server.log())) and clock.monotonic() < deadline:
        clock.sleep(0.1)
    assert codes, f"no code for {number} in the server's log"
    return str(codes[-1])


def delivery_day() -> date:
    """A weekday at least two days ahead: every product's lead time has room."""
    day = wib_today(utcnow()) + timedelta(days=2)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return day


def the_delivery_day_comes(server: ServerProcess, *numbers: str) -> None:
    """The server keeps today's clock: moving the orders' day to today stands for their day arriving (as
    test_journey does)."""
    path = server.environment["DATABASE_URL"].removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        for number in numbers:
            db.execute(
                "UPDATE vendor_order SET delivery_day = ? WHERE id = ?",
                (wib_today(utcnow()).isoformat(), int(number.removeprefix("PK-"))),
            )


def log_in(page: Page, phone: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Nomor WhatsApp").press_sequentially(as_typed(phone))
    page.get_by_label("Kata sandi").press_sequentially(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Masuk").tap()


# --- the canteen's steps --------------------------------------------------------------------------------------


def signs_up(page: Page, server: ServerProcess, shot: Callable[[str, Page], None]) -> None:
    name, phone, password = BUYER
    page.goto("/signup")
    no_sideways_scroll(page)
    page.check("[name=role][value=canteen_staff]")
    page.fill("[name=full_name]", name)
    page.fill("[name=phone]", as_typed(phone))
    page.fill("[name=password]", password)
    page.fill("[name=organisation_name]", CANTEEN)
    page.get_by_role("button", name="Buat akun").click()
    expect(page).to_have_url(re.compile(r"/verify-phone$"))
    no_sideways_scroll(page)
    page.get_by_label("Kode dari WhatsApp").fill(code_sent_to(server, phone))
    page.get_by_role("button", name="Konfirmasi", exact=True).click()
    expect(page).to_have_url(re.compile(r"/canteen$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(CANTEEN)
    no_sideways_scroll(page)
    shot("01-signed-up", page)

    page.goto("/canteen/settings")
    page.fill("[name=delivery_address]", "Gerbang 2, dapur kantin, Jl. Raya KITB Km 3")
    page.fill("[name=receiving_contact]", name)
    page.fill("[name=receiving_phone]", as_typed(phone))
    page.fill("[name=delivery_notes]", "Bongkar di pintu dapur.")
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_role("status")).to_be_visible()
    no_sideways_scroll(page)


def adds_to_cart(page: Page, product: str, quantity: int) -> None:
    page.goto("/catalogue")
    no_sideways_scroll(page)
    page.get_by_role("searchbox").fill(product)
    page.locator("#results").get_by_role("link", name=product).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(product)
    no_sideways_scroll(page)
    page.get_by_label("Jumlah (box)").fill(str(quantity))
    page.get_by_role("button", name="Masukkan ke keranjang").click()
    page.get_by_role("link", name="Lihat keranjang").click()
    expect(page).to_have_url(re.compile(r"/cart"))
    expect(page.locator("#cart")).to_contain_text(product)


def checks_out(page: Page, day: date, method: str, shot: Callable[[str, Page], None], step: str) -> None:
    page.get_by_label("Tanggal kirim").fill(day.isoformat())
    page.get_by_label("Jam kirim").select_option(label="11.00 WIB")
    # The delivery settings saved a moment ago are what checkout starts from.
    expect(page.locator("[data-receiving]")).to_contain_text(BUYER[0])
    expect(page.get_by_label("Catatan untuk penjual (tidak wajib)")).to_have_value("Bongkar di pintu dapur.")
    page.check(f"[name=payment_method][value={method}]")
    no_sideways_scroll(page)
    shot(step, page)
    page.get_by_role("button", name="Buat pesanan").click()


def pays_by_card(page: Page, amount: str, shot: Callable[[str, Page], None]) -> tuple[str, str]:
    expect(page.get_by_role("heading", name="Bayar dengan kartu")).to_be_visible()
    expect(page.locator("[data-demo-payment]")).to_be_visible()  # the demo says no money moves
    no_sideways_scroll(page)
    page.get_by_role("button", name=f"Bayar {amount} dengan kartu").click()
    # The stand-in's hosted page, then back to the app once its webhook placed the order.
    expect(page.get_by_role("button", name="Pay")).to_be_visible()
    shot("03-stand-in-pay-page", page)
    page.get_by_role("button", name="Pay").click()
    expect(page).to_have_url(re.compile(r"/checkouts/\d+/return\?session_id=cs_test_"))
    expect(page.locator('[data-payment="succeeded"]')).to_be_visible()
    placed = page.locator("#payment-status li", has_text="Catering Bu Sri")
    expect(placed).to_contain_text("Dipesan")
    expect(placed).to_contain_text(amount)
    no_sideways_scroll(page)
    link = placed.get_by_role("link")
    return link.inner_text(), link.get_attribute("href") or ""


def sees_where_to_transfer(page: Page, amount: str) -> tuple[str, str, str]:
    """The bank, the account, its holder, the exact amount and a reference of the checkout's own."""
    expect(page.get_by_role("heading", name="Bayar dengan transfer bank")).to_be_visible()
    details = page.locator("[data-bank-details]")
    bank, account, holder = DEMO_PLATFORM_BANK
    expect(details.locator("[data-bank-name]")).to_have_text(bank)
    expect(details.locator("[data-bank-account]")).to_have_text(account)
    expect(details.locator("[data-bank-holder]")).to_have_text(holder)
    expect(details.locator("[data-transfer-amount]")).to_have_text(amount)
    reference = details.locator("[data-transfer-reference]").inner_text().strip()
    assert re.fullmatch(r"PK-[2-9A-HJ-NP-Z]{6}", reference), reference
    no_sideways_scroll(page)
    order = page.locator("section.card li", has_text="Catering Bu Sri").get_by_role("link")
    return reference, order.inner_text(), page.url


def order_page_reads(page: Page, path: str, *texts: str) -> None:
    page.goto(path)
    for text in texts:
        expect(page.locator("#order")).to_contain_text(text)
    no_sideways_scroll(page)


# --- the others' steps ----------------------------------------------------------------------------------------


def manager_confirms_the_transfer(page: Page, reference: str, amount: int) -> None:
    page.goto("/manager/transfers")
    awaited = page.locator(f'[data-transfer="{reference}"]')
    expect(awaited).to_contain_text(CANTEEN)
    page.fill("[name=reference]", reference.lower().replace("-", " "))  # as read off a bank statement
    page.fill("[name=amount]", f"{amount:,}".replace(",", "."))
    page.get_by_role("button", name="Konfirmasi transfer").click()
    expect(page.locator(f'[data-confirmed="{reference}"]')).to_be_visible()
    expect(page.locator(f'[data-transfer="{reference}"]')).to_have_count(0)


def manager_grants_invoice_terms(page: Page) -> None:
    page.goto("/manager/invoice-terms")
    application = page.locator("section", has=page.get_by_role("heading", name=CANTEEN))
    expect(application).to_contain_text("01.234.567.8-901.000")
    application.locator("[name=days][value='30']").check()
    application.get_by_role("button", name="Berikan tempo tagihan").click()
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_role("heading", name=CANTEEN)).to_have_count(0)


def vendor_takes_orders_to_delivery(page: Page, server: ServerProcess, day: date, *numbers: str) -> None:
    page.goto(f"/vendor/orders?day={day.isoformat()}")
    for number in numbers:
        card = page.locator("article", has_text=number)
        card.get_by_role("button", name="Terima").tap()
        expect(page.locator("article", has_text=number).locator(".badge")).to_have_text("Diterima penjual")
        page.locator("article", has_text=number).get_by_role("button", name="Tandai siap").tap()
        expect(page.locator("article", has_text=number).locator(".badge")).to_have_text("Siap")
    the_delivery_day_comes(server, *numbers)
    page.goto(f"/vendor/orders?day={wib_today(utcnow()).isoformat()}")
    for number in numbers:
        page.locator("article", has_text=number).get_by_role("button", name="Tandai sudah diantar").tap()
        expect(page.locator("article", has_text=number).locator(".badge")).to_have_text("Sudah diantar")


# --- the journey ----------------------------------------------------------------------------------------------


def test_a_new_canteen_pays_by_card_and_transfer_gets_invoice_terms_and_is_refunded_a_short_delivery(
    phones, demo_server: DemoServer, tmp_path, request
):
    demo_run = demo_server.server
    assert "Demo card payments: a local stand-in for Stripe" in demo_run.log()

    def shot(step: str, on: Page) -> None:
        _save_screenshot(on, request.node.name, step)

    day = delivery_day()
    canteen = phones()
    signs_up(canteen, demo_run, shot)

    # 1. The first order, by card on the stand-in for Stripe: 50 box at Rp 14.000.
    adds_to_cart(canteen, NASI_AYAM, 50)
    checks_out(canteen, day, "card", shot, "02-cart-card")
    card_number, card_path = pays_by_card(canteen, "Rp 700.000", shot)
    order_page_reads(canteen, card_path, "Dipesan", "Kartu", "Rp 700.000")

    # 2. The second, by bank transfer to the platform's account: 20 box at Rp 14.000, confirmed by the manager.
    adds_to_cart(canteen, NASI_BANDENG, 20)
    checks_out(canteen, day, "bank_transfer", shot, "04-cart-transfer")
    reference, transfer_number, transfer_page = sees_where_to_transfer(canteen, "Rp 280.000")
    shot("05-transfer-details", canteen)
    manager = phones()
    log_in(manager, MANAGER.phone)
    manager_confirms_the_transfer(manager, reference, 280_000)
    shot("06-manager-confirmed", manager)
    canteen.goto(transfer_page)
    expect(canteen.locator('[data-payment="succeeded"]')).to_be_visible()
    no_sideways_scroll(canteen)
    transfer_path = f"/orders/{int(transfer_number.removeprefix('PK-'))}"
    order_page_reads(canteen, transfer_path, "Dipesan", "Transfer bank", "Rp 280.000")

    # 3. Invoice terms: applied for in the app, granted by the manager for 30 days, the canteen told.
    canteen.goto("/cart")
    no_sideways_scroll(canteen)
    canteen.goto("/canteen/invoice-terms")
    canteen.fill("[name=company_name]", "PT Sinar Batang Makmur")
    canteen.fill("[name=npwp]", "01.234.567.8-901.000")
    canteen.fill("[name=billing_address]", "Jl. Raya KITB Km 3, Ketanggan, Gringsing, Batang")
    canteen.check("[name=requested_days][value='30']")
    no_sideways_scroll(canteen)
    canteen.get_by_role("button", name="Kirim pengajuan").click()
    expect(canteen.get_by_role("status")).to_be_visible()
    no_sideways_scroll(canteen)
    manager_grants_invoice_terms(manager)
    canteen.goto("/inbox")
    expect(canteen.get_by_text("Tempo tagihan diberikan").first).to_contain_text("30 hari")
    no_sideways_scroll(canteen)
    canteen.goto("/canteen/invoice-terms")
    expect(canteen.get_by_text(f"{CANTEEN} boleh memesan dengan tagihan dan membayar dalam 30 hari.")).to_be_visible()
    no_sideways_scroll(canteen)

    # ... and used for the next order, placed at once with its invoice.
    adds_to_cart(canteen, NASI_AYAM, 20)
    checks_out(canteen, day + timedelta(days=7), "invoice", shot, "07-cart-invoice")
    expect(canteen).to_have_url(re.compile(r"/orders"))
    no_sideways_scroll(canteen)
    canteen.goto("/canteen/invoices")
    expect(canteen.locator("main")).to_contain_text("Rp 300.000")  # 20 box at Rp 15.000
    no_sideways_scroll(canteen)
    invoice = canteen.locator("main a[href^='/invoices/']").first
    invoice.click()
    expect(canteen.locator("[data-bank-details]")).to_be_visible()
    no_sideways_scroll(canteen)
    shot("08-invoice", canteen)

    # 4. The vendor delivers the card and transfer orders; 5 of the 50 box were missing.
    vendor = phones()
    log_in(vendor, VENDOR_PHONE)
    vendor_takes_orders_to_delivery(vendor, demo_run, day, card_number, transfer_number)
    canteen.goto(card_path)
    canteen.get_by_role("link", name="Laporkan barang kurang atau rusak").click()
    no_sideways_scroll(canteen)
    canteen.locator("input[name^=quantity-]").fill("5")
    canteen.locator("input[name^=kind-][value=short]").check()
    canteen.locator("input[name^=note-]").fill("Hanya 45 box yang datang.")
    canteen.locator("input[name^=photo-]").set_input_files(str(small_photo(tmp_path / "IMG_kurang.jpg")))
    canteen.get_by_role("button", name="Kirim laporan").click()
    expect(canteen.get_by_text("Laporan Anda sudah dikirim. Penjual sudah diberi tahu.")).to_be_visible()
    expect(canteen.locator("img.claim-photo")).to_be_visible()
    no_sideways_scroll(canteen)
    shot("09-short-reported", canteen)

    card_id = int(card_number.removeprefix("PK-"))
    vendor.goto(f"/vendor/orders/{card_id}/claim")
    expect(vendor.locator("[data-claim-state=open]")).to_contain_text("5 box")
    vendor.locator("button[value=accept]").click()
    expect(vendor.get_by_text("Laporan selesai. Kedua pihak sudah diberi tahu.")).to_be_visible()
    expect(vendor.locator("[data-claim-state=settled]")).to_contain_text("Rp 70.000")  # 5 × Rp 14.000

    canteen.goto(f"/orders/{card_id}/claim")
    settled = canteen.locator("[data-claim-state=settled]")
    expect(settled).to_contain_text("Rp 70.000")
    expect(settled).to_contain_text("Dikembalikan ke kartu yang membayar.")
    no_sideways_scroll(canteen)
    order_page_reads(canteen, card_path, "Pengembalian dana Rp 70.000 ke kartu")
    vendor.goto(f"/vendor/orders/{card_id}")
    expect(vendor.locator("[data-refund]")).to_contain_text("Rp 70.000")

    # 5. The canteen confirms both deliveries: they complete and enter the ledger, the card order for what was
    # finally paid (Rp 700.000 less Rp 70.000), the transfer order for what was transferred.
    for path in (card_path, transfer_path):
        canteen.goto(path)
        canteen.get_by_role("button", name="Sudah diterima").tap()
        expect(canteen.locator("#order .badge").first).to_have_text("Selesai")
        no_sideways_scroll(canteen)
    shot("10-received", canteen)
    vendor.goto("/vendor/balance")
    expect(vendor.locator(f'[data-order="{card_number}"]')).to_contain_text("Rp 630.000")
    expect(vendor.locator(f'[data-order="{transfer_number}"]')).to_contain_text("Rp 280.000")
    shot("11-vendor-balance", vendor)
    admin = phones()
    log_in(admin, ADMIN.phone)
    admin.goto("/admin/balances")
    expect(admin.locator("article", has_text="Catering Bu Sri")).to_be_visible()
    ledger = ledger_of(demo_run, card_id, int(transfer_number.removeprefix("PK-")))
    assert (
        ledger[card_id]["clearing"] == -630_000 and ledger[card_id]["vendor"] + ledger[card_id]["commission"] == 630_000
    )
    assert ledger[int(transfer_number.removeprefix("PK-"))]["clearing"] == -280_000


def ledger_of(server: ServerProcess, *order_ids: int) -> dict[int, dict[str, int]]:
    """The ledger's lines for the orders, by account, read from the server's database."""
    path = server.environment["DATABASE_URL"].removeprefix("sqlite:///")
    found: dict[int, dict[str, int]] = {order_id: {} for order_id in order_ids}
    with contextlib.closing(sqlite3.connect(path)) as db:
        for order_id, account, amount in db.execute(
            f"SELECT order_id, account, amount FROM ledger_entry WHERE order_id IN ({','.join('?' * len(order_ids))})",
            order_ids,
        ):
            found[order_id][account] = amount
    return found
