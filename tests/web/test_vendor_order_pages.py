"""A vendor works the day's orders from a phone: the board by slot, one-tap answers, the packing list, an order's
page with the buyer's contact and history, and the one answer to a review.

The app runs on the real clock, so orders are placed for today (or tomorrow) as if the buyer had ordered the day
before at 09.00 WIB. Translations may lag behind the code: messages are compared through gettext, and markup
through data-* markers, URLs, status codes and the database.
"""

from __future__ import annotations

import html
import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.accounts.models import Role, User
from backend.clock import utcnow, wib_to_utc, wib_today
from backend.i18n import gettext
from backend.orders import capacity, cart
from backend.orders.delivery import DeliveryChoice
from backend.orders.models import STATUS_LABELS, DeliveryKind, Order, OrderEvent, OrderStatus, PaymentMethod, Review
from backend.orders.placement import place_checkout
from backend.orders.reviews import MSG_ALREADY_ANSWERED, review_order
from backend.orders.states import MSG_ILLEGAL, MSG_REASON, MSG_UNPAID, change_status
from tests.conftest import log_in, submit

ELEVEN = time(11, 0)
HTMX = {"HX-Request": "true"}


def text_of(page: str) -> str:
    """What a person reads: the markup's text with its white space collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def card(page: str, order_id: int) -> str:
    """The markup of one order's card on the board."""
    match = re.search(rf'<article class="order-card" id="order-{order_id}".*?</article>', page, re.S)
    assert match, f"no card for order {order_id}"
    return match.group(0)


@pytest.fixture
async def shop(world, zone):
    """Catering Bu Sri: 500 box a day; nasi box from 10, cheaper from 50 and 200; order by 15.00 the day before."""
    seller = await world.seller(zone, business_name="Catering Bu Sri", daily_capacity=500)
    product = await world.live_product(
        seller,
        "Nasi Box Ayam Bakar",
        price=15000,
        min_order_qty=10,
        order_cutoff=time(15, 0),
        tiers=[{"min_quantity": 50, "unit_price": 14000}, {"min_quantity": 200, "unit_price": 13000}],
    )
    return seller, product


class Buyers:
    """Canteens and workers placing orders, each step committed as a request would."""

    def __init__(self, world, database, zone) -> None:
        self.world, self.database, self.zone, self.keys = world, database, zone, 0

    async def canteen(self, name: str):
        organisation = await self.world.organisation(self.zone, name=name)
        return await self.world.user(Role.CANTEEN_STAFF, zone=self.zone, organisation=organisation)

    async def order(
        self, buyer, product_id: int, quantity: int, *, day: date | None = None, slot: time = ELEVEN, notes: str = ""
    ) -> Order:
        """An order the buyer placed yesterday at 09.00 WIB, for `day` (today by default)."""
        day = day or wib_today(utcnow())
        self.keys += 1
        placed_at = wib_to_utc(day - timedelta(days=1), time(9))
        async with self.database.sessionmaker() as session:
            await cart.set_quantity(
                session=session, buyer=buyer, product_id=product_id, quantity=quantity, today=wib_today(placed_at)
            )
            placement = await place_checkout(
                session=session,
                buyer=buyer,
                idempotency_key=f"key-{self.keys}",
                payment_method=PaymentMethod.INVOICE,
                now=placed_at,
                delivery=DeliveryChoice(day=day, slot=slot, kind=DeliveryKind.CANTEEN, notes=notes),
            )
            await session.commit()
            return placement.orders[0]

    async def status(self, order_id: int) -> str:
        async with self.database.sessionmaker() as session:
            return (await session.execute(select(col(Order.status)).where(col(Order.id) == order_id))).scalar_one()

    async def remaining(self, vendor_id: int, day: date | None = None) -> int:
        async with self.database.sessionmaker() as session:
            return await capacity.remaining_capacity(
                session=session, vendor_id=vendor_id, day=day or wib_today(utcnow())
            )


@pytest.fixture
def buyers(world, database, zone) -> Buyers:
    return Buyers(world, database, zone)


@pytest.fixture
async def two_canteen_orders(shop, buyers):
    """200 box for Kantin PT Sinar and 150 for Kantin PT Garmen, both for 11.00 today."""
    _seller, product = shop
    sinar = await buyers.canteen("Kantin PT Sinar")
    garmen = await buyers.canteen("Kantin PT Garmen")
    first = await buyers.order(sinar, product.id, 200, notes="Pintu belakang dapur")
    second = await buyers.order(garmen, product.id, 150)
    return first, second


# --- the board -------------------------------------------------------------------------------------------------


async def test_the_board_shows_todays_orders_by_slot_with_what_to_prepare(
    client, shop, buyers, two_canteen_orders, count_queries
):
    seller, product = shop
    first, second = two_canteen_orders
    early = await buyers.order(await buyers.canteen("Kantin PT Baja"), product.id, 20, slot=time(6, 0))
    await buyers.order(
        await buyers.canteen("Kantin PT Besok"), product.id, 30, day=wib_today(utcnow()) + timedelta(days=1)
    )
    await log_in(client, seller.user)

    count_queries.statements.clear()
    board = await client.get("/vendor/orders")

    assert board.status_code == 200
    assert count_queries.count <= 5, count_queries.statements
    page = board.text
    # Slots in time order, each headed by its totals.
    assert page.index('id="slot-0600"') < page.index('id="slot-1100"')
    eleven = page[page.index('id="slot-1100"') :]
    assert "350 box Nasi Box Ayam Bakar" in text_of(eleven[: eleven.index('class="order-card"')])
    assert "20 box Nasi Box Ayam Bakar" in text_of(page[page.index('id="totals-0600"') : page.index('id="slot-1100"')])
    for order, canteen in ((first, "Kantin PT Sinar"), (second, "Kantin PT Garmen")):
        shown = text_of(card(page, order.id))
        assert order.number in shown and canteen in shown
        assert 'data-status="placed"' in card(page, order.id)
        assert 'data-action="accepted"' in card(page, order.id)
        assert 'data-action="declined"' in card(page, order.id)
    assert "Pintu belakang dapur" in card(page, first.id)
    assert "Rp 2.600.000" in card(page, first.id)  # 200 × Rp 13.000
    assert f'id="order-{early.id}"' in page
    assert page.count('class="order-card"') == 3  # tomorrow's order is on tomorrow's board
    for link in (
        "/vendor/orders/list",
        f"/vendor/orders/packing?day={wib_today(utcnow()).isoformat()}",
        f"/vendor/orders?day={(wib_today(utcnow()) + timedelta(days=1)).isoformat()}",
    ):
        assert f'href="{link}"' in page

    tomorrow = await client.get(f"/vendor/orders?day={(wib_today(utcnow()) + timedelta(days=1)).isoformat()}")
    assert tomorrow.status_code == 200 and tomorrow.text.count('class="order-card"') == 1
    assert "30 box Nasi Box Ayam Bakar" in text_of(tomorrow.text)


async def test_the_board_opens_on_the_next_day_with_orders_and_says_the_capacity_left(client, shop, buyers):
    seller, product = shop
    in_three_days = wib_today(utcnow()) + timedelta(days=3)
    await buyers.order(await buyers.canteen("Kantin PT Nanti"), product.id, 200, day=in_three_days)
    await log_in(client, seller.user)

    board = await client.get("/vendor/orders")  # nothing today or tomorrow: the board opens where the work is

    assert board.status_code == 200 and board.text.count('class="order-card"') == 1
    assert f'href="/vendor/orders/packing?day={in_three_days.isoformat()}"' in board.text
    assert 'data-capacity-left="300"' in board.text  # 500 box a day, 200 held by the order
    today = await client.get(f"/vendor/orders?day={wib_today(utcnow()).isoformat()}")
    assert 'data-capacity-left="500"' in today.text and 'class="order-card"' not in today.text


async def test_accepting_with_one_tap_over_htmx_answers_the_updated_card(client, shop, buyers, two_canteen_orders):
    seller, _ = shop
    first, _ = two_canteen_orders
    await log_in(client, seller.user)

    answer = await submit(client, f"/vendor/orders/{first.id}/status", {"target": "accepted"}, headers=HTMX)

    assert answer.status_code == 200
    fragment = answer.text
    assert fragment.lstrip().startswith(f'<article class="order-card" id="order-{first.id}" data-status="accepted"')
    assert "<html" not in fragment
    assert 'data-action="ready"' in fragment and 'data-action="accepted"' not in fragment
    assert 'data-action="cancelled"' in fragment  # an accepted order may still be cancelled, with a reason
    assert f'hx-target="#order-{first.id}"' in fragment
    # The slot's totals come along out of band: accepted orders are still to prepare.
    assert 'id="totals-1100" hx-swap-oob="true"' in fragment
    assert "350 box Nasi Box Ayam Bakar" in text_of(fragment)
    assert await buyers.status(first.id) == OrderStatus.ACCEPTED


async def test_without_javascript_a_tap_goes_back_to_the_board_of_that_day(client, shop, buyers, two_canteen_orders):
    seller, _ = shop
    first, _ = two_canteen_orders
    await log_in(client, seller.user)

    answer = await submit(client, f"/vendor/orders/{first.id}/status", {"target": "accepted"})

    assert answer.status_code == 303
    assert answer.headers["location"] == f"/vendor/orders?day={wib_today(utcnow()).isoformat()}#order-{first.id}"
    board = await client.get("/vendor/orders")
    assert 'data-status="accepted"' in card(board.text, first.id)


async def test_a_decline_needs_a_reason_and_then_gives_the_capacity_back(client, shop, buyers, two_canteen_orders):
    seller, _product = shop
    first, _second = two_canteen_orders
    await log_in(client, seller.user)
    assert await buyers.remaining(seller.vendor.id) == 150

    refused = await submit(
        client, f"/vendor/orders/{first.id}/status", {"target": "declined", "reason": " "}, headers=HTMX
    )

    assert refused.status_code == 200  # htmx swaps only 2xx answers: the message travels in the card
    assert html.escape(gettext(MSG_REASON)) in refused.text
    assert '<details class="reason-form" open>' in refused.text
    assert await buyers.status(first.id) == OrderStatus.PLACED
    plain = await submit(client, f"/vendor/orders/{first.id}/status", {"target": "declined"})
    assert plain.status_code == 400
    assert html.escape(gettext(MSG_REASON)) in card(plain.text, first.id)
    assert "<html" in plain.text

    declined = await submit(
        client,
        f"/vendor/orders/{first.id}/status",
        {"target": "declined", "reason": "Dapur libur untuk perbaikan"},
        headers=HTMX,
    )

    assert declined.status_code == 200
    assert 'data-status="declined"' in declined.text
    assert "Dapur libur untuk perbaikan" in declined.text
    assert "data-action=" not in declined.text  # nothing left to do with a declined order
    # What is left to prepare in the slot: only the other canteen's 150.
    assert "150 box Nasi Box Ayam Bakar" in text_of(declined.text)
    assert await buyers.status(first.id) == OrderStatus.DECLINED
    assert await buyers.remaining(seller.vendor.id) == 350


async def test_an_illegal_transition_is_refused_with_a_message(client, shop, buyers, two_canteen_orders):
    seller, _ = shop
    first, _ = two_canteen_orders
    await log_in(client, seller.user)
    await submit(client, f"/vendor/orders/{first.id}/status", {"target": "accepted"})

    over_htmx = await submit(client, f"/vendor/orders/{first.id}/status", {"target": "delivered"}, headers=HTMX)
    plain = await submit(client, f"/vendor/orders/{first.id}/status", {"target": "delivered"})
    unknown = await submit(client, f"/vendor/orders/{first.id}/status", {"target": "paid"})

    message = html.escape(
        gettext(
            MSG_ILLEGAL,
            current=gettext(STATUS_LABELS[OrderStatus.ACCEPTED]).lower(),
            target=gettext(STATUS_LABELS[OrderStatus.DELIVERED]).lower(),
        )
    )
    assert over_htmx.status_code == 200 and message in over_htmx.text and 'role="alert"' in over_htmx.text
    assert plain.status_code == 409 and message in card(plain.text, first.id)
    assert unknown.status_code == 400
    assert await buyers.status(first.id) == OrderStatus.ACCEPTED


async def test_an_order_changed_meanwhile_is_shown_as_it_is_now(client, shop, buyers, two_canteen_orders, database):
    seller, _ = shop
    first, _ = two_canteen_orders
    await log_in(client, seller.user)
    async with database.sessionmaker() as session:  # the canteen cancels while the vendor's board is open
        buyer = await session.get(User, first.buyer_id)
        await change_status(
            session=session,
            order_id=first.id,
            target=OrderStatus.CANCELLED,
            actor=buyer,
            reason="Rapat dibatalkan",
            now=utcnow(),
            today=wib_today(utcnow()),
        )
        await session.commit()

    answer = await submit(client, f"/vendor/orders/{first.id}/status", {"target": "accepted"}, headers=HTMX)

    assert answer.status_code == 200
    assert 'data-status="cancelled"' in answer.text and 'role="alert"' in answer.text
    assert "Rapat dibatalkan" in answer.text


async def test_ready_then_delivered_moves_the_order_off_what_to_prepare(client, shop, buyers, two_canteen_orders):
    seller, _ = shop
    first, _ = two_canteen_orders
    await log_in(client, seller.user)
    for target in ("accepted", "ready"):
        assert (await submit(client, f"/vendor/orders/{first.id}/status", {"target": target})).status_code == 303

    delivered = await submit(client, f"/vendor/orders/{first.id}/status", {"target": "delivered"}, headers=HTMX)

    assert 'data-status="delivered"' in delivered.text
    assert "150 box Nasi Box Ayam Bakar" in text_of(delivered.text)
    board = await client.get("/vendor/orders")
    assert 'data-status="delivered"' in card(board.text, first.id)  # handed over today: still on the board


async def test_another_vendor_gets_not_found(client, world, zone, shop, buyers, two_canteen_orders):
    first, _ = two_canteen_orders
    rival = await world.seller(zone, business_name="Dapur Mbak Yuni")
    await log_in(client, rival.user)

    assert (await client.get(f"/vendor/orders/{first.id}")).status_code == 404
    assert (await submit(client, f"/vendor/orders/{first.id}/status", {"target": "accepted"})).status_code == 404
    assert (
        await submit(client, f"/vendor/orders/{first.id}/status", {"target": "accepted"}, headers=HTMX)
    ).status_code == 404
    assert (await submit(client, f"/vendor/orders/{first.id}/reply", {"reply": "Terima kasih"})).status_code == 404
    board = await client.get("/vendor/orders")
    assert first.number not in board.text
    assert await buyers.status(first.id) == OrderStatus.PLACED


async def test_buyers_and_strangers_are_kept_out(client, shop, two_canteen_orders, canteen_staff):
    first, _ = two_canteen_orders
    assert (await client.get("/vendor/orders", follow_redirects=False)).status_code == 303  # to the login page
    await log_in(client, canteen_staff)
    assert (await client.get("/vendor/orders")).status_code == 403
    assert (await client.get(f"/vendor/orders/{first.id}")).status_code == 403


async def test_a_vendor_without_a_profile_is_sent_to_fill_it_in(client, vendor):
    await log_in(client, vendor)
    answer = await client.get("/vendor/orders", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/vendor/profile")


async def test_a_status_change_needs_the_csrf_token(client, shop, buyers, two_canteen_orders):
    seller, _ = shop
    first, _ = two_canteen_orders
    await log_in(client, seller.user)

    forged = await client.post(f"/vendor/orders/{first.id}/status", data={"target": "accepted"}, follow_redirects=False)

    assert forged.status_code == 403
    assert await buyers.status(first.id) == OrderStatus.PLACED


# --- all orders, one order, packing ------------------------------------------------------------------------------


async def test_the_list_shows_every_order_filtered_by_status(client, shop, buyers, two_canteen_orders):
    seller, product = shop
    first, second = two_canteen_orders
    later = await buyers.order(
        await buyers.canteen("Kantin PT Lusa"), product.id, 40, day=wib_today(utcnow()) + timedelta(days=2)
    )
    await log_in(client, seller.user)
    await submit(client, f"/vendor/orders/{first.id}/status", {"target": "accepted"})

    everything = await client.get("/vendor/orders/list")
    placed = await client.get("/vendor/orders/list?status=placed")
    nonsense = await client.get("/vendor/orders/list?status=lost&page=x")

    assert everything.status_code == 200
    for order in (first, second, later):
        assert f'href="/vendor/orders/{order.id}"' in everything.text
    assert f'href="/vendor/orders/{first.id}"' not in placed.text
    assert f'href="/vendor/orders/{second.id}"' in placed.text and f'href="/vendor/orders/{later.id}"' in placed.text
    assert nonsense.status_code == 200 and f'href="/vendor/orders/{first.id}"' in nonsense.text


async def test_the_order_page_shows_delivery_buyer_contact_and_history(
    client, shop, buyers, two_canteen_orders, count_queries
):
    seller, _ = shop
    first, _ = two_canteen_orders
    await log_in(client, seller.user)
    await submit(client, f"/vendor/orders/{first.id}/status", {"target": "accepted"})

    count_queries.statements.clear()
    detail = await client.get(f"/vendor/orders/{first.id}")

    assert detail.status_code == 200
    assert count_queries.count <= 5, count_queries.statements
    shown = text_of(detail.text)
    assert first.number in shown and "Kantin PT Sinar" in shown and "Pintu belakang dapur" in shown
    assert "11.00 WIB" in shown
    async with buyers.database.sessionmaker() as session:
        buyer = await session.get(User, first.buyer_id)
    assert f"https://wa.me/{buyer.phone.lstrip('+')}?text=" in detail.text
    assert first.number in html.unescape(detail.text.split("https://wa.me/")[1].split('"')[0]).replace("%20", " ")
    assert detail.text.count("<li data-to=") == 2  # placed, then accepted
    assert 'data-to="accepted"' in detail.text and seller.user.full_name in shown
    assert 'data-action="ready"' in detail.text and 'name="back" value="detail"' in detail.text
    assert "hx-post" not in detail.text.split('id="order-')[1].split("</section>")[0]

    ready = await submit(client, f"/vendor/orders/{first.id}/status", {"target": "ready", "back": "detail"})
    assert ready.status_code == 303 and ready.headers["location"] == f"/vendor/orders/{first.id}"
    wrong = await submit(client, f"/vendor/orders/{first.id}/status", {"target": "accepted", "back": "detail"})
    assert wrong.status_code == 409 and 'role="alert"' in wrong.text and "<h1>" in wrong.text


async def test_the_system_reason_in_the_history_is_translated(client, shop, buyers, two_canteen_orders, database):
    seller, _ = shop
    first, _ = two_canteen_orders
    async with database.sessionmaker() as session:
        session.add(
            OrderEvent(
                order_id=first.id,
                from_status="pending_payment",
                to_status="placed",
                actor_id=None,
                actor_role="system",
                reason=MSG_UNPAID,
            )
        )
        await session.commit()
    await log_in(client, seller.user)

    detail = await client.get(f"/vendor/orders/{first.id}")

    assert html.escape(gettext(MSG_UNPAID)) in detail.text


async def test_the_packing_list_shows_every_order_of_the_day(client, shop, buyers, two_canteen_orders, count_queries):
    seller, product = shop
    first, second = two_canteen_orders
    early = await buyers.order(await buyers.canteen("Kantin PT Baja"), product.id, 20, slot=time(6, 0))
    other_day = await buyers.order(
        await buyers.canteen("Kantin PT Besok"), product.id, 30, day=wib_today(utcnow()) + timedelta(days=1)
    )
    await log_in(client, seller.user)
    await submit(client, f"/vendor/orders/{first.id}/status", {"target": "accepted"})

    count_queries.statements.clear()
    packing = await client.get(f"/vendor/orders/packing?day={wib_today(utcnow()).isoformat()}")

    assert packing.status_code == 200
    assert count_queries.count <= 5, count_queries.statements
    for order in (first, second, early):
        assert f'data-order="{order.id}"' in packing.text
    assert f'data-order="{other_day.id}"' not in packing.text
    shown = text_of(packing.text)
    assert "350 box Nasi Box Ayam Bakar" in shown and "20 box Nasi Box Ayam Bakar" in shown
    assert "Pintu belakang dapur" in shown and "Kantin PT Sinar" in shown
    assert packing.text.count('type="checkbox"') == 3
    assert 'class="no-print"' in packing.text


async def test_the_vendor_answers_a_review_once(client, shop, buyers, two_canteen_orders, database):
    seller, _ = shop
    first, _ = two_canteen_orders
    await log_in(client, seller.user)
    for target in ("accepted", "ready", "delivered"):
        await submit(client, f"/vendor/orders/{first.id}/status", {"target": target})
    async with database.sessionmaker() as session:
        buyer = await session.get(User, first.buyer_id)
        await change_status(
            session=session,
            order_id=first.id,
            target=OrderStatus.COMPLETED,
            actor=buyer,
            now=utcnow(),
            today=wib_today(utcnow()),
        )
        await review_order(
            session=session, actor=buyer, order_id=first.id, rating=4, comment="Enak, sambal kurang", now=utcnow()
        )
        await session.commit()

    detail = await client.get(f"/vendor/orders/{first.id}")
    assert "Enak, sambal kurang" in detail.text and f'action="/vendor/orders/{first.id}/reply"' in detail.text

    empty = await submit(client, f"/vendor/orders/{first.id}/reply", {"reply": "  "})
    assert empty.status_code == 400 and 'id="e-reply"' in empty.text
    answered = await submit(client, f"/vendor/orders/{first.id}/reply", {"reply": "Terima kasih, besok ditambah"})
    assert answered.status_code == 303
    assert answered.headers["location"] == f"/vendor/orders/{first.id}?notice=replied"
    again = await submit(client, f"/vendor/orders/{first.id}/reply", {"reply": "Sekali lagi"})

    assert again.status_code == 409 and html.escape(gettext(MSG_ALREADY_ANSWERED)) in again.text
    async with database.sessionmaker() as session:
        review = await session.get(Review, first.id)
    assert review.reply == "Terima kasih, besok ditambah"
    detail = await client.get(f"/vendor/orders/{first.id}")
    assert "Terima kasih, besok ditambah" in detail.text and "/reply" not in detail.text


# --- home --------------------------------------------------------------------------------------------------------


async def test_the_vendor_home_counts_new_orders_in_at_most_five_queries(
    client, shop, buyers, two_canteen_orders, count_queries
):
    seller, _ = shop
    first, _ = two_canteen_orders
    await log_in(client, seller.user)
    await submit(client, f"/vendor/orders/{first.id}/status", {"target": "accepted"})

    count_queries.statements.clear()
    home = await client.get("/vendor")

    assert home.status_code == 200
    assert count_queries.count <= 5, count_queries.statements
    assert 'data-new-orders="1"' in home.text  # the other canteen's order waits for an answer
    assert 'href="/vendor/orders"' in home.text


async def test_an_order_for_tomorrow_cannot_be_marked_delivered_today(client, shop, buyers):
    seller, product = shop
    tomorrow = wib_today(utcnow()) + timedelta(days=1)
    order = await buyers.order(await buyers.canteen("Kantin PT Sinar"), product.id, 100, day=tomorrow)
    await log_in(client, seller.user)
    for target in ("accepted", "ready"):
        assert (await submit(client, f"/vendor/orders/{order.id}/status", {"target": target})).status_code == 303

    plain = await submit(client, f"/vendor/orders/{order.id}/status", {"target": "delivered", "back": "detail"})
    over_htmx = await submit(client, f"/vendor/orders/{order.id}/status", {"target": "delivered"}, headers=HTMX)

    assert plain.status_code == 409
    assert "Pesanan ini diantar pada" in text_of(plain.text) and "tidak sebelumnya" in text_of(plain.text)
    assert over_htmx.status_code == 200 and 'role="alert"' in over_htmx.text
    assert "Pesanan ini diantar pada" in text_of(over_htmx.text)
    assert await buyers.status(order.id) == OrderStatus.READY


async def test_the_delivered_button_waits_for_the_delivery_day(client, shop, buyers):
    seller, product = shop
    today = wib_today(utcnow())
    canteen = await buyers.canteen("Kantin PT Sinar")
    due_today = await buyers.order(canteen, product.id, 100, day=today)
    due_tomorrow = await buyers.order(canteen, product.id, 100, day=today + timedelta(days=1))
    await log_in(client, seller.user)
    for order in (due_today, due_tomorrow):
        for target in ("accepted", "ready"):
            assert (await submit(client, f"/vendor/orders/{order.id}/status", {"target": target})).status_code == 303

    mark_delivered = 'name="target" value="delivered"'
    assert mark_delivered in (await client.get(f"/vendor/orders/{due_today.id}")).text
    assert mark_delivered not in (await client.get(f"/vendor/orders/{due_tomorrow.id}")).text
    board_tomorrow = await client.get(f"/vendor/orders?day={(today + timedelta(days=1)).isoformat()}")
    assert 'name="target" value="ready"' not in board_tomorrow.text and mark_delivered not in board_tomorrow.text
    assert mark_delivered in (await client.get(f"/vendor/orders?day={today.isoformat()}")).text
