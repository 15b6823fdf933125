"""Ordering as buyers do it on their phones: from the product page to the cart, the checkout, the orders list and
one order, with and without JavaScript (htmx), in few queries.

HTTP requests run on the real clock, so delivery days are counted from today (WIB): three days ahead is always
past the catering's "order by 15.00 the day before".
"""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from backend.accounts.models import Role
from backend.catalog import service as catalog_service
from backend.clock import to_wib, utcnow, wib_today
from backend.errors import CartCheckedOut, Shortage
from backend.i18n import gettext, set_locale
from backend.orders import capacity, cart
from backend.orders import service as order_service
from backend.orders.delivery import MSG_CANTEEN_ONLY, DeliveryChoice
from backend.orders.models import DeliveryKind, Order, OrderStatus, PaymentMethod
from backend.orders.placement import place_checkout
from backend.orders.reviews import reply_to_review
from backend.orders.states import MSG_REASON, change_status
from backend.vendors.models import Vendor
from tests.conftest import found, log_in, submit

DAY = wib_today(utcnow()) + timedelta(days=3)


def t(message: str, **params: object) -> str:
    """What an Indonesian reader sees for a message, escaped as in the page."""
    set_locale("id")
    return str(escape(gettext(message, **params)))


def checkout_form(html: str, **changes: str) -> dict[str, str]:
    """The checkout form as the page rendered it (its idempotency key included), with some fields changed."""
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert key, "the cart page should carry an idempotency key"
    return {"idempotency_key": key.group(1), "delivery_day": DAY.isoformat(), "delivery_slot": "11:00", **changes}


async def in_cart(client, product_id: int, quantity: int) -> None:
    response = await submit(client, "/cart/lines", {"product_id": product_id, "quantity": quantity})
    assert response.status_code == 303, response.text


async def remaining(database, vendor_id: int) -> int:
    async with database.sessionmaker() as session:
        return await capacity.remaining_capacity(session=session, vendor_id=vendor_id, day=DAY)


async def count_orders(database) -> int:
    async with database.sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(Order))).scalar_one()


async def place(database, buyer, product_id: int, quantity: int, key: str = "k1") -> Order:
    """An order placed through the service with the real clock, as the checkout page would."""
    now = utcnow()
    async with database.sessionmaker() as session:
        await cart.set_quantity(
            session=session, buyer=buyer, product_id=product_id, quantity=quantity, today=wib_today(now)
        )
        kind = DeliveryKind.CANTEEN if buyer.role == Role.CANTEEN_STAFF else DeliveryKind.PICKUP
        payment = PaymentMethod.INVOICE if buyer.role == Role.CANTEEN_STAFF else PaymentMethod.CASH
        placement = await place_checkout(
            session=session,
            buyer=buyer,
            idempotency_key=key,
            payment_method=payment,
            delivery=DeliveryChoice(day=DAY, slot=time(11), kind=kind),
            now=now,
        )
        await session.commit()
        return placement.orders[0]


async def vendor_moves(database, order_id: int, vendor_user, *targets: OrderStatus) -> None:
    """The vendor's taps on the order, on its delivery day (an order is marked delivered on that day, not before)."""
    async with database.sessionmaker() as session:
        for target in targets:
            await change_status(
                session=session,
                order_id=order_id,
                target=target,
                actor=vendor_user,
                now=utcnow(),
                today=DAY,
            )
        await session.commit()


# --- the canteen's story -------------------------------------------------------------------------------


async def test_a_canteen_orders_200_nasi_box_from_the_product_page_and_sees_it_in_its_orders(
    client, database, canteen_staff, catering
):
    seller, product = catering
    await log_in(client, canteen_staff)
    product_page = await client.get(f"/products/{product.id}")
    assert 'name="quantity" type="number" inputmode="numeric" min="10"' in product_page.text
    assert 'value="10"' in product_page.text  # the minimum order as the default
    assert f'href="/canteen/standing-orders?product={product.id}"' in product_page.text

    added = await submit(client, "/cart/lines", {"product_id": product.id, "quantity": "200"})
    assert added.status_code == 303
    assert added.headers["location"] == f"/cart?added={product.id}"

    cart_page = await client.get(added.headers["location"])
    assert cart_page.status_code == 200
    assert "Catering Bu Sri" in cart_page.text
    assert (
        t("%(price)s from %(quantity)s", price="Rp 13.000", quantity="200 box")
        in re.sub(r"</?span[^>]*>", "", cart_page.text)  # the amount is kept on one line by a span
    )
    assert "Rp 2.600.000" in cart_page.text  # 200 × Rp 13.000: line, vendor subtotal and total
    today = wib_today(utcnow())
    # The first day the catering can still deliver: tomorrow until today's 15.00 cut-off, then the day after.
    first_day = today + timedelta(days=1 if to_wib(utcnow()).time() < time(15) else 2)
    assert (
        f'value="{first_day.isoformat()}" min="{today.isoformat()}" '
        f'max="{(today + timedelta(days=60)).isoformat()}"' in cart_page.text
    )
    assert '<option value="11:00" >11.00 WIB</option>' in cart_page.text
    assert 'value="canteen" checked' in cart_page.text and "Blok C-3" in cart_page.text
    assert 'value="invoice"' in cart_page.text and 'value="card"' not in cart_page.text
    assert 'hx-disabled-elt="find button[type=submit]"' in cart_page.text
    assert '<span class="tab-badge" id="cart-count">1</span>' in cart_page.text  # the cart's own page knows the count

    placed = await submit(
        client,
        "/checkout",
        checkout_form(
            cart_page.text, delivery_place="canteen", payment_method="invoice", notes="Shift pagi, pintu belakang"
        ),
    )
    assert placed.status_code == 303, placed.text
    assert placed.headers["location"].startswith("/orders?placed=")

    orders_page = await client.get(placed.headers["location"])
    assert orders_page.status_code == 200
    async with database.sessionmaker() as session:
        order = (await session.execute(select(Order))).scalar_one()
    assert (
        f'<a href="/orders/{order.id}">{order.number}</a> · Catering Bu Sri · <span class="money">Rp 2.600.000</span>'
        in orders_page.text
    )
    assert "200 " in orders_page.text and "Nasi Box Ayam Bakar" in orders_page.text
    assert order.status == OrderStatus.PLACED and order.delivery_day == DAY and order.delivery_slot == time(11)
    assert order.notes == "Shift pagi, pintu belakang"
    assert await remaining(database, seller.vendor.id) == 300
    assert "Rp 2.600.000" not in (await client.get("/cart")).text  # the cart was emptied


async def test_adding_with_htmx_answers_with_a_small_confirmation_and_adds_to_what_is_in_the_cart(
    client, canteen_staff, catering
):
    _, product = catering
    await log_in(client, canteen_staff)
    await in_cart(client, product.id, 200)
    fragment = await submit(
        client,
        "/cart/lines",
        {"product_id": product.id, "quantity": "50"},
        headers={"HX-Request": "true", "HX-Target": "add-to-cart"},
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<p id="add-to-cart" class="alert alert-ok"')
    assert "<html" not in fragment.text
    assert t("Added: %(quantity)s.", quantity="50 box") in fragment.text
    assert t("Now %(quantity)s in your cart.", quantity="250 box") in fragment.text
    assert 'href="/cart"' in fragment.text


async def test_a_quantity_under_the_minimum_is_explained_on_the_product_page(client, canteen_staff, catering):
    _, product = catering
    await log_in(client, canteen_staff)
    refused = await submit(client, "/cart/lines", {"product_id": product.id, "quantity": "5"})
    assert refused.status_code == 400
    message = t("The minimum order of %(product)s is %(minimum)s.", product=product.name, minimum=10)
    assert message in refused.text and "<h1>Nasi Box Ayam Bakar</h1>" in refused.text
    assert 'value="5"' in refused.text  # what was typed stays
    with_htmx = await submit(
        client, "/cart/lines", {"product_id": product.id, "quantity": "lima"}, headers={"HX-Request": "true"}
    )
    assert with_htmx.status_code == 200  # htmx swaps only 2xx answers
    assert with_htmx.text.lstrip().startswith('<form id="add-to-cart"')
    assert t("Type the quantity as a whole number.") in with_htmx.text


async def test_a_visitor_is_asked_to_log_in_to_order_and_a_vendor_sees_no_cart(client, vendor, catering):
    _, product = catering
    page = await client.get(f"/products/{product.id}")
    assert t("Log in to order") in page.text and f'href="/login?next=/products/{product.id}"' in page.text
    assert 'name="quantity"' not in page.text
    await log_in(client, vendor)
    page = await client.get(f"/products/{product.id}")
    assert 'name="quantity"' not in page.text and t("Log in to order") not in page.text
    assert 'href="/vendor/orders"' in page.text and 'href="/inbox"' in page.text
    assert 'href="/cart"' not in page.text
    assert (await submit(client, "/cart/lines", {"product_id": product.id, "quantity": "10"})).status_code == 403


async def test_the_same_checkout_form_sent_twice_makes_one_order(client, database, canteen_staff, catering):
    seller, product = catering
    await log_in(client, canteen_staff)
    await in_cart(client, product.id, 200)
    form = checkout_form((await client.get("/cart")).text, delivery_place="canteen", payment_method="invoice")
    first = await submit(client, "/checkout", form)
    second = await submit(client, "/checkout", form)  # a double tap, or the form sent again after a reload
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert await count_orders(database) == 1
    assert await remaining(database, seller.vendor.id) == 300
    with_htmx = await submit(client, "/checkout", form, headers={"HX-Request": "true"})
    assert with_htmx.headers["hx-redirect"] == first.headers["location"]
    assert await count_orders(database) == 1

    # Back in the browser history, the old form changed and sent again: refused, with a fresh key for next time.
    changed = await submit(client, "/checkout", {**form, "delivery_slot": "12:00"})
    assert changed.status_code == 409
    assert t("This order was already sent with other details. Reload the page and try again.") in changed.text
    assert form["idempotency_key"] not in changed.text
    assert await count_orders(database) == 1


async def test_the_cart_placed_from_another_tab_is_not_placed_again_and_the_page_says_so(
    client, database, canteen_staff, catering
):
    seller, product = catering
    await log_in(client, canteen_staff)
    await in_cart(client, product.id, 200)
    # Two tabs on the cart, each with its own checkout form (and key); the first one places the cart.
    first_tab = checkout_form((await client.get("/cart")).text, delivery_place="canteen", payment_method="invoice")
    second_tab = checkout_form((await client.get("/cart")).text, delivery_place="canteen", payment_method="invoice")
    assert first_tab["idempotency_key"] != second_tab["idempotency_key"]
    assert (await submit(client, "/checkout", first_tab)).status_code == 303

    late = await submit(client, "/checkout", second_tab)
    assert late.status_code == 409
    assert t(CartCheckedOut.default_message) in late.text
    assert "Keranjang ini baru saja dipesan" in late.text
    assert await count_orders(database) == 1
    assert await remaining(database, seller.vendor.id) == 300


async def test_a_shortage_names_the_product_and_what_is_left_and_keeps_the_cart(
    client, database, world, zone, canteen_staff
):
    small = await world.seller(zone, business_name="Dapur Mini", daily_capacity=60)
    product = await world.live_product(small, "Nasi Box Ayam", min_order_qty=10)
    await log_in(client, canteen_staff)
    await in_cart(client, product.id, 80)
    form = checkout_form(
        (await client.get("/cart")).text, delivery_place="canteen", payment_method="invoice", notes="Untuk shift 1"
    )
    refused = await submit(client, "/checkout", form)
    assert refused.status_code == 409
    message = t(Shortage.message, product="Nasi Box Ayam", requested=80, available=60)
    line = found(rf'<li class="item" id="line-{product.id}">.*?</li>', refused.text, re.S).group(0)
    assert message in line  # next to its line
    assert f'value="{form["idempotency_key"]}"' in refused.text and "Untuk shift 1" in refused.text
    assert f'value="{DAY.isoformat()}"' in refused.text and '<option value="11:00" selected>' in refused.text
    assert await count_orders(database) == 0
    assert await remaining(database, small.vendor.id) == 60  # nothing held
    assert "Nasi Box Ayam" in (await client.get("/cart")).text  # the cart is kept

    with_htmx = await submit(client, "/checkout", form, headers={"HX-Request": "true"})
    assert with_htmx.status_code == 200 and with_htmx.text.lstrip().startswith('<div id="cart">')
    assert message in with_htmx.text


async def test_a_shortage_refused_with_htmx_writes_nothing_and_keeps_the_cart(
    client, database, world, zone, canteen_staff
):
    """htmx needs the refusal answered with 200, and a 200 answer commits the request: only what the refused
    checkout wrote (its orders, the emptied cart) is taken back, so the cart shows its line again."""
    small = await world.seller(zone, business_name="Dapur Mini", daily_capacity=60)
    product = await world.live_product(small, "Nasi Box Ayam", min_order_qty=10)
    await log_in(client, canteen_staff)
    await in_cart(client, product.id, 80)
    form = checkout_form((await client.get("/cart")).text, delivery_place="canteen", payment_method="invoice")

    refused = await submit(client, "/checkout", form, headers={"HX-Request": "true"})

    assert refused.status_code == 200
    line = found(rf'<li class="item" id="line-{product.id}">.*?</li>', refused.text, re.S).group(0)
    assert t(Shortage.message, product="Nasi Box Ayam", requested=80, available=60) in line
    assert await count_orders(database) == 0
    assert await remaining(database, small.vendor.id) == 60
    assert f'id="line-{product.id}"' in (await client.get("/cart")).text


async def test_rules_broken_at_checkout_come_back_next_to_their_field(
    client, database, world, zone, worker, catering, ordering
):
    _, product = catering
    await ordering.gate()
    await log_in(client, worker)
    await in_cart(client, product.id, 10)
    page = await client.get("/cart")
    refused = await submit(
        client,
        "/checkout",
        checkout_form(page.text, delivery_place="canteen", payment_method="invoice", delivery_slot="03:00"),
    )
    assert refused.status_code == 400
    assert t(MSG_CANTEEN_ONLY) in refused.text or t("Invoice payment is for canteens.") in refused.text
    assert t("Choose a delivery time from the list.") in refused.text
    assert 'id="f-delivery_place"' in refused.text
    assert await count_orders(database) == 0


async def test_a_worker_has_it_brought_to_a_gate_and_pays_cash(client, database, worker, catering, ordering):
    _, product = catering
    gate = await ordering.gate("Gerbang 1 KITB")
    await log_in(client, worker)
    product_page = await client.get(f"/products/{product.id}")
    assert 'name="quantity"' in product_page.text and "/canteen/standing-orders" not in product_page.text
    await in_cart(client, product.id, 10)
    page = await client.get("/cart")
    assert f'<option value="{gate.id}" >Gerbang 1 KITB' in page.text
    assert 'value="canteen"' not in page.text
    assert 'value="cash"' in page.text and 'value="invoice"' not in page.text
    assert "Rp 150.000" in page.text  # 10 × Rp 15.000: no tier reached
    placed = await submit(
        client, "/checkout", checkout_form(page.text, delivery_place=str(gate.id), payment_method="cash")
    )
    assert placed.status_code == 303, placed.text
    async with database.sessionmaker() as session:
        order = (await session.execute(select(Order))).scalar_one()
    assert order.delivery_kind == DeliveryKind.ZONE_POINT and order.delivery_point_id == gate.id
    assert order.payment_method == PaymentMethod.CASH
    detail = await client.get(f"/orders/{order.id}")
    assert "Gerbang 1 KITB" in detail.text and order.number in detail.text


async def test_an_empty_cart_says_so_and_links_to_the_catalogue(client, worker):
    await log_in(client, worker)
    page = await client.get("/cart")
    assert page.status_code == 200
    assert t("Your cart is empty.") in page.text and 'href="/catalogue"' in page.text
    assert 'id="checkout"' not in page.text


async def test_changing_and_removing_lines_with_and_without_htmx(client, world, zone, canteen_staff, catering):
    _, product = catering
    snacks = await world.seller(zone, business_name="Keripik Mbak Yuni")
    chips = await world.live_product(
        snacks, "Keripik Tempe", category="snacks", unit="pack", price=8000, fulfilment="ready_stock", stock=40
    )
    await log_in(client, canteen_staff)
    await in_cart(client, product.id, 10)
    await in_cart(client, chips.id, 5)
    page = await client.get("/cart")
    assert page.text.index("Catering Bu Sri") < page.text.index("Keripik Mbak Yuni")  # grouped per vendor
    assert "Rp 190.000" in page.text  # 150.000 + 40.000

    changed = await submit(client, f"/cart/lines/{product.id}", {"quantity": "50"})
    assert changed.status_code == 303 and changed.headers["location"] == "/cart"
    assert "Rp 700.000" in (await client.get("/cart")).text  # 50 × Rp 14.000

    # With htmx a new quantity answers only what it changed: the line, and out of band its vendor's subtotal,
    # both totals and the header's count; the checkout form, with what was typed in it, is left alone.
    typed = checkout_form(page.text, notes="Antar ke dapur", delivery_place="canteen", payment_method="invoice")
    htmx = {"HX-Request": "true", "HX-Target": f"line-{product.id}"}
    fragment = await submit(client, f"/cart/lines/{product.id}", {"quantity": "200", **typed}, headers=htmx)
    assert fragment.status_code == 200, fragment.text
    assert fragment.text.lstrip().startswith(f'<li class="item" id="line-{product.id}">')
    assert "HX-Retarget" not in fragment.headers
    assert 'value="200"' in fragment.text and "Rp 2.600.000" in fragment.text  # 200 × Rp 13.000
    vendor_id = product.vendor_id
    oob = {
        f'<p class="subtotal" id="subtotal-{vendor_id}" hx-swap-oob="true">': "Rp 2.600.000",
        '<p class="grand-total" id="cart-total" hx-swap-oob="true">': "Rp 2.640.000",
        '<p class="grand-total" id="checkout-total" hx-swap-oob="true">': "Rp 2.640.000",
        '<span class="tab-badge" id="cart-count" hx-swap-oob="true">': "2</span>",
    }
    for opening, figure in oob.items():
        assert figure in fragment.text.split(opening, 1)[1].split("\n", 1)[0], opening
    assert "Keripik Tempe" not in fragment.text and 'id="checkout"' not in fragment.text
    # The whole page has each of those pieces under the same id.
    whole = (await client.get("/cart")).text
    for marker in (f'id="line-{product.id}"', f'id="subtotal-{vendor_id}"', 'id="cart-total"', 'id="checkout-total"'):
        assert marker in whole

    # A refusal changes more than the line (its message, what was typed): htmx gets the whole cart, in its place.
    refused = await submit(client, f"/cart/lines/{product.id}", {"quantity": "3", **typed}, headers=htmx)
    assert refused.status_code == 200 and refused.text.lstrip().startswith('<div id="cart">')
    assert (refused.headers["HX-Retarget"], refused.headers["HX-Reswap"]) == ("#cart", "outerHTML")
    assert t("The minimum order of %(product)s is %(minimum)s.", product=product.name, minimum=10) in refused.text
    assert "Antar ke dapur" in refused.text and typed["idempotency_key"] in refused.text  # typed stays

    too_few = await submit(client, f"/cart/lines/{product.id}", {"quantity": "3"})
    assert too_few.status_code == 400
    assert t("The minimum order of %(product)s is %(minimum)s.", product=product.name, minimum=10) in too_few.text

    removed = await submit(client, f"/cart/lines/{chips.id}/remove", {}, headers={"HX-Request": "true"})
    assert removed.status_code == 200 and "Keripik Tempe" not in removed.text
    # A quantity of 0 takes the line out: with htmx, the whole cart comes back in place of the cart.
    await in_cart(client, chips.id, 5)
    zero = await submit(client, f"/cart/lines/{chips.id}", {"quantity": "0"}, headers=htmx)
    assert zero.status_code == 200 and zero.headers["HX-Retarget"] == "#cart" and "Keripik Tempe" not in zero.text
    assert (await submit(client, f"/cart/lines/{product.id}", {"quantity": "0"})).status_code == 303
    assert t("Your cart is empty.") in (await client.get("/cart")).text


async def test_a_line_taken_off_sale_is_marked_in_the_cart(client, database, canteen_staff, catering):
    seller, product = catering
    await log_in(client, canteen_staff)
    await in_cart(client, product.id, 10)
    async with database.sessionmaker() as session:
        await catalog_service.pause_listing(
            session=session, vendor=await session.get(Vendor, seller.vendor.id), product_id=product.id, now=utcnow()
        )
        await session.commit()
    page = await client.get("/cart")
    assert t("No longer on sale") in page.text and 'class="item off-sale"' in page.text


# --- orders --------------------------------------------------------------------------------------------


async def test_a_buyer_cannot_see_another_buyers_order_but_a_colleague_of_the_canteen_can(
    client, other_client, world, zone, canteen, database, canteen_staff, worker, catering
):
    _, product = catering
    order = await place(database, canteen_staff, product.id, 200)
    colleague = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen, full_name="Budi Santoso")
    await log_in(client, colleague)
    detail = await client.get(f"/orders/{order.id}")
    assert detail.status_code == 200 and order.number in detail.text
    listing = await client.get("/orders")
    assert order.number in listing.text
    assert t("Placed by %(name)s", name="Dewi Lestari") in listing.text

    await log_in(other_client, worker)
    assert (await other_client.get(f"/orders/{order.id}")).status_code == 404
    assert order.number not in (await other_client.get("/orders")).text
    assert (
        await submit(other_client, f"/orders/{order.id}/status", {"target": "cancelled", "reason": "iseng"})
    ).status_code == 404
    assert (await submit(other_client, f"/orders/{order.id}/reorder", {})).status_code == 404


async def test_the_orders_list_filters_by_status_and_pages(client, database, canteen_staff, catering, monkeypatch):
    _, product = catering
    first = await place(database, canteen_staff, product.id, 10, key="a")
    second = await place(database, canteen_staff, product.id, 20, key="b")
    async with database.sessionmaker() as session:
        await change_status(
            session=session,
            order_id=first.id,
            target=OrderStatus.CANCELLED,
            actor=canteen_staff,
            reason="Salah tanggal",
            now=utcnow(),
            today=wib_today(utcnow()),
        )
        await session.commit()
    await log_in(client, canteen_staff)
    everything = await client.get("/orders")
    assert everything.text.index(second.number) < everything.text.index(first.number)  # newest first
    cancelled = await client.get("/orders", params={"status": "cancelled"})
    assert first.number in cancelled.text and second.number not in cancelled.text
    assert 'href="/orders?status=cancelled" aria-current="true"' in cancelled.text

    monkeypatch.setattr(order_service, "PER_PAGE", 1)
    page_one = await client.get("/orders")
    assert second.number in page_one.text and first.number not in page_one.text
    assert 'href="/orders?page=2"' in page_one.text
    page_two = await client.get("/orders", params={"page": "2"})
    assert first.number in page_two.text and 'href="/orders?page=1"' in page_two.text


async def test_cancelling_needs_a_reason_and_gives_the_capacity_back(client, database, canteen_staff, catering):
    seller, product = catering
    order = await place(database, canteen_staff, product.id, 200)
    assert await remaining(database, seller.vendor.id) == 300
    await log_in(client, canteen_staff)
    detail = await client.get(f"/orders/{order.id}")
    assert 'name="target" value="cancelled"' in detail.text and 'name="reason"' in detail.text
    assert 'value="completed"' not in detail.text  # "Received" only after delivery
    assert "wa.me/" in detail.text and order.number in detail.text

    refused = await submit(client, f"/orders/{order.id}/status", {"target": "cancelled", "reason": "  "})
    assert refused.status_code == 400 and t(MSG_REASON) in refused.text
    assert await remaining(database, seller.vendor.id) == 300

    done = await submit(client, f"/orders/{order.id}/status", {"target": "cancelled", "reason": "Pabrik libur"})
    assert done.status_code == 303 and done.headers["location"] == f"/orders/{order.id}?notice=cancelled"
    assert await remaining(database, seller.vendor.id) == 500
    page = await client.get(done.headers["location"])
    assert t("Cancelled") in page.text and "Pabrik libur" in page.text and "Dewi Lestari" in page.text
    assert 'name="reason"' not in page.text  # nothing left to cancel

    again = await submit(
        client, f"/orders/{order.id}/status", {"target": "cancelled", "reason": "lagi"}, headers={"HX-Request": "true"}
    )
    assert again.status_code == 200 and again.text.lstrip().startswith('<div id="order">')
    assert 'class="alert alert-error"' in again.text


async def test_received_then_the_review_form_and_the_vendors_answer(client, database, canteen_staff, catering):
    seller, product = catering
    order = await place(database, canteen_staff, product.id, 50)
    await log_in(client, canteen_staff)
    assert 'name="rating"' not in (await client.get(f"/orders/{order.id}")).text
    await vendor_moves(database, order.id, seller.user, OrderStatus.ACCEPTED, OrderStatus.READY, OrderStatus.DELIVERED)
    delivered = await client.get(f"/orders/{order.id}")
    assert 'name="target" value="completed"' in delivered.text and 'name="rating"' not in delivered.text
    early = await submit(client, f"/orders/{order.id}/review", {"rating": "5"})
    assert early.status_code == 409

    received = await submit(
        client, f"/orders/{order.id}/status", {"target": "completed"}, headers={"HX-Request": "true"}
    )
    assert received.status_code == 200 and received.text.lstrip().startswith('<div id="order">')
    assert 'name="rating" value="5"' in received.text and t("Completed") in received.text

    no_stars = await submit(client, f"/orders/{order.id}/review", {"comment": "Enak"})
    assert no_stars.status_code == 400 and t("Choose from 1 to 5 stars.") in no_stars.text
    assert "Enak" in no_stars.text  # the comment typed stays
    reviewed = await submit(client, f"/orders/{order.id}/review", {"rating": "4", "comment": "Enak, tepat waktu"})
    assert reviewed.status_code == 303
    async with database.sessionmaker() as session:
        await reply_to_review(
            session=session, actor=seller.user, order_id=order.id, reply="Terima kasih!", now=utcnow()
        )
        await session.commit()
    page = await client.get(f"/orders/{order.id}")
    assert "Enak, tepat waktu" in page.text and "Terima kasih!" in page.text and "★★★★☆" in page.text
    assert 'name="rating"' not in page.text


async def test_order_again_refills_the_cart_and_says_what_was_left_out(
    client, database, world, zone, canteen_staff, catering
):
    seller, product = catering
    drinks = await world.live_product(
        seller, "Es Teh Manis", category="drinks", unit="pcs", price=3000, min_order_qty=10
    )
    async with database.sessionmaker() as session:
        await cart.set_quantity(
            session=session, buyer=canteen_staff, product_id=drinks.id, quantity=30, today=wib_today(world.now)
        )
        await session.commit()
    order = await place(database, canteen_staff, product.id, 200)
    async with database.sessionmaker() as session:
        await catalog_service.pause_listing(
            session=session, vendor=await session.get(Vendor, seller.vendor.id), product_id=drinks.id, now=world.now
        )
        await session.commit()
    await log_in(client, canteen_staff)
    again = await submit(client, f"/orders/{order.id}/reorder", {})
    assert again.status_code == 303 and again.headers["location"] == "/cart?notice=reordered"
    page = await client.get(again.headers["location"])
    assert "Nasi Box Ayam Bakar" in page.text and 'value="200"' in page.text
    assert t("%(product)s is no longer on sale and was left out.", product="Es Teh Manis") in page.text
    shown_once = await client.get("/cart")
    assert t("%(product)s is no longer on sale and was left out.", product="Es Teh Manis") not in shown_once.text
    client.cookies.set("pk_flash", "WyJCYXlhciBkaSBzaW5pIl0.0000")  # ["Bayar di sini"], not signed by us
    assert "Bayar di sini" not in (await client.get("/cart")).text


async def test_forms_need_the_csrf_token(client, database, canteen_staff, catering):
    _, product = catering
    order = await place(database, canteen_staff, product.id, 10)
    await log_in(client, canteen_staff)
    for url, data in (
        (("/cart/lines", {"product_id": product.id, "quantity": 10})),
        (f"/cart/lines/{product.id}", {"quantity": 20}),
        (f"/cart/lines/{product.id}/remove", {}),
        ("/checkout", {"idempotency_key": "x"}),
        (f"/orders/{order.id}/status", {"target": "cancelled", "reason": "x"}),
        (f"/orders/{order.id}/reorder", {}),
        (f"/orders/{order.id}/review", {"rating": 5}),
    ):
        response = await client.post(url, data=data, follow_redirects=False)
        assert response.status_code == 403, url
    async with database.sessionmaker() as session:
        assert (await session.get(Order, order.id)).status == OrderStatus.PLACED


async def test_the_cart_and_an_order_take_at_most_five_queries(
    client, database, world, zone, canteen_staff, worker, catering, ordering, count_queries
):
    _, product = catering
    snacks = await world.seller(zone, business_name="Keripik Mbak Yuni")
    chips = [
        await world.live_product(
            snacks,
            f"Keripik {n}",
            category="snacks",
            unit="pack",
            price=8000,
            fulfilment="ready_stock",
            stock=40,
            tiers=[{"min_quantity": 20, "unit_price": 7000}],
        )
        for n in range(4)
    ]
    order = await place(database, canteen_staff, product.id, 200)
    await log_in(client, canteen_staff)
    for item in chips:
        await in_cart(client, item.id, 25)
    await in_cart(client, product.id, 10)
    for path in ("/cart", f"/orders/{order.id}", "/orders"):
        count_queries.statements.clear()
        response = await client.get(path)
        assert response.status_code == 200
        assert count_queries.count <= 5, (path, count_queries.statements)

    await ordering.gate()
    await log_in(client, worker)
    await in_cart(client, product.id, 10)
    count_queries.statements.clear()
    assert (await client.get("/cart")).status_code == 200
    assert count_queries.count <= 5, count_queries.statements


@pytest.mark.parametrize(
    ("role", "links"),
    [
        (Role.CANTEEN_STAFF, ("/catalogue", "/cart", "/orders", "/canteen/standing-orders", "/settings")),
        (Role.WORKER, ("/catalogue", "/cart", "/orders", "/settings")),
    ],
)
async def test_buyers_find_the_cart_orders_and_inbox_in_the_menu_and_on_their_home(
    client, world, zone, canteen, role, links
):
    user = await world.user(role, zone=zone, organisation=canteen if role == Role.CANTEEN_STAFF else None)
    await log_in(client, user)
    home = await client.get("/canteen" if role == Role.CANTEEN_STAFF else "/worker")
    nav = found(r'<nav class="tabbar" aria-label="[^"]+">.*?</nav>', home.text, re.S).group(0)
    assert re.findall(r'href="([^"]+)"', nav) == list(links)
    assert '<span class="tab-badge" id="cart-count"></span>' in nav  # an empty cart shows no count
    header = found(r'<header class="topbar">.*?</header>', home.text, re.S).group(0)
    assert 'href="/inbox"' in header
    main = home.text.split('<main id="main">', 1)[1]
    assert 'href="/cart"' in main and 'href="/orders"' in main
