"""On a 360 px phone: a vendor adds a photo to a product on sale, which stays on sale; the market manager sees the
photos on sale and the proposed ones side by side, and approves the change."""

from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect

PHONE_WIDTH = 360


def new_photo(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 1200), (60, 140, 90)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def test_a_new_photo_waits_beside_the_one_on_sale_until_the_manager_approves_it(
    page, live_server, log_in, screenshot, tmp_path
):
    log_in(page, "081500000002")
    page.goto("/vendor/products")
    live_row = page.locator(".product-row", has=page.locator('[data-status="live"]')).first
    product_url = live_row.locator(".item-title a").get_attribute("href")
    assert product_url is not None
    product_id = re.sub(r"\D", "", product_url)
    page.goto(product_url)
    page.set_input_files("[name=photo]", str(new_photo(tmp_path / "IMG_20261203_0900.jpg")))
    page.get_by_role("button", name="Unggah foto").tap()

    expect(page.get_by_text("Perubahan Anda menunggu pemeriksaan.")).to_be_visible()
    expect(page.locator("#photos img")).to_have_count(2)
    screenshot("vendor-change-waiting")
    buyer_view = page.request.get(f"{live_server}/products/{product_id}")
    assert buyer_view.status == 200
    assert len(re.findall(r'src="/media/products/', buyer_view.text())) == 1  # still the approved photo

    page.context.clear_cookies()
    log_in(page, "081200000001")
    page.goto("/manager/changes")
    change = (
        page.locator("article.card", has=page.locator('form[action$="/approve"]'))
        .filter(has=page.locator('[data-field="photos"]'))
        .last
    )
    photos = change.locator('[data-field="photos"] .before-after > div')
    expect(photos).to_have_count(2)
    on_sale, proposed = photos.nth(0).bounding_box(), photos.nth(1).bounding_box()
    assert on_sale and proposed and abs(on_sale["y"] - proposed["y"]) < 1 and proposed["x"] > on_sale["x"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    screenshot("manager-change-side-by-side")

    change.get_by_role("button", name="Setujui perubahan").tap()

    expect(page.get_by_text("Disetujui. Pembeli sekarang melihat perubahannya.")).to_be_visible()
    buyer_view = page.request.get(f"{live_server}/products/{product_id}")
    assert len(re.findall(r'src="/media/products/', buyer_view.text())) == 2
