"""An htmx action that fails says so next to the button, in Indonesian: a server error, then the same tap offline.
What was typed stays and the button can be tapped again."""

from __future__ import annotations

from playwright.sync_api import expect

CANTEEN_STAFF = "081300000001"


def test_a_failed_add_to_cart_says_so_in_place_and_keeps_what_was_typed(browser, live_server, log_in):
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
        log_in(page, CANTEEN_STAFF)
        page.goto("/catalogue?q=nasi+box+ayam")
        page.locator("#results").get_by_role("link", name="Nasi Box Ayam Bakar").first.click()
        page.route("**/cart/lines", lambda route: route.fulfill(status=500, body="Internal Server Error"))
        quantity = page.get_by_label("Jumlah (box)")
        quantity.fill("20")
        button = page.get_by_role("button", name="Masukkan ke keranjang")
        button.click()
        form = page.locator("form", has=button)
        expect(form.get_by_role("alert")).to_have_text(
            "Ada gangguan di server kami: tidak ada yang berubah. Coba lagi sebentar lagi."
        )
        expect(button).to_be_enabled()
        expect(quantity).to_have_value("20")

        page.unroute("**/cart/lines")
        context.set_offline(True)
        button.click()
        # One message at a time: the new one replaces the old.
        expect(form.get_by_role("alert")).to_have_text(
            "Anda sedang offline: tidak ada yang terkirim. Coba lagi saat ada sinyal."
        )
        expect(button).to_be_enabled()
        expect(quantity).to_have_value("20")
    finally:
        context.close()
