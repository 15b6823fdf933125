"""The order's life: only the transitions of the state machine, by the side allowed to make them, recorded, and
releasing what a declined or cancelled order held."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.accounts.models import Role
from backend.clock import wib_today
from backend.errors import Conflict, Forbidden, NotFound, StatusConflict, ValidationFailed
from backend.i18n import gettext
from backend.notifications.models import Notification
from backend.orders.models import STATUS_LABELS, Order, OrderEvent, OrderStatus, PaymentMethod
from backend.orders.states import (
    MSG_BEFORE_DELIVERY_DAY,
    MSG_CHANGED,
    TRANSITIONS,
    apply_transition,
    cancel_unpaid_orders,
    change_status,
    complete_delivered_orders,
    load_for_change,
    mark_checkout_paid,
)
from tests.orders.conftest import NEXT_MONDAY, NOW, ON_DELIVERY_DAY

S = OrderStatus


async def move(database, order_id, target, actor, reason="", now=NOW, today=None):
    """The actor's tap at `now`; `today` is the zone's date then unless a test says otherwise."""
    async with database.sessionmaker() as session:
        try:
            order = await change_status(
                session=session,
                order_id=order_id,
                target=target,
                actor=actor,
                reason=reason,
                now=now,
                today=today or wib_today(now),
            )
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
        return order


async def force_status(database, order_id, status):
    """Put an order in a status directly, to test what may follow it."""
    async with database.sessionmaker() as session:
        order = await session.get(Order, order_id)
        order.status = status
        await session.commit()


async def test_an_order_goes_from_placed_to_completed_and_every_step_is_recorded(
    ordering, catering, canteen_staff, database
):
    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 200)
    for target, actor, now in (
        (S.ACCEPTED, seller.user, NOW),
        (S.READY, seller.user, NOW),
        (S.DELIVERED, seller.user, ON_DELIVERY_DAY),
        (S.COMPLETED, canteen_staff, ON_DELIVERY_DAY),
    ):
        assert (await move(database, order.id, target, actor, now=now)).status == target

    async with database.sessionmaker() as session:
        events = (
            (
                await session.execute(
                    select(OrderEvent).where(col(OrderEvent.order_id) == order.id).order_by(col(OrderEvent.id))
                )
            )
            .scalars()
            .all()
        )
    assert [(e.from_status, e.to_status, e.actor_role) for e in events] == [
        (None, "placed", "buyer"),
        ("placed", "accepted", "vendor"),
        ("accepted", "ready", "vendor"),
        ("ready", "delivered", "vendor"),
        ("delivered", "completed", "buyer"),
    ]
    assert await ordering.remaining(seller.vendor.id) == 300  # a completed order keeps its capacity


@pytest.mark.parametrize("current", list(S))
async def test_every_illegal_transition_is_refused_and_changes_nothing(
    ordering, catering, canteen_staff, database, manager, current
):
    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 50)
    await force_status(database, order.id, current)
    for target in S:
        if (current, target) in TRANSITIONS:
            continue
        for actor in (seller.user, canteen_staff, manager):
            with pytest.raises(Conflict):
                await move(database, order.id, target, actor, reason="alasan")
    async with database.sessionmaker() as session:
        assert (await session.get(Order, order.id)).status == current
        assert len((await session.execute(select(OrderEvent).where(col(OrderEvent.order_id) == order.id))).all()) == 1


async def test_the_one_who_loses_a_race_for_the_order_is_told_what_it_is_now(
    ordering, catering, canteen_staff, database
):
    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 100)
    async with database.sessionmaker() as vendors_session:
        # The vendor has the order open (placed) when the canteen cancels it.
        seen, vendor_user_id, side = await load_for_change(
            session=vendors_session, order_id=order.id, actor=seller.user
        )
        await move(database, order.id, S.CANCELLED, canteen_staff, reason="Salah tanggal")
        with pytest.raises(StatusConflict) as lost:
            await apply_transition(
                session=vendors_session,
                order=seen,
                vendor_user_id=vendor_user_id,
                side=side,
                target=S.ACCEPTED,
                actor=seller.user,
                now=NOW,
                today=wib_today(NOW),
            )
        await vendors_session.rollback()
    assert lost.value.current_status == S.CANCELLED
    assert lost.value.message == MSG_CHANGED
    assert lost.value.params == {"current": gettext(STATUS_LABELS[S.CANCELLED]).lower()}
    assert await ordering.remaining(seller.vendor.id) == 500  # released once, by the cancellation


async def test_each_side_may_only_make_its_own_moves(ordering, catering, canteen_staff, database):
    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 50)
    with pytest.raises(Forbidden):
        await move(database, order.id, S.ACCEPTED, canteen_staff)  # a buyer cannot accept their own order
    await move(database, order.id, S.ACCEPTED, seller.user)
    with pytest.raises(Forbidden):
        await move(database, order.id, S.READY, canteen_staff)
    await force_status(database, order.id, S.PENDING_PAYMENT)
    with pytest.raises(Forbidden):
        await move(database, order.id, S.PLACED, canteen_staff)  # only a payment places a card order


async def test_strangers_do_not_even_see_the_order(ordering, world, zone, catering, canteen_staff, worker, database):
    _, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 50)
    other_vendor = await world.seller(zone, business_name="Dapur Lain")
    other_zone = await world.zone(code="KIW", name="Kawasan Industri Wijayakusuma")
    far_manager = await world.user(Role.MANAGER, zone=other_zone)
    for stranger in (worker, other_vendor.user, far_manager):
        with pytest.raises(NotFound):
            await move(database, order.id, S.CANCELLED, stranger, reason="bukan urusan saya")


async def test_a_colleague_of_the_same_canteen_can_cancel_the_canteens_order(
    ordering, world, zone, canteen, catering, canteen_staff, database
):
    _, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 50)
    colleague = await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen)
    assert (await move(database, order.id, S.CANCELLED, colleague, reason="Libur pabrik")).status == S.CANCELLED


async def test_declining_needs_a_reason_and_gives_the_capacity_back(ordering, catering, canteen_staff, database):
    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 200)
    with pytest.raises(ValidationFailed):
        await move(database, order.id, S.DECLINED, seller.user, reason="  ")
    assert await ordering.remaining(seller.vendor.id) == 300

    declined = await move(database, order.id, S.DECLINED, seller.user, reason="Kompor rusak")
    assert (declined.status, declined.status_reason) == (S.DECLINED, "Kompor rusak")
    assert await ordering.remaining(seller.vendor.id) == 500
    async with database.sessionmaker() as session:
        notes = (
            await session.execute(select(Notification).where(col(Notification.user_id) == canteen_staff.id))
        ).scalars()
        assert [(n.message, n.params["status"]) for n in notes] == [("Order %(number)s: %(status)s", "declined")]


async def test_cancelling_an_accepted_order_gives_back_capacity_and_stock(
    ordering, world, zone, catering, canteen_staff, database
):
    seller, nasi_box = catering
    drinks = await world.live_product(
        seller, "Es Teh Botol", category="drinks", price=4000, unit="pcs", fulfilment="ready_stock", stock=100
    )
    await ordering.put_in_cart(canteen_staff, nasi_box.id, 100)
    await ordering.put_in_cart(canteen_staff, drinks.id, 60)
    order = (await ordering.checkout(canteen_staff)).orders[0]
    await move(database, order.id, S.ACCEPTED, seller.user)
    assert await ordering.remaining(seller.vendor.id) == 400

    await move(database, order.id, S.CANCELLED, canteen_staff, reason="Jadwal produksi berubah")

    assert await ordering.remaining(seller.vendor.id) == 500
    async with database.sessionmaker() as session:
        assert (await session.get(type(drinks), drinks.id)).stock == 100


async def test_the_unpaid_order_job_cancels_late_card_orders_and_releases_their_capacity(
    ordering, catering, canteen_staff, database
):
    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 150, payment=PaymentMethod.CARD)
    async with database.sessionmaker() as session:
        assert await cancel_unpaid_orders(session=session, now=NOW + timedelta(minutes=29)) == 0
        assert await cancel_unpaid_orders(session=session, now=NOW + timedelta(minutes=31)) == 1
        await session.commit()
    async with database.sessionmaker() as session:
        cancelled = await session.get(Order, order.id)
        assert (cancelled.status, cancelled.status_reason) == (S.CANCELLED, "Not paid in time.")
        event = (await session.execute(select(OrderEvent).where(col(OrderEvent.to_status) == "cancelled"))).scalar_one()
        assert (event.actor_id, event.actor_role) == (None, "system")
        assert await cancel_unpaid_orders(session=session, now=NOW + timedelta(hours=2)) == 0  # idempotent
    assert await ordering.remaining(seller.vendor.id) == 500


async def test_a_paid_checkout_places_its_orders_once(ordering, world, zone, catering, canteen_staff, database):
    _seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 100, payment=PaymentMethod.CARD)
    for _ in range(2):
        async with database.sessionmaker() as session:
            await mark_checkout_paid(session=session, checkout_id=order.checkout_id, now=NOW)
            await session.commit()
    async with database.sessionmaker() as session:
        assert (await session.get(Order, order.id)).status == S.PLACED
        events = (
            await session.execute(
                select(col(OrderEvent.to_status))
                .where(col(OrderEvent.order_id) == order.id)
                .order_by(col(OrderEvent.id))
            )
        ).all()
        assert [e[0] for e in events] == ["pending_payment", "placed"]
        # A paid order is no longer cancelled by the unpaid-order job.
        assert await cancel_unpaid_orders(session=session, now=NOW + timedelta(hours=1)) == 0


async def test_delivered_orders_complete_by_themselves_after_two_days(ordering, catering, canteen_staff, database):
    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 50)
    for target in (S.ACCEPTED, S.READY):
        await move(database, order.id, target, seller.user)
    await move(database, order.id, S.DELIVERED, seller.user, now=ON_DELIVERY_DAY)
    async with database.sessionmaker() as session:
        assert await complete_delivered_orders(session=session, now=ON_DELIVERY_DAY + timedelta(days=1)) == 0
        assert await complete_delivered_orders(session=session, now=ON_DELIVERY_DAY + timedelta(days=2, minutes=1)) == 1
        await session.commit()
        assert (await session.get(Order, order.id)).status == S.COMPLETED


async def test_an_order_cannot_be_marked_delivered_before_its_delivery_day(ordering, catering, canteen_staff, database):
    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 200)  # for Monday 30 November
    for target in (S.ACCEPTED, S.READY):
        await move(database, order.id, target, seller.user)

    with pytest.raises(StatusConflict) as early:
        await move(database, order.id, S.DELIVERED, seller.user, today=NEXT_MONDAY - timedelta(days=1))

    assert early.value.message == MSG_BEFORE_DELIVERY_DAY
    assert early.value.current_status == S.READY
    assert early.value.params == {"day": "30 November 2026"}
    async with database.sessionmaker() as session:
        assert (await session.get(Order, order.id)).status == S.READY
    delivered = await move(database, order.id, S.DELIVERED, seller.user, now=ON_DELIVERY_DAY, today=NEXT_MONDAY)
    assert delivered.status == S.DELIVERED


async def test_an_order_may_be_marked_delivered_after_its_delivery_day(ordering, catering, canteen_staff, database):
    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 50)
    for target in (S.ACCEPTED, S.READY):
        await move(database, order.id, target, seller.user)
    late = ON_DELIVERY_DAY + timedelta(days=1)  # the vendor forgot to tap on the day itself
    assert (await move(database, order.id, S.DELIVERED, seller.user, now=late, today=wib_today(late))).status == (
        S.DELIVERED
    )
