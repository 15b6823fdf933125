"""Issue 8's whole journey on phones, in Chromium: a new vendor opens a shop and lists a nasi box, the zone's
manager verifies its halal certificate and approves the listing, a canteen finds it, orders 200 box for next
Monday's lunch and pays by card on Stripe's page, the vendor accepts, prepares and delivers it, and the canteen
confirms receipt and rates it.

Each person has a phone of their own (a browser context: 360 × 740, touch, Indonesian). The journey runs twice:
with JavaScript, as most phones run it (htmx swaps fragments in place), and with JavaScript off, where every step
is a plain form posted and answered with a redirect (progressive enhancement is a product rule). Stripe is the
fake of tests/payments, serving its hosted payment page and posting the signed webhook (see conftest.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from backend.clock import format_date, to_wib, utcnow, wib_today
from backend.payments.demo_stripe import DemoStripe
from tests.app_process import ServerProcess
from tests.browser.conftest import PlaywrightThread, as_typed, phones_on
from tests.conftest import found

MANAGER = "081200000001"
CANTEEN_STAFF = "081300000001"
COLLEAGUE = "081300000002"  # the same canteen's other buyer: each journey starts from an empty cart of its own
DEMO_ZONE = "Kawasan Industri Terpadu Batang (Kabupaten Batang)"
QUANTITY = 200
DAILY_CAPACITY = 250
CUTOFF = time(15, 0)  # the nasi box is ordered before 15.00 the day before
PHONE_WIDTH = 360


@dataclass(frozen=True)
class NewVendor:
    owner: str
    phone: str
    password: str
    business: str
    product: str
    halal_number: str


def next_orderable_monday(now: datetime) -> date:
    """The first Monday a nasi box ordered now can still be delivered on: orders close at 15.00 the day before,
    so on a Sunday afternoon (WIB) it is the Monday after."""
    local = to_wib(now)
    monday = local.date() + timedelta(days=8 - local.isoweekday())  # 1 to 7 days ahead
    if monday == local.date() + timedelta(days=1) and local.time() >= CUTOFF:
        monday += timedelta(days=7)
    return monday


def test_next_orderable_monday_waits_a_week_once_sunday_afternoon_has_closed_orders():
    sunday_morning = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # 09.00 WIB
    assert next_orderable_monday(sunday_morning) == date(2026, 11, 30)
    assert next_orderable_monday(sunday_morning.replace(hour=8)) == date(2026, 12, 7)  # 15.00 WIB: closed
    assert next_orderable_monday(datetime(2026, 11, 30, 1, 0, tzinfo=UTC)) == date(2026, 12, 7)  # on a Monday
    assert next_orderable_monday(datetime(2026, 11, 24, 9, 0, tzinfo=UTC)) == date(2026, 11, 30)  # a Tuesday


def small_photo(path: Path) -> Path:
    """A phone's JPEG of the food, small enough to keep the test quick."""
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 120, 40)).save(buffer, "JPEG", quality=80)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture
def phones(
    browser: Any, live_server: str, playwright_thread: PlaywrightThread, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Page]]:
    """phone(javascript=...) hands a person a phone of their own; all are closed after the test (a failed test
    leaves what each phone showed as <test>-failed-<n>.png)."""
    yield from phones_on(browser, live_server, playwright_thread, request)


def fits_the_phone(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH


# --- the people, in the order they act ------------------------------------------------------------------


def vendor_opens_a_shop_and_lists_a_nasi_box(
    page: Page,
    vendor: NewVendor,
    photo: Path,
    screenshot: Callable[..., Path],
    whatsapp_code: Callable[[str], str],
) -> int:
    """Sign up and confirm the number with the code WhatsApp brings, the business profile, a halal certificate,
    then the product with its photo, sent for review. Returns the product's id."""
    page.goto("/signup?role=vendor")
    page.fill("[name=full_name]", vendor.owner)
    page.fill("[name=phone]", as_typed(vendor.phone))
    page.fill("[name=password]", vendor.password)
    page.select_option("[name=zone_id]", label=DEMO_ZONE)
    page.get_by_role("button", name="Buat akun").click()
    expect(page).to_have_url(re.compile(r"/verify-phone$"))
    expect(page.get_by_role("heading", name="Konfirmasi nomor Anda")).to_be_visible()
    page.get_by_label("Kode dari WhatsApp").fill(whatsapp_code(vendor.phone))
    page.get_by_role("button", name="Konfirmasi", exact=True).click()
    expect(page).to_have_url(re.compile(r"/vendor$"))
    screenshot("01-vendor-signed-up", on=page)

    page.goto("/vendor/profile")
    page.fill("[name=business_name]", vendor.business)
    page.fill("[name=owner_name]", vendor.owner)
    page.fill("[name=whatsapp]", as_typed(vendor.phone))
    page.fill("[name=kecamatan]", "Gringsing")
    page.fill("[name=desa]", "Ketanggan")
    # Two kilometres from the demo canteen (-6.9498, 110.0401), inside the zone.
    page.fill("[name=latitude]", "-6.9600")
    page.fill("[name=longitude]", "110.0250")
    page.fill("[name=delivery_radius_km]", "10")
    days = page.get_by_role("group", name="Hari buka")
    days.get_by_label("Senin").check()
    days.get_by_label("Minggu").uncheck()
    page.fill("[name=daily_capacity]", str(DAILY_CAPACITY))
    screenshot("02-vendor-profile", on=page)
    page.get_by_role("button", name="Simpan profil").click()
    expect(page.get_by_text("Profil usaha Anda sudah disimpan.")).to_be_visible()

    page.goto("/vendor/certificates")
    page.select_option("[name=kind]", value="halal")
    page.fill("[name=number]", vendor.halal_number)
    page.fill("[name=issuer]", "BPJPH")
    page.set_input_files("[name=document]", str(photo))
    page.get_by_role("button", name="Tambah sertifikat").click()
    expect(page.get_by_text("Sertifikat sudah ditambahkan. Pengelola pasar akan memverifikasinya.")).to_be_visible()
    expect(page.locator("li", has_text=vendor.halal_number)).to_contain_text("Menunggu verifikasi")
    screenshot("03-vendor-certificate", on=page)

    page.goto("/vendor/products/new")
    page.fill("[name=name]", vendor.product)
    page.select_option("[name=category]", value="catering")
    page.select_option("[name=unit]", value="box")
    page.fill("[name=price]", "18.000")
    page.fill("[name=min_order_qty]", "20")
    page.fill("[name=tier_quantity_1]", "200")
    page.fill("[name=tier_price_1]", "16.000")
    page.check("[name=fulfilment][value=made_to_order]")
    expect(page.get_by_text(f"Kapasitas harian Anda: {DAILY_CAPACITY} sehari.")).to_be_visible()
    page.fill("[name=order_cutoff]", CUTOFF.strftime("%H:%M"))
    page.get_by_label(re.compile(vendor.halal_number)).check()
    page.get_by_role("button", name="Simpan sebagai draf").click()
    expect(page.get_by_text("Produk disimpan sebagai draf").first).to_be_visible()
    product_id = int(found(r"/vendor/products/(\d+)", page.url).group(1))

    with page.expect_file_chooser() as chooser:
        page.get_by_label("Tambah foto").click()
    chooser.value.set_files(str(photo))
    page.get_by_role("button", name="Unggah foto").click()
    expect(page.locator("#photos img[src^='/media/products/']")).to_have_count(1)
    page.get_by_role("button", name="Ajukan untuk diperiksa").click()
    expect(page.get_by_text("Menunggu diperiksa").first).to_be_visible()
    fits_the_phone(page)
    screenshot("04-vendor-product-submitted", on=page)
    return product_id


def manager_verifies_the_certificate_and_approves_the_listing(
    page: Page, log_in: Callable[..., None], vendor: NewVendor, screenshot: Callable[..., Path]
) -> None:
    log_in(page, MANAGER)
    page.goto("/manager/certificates")
    certificate = page.locator("article", has_text=vendor.halal_number)
    expect(certificate).to_contain_text(vendor.business)
    certificate.get_by_role("button", name="Verifikasi").tap()
    expect(page.get_by_text("Terverifikasi. Sertifikat kini berlaku untuk produk yang memakainya.")).to_be_visible()
    expect(page.locator("article", has_text=vendor.halal_number)).to_have_count(0)
    screenshot("05-manager-verified", on=page)

    page.goto("/manager/queue")
    listing = page.locator("article", has_text=vendor.product)
    expect(listing).to_contain_text(vendor.business)
    expect(listing).to_contain_text("Terverifikasi")  # the certificate it relies on
    listing.get_by_role("button", name="Setujui").tap()
    # On sale, and the approval says to whom: the canteen that buys next is within the vendor's reach.
    expect(page.locator('[data-approval="on_sale"]')).to_contain_text(f"{vendor.product} kini tayang untuk")
    expect(page.locator("article h2", has_text=vendor.product)).to_have_count(0)
    fits_the_phone(page)
    screenshot("06-manager-approved", on=page)


def canteen_finds_orders_and_pays(
    page: Page,
    log_in: Callable[..., None],
    buyer: str,
    vendor: NewVendor,
    monday: date,
    stripe: DemoStripe,
    *,
    javascript: bool,
    screenshot: Callable[..., Path],
) -> tuple[str, str]:
    """Search, filter halal, order 200 for Monday 11.00 and pay by card. Returns the order's number and page."""
    log_in(page, buyer)
    page.goto("/catalogue")
    # This phone really runs the scripts, or really does not (htmx is then never loaded).
    assert page.evaluate("typeof window.htmx") == ("object" if javascript else "undefined")
    page.get_by_role("searchbox").fill("nasi box")
    page.get_by_text("Filter dan urutan").click()  # a <details>: opens without JavaScript too
    page.get_by_label("Tersedia untuk").fill(monday.isoformat())
    page.get_by_label("Hanya yang halal").check()
    if javascript:
        # Results follow the box and the filters as they change; the address keeps the search.
        expect(page).to_have_url(re.compile(r"halal=1"))
    else:
        page.get_by_role("button", name="Terapkan").click()
    results = page.locator("#results")
    found = results.locator("li.result", has_text=vendor.product)
    expect(found).to_contain_text(vendor.business)
    expect(found.locator(".badge", has_text="Halal")).to_be_visible()
    expect(found).to_contain_text(f"sisa {DAILY_CAPACITY} box untuk {format_date(monday)}")
    fits_the_phone(page)
    screenshot("07-canteen-found", on=page)

    results.get_by_role("link", name=vendor.product).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(vendor.product)
    page.get_by_label("Jumlah (box)").fill(str(QUANTITY))
    page.get_by_role("button", name="Masukkan ke keranjang").click()
    if javascript:  # the form becomes a confirmation in place
        expect(page.get_by_text(f"Ditambahkan: {QUANTITY} box.")).to_be_visible()
        page.get_by_role("link", name="Lihat keranjang").click()
    expect(page).to_have_url(re.compile(r"/cart"))
    expect(page.locator("#cart")).to_contain_text(vendor.product)
    expect(page.locator("#cart").get_by_text("Rp 3.200.000").first).to_be_visible()  # 200 × Rp 16.000
    page.get_by_label("Tanggal kirim").fill(monday.isoformat())
    page.get_by_label("Jam kirim").select_option(label="11.00 WIB")
    expect(page.get_by_role("radio", name=re.compile("Ke kantin kami"))).to_be_checked()
    page.get_by_role("radio", name="Kartu").check()
    screenshot("08-canteen-cart", on=page)
    page.get_by_role("button", name="Buat pesanan").click()

    expect(page.get_by_role("heading", name="Bayar dengan kartu")).to_be_visible()
    expect(page.get_by_text("Bayar sebelum")).to_be_visible()
    screenshot("09-canteen-pay", on=page)
    page.get_by_role("button", name="Bayar Rp 3.200.000 dengan kartu").click()

    # Stripe's hosted page (the fake's), then back to the app once paid.
    expect(page.get_by_role("heading", name="Pay IDR 3,200,000.00")).to_be_visible()
    expect(page.get_by_text(vendor.business)).to_be_visible()
    screenshot("10-stripe-page", on=page)
    page.get_by_role("button", name="Pay").click()
    expect(page).to_have_url(re.compile(r"/checkouts/\d+/return\?session_id=cs_test_"))
    # Stripe told the app by its signed webhook before sending the browser back, and the app took it.
    told = stripe.webhook_deliveries[-1]
    assert (told.event_type, told.status, json.loads(told.body)["outcome"]) == (
        "checkout.session.completed",
        200,
        "processed",
    )
    expect(
        page.get_by_text("Pembayaran diterima. Pesanan Anda sudah dibuat dan penjual sudah diberi tahu.")
    ).to_be_visible()
    placed = page.locator("#payment-status li", has_text=vendor.business)
    expect(placed).to_contain_text("Dipesan")
    expect(placed).to_contain_text("Rp 3.200.000")
    fits_the_phone(page)
    screenshot("11-canteen-paid", on=page)
    link = placed.get_by_role("link")
    number = link.inner_text()
    assert number.startswith("PK-")
    return number, link.get_attribute("href") or ""


def the_delivery_day_comes(server: ServerProcess, number: str) -> None:
    """The server keeps today's clock while the order is for next Monday, and an order is marked delivered on its
    day, not before: moving the order's day to today stands for Monday arriving."""
    path = server.environment["DATABASE_URL"].removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "UPDATE vendor_order SET delivery_day = ? WHERE id = ?",
            (wib_today(utcnow()).isoformat(), int(number.removeprefix("PK-"))),
        )


def vendor_sees_the_capacity_taken_then_accepts_prepares_and_delivers(
    page: Page, product_id: int, number: str, monday: date, screenshot: Callable[..., Path], server: ServerProcess
) -> None:
    # The vendor's own listing, as buyers see it for Monday: 200 of the 250 are taken.
    page.goto(f"/products/{product_id}?date={monday.isoformat()}")
    expect(
        page.get_by_text(f"{DAILY_CAPACITY - QUANTITY} box masih bisa dipesan untuk {format_date(monday)}.")
    ).to_be_visible()
    screenshot("12-vendor-capacity-left", on=page)

    page.goto(f"/vendor/orders?day={monday.isoformat()}")
    card = page.locator("article", has_text=number)
    expect(card).to_contain_text("Dipesan")
    expect(card).to_contain_text(f"{QUANTITY} box")
    expect(card).to_contain_text("Kartu")
    expect(page.get_by_text("11.00 WIB").first).to_be_visible()
    screenshot("13-vendor-board", on=page)
    for button, status in (
        ("Terima", "Diterima penjual"),
        ("Tandai siap", "Siap"),
        ("Tandai sudah diantar", "Sudah diantar"),
    ):
        if status == "Sudah diantar":
            the_delivery_day_comes(server, number)
            page.goto(f"/vendor/orders?day={wib_today(utcnow()).isoformat()}")
        page.locator("article", has_text=number).get_by_role("button", name=button).tap()
        expect(page.locator("article", has_text=number).locator(".badge")).to_have_text(status)
    fits_the_phone(page)
    screenshot("14-vendor-delivered", on=page)


def canteen_confirms_receipt_and_rates(
    page: Page, order_path: str, number: str, screenshot: Callable[..., Path]
) -> None:
    page.goto(order_path)
    expect(page.get_by_role("heading", name=f"Pesanan {number}")).to_be_visible()
    expect(page.locator("#order .badge").first).to_have_text("Sudah diantar")
    page.get_by_role("button", name="Sudah diterima").tap()
    expect(
        page.get_by_text("Terima kasih sudah mengonfirmasi. Sekarang Anda bisa memberi nilai pesanan.")
    ).to_be_visible()
    expect(page.locator("#order .badge").first).to_have_text("Selesai")
    screenshot("15-canteen-received", on=page)

    page.get_by_role("radio", name=re.compile("5 dari 5")).check()
    page.get_by_label("Komentar (tidak wajib)").fill("Enak dan hangat, datang tepat jam 11.")
    page.get_by_role("button", name="Kirim ulasan").tap()
    expect(page.get_by_text("Terima kasih atas ulasan Anda.")).to_be_visible()
    review = page.locator("section", has=page.get_by_role("heading", name="Ulasan Anda"))
    expect(review).to_contain_text("5 dari 5")
    expect(review).to_contain_text("Enak dan hangat, datang tepat jam 11.")
    fits_the_phone(page)
    screenshot("16-canteen-reviewed", on=page)


def the_journey(
    phones: Callable[..., Page],
    log_in: Callable[..., None],
    stripe: DemoStripe,
    vendor: NewVendor,
    buyer: str,
    photo: Path,
    screenshot: Callable[..., Path],
    whatsapp_code: Callable[[str], str],
    server: ServerProcess,
    *,
    javascript: bool,
) -> None:
    monday = next_orderable_monday(utcnow())
    vendor_phone = phones(javascript=javascript)
    product_id = vendor_opens_a_shop_and_lists_a_nasi_box(vendor_phone, vendor, photo, screenshot, whatsapp_code)
    manager_verifies_the_certificate_and_approves_the_listing(phones(javascript=javascript), log_in, vendor, screenshot)
    canteen_phone = phones(javascript=javascript)
    number, order_path = canteen_finds_orders_and_pays(
        canteen_phone, log_in, buyer, vendor, monday, stripe, javascript=javascript, screenshot=screenshot
    )
    vendor_sees_the_capacity_taken_then_accepts_prepares_and_delivers(
        vendor_phone, product_id, number, monday, screenshot, server
    )
    canteen_confirms_receipt_and_rates(canteen_phone, order_path, number, screenshot)


def test_a_new_vendor_sells_200_nasi_box_to_a_canteen_paid_by_card_delivered_and_rated(
    phones, log_in, browser_stripe, screenshot, tmp_path, whatsapp_code, live_server_process
):
    vendor = NewVendor(
        owner="Ratih Kusuma",
        phone="085772000360",
        password="rendang-enak-2026",
        business="Dapur Ratih",
        product="Nasi Box Dapur Ratih",
        halal_number="ID33250000111110523",
    )
    the_journey(
        phones,
        log_in,
        browser_stripe,
        vendor,
        CANTEEN_STAFF,
        small_photo(tmp_path / "IMG_20261123_0702.jpg"),
        screenshot,
        whatsapp_code,
        live_server_process,
        javascript=True,
    )


def test_the_same_journey_works_with_javascript_off(
    phones, log_in, browser_stripe, screenshot, tmp_path, whatsapp_code, live_server_process
):
    """Every step is a plain form: a POST answered by a redirect (or a GET form), so a phone with JavaScript
    off, or before htmx has loaded, does everything the others do."""
    vendor = NewVendor(
        owner="Sekar Ayu",
        phone="085772000361",
        password="pepes-enak-2026",
        business="Dapur Sekar",
        product="Nasi Box Pepes Dapur Sekar",
        halal_number="ID33250000222220523",
    )
    the_journey(
        phones,
        log_in,
        browser_stripe,
        vendor,
        COLLEAGUE,
        small_photo(tmp_path / "IMG_20261123_0703.jpg"),
        screenshot,
        whatsapp_code,
        live_server_process,
        javascript=False,
    )
