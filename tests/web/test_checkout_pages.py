"""What a canteen reads around a checkout: when its order is delivered (never mistaken for when it was ordered),
its delivery details and PO number, the slots it may choose, and the warnings before it places an order."""

from __future__ import annotations

from backend.clock import format_slot
from backend.orders.models import Order
from tests.conftest import found, log_in
from tests.web.test_order_pages import DAY, place, t


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
