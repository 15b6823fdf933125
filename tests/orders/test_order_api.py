"""A canteen's procurement system and a vendor's till order through the JSON API, with the same rules as the pages:
cart with bulk prices, an idempotent checkout holding capacity, the order's life from both sides, reviews,
standing orders.

HTTP requests run on the real clock, so delivery days are counted from today (WIB); orders made through the
`ordering` helper run on its fixed clock and only their status changes go over HTTP.
"""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import func, select

from backend.accounts import service as account_service
from backend.accounts.models import Role
from backend.catalog import service as catalog_service
from backend.clock import format_date, utcnow, wib_to_utc, wib_today
from backend.orders import api as orders_api
from backend.orders import capacity
from backend.orders.models import CartLine, Checkout, Order
from backend.vendors.models import Vendor

PROBLEM = "application/problem+json"


async def bearer(database, user) -> dict[str, str]:
    async with database.sessionmaker() as session:
        raw, _ = await account_service.create_api_token(session=session, user=user, name="pengadaan")
        await session.commit()
    return {"Authorization": f"Bearer {raw}"}


def delivery_day() -> date:
    """Far enough ahead for "order before 15.00 the day before", whatever the time of day."""
    return wib_today(utcnow()) + timedelta(days=3)


def checkout_body(**changes) -> dict:
    body = {
        "delivery_day": delivery_day().isoformat(),
        "delivery_slot": "11:00",
        "delivery_kind": "canteen",
        "notes": "Shift pagi, lantai 2",
        "payment_method": "invoice",
    }
    return {**body, **changes}


async def check_out(client, auth, key: str, **changes):
    return await client.post(
        "/api/v1/checkouts", json=checkout_body(**changes), headers={**auth, "Idempotency-Key": key}
    )


async def remaining(database, vendor_id: int, day: date) -> int:
    async with database.sessionmaker() as session:
        return await capacity.remaining_capacity(session=session, vendor_id=vendor_id, day=day)


async def count(database, model) -> int:
    async with database.sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def move(client, auth, order_id: int, status: str, reason: str = ""):
    return await client.post(
        f"/api/v1/orders/{order_id}/transitions", json={"status": status, "reason": reason}, headers=auth
    )


def fields(response) -> list[str]:
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    return [error["field"] for error in response.json()["errors"]]


# --- the whole story ------------------------------------------------------------------------------------------


async def test_a_canteen_orders_200_box_and_the_vendor_delivers_them(
    client, database, catering, canteen_staff, monkeypatch
):
    seller, nasi_box = catering
    canteen = await bearer(database, canteen_staff)
    shop = await bearer(database, seller.user)
    day = delivery_day()

    # The canteen puts 200 box in the cart: the 200-box tier applies.
    put = await client.put(f"/api/v1/cart/lines/{nasi_box.id}", json={"quantity": 200}, headers=canteen)
    assert put.status_code == 200, put.text
    changed = put.json()  # the line it changed and the new totals, not the whole cart
    assert (changed["line"]["product_id"], changed["line"]["quantity"], changed["line"]["unit_price"]) == (
        nasi_box.id,
        200,
        13000,
    )
    assert changed["line"]["line_total"] == changed["vendor_subtotal"] == changed["total"] == 2_600_000
    assert (changed["vendor_id"], changed["line_count"]) == (seller.vendor.id, 1)
    cart = (await client.get("/api/v1/cart", headers=canteen)).json()
    (line,) = cart["vendors"][0]["lines"]
    assert (line["quantity"], line["base_price"], line["unit_price"], line["line_total"], line["on_sale"]) == (
        200,
        15000,
        13000,
        2_600_000,
        True,
    )
    assert cart["vendors"][0]["vendor_name"] == "Catering Bu Sri"
    assert cart["vendors"][0]["subtotal"] == cart["total"] == 2_600_000

    # It checks out with an Idempotency-Key: one order, capacity held.
    placed = await check_out(client, canteen, "po-2026-0042")
    assert placed.status_code == 201, placed.text
    checkout = placed.json()
    assert checkout["total"] == 2_600_000 and checkout["payment_method"] == "invoice"
    assert checkout["replayed"] is False
    (order,) = checkout["orders"]
    assert order["status"] == "placed" and order["total"] == 2_600_000 and order["vendor_id"] == seller.vendor.id
    assert order["delivery"]["day"] == day.isoformat() and order["delivery"]["slot"] == "11:00"
    assert order["delivery"]["at"].startswith(f"{day.isoformat()}T04:00:00")  # 11.00 WIB in UTC
    assert order["number"] == f"PK-{order['id']:06d}"
    assert await remaining(database, seller.vendor.id, day) == 300
    assert (await client.get("/api/v1/cart", headers=canteen)).json()["line_count"] == 0

    # The system retries the same request: the same checkout, nothing placed twice.
    again = await check_out(client, canteen, "po-2026-0042")
    assert again.status_code == 200, again.text
    assert again.json()["checkout_id"] == checkout["checkout_id"] and again.json()["replayed"] is True
    assert [o["id"] for o in again.json()["orders"]] == [order["id"]]
    assert await count(database, Order) == 1
    assert await remaining(database, seller.vendor.id, day) == 300

    # The same key with other details is a mistake, not a retry.
    reused = await check_out(client, canteen, "po-2026-0042", delivery_slot="12:00")
    assert reused.status_code == 409 and reused.json()["code"] == "conflict"
    assert await count(database, Order) == 1

    # The vendor sees it in the list and on the day's board with what to cook.
    listed = (await client.get("/api/v1/orders", headers=shop)).json()
    assert [o["id"] for o in listed["orders"]] == [order["id"]]
    assert listed["orders"][0]["organisation_name"] == "Kantin PT Garmen Nusantara"
    assert listed["orders"][0]["lines"][0]["unit_price"] == 13000
    board = await client.get(f"/api/v1/vendor/board?day={day.isoformat()}", headers=shop)
    assert board.status_code == 200, board.text
    (slot,) = board.json()["slots"]
    assert slot["slot"] == "11:00"
    assert slot["totals"] == [{"product_name": "Nasi Box Ayam Bakar", "unit": "box", "quantity": 200}]
    assert [o["id"] for o in slot["orders"]] == [order["id"]]

    # The vendor accepts, cooks and delivers; the canteen confirms.
    accepted = await move(client, shop, order["id"], "accepted")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted" and accepted.json()["actions"] == ["ready", "cancelled"]
    assert (await move(client, shop, order["id"], "ready")).status_code == 200
    # Cooked ahead, but handed over only on the delivery day: the API's clock moves there.
    monkeypatch.setattr(orders_api, "utcnow", lambda: wib_to_utc(day, time(10, 30)))
    assert (await move(client, shop, order["id"], "delivered")).status_code == 200
    seen = (await client.get(f"/api/v1/orders/{order['id']}", headers=canteen)).json()
    assert seen["side"] == "buyer" and seen["actions"] == ["completed"] and not seen["can_review"]
    completed = await move(client, canteen, order["id"], "completed")
    assert completed.status_code == 200 and completed.json()["status"] == "completed"
    assert completed.json()["can_review"]

    # The canteen rates it; the vendor answers once.
    review = await client.post(
        f"/api/v1/orders/{order['id']}/review",
        json={"rating": 5, "comment": "Tepat waktu, nasi masih hangat."},
        headers=canteen,
    )
    assert review.status_code == 201, review.text
    assert review.json()["rating"] == 5 and review.json()["reply"] is None
    reply = await client.post(
        f"/api/v1/orders/{order['id']}/review/reply", json={"reply": "Terima kasih, sampai minggu depan!"}, headers=shop
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["reply"] == "Terima kasih, sampai minggu depan!"
    second = await client.post(
        f"/api/v1/orders/{order['id']}/review/reply", json={"reply": "Sekali lagi"}, headers=shop
    )
    assert second.status_code == 409 and second.headers["content-type"].startswith(PROBLEM)

    detail = (await client.get(f"/api/v1/orders/{order['id']}", headers=shop)).json()
    assert detail["side"] == "vendor" and detail["actions"] == []
    assert [(e["from_status"], e["to_status"], e["actor_role"], e["actor_name"]) for e in detail["timeline"]] == [
        (None, "placed", "buyer", "Dewi Lestari"),
        ("placed", "accepted", "vendor", seller.user.full_name),
        ("accepted", "ready", "vendor", seller.user.full_name),
        ("ready", "delivered", "vendor", seller.user.full_name),
        ("delivered", "completed", "buyer", "Dewi Lestari"),
    ]
    assert all(entry["at"].endswith(("Z", "+00:00")) for entry in detail["timeline"])
    assert detail["review"]["rating"] == 5 and detail["review"]["reply"].startswith("Terima kasih")
    async with database.sessionmaker() as session:
        rated = await session.get(Vendor, seller.vendor.id)
        assert (rated.rating_count, rated.rating_sum) == (1, 5)


# --- the order's life: who may do what ------------------------------------------------------------------------


async def test_illegal_moves_are_409_the_other_sides_move_403_and_a_decline_needs_a_reason(
    client, database, ordering, catering, canteen_staff
):
    seller, nasi_box = catering
    # Placed on the real clock, as the API moves it on: its history must not start after the decline.
    day = delivery_day()
    order = await ordering.order(canteen_staff, nasi_box.id, 100, day=day, now=utcnow())
    canteen = await bearer(database, canteen_staff)
    shop = await bearer(database, seller.user)
    assert await ordering.remaining(seller.vendor.id, day) == 400

    skipped = await move(client, shop, order.id, "delivered")
    assert skipped.status_code == 409 and skipped.json()["code"] == "conflict"
    not_theirs = await move(client, canteen, order.id, "accepted")
    assert not_theirs.status_code == 403 and not_theirs.headers["content-type"].startswith(PROBLEM)
    silent = await move(client, shop, order.id, "declined")
    assert silent.status_code == 422 and fields(silent) == ["reason"]
    unknown = await move(client, shop, order.id, "eaten")
    assert unknown.status_code == 400 and "status" in fields(unknown)

    declined = await move(client, shop, order.id, "declined", reason="Kompor rusak hari itu")
    assert declined.status_code == 200, declined.text
    assert declined.json()["status_reason"] == "Kompor rusak hari itu"
    assert declined.json()["timeline"][-1]["reason"] == "Kompor rusak hari itu"
    assert await ordering.remaining(seller.vendor.id, day) == 500
    assert (await move(client, shop, order.id, "accepted")).status_code == 409


async def test_another_vendor_and_another_buyer_do_not_find_the_order(
    client, database, world, zone, ordering, catering, canteen, canteen_staff, worker
):
    _seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 50)
    rival = await world.seller(zone, business_name="Dapur Bu Tini")
    other_canteen = await ordering.canteen_buyer("Kantin PT Lain")

    for stranger in (rival.user, other_canteen, worker):
        auth = await bearer(database, stranger)
        assert (await client.get(f"/api/v1/orders/{order.id}", headers=auth)).status_code == 404
        assert (await move(client, auth, order.id, "cancelled", reason="bukan punya saya")).status_code == 404
        assert (await client.get("/api/v1/orders", headers=auth)).json()["orders"] == []
    assert (
        await client.post(
            f"/api/v1/orders/{order.id}/review/reply",
            json={"reply": "Halo"},
            headers=await bearer(database, rival.user),
        )
    ).status_code == 404
    assert (
        await client.post(f"/api/v1/orders/{order.id}/reorder", headers=await bearer(database, worker))
    ).status_code == 404

    # A colleague at the same canteen follows the canteen's orders.
    colleague = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen)
    seen = await client.get(f"/api/v1/orders/{order.id}", headers=await bearer(database, colleague))
    assert seen.status_code == 200 and seen.json()["side"] == "buyer"


async def test_orders_are_filtered_by_status_and_paged(client, database, ordering, catering, canteen_staff):
    seller, nasi_box = catering
    first = await ordering.order(canteen_staff, nasi_box.id, 10)
    await ordering.order(canteen_staff, nasi_box.id, 20)
    shop = await bearer(database, seller.user)
    assert (await move(client, shop, first.id, "accepted")).status_code == 200

    accepted = (await client.get("/api/v1/orders?status=accepted", headers=shop)).json()
    assert [o["id"] for o in accepted["orders"]] == [first.id]
    assert accepted["page"] == 1 and accepted["has_more"] is False
    mine = (await client.get("/api/v1/orders?status=placed", headers=await bearer(database, canteen_staff))).json()
    assert [o["lines"][0]["quantity"] for o in mine["orders"]] == [20]
    assert (await client.get("/api/v1/orders?page=2", headers=shop)).json()["orders"] == []
    bad = await client.get("/api/v1/orders?status=eaten", headers=shop)
    assert bad.status_code == 400 and bad.headers["content-type"].startswith(PROBLEM)
    assert (await client.get("/api/v1/orders?page=0", headers=shop)).status_code == 400


async def test_reordering_puts_what_is_still_on_sale_back_in_the_cart(
    client, database, world, ordering, catering, canteen_staff
):
    seller, nasi_box = catering
    drinks = await world.live_product(seller, "Es Teh Manis", price=3000, unit="pcs")
    await ordering.put_in_cart(canteen_staff, drinks.id, 100)
    order = await ordering.order(canteen_staff, nasi_box.id, 200)
    async with database.sessionmaker() as session:
        vendor = await session.get(Vendor, seller.vendor.id)
        await catalog_service.pause_listing(session=session, vendor=vendor, product_id=drinks.id, now=world.now)
        await session.commit()

    response = await client.post(f"/api/v1/orders/{order.id}/reorder", headers=await bearer(database, canteen_staff))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["added"] == ["Nasi Box Ayam Bakar"]
    assert len(body["left_out"]) == 1 and "Es Teh Manis" in body["left_out"][0]
    assert [(line["name"], line["quantity"], line["unit_price"]) for line in body["cart"]["vendors"][0]["lines"]] == [
        ("Nasi Box Ayam Bakar", 200, 13000)
    ]


# --- checkout rules over HTTP ---------------------------------------------------------------------------------


async def test_a_worker_pays_cash_at_a_gate_and_cannot_use_invoice_or_card(
    client, database, ordering, catering, worker
):
    _seller, nasi_box = catering
    gate = await ordering.gate()
    auth = await bearer(database, worker)
    points = (await client.get("/api/v1/delivery-points", headers=auth)).json()
    assert points == [
        {"id": gate.id, "kind": "gate", "name": "Gerbang 1 KITB", "latitude": -6.953, "longitude": 110.03}
    ]
    slots = (await client.get("/api/v1/delivery-slots", headers=auth)).json()
    assert slots["timezone"] == "Asia/Jakarta" and slots["slots"][0] == "05:00" and slots["slots"][-1] == "22:00"
    await client.put(f"/api/v1/cart/lines/{nasi_box.id}", json={"quantity": 10}, headers=auth)
    at_gate = {"delivery_kind": "zone_point", "delivery_point_id": gate.id}

    invoice = await check_out(client, auth, "w-1", payment_method="invoice", **at_gate)
    assert invoice.status_code == 422 and fields(invoice) == ["payment_method"]
    card = await check_out(client, auth, "w-2", payment_method="card", **at_gate)
    assert card.status_code == 422 and fields(card) == ["payment_method"]
    canteen_delivery = await check_out(client, auth, "w-3", payment_method="cash")
    assert canteen_delivery.status_code == 422 and fields(canteen_delivery) == ["delivery_kind"]
    assert await count(database, Order) == 0

    cash = await check_out(client, auth, "w-4", payment_method="cash", **at_gate)
    assert cash.status_code == 201, cash.text
    (order,) = cash.json()["orders"]
    assert (order["status"], order["payment_method"], order["total"]) == ("placed", "cash", 150_000)
    assert order["delivery"]["kind"] == "zone_point" and order["delivery"]["address"] == "Gerbang 1 KITB"


async def test_a_shortage_is_409_naming_each_product_and_nothing_is_held(client, database, world, zone, canteen_staff):
    small = await world.seller(zone, business_name="Dapur Kecil", daily_capacity=100)
    snack = await world.live_product(small, "Risoles Mayo", price=2500, unit="pcs", min_order_qty=10)
    auth = await bearer(database, canteen_staff)
    await client.put(f"/api/v1/cart/lines/{snack.id}", json={"quantity": 150}, headers=auth)

    response = await check_out(client, auth, "po-besar")

    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["code"] == "insufficient_capacity"
    assert [
        {key: s[key] for key in ("product_id", "product_name", "requested", "available")} for s in problem["shortages"]
    ] == [{"product_id": snack.id, "product_name": "Risoles Mayo", "requested": 150, "available": 100}]
    assert await remaining(database, small.vendor.id, delivery_day()) == 100
    assert await count(database, Checkout) == 0
    assert (await client.get("/api/v1/cart", headers=auth)).json()["line_count"] == 1


async def test_a_checkout_without_an_idempotency_key_is_refused(client, database, catering, canteen_staff):
    _, nasi_box = catering
    auth = await bearer(database, canteen_staff)
    await client.put(f"/api/v1/cart/lines/{nasi_box.id}", json={"quantity": 50}, headers=auth)

    missing = await client.post("/api/v1/checkouts", json=checkout_body(), headers=auth)
    empty = await check_out(client, auth, "")
    blank = await check_out(client, auth, "   ")

    for refused in (missing, empty, blank):
        assert refused.status_code == 422 and fields(refused) == ["idempotency_key"]
    assert await count(database, Order) == 0
    assert await count(database, CartLine) == 1


async def test_bad_input_is_a_problem_naming_the_field_never_a_500(client, database, catering, canteen_staff):
    _, nasi_box = catering
    auth = await bearer(database, canteen_staff)

    too_few = await client.put(f"/api/v1/cart/lines/{nasi_box.id}", json={"quantity": 5}, headers=auth)
    assert too_few.status_code == 422 and fields(too_few) == ["quantity"]
    zero = await client.put(f"/api/v1/cart/lines/{nasi_box.id}", json={"quantity": 0}, headers=auth)
    assert zero.status_code == 400 and fields(zero) == ["quantity"]
    gone = await client.put("/api/v1/cart/lines/999999", json={"quantity": 10}, headers=auth)
    assert gone.status_code == 404
    await client.put(f"/api/v1/cart/lines/{nasi_box.id}", json={"quantity": 10}, headers=auth)

    shapeless = await check_out(client, auth, "k-1", delivery_slot="11.00")
    assert shapeless.status_code == 400 and fields(shapeless) == ["delivery_slot"]
    off_slot = await check_out(client, auth, "k-2", delivery_slot="11:30")
    assert off_slot.status_code == 422 and fields(off_slot) == ["delivery_slot"]
    not_a_day = await check_out(client, auth, "k-3", delivery_day="besok")
    assert not_a_day.status_code == 400 and fields(not_a_day) == ["delivery_day"]
    past = await check_out(client, auth, "k-4", delivery_day=(wib_today(utcnow()) - timedelta(days=1)).isoformat())
    assert past.status_code == 422 and fields(past)[0] == "delivery_day"
    no_kind = await check_out(client, auth, "k-5", delivery_kind="drone")
    assert no_kind.status_code == 400 and fields(no_kind) == ["delivery_kind"]
    assert await count(database, Order) == 0

    removed = await client.delete(f"/api/v1/cart/lines/{nasi_box.id}", headers=auth)
    assert removed.status_code == 200
    assert removed.json() == {
        "line": None,
        "vendor_id": nasi_box.vendor_id,
        "vendor_subtotal": 0,
        "line_count": 0,
        "total": 0,
    }
    empty = await check_out(client, auth, "k-6")
    assert empty.status_code == 422 and fields(empty) == ["cart"]


async def test_only_buyers_have_a_cart_and_only_vendors_a_board(client, database, catering, canteen_staff, manager):
    seller, _ = catering
    shop = await bearer(database, seller.user)
    assert (await client.get("/api/v1/cart", headers=shop)).status_code == 403
    assert (await check_out(client, shop, "v-1")).status_code == 403
    assert (await client.get("/api/v1/vendor/board", headers=await bearer(database, canteen_staff))).status_code == 403
    assert (await client.get("/api/v1/orders", headers=await bearer(database, manager))).status_code == 403
    assert (await client.get("/api/v1/cart")).status_code == 401
    today = await client.get("/api/v1/vendor/board", headers=shop)
    assert today.status_code == 200 and today.json() == {"day": wib_today(utcnow()).isoformat(), "slots": []}


# --- standing orders ------------------------------------------------------------------------------------------


async def test_a_canteen_sets_up_pauses_and_resumes_a_standing_order(client, database, catering, canteen_staff, worker):
    _, nasi_box = catering
    auth = await bearer(database, canteen_staff)
    weekly = {
        "product_id": nasi_box.id,
        "quantity": 200,
        "weekdays": [1, 2, 3, 4, 5],
        "slot": "11:00",
        "delivery_kind": "canteen",
        "notes": "Shift pagi",
        "days_ahead": 7,
    }

    created = await client.post("/api/v1/standing-orders", json=weekly, headers=auth)

    assert created.status_code == 201, created.text
    standing = created.json()
    assert (
        standing["product_name"],
        standing["vendor_name"],
        standing["weekdays"],
        standing["slot"],
        standing["active"],
    ) == ("Nasi Box Ayam Bakar", "Catering Bu Sri", [1, 2, 3, 4, 5], "11:00", True)
    listed = (await client.get("/api/v1/standing-orders", headers=auth)).json()
    assert [s["id"] for s in listed] == [standing["id"]] and listed[0]["recent_runs"] == []

    paused = await client.post(f"/api/v1/standing-orders/{standing['id']}/pause", headers=auth)
    assert paused.status_code == 200 and paused.json()["active"] is False
    resumed = await client.post(f"/api/v1/standing-orders/{standing['id']}/resume", headers=auth)
    assert resumed.status_code == 200 and resumed.json()["active"] is True

    eighth_day = await client.post("/api/v1/standing-orders", json={**weekly, "weekdays": [1, 8]}, headers=auth)
    assert eighth_day.status_code == 400 and fields(eighth_day) == ["weekdays.1"]
    no_days = await client.post("/api/v1/standing-orders", json={**weekly, "weekdays": []}, headers=auth)
    assert no_days.status_code == 400 and fields(no_days) == ["weekdays"]
    off_slot = await client.post("/api/v1/standing-orders", json={**weekly, "slot": "11:30"}, headers=auth)
    assert off_slot.status_code == 422 and fields(off_slot) == ["slot"]
    too_far = await client.post("/api/v1/standing-orders", json={**weekly, "days_ahead": 15}, headers=auth)
    assert too_far.status_code == 400 and fields(too_far) == ["days_ahead"]
    assert len((await client.get("/api/v1/standing-orders", headers=auth)).json()) == 1

    by_worker = await client.get("/api/v1/standing-orders", headers=await bearer(database, worker))
    assert by_worker.status_code == 403
    other = await client.post("/api/v1/standing-orders/999999/pause", headers=auth)
    assert other.status_code == 404


# --- the document ---------------------------------------------------------------------------------------------


async def test_the_openapi_document_describes_the_ordering_api(client):
    response = await client.get("/schema/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/cart",
        "/api/v1/cart/lines/{product_id}",
        "/api/v1/delivery-points",
        "/api/v1/delivery-slots",
        "/api/v1/checkouts",
        "/api/v1/orders",
        "/api/v1/orders/{order_id}",
        "/api/v1/orders/{order_id}/transitions",
        "/api/v1/orders/{order_id}/review",
        "/api/v1/orders/{order_id}/review/reply",
        "/api/v1/orders/{order_id}/reorder",
        "/api/v1/vendor/board",
        "/api/v1/standing-orders",
        "/api/v1/standing-orders/{standing_order_id}/pause",
        "/api/v1/standing-orders/{standing_order_id}/resume",
    ):
        assert path in paths, path
    checkout = paths["/api/v1/checkouts"]["post"]
    assert checkout["security"] == [{"BearerToken": []}]
    (key,) = [p for p in checkout["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["in"] == "header" and key["required"] is True
    assert {"200", "201"} <= set(checkout["responses"])
    line = paths["/api/v1/cart/lines/{product_id}"]
    for method in ("put", "delete"):  # a line's change answers the line and the totals, not the whole cart
        answer = line[method]["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer["$ref"] == "#/components/schemas/CartChangePublic", (method, answer)
    assert "/api/v1/me" in paths


async def test_delivered_before_the_delivery_day_is_a_409_problem_naming_the_day(
    client, database, ordering, catering, canteen_staff
):
    seller, nasi_box = catering
    day = delivery_day()
    order = await ordering.order(canteen_staff, nasi_box.id, 100, day=day, now=utcnow())
    shop = await bearer(database, seller.user)
    for status in ("accepted", "ready"):
        assert (await move(client, shop, order.id, status)).status_code == 200

    early = await move(client, shop, order.id, "delivered")

    assert early.status_code == 409
    assert early.headers["content-type"].startswith(PROBLEM)
    problem = early.json()
    assert problem["code"] == "conflict" and problem["current_status"] == "ready"
    assert format_date(day, "en") in problem["detail"] or format_date(day, "id") in problem["detail"]
    async with database.sessionmaker() as session:
        assert (await session.get(Order, order.id)).status == "ready"
