"""What a canteen reads around a checkout: when its order is delivered (never mistaken for when it was ordered),
its delivery details and PO number, the slots it may choose, and the warnings before it places an order."""

from __future__ import annotations

import re
from datetime import time

from sqlalchemy import select

from backend.accounts.models import Role
from backend.clock import format_slot, utcnow, wib_today
from backend.orders.models import Order
from backend.vendors.models import Vendor
from tests.conftest import browser, found, log_in, submit
from tests.orders.test_checkout_details import charging, open_between
from tests.orders.test_order_api import PROBLEM, bearer, check_out, fields
from tests.web.test_order_pages import DAY, checkout_form, in_cart, place, t
from tests.web.test_vendor_pages import PROFILE


def delivery_text(order: Order) -> str:
    return t("Delivery %(when)s", when=format_slot(order.delivery_day, order.delivery_slot))


async def test_every_order_page_labels_the_delivery_apart_from_when_it_was_ordered(
    client, database, canteen_staff, catering
):
    seller, product = catering
    order = await place(database, canteen_staff, product.id, 200)
    delivery = delivery_text(order)
    assert delivery.startswith("Dikirim ") and delivery.endswith(", 11.00 WIB")
    await log_in(client, canteen_staff)
    for url in ("/orders", f"/orders/{order.id}"):
        shown = (await client.get(url)).text
        assert f"<span data-delivery>{delivery}</span>" in shown or f"<dd data-delivery>{delivery}</dd>" in shown, url
        assert "data-ordered>Dipesan " in shown, url
    invoice = found(r'href="(/invoices/\d+)"', (await client.get("/canteen/invoices")).text).group(1)
    assert delivery in (await client.get(invoice)).text

    await log_in(client, seller.user)
    for url in (f"/vendor/orders?day={DAY.isoformat()}", "/vendor/orders/list", f"/vendor/orders/{order.id}"):
        shown = (await client.get(url)).text
        assert delivery in shown, url
        assert "data-ordered>Dipesan " in shown, url


async def test_a_canteen_sets_who_receives_its_orders_and_the_checkout_starts_from_it(
    client, database, canteen_staff, catering
):
    seller, product = catering
    await log_in(client, canteen_staff)
    assert 'href="/canteen/settings"' in (await client.get("/canteen")).text
    refused = await submit(
        client, "/canteen/settings", {"receiving_contact": "Bu Ani", "receiving_phone": "12345", "delivery_notes": ""}
    )
    assert refused.status_code == 400
    assert t("Enter a mobile number such as 0812-3456-7890.") in refused.text and 'value="Bu Ani"' in refused.text
    saved = await submit(
        client,
        "/canteen/settings",
        {
            "delivery_address": "Pintu dapur",
            "receiving_contact": "Bu Ani",
            "receiving_phone": "0812 3456 7890",
            "delivery_notes": "Lewat gerbang 2",
        },
    )
    assert saved.status_code == 303
    settings_page = (await client.get(saved.headers["location"])).text
    assert 'value="0812-3456-7890"' in settings_page and "Lewat gerbang 2</textarea>" in settings_page

    await in_cart(client, product.id, 200)
    cart_page = (await client.get("/cart")).text
    assert "Pintu dapur" in cart_page and t("Received by %(name)s", name="Bu Ani") in cart_page
    assert "Lewat gerbang 2</textarea>" in cart_page and 'name="po_number"' in cart_page
    too_long = await submit(client, "/checkout", checkout_form(cart_page, delivery_place="canteen", po_number="P" * 41))
    assert too_long.status_code == 400 and t("Can have at most %(limit)s characters.", limit=40) in too_long.text
    placed = await submit(
        client,
        "/checkout",
        checkout_form(
            cart_page, delivery_place="canteen", payment_method="invoice", notes="Lewat gerbang 2", po_number="PO-117"
        ),
    )
    assert placed.status_code == 303, placed.text
    async with database.sessionmaker() as session:
        order = (await session.execute(select(Order))).scalar_one()
    shown = (await client.get(f"/orders/{order.id}")).text
    assert "<dd data-po>PO-117</dd>" in shown and "Bu Ani" in shown and "0812-3456-7890" in shown
    invoice = found(r'href="(/invoices/\d+)"', (await client.get("/canteen/invoices")).text).group(1)
    assert "<dd data-po>PO-117</dd>" in (await client.get(invoice)).text
    day = order.delivery_day.isoformat()
    csv = await client.get(f"/canteen/reports/orders.csv?from={day}&to={day}")
    assert csv.status_code == 200 and '"PO-117"' in csv.text
    await log_in(client, seller.user)
    assert "<dd data-po>PO-117</dd>" in (await client.get(f"/vendor/orders/{order.id}")).text
    sold = await client.get(f"/vendor/reports/orders.csv?from={day}&to={day}")
    assert sold.status_code == 200 and '"PO-117"' in sold.text


async def test_canteen_settings_through_the_api_are_each_canteens_own(client, database, world, zone, canteen_staff):
    auth = await bearer(database, canteen_staff)
    put = await client.put(
        "/api/v1/canteen/settings",
        json={"delivery_address": "Pintu dapur", "receiving_contact": "Bu Ani", "receiving_phone": "6281234567890"},
        headers=auth,
    )
    assert put.status_code == 200 and put.json()["receiving_phone"] == "+6281234567890"
    bad = await client.put("/api/v1/canteen/settings", json={"receiving_phone": "0812"}, headers=auth)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(PROBLEM)
    assert bad.json()["errors"] == [
        {"field": "receiving_phone", "message": "Masukkan nomor HP seperti 0812-3456-7890."}
    ]
    assert (await client.get("/api/v1/canteen/settings", headers=auth)).json()["receiving_contact"] == "Bu Ani"

    other = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=await world.organisation(zone, "Kantin B"))
    theirs = (await client.get("/api/v1/canteen/settings", headers=await bearer(database, other))).json()
    assert theirs["organisation_name"] == "Kantin B" and theirs["receiving_contact"] == ""
    worker = await world.user(Role.WORKER, zone=zone)
    assert (await client.get("/api/v1/canteen/settings", headers=await bearer(database, worker))).status_code == 403


async def test_a_po_number_sent_through_the_api_is_on_the_orders(client, database, canteen_staff, catering):
    _, product = catering
    auth = await bearer(database, canteen_staff)
    await client.put(f"/api/v1/cart/lines/{product.id}", json={"quantity": 200}, headers=auth)
    too_long = await check_out(client, auth, "po-1", po_number="P" * 41)
    assert too_long.status_code == 400 and fields(too_long) == ["po_number"]
    placed = await check_out(client, auth, "po-2", po_number="PO-117")
    assert placed.status_code == 201, placed.text
    order = placed.json()["orders"][0]
    assert order["po_number"] == "PO-117"
    listed = (await client.get("/api/v1/orders", headers=auth)).json()["orders"]
    assert listed[0]["po_number"] == "PO-117"


async def test_the_checkout_offers_only_the_times_the_vendor_delivers_on_the_chosen_day(
    client, database, canteen_staff, catering, count_queries
):
    seller, product = catering  # order by 15.00 the day before
    await open_between(database, seller.vendor.id, time(7), time(13))
    await log_in(client, canteen_staff)
    await in_cart(client, product.id, 200)
    cart_page = (await client.get("/cart")).text  # tomorrow, before today's 15.00 or not: DAY is always open
    assert 'hx-get="/cart/slots"' in cart_page
    count_queries.statements.clear()
    offered = await client.get(f"/cart/slots?delivery_day={DAY.isoformat()}&delivery_slot=11:00")
    assert count_queries.count <= 5, count_queries.statements
    options = re.findall(r'<option value="(\d\d:\d\d)"', offered.text)
    assert options == [f"{hour:02d}:00" for hour in range(7, 14)]
    assert '<option value="11:00" selected>' in offered.text and "<html" not in offered.text
    today = await client.get(f"/cart/slots?delivery_day={wib_today(utcnow()).isoformat()}")
    assert re.findall(r'<option value="(\d\d:\d\d)"', today.text) == []
    assert t("No delivery time is possible on this day for what is in your cart: choose another date.") in today.text

    auth = await bearer(database, canteen_staff)
    slots = (await client.get(f"/api/v1/delivery-slots?day={DAY.isoformat()}", headers=auth)).json()
    assert slots["day"] == DAY.isoformat() and slots["slots"] == [f"{hour:02d}:00" for hour in range(7, 14)]
    bad = await client.get("/api/v1/delivery-slots?day=besok", headers=auth)
    assert bad.status_code == 400 and bad.headers["content-type"].startswith(PROBLEM)


async def test_a_canteen_is_warned_before_placing_when_a_colleague_ordered_the_same_delivery(
    client, database, world, zone, canteen, canteen_staff, catering, count_queries
):
    _, product = catering
    colleague = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen, full_name="Pak Joko")
    earlier = await place(database, colleague, product.id, 100)
    await log_in(client, canteen_staff)
    await in_cart(client, product.id, 50)
    warning = t(
        "%(name)s of your canteen already has order %(number)s with %(vendor)s for this delivery. Check with them "
        "before ordering again; you can still place this order.",
        name="Pak Joko",
        number=earlier.number,
        vendor="Catering Bu Sri",
    )
    count_queries.statements.clear()
    chosen = await client.get(f"/cart/slots?delivery_day={DAY.isoformat()}&delivery_slot=11:00")
    assert count_queries.count <= 5, count_queries.statements
    assert warning in chosen.text and 'hx-trigger="change"' in chosen.text
    other_slot = await client.get(f"/cart/slots?delivery_day={DAY.isoformat()}&delivery_slot=12:00")
    assert "data-warning" not in other_slot.text
    assert f'name="warned_for" value="{DAY.isoformat()} 11:00"' in chosen.text  # the form knows it was warned
    cart_page = (await client.get("/cart")).text
    form = checkout_form(cart_page, delivery_place="canteen", payment_method="invoice")
    # Without JavaScript the slot's warnings were never shown: the checkout shows them first and places nothing.
    warned = await submit(client, "/checkout", form)
    assert warned.status_code == 200 and warning in warned.text
    assert f'name="warned_for" value="{DAY.isoformat()} 11:00"' in warned.text
    async with database.sessionmaker() as session:
        assert len((await session.execute(select(Order))).all()) == 1
    count_queries.statements.clear()
    placed = await submit(client, "/checkout", {**form, "warned_for": f"{DAY.isoformat()} 11:00"})
    assert placed.status_code == 303, placed.text  # warned, still allowed
    assert count_queries.count <= 14, count_queries.statements  # a form not warned yet costs one more: 15

    auth = await bearer(database, colleague)
    await client.put(f"/api/v1/cart/lines/{product.id}", json={"quantity": 50}, headers=auth)
    preview = await client.get(
        f"/api/v1/cart?delivery_day={DAY.isoformat()}&delivery_slot=11:00", headers={**auth, "Accept-Language": "id"}
    )
    [colleague_warning] = preview.json()["warnings"]
    assert colleague_warning["code"] == "colleague_order" and canteen_staff.full_name in colleague_warning["message"]
    assert (await client.get("/api/v1/cart", headers=auth)).json()["warnings"] == []
    bad = await client.get(f"/api/v1/cart?delivery_day={DAY.isoformat()}&delivery_slot=jam11", headers=auth)
    assert bad.status_code == 400 and bad.headers["content-type"].startswith(PROBLEM)


async def test_a_vendor_sets_a_fee_by_distance_and_a_minimum_on_the_profile_page_and_the_api(client, database, vendor):
    await log_in(client, vendor)
    bad = await submit(client, "/vendor/profile", {**PROFILE, "delivery_fee_bands": "lima km gratis"})
    assert bad.status_code == 422
    assert t("Write one distance band a line, as km: fee, for example 5: 5.000.") in bad.text
    saved = await submit(
        client,
        "/vendor/profile",
        {**PROFILE, "delivery_fee": "0", "min_order_value": "Rp 50.000", "delivery_fee_bands": "20: 15.000\n5: 5.000"},
    )
    assert saved.status_code == 303, saved.text
    shown = (await client.get("/vendor/profile")).text
    assert "5: 5.000\n20: 15.000</textarea>" in shown and 'value="50000"' in shown
    async with database.sessionmaker() as session:
        seller = (await session.execute(select(Vendor))).scalar_one()
    assert seller.delivery_fee_bands == [{"up_to_km": 5.0, "fee": 5000}, {"up_to_km": 20.0, "fee": 15000}]

    auth = await bearer(database, vendor)
    api_profile = {
        **PROFILE,
        "latitude": -6.9581,
        "longitude": 110.0195,
        "delivery_radius_km": 15,
        "daily_capacity": 500,
    }
    put = await client.put(
        "/api/v1/vendor/profile",
        json={**api_profile, "delivery_fee": 7000, "delivery_fee_bands": [{"up_to_km": 15, "fee": 5000}]},
        headers=auth,
    )
    assert put.status_code == 200, put.text
    assert put.json()["delivery_fee_bands"] == [{"up_to_km": 15.0, "fee": 5000}] and put.json()["delivery_fee"] == 7000
    negative = await client.put("/api/v1/vendor/profile", json={**api_profile, "min_order_value": -1}, headers=auth)
    assert negative.status_code == 400 and fields(negative) == ["min_order_value"]


async def test_fee_bands_that_stop_short_of_the_delivery_radius_are_refused_on_the_page_and_the_api(
    client, database, vendor
):
    """Buyers between the last band and the radius would see the products and then be refused at checkout: the
    profile says so instead, and nothing is saved."""
    await log_in(client, vendor)
    saved = await submit(client, "/vendor/profile", {**PROFILE, "delivery_fee_bands": "5: 5.000"})
    assert saved.status_code == 422
    message = t(
        "Your last fee band ends at %(band)s km but you deliver up to %(radius)s km: add a band up to %(radius)s km "
        "or deliver less far.",
        band="5",
        radius="15",
    )
    assert message in saved.text
    async with database.sessionmaker() as session:
        assert (await session.execute(select(Vendor))).scalar_one_or_none() is None

    auth = await bearer(database, vendor)
    api_profile = {**PROFILE, "latitude": -6.9581, "longitude": 110.0195, "delivery_radius_km": 15}
    put = await client.put(
        "/api/v1/vendor/profile",
        json={**api_profile, "delivery_fee_bands": [{"up_to_km": 10, "fee": 5000}]},
        headers=auth,
    )
    assert put.status_code == 422 and fields(put) == ["delivery_fee_bands"]


async def test_the_cart_shows_the_delivery_fee_and_the_minimum_and_checkout_applies_them(
    client, database, world, zone, canteen_staff
):
    seller = await world.seller(zone, business_name="Keripik Mbak Yuni")
    product = await world.live_product(
        seller, "Keripik Singkong", category="snacks", unit="pack", price=8000, fulfilment="ready_stock", stock=100
    )
    bands = [{"up_to_km": 5, "fee": 5000}, {"up_to_km": 20, "fee": 15000}]  # the canteen is 1.5 km away
    await charging(database, seller.vendor.id, delivery_fee_bands=bands, min_order_value=50000)
    await log_in(client, canteen_staff)
    await in_cart(client, product.id, 2)
    cart_page = (await client.get("/cart")).text
    assert f'{t("Delivery fee")}: <strong><span class="money">Rp 5.000</span></strong>' in cart_page
    assert t(
        "Minimum order %(minimum)s: add %(missing)s more from this vendor.",
        minimum="Rp 50.000",
        missing="Rp 34.000",
    ) in re.sub(r"<[^>]+>", "", cart_page)
    # 2 × Rp 8.000 and Rp 5.000
    assert f'{t("Total to pay")}: <strong><span class="money">Rp 21.000</span></strong>' in cart_page
    changed = await submit(client, f"/cart/lines/{product.id}", {"quantity": "3"}, headers={"HX-Request": "true"})
    assert changed.headers.get("HX-Retarget") == "#cart" and "Rp 29.000" in changed.text  # the whole cart, fee in
    refused = await submit(
        client, "/checkout", checkout_form(cart_page, delivery_place="canteen", payment_method="invoice")
    )
    assert refused.status_code == 400
    assert (
        t(
            "%(vendor)s takes orders from %(minimum)s: this one comes to %(subtotal)s. Add %(missing)s more.",
            vendor="Keripik Mbak Yuni",
            minimum="Rp 50.000",
            subtotal="Rp 24.000",
            missing="Rp 26.000",
        )
        in refused.text
    )

    auth = await bearer(database, canteen_staff)
    [group] = (await client.get("/api/v1/cart", headers=auth)).json()["vendors"]
    assert (group["delivery_fee"], group["min_order_value"], group["missing_for_minimum"]) == (5000, 50000, 26000)
    too_small = await check_out(client, auth, "fee-1")
    assert too_small.status_code == 422 and fields(too_small) == [f"vendor-{seller.vendor.id}"]
    assert "Rp 26.000" in too_small.json()["errors"][0]["message"]
    await client.put(f"/api/v1/cart/lines/{product.id}", json={"quantity": 7}, headers=auth)
    placed = await check_out(client, auth, "fee-2")
    assert placed.status_code == 201, placed.text
    order = placed.json()["orders"][0]
    assert (order["delivery_fee"], order["total"]) == (5000, 61000)
    order_page = (await client.get(f"/orders/{order['id']}")).text
    assert "data-delivery-fee" in order_page and "Rp 61.000" in order_page


async def test_bank_transfer_is_offered_once_an_admin_stores_the_account_on_a_server_without_one(
    app_for, settings, database, worker, admin, catering
):
    _, product = catering
    unset = {"platform_bank_name": None, "platform_bank_account_number": None, "platform_bank_account_holder": None}
    bare = await app_for(settings.model_copy(update=unset))
    async with browser(bare) as buyer, browser(bare) as operator:
        await log_in(buyer, worker)
        await in_cart(buyer, product.id, 10)
        assert 'value="bank_transfer"' not in (await buyer.get("/cart")).text
        await log_in(operator, admin)
        assert (
            "Belum diatur: pembeli belum bisa membayar dengan transfer bank."
            in (await operator.get("/admin/settings")).text
        )
        saved = await submit(
            operator,
            "/admin/settings",
            {"bank_name": "Bank Jateng", "account_number": "2010123456", "account_holder": "PT Pasar Kawasan"},
        )
        assert saved.status_code == 303
        assert 'value="bank_transfer"' in (await buyer.get("/cart")).text
