"""The order's state machine, in one place: which status may follow which, who may move it, what it costs.

    pending_payment → placed → accepted | declined → ready → delivered → completed
    cancelled from pending_payment, placed or accepted, with a reason

Every change goes through `change_status`: it checks the transition and the actor's side, moves the status with a
conditional UPDATE (two people tapping at once: one wins, the other is told), records who, when and why, gives
back held capacity and stock on decline or cancellation, and notifies the other side.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlmodel import col

from backend.accounts.models import Role, User
from backend.accounts.service import organisation_staff_ids
from backend.catalog.models import Fulfilment
from backend.clock import format_date, wib_today
from backend.db import is_postgres, matched_rows
from backend.errors import N_, Forbidden, NotFound, StatusConflict, ValidationFailed
from backend.i18n import get_locale, gettext
from backend.notifications.service import Note, notify_each
from backend.orders import capacity
from backend.orders.claim_models import ClaimState, DeliveryClaim
from backend.orders.models import STATUS_LABELS, Order, OrderEvent, OrderLine, OrderStatus
from backend.payments.ledger import record_completed_order
from backend.payments.refunds import settle_closed_order
from backend.vendors.models import Vendor, VendorStatus

S = OrderStatus


class Side(StrEnum):
    BUYER = "buyer"  # the buyer, or for a canteen's order any staff member of the canteen
    VENDOR = "vendor"
    MANAGER = "manager"  # the zone's manager, or an admin
    SYSTEM = "system"  # payments, the unpaid-order job, standing orders, the completion job


TRANSITIONS: dict[tuple[OrderStatus, OrderStatus], frozenset[Side]] = {
    (S.PENDING_PAYMENT, S.PLACED): frozenset({Side.SYSTEM}),
    (S.PENDING_PAYMENT, S.CANCELLED): frozenset({Side.BUYER, Side.MANAGER, Side.SYSTEM}),
    (S.PLACED, S.ACCEPTED): frozenset({Side.VENDOR}),
    (S.PLACED, S.DECLINED): frozenset({Side.VENDOR}),
    (S.PLACED, S.CANCELLED): frozenset({Side.BUYER, Side.VENDOR, Side.MANAGER}),
    (S.ACCEPTED, S.READY): frozenset({Side.VENDOR}),
    (S.ACCEPTED, S.CANCELLED): frozenset({Side.BUYER, Side.VENDOR, Side.MANAGER}),
    (S.READY, S.DELIVERED): frozenset({Side.VENDOR}),
    (S.DELIVERED, S.COMPLETED): frozenset({Side.BUYER, Side.SYSTEM}),
}
NEEDS_REASON = frozenset({S.DECLINED, S.CANCELLED})
RELEASES_HOLDS = frozenset({S.DECLINED, S.CANCELLED})
# A delivered order the buyer did not confirm completes by itself after this long.
AUTO_COMPLETE_AFTER = timedelta(days=2)
MAX_REASON = 500

MSG_NOT_FOUND = N_("We could not find this order.")
MSG_ILLEGAL = N_("An order that is %(current)s cannot become %(target)s.")
MSG_NOT_YOURS = N_("You cannot make this change to the order.")
MSG_ACTION = N_("Choose one of the buttons on the order.")
MSG_REASON = N_("Say why, so the other side understands.")
MSG_CHANGED = N_("The order was changed meanwhile: it is %(current)s now. Look at it again.")
MSG_UNPAID = N_("Not paid in time.")
MSG_AUTO_COMPLETED = N_("Completed automatically two days after delivery.")
MSG_STATUS_CHANGED = N_("Order %(number)s: %(status)s")
MSG_SUSPENDED = N_("Your shop is suspended: you can only decline or cancel orders.")
MSG_BEFORE_DELIVERY_DAY = N_(
    "This order is to be delivered on %(day)s: it can be marked delivered on that day, not before."
)
MSG_CLAIM_OPEN = N_("The report of a short or damaged delivery is not settled yet: the order completes after it.")


def allowed_targets(order: Order, side: Side, *, today: date) -> list[OrderStatus]:
    """What this side may do with the order today (the buttons a page shows): marking it delivered waits for its
    delivery day, as `apply_transition` does."""
    current = OrderStatus(order.status)
    return [
        target
        for (source, target), sides in TRANSITIONS.items()
        if source == current and side in sides and not (target == S.DELIVERED and today < order.delivery_day)
    ]


def side_of(order: Order, vendor_user_id: int, actor: User) -> Side | None:
    """Which side of the order the user is on; None when the order is none of their business."""
    if actor.id == vendor_user_id:
        return Side.VENDOR
    if actor.id == order.buyer_id or (
        order.organisation_id is not None
        and actor.role == Role.CANTEEN_STAFF
        and actor.organisation_id == order.organisation_id
    ):
        return Side.BUYER
    if actor.role == Role.ADMIN or (actor.role == Role.MANAGER and actor.zone_id == order.zone_id):
        return Side.MANAGER
    return None


async def order_with_vendor_user(*, session: AsyncSession, order_id: int) -> tuple[Order, int] | None:
    """The order and its vendor's user id (the one person who acts as its vendor), or None when there is none."""
    row = (
        await session.execute(
            select(Order, col(Vendor.user_id))
            .join(Vendor, col(Vendor.id) == col(Order.vendor_id))
            .where(col(Order.id) == order_id)
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


async def load_for_change(*, session: AsyncSession, order_id: int, actor: User | None) -> tuple[Order, int, Side]:
    """The order, its vendor's user id, and the actor's side (SYSTEM without an actor); not found otherwise."""
    found = await order_with_vendor_user(session=session, order_id=order_id)
    if found is None:
        raise NotFound(MSG_NOT_FOUND)
    order, vendor_user_id = found
    side = Side.SYSTEM if actor is None else side_of(order, vendor_user_id, actor)
    if side is None:
        raise NotFound(MSG_NOT_FOUND)
    return order, vendor_user_id, side


async def change_status(
    *,
    session: AsyncSession,
    order_id: int,
    target: OrderStatus,
    actor: User | None,
    now: datetime,
    today: date,
    reason: str = "",
) -> Order:
    """Move an order to `target` for `actor` (None: the system) at `now`, `today` being the zone's date then.
    Refuses an illegal transition (409), a side that may not make it (403), a missing reason for a decline or
    cancellation (422), marking it delivered before its delivery day (409)."""
    order, vendor_user_id, side = await load_for_change(session=session, order_id=order_id, actor=actor)
    await apply_transition(
        session=session,
        order=order,
        vendor_user_id=vendor_user_id,
        side=side,
        target=target,
        actor=actor,
        reason=reason,
        now=now,
        today=today,
    )
    return order


async def apply_transition(
    *,
    session: AsyncSession,
    order: Order,
    vendor_user_id: int,
    side: Side,
    target: OrderStatus,
    actor: User | None,
    now: datetime,
    today: date,
    reason: str = "",
) -> None:
    current = OrderStatus(order.status)
    reason = reason.strip()[:MAX_REASON]
    allowed = TRANSITIONS.get((current, target))
    if allowed is None:
        raise StatusConflict(
            MSG_ILLEGAL,
            current_status=current.value,
            params={
                "current": gettext(STATUS_LABELS[current]).lower(),
                "target": gettext(STATUS_LABELS[target]).lower(),
            },
        )
    if side not in allowed:
        raise Forbidden(MSG_NOT_YOURS)
    if side == Side.VENDOR and target not in RELEASES_HOLDS and await _vendor_suspended(session, order.vendor_id):
        raise Forbidden(MSG_SUSPENDED)
    if target in NEEDS_REASON and not reason:
        raise ValidationFailed.single("reason", MSG_REASON)
    if target == S.DELIVERED and today < order.delivery_day:
        # An order handed over early would start the two days to completion before the buyer expects it.
        raise StatusConflict(
            MSG_BEFORE_DELIVERY_DAY,
            current_status=current.value,
            params={"day": format_date(order.delivery_day, get_locale())},
        )
    if target == S.COMPLETED and (await session.execute(select(unsettled_claim(order.id)))).scalar_one():
        raise StatusConflict(MSG_CLAIM_OPEN, current_status=current.value)
    moved = await session.execute(
        update(Order)
        .where(col(Order.id) == order.id, col(Order.status) == current)
        .values(status=target, status_reason=reason if target in NEEDS_REASON else order.status_reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if matched_rows(moved) != 1:
        # Someone else moved it first (PostgreSQL made us wait for them): this statement sees what they made of it.
        changed_to = OrderStatus(
            (await session.execute(select(col(Order.status)).where(col(Order.id) == order.id))).scalar_one()
        )
        raise StatusConflict(
            MSG_CHANGED, current_status=changed_to.value, params={"current": gettext(STATUS_LABELS[changed_to]).lower()}
        )
    order.status, order.updated_at = target, now
    if target in NEEDS_REASON:
        order.status_reason = reason
    session.add(
        OrderEvent(
            order_id=order.id,
            from_status=current,
            to_status=target,
            actor_id=actor.id if actor else None,
            actor_role=side.value,
            reason=reason,
            at=now,
        )
    )
    if target in RELEASES_HOLDS:
        await release_holds(session=session, order=order)
        # A paid card order gets its refund recorded; an unpaid card checkout with nothing left waiting, cancelled.
        await settle_closed_order(session=session, order=order, now=now)
    if target == S.COMPLETED:
        await record_completed_order(session=session, order=order, now=now)
    recipients = await _recipients(
        session=session, order=order, vendor_user_id=vendor_user_id, acting=side, actor=actor
    )
    # Each side follows the link to its own page of the order.
    await notify_each(
        session=session,
        now=now,
        notes=[
            Note(
                user_id=user_id,
                message=MSG_STATUS_CHANGED,
                params={"number": order.number, "status": target.value},
                url=order_url(order, vendor=user_id == vendor_user_id),
                order_id=order.id,
            )
            for user_id in sorted(recipients)
        ],
    )


def unsettled_claim(order_id: int | Mapped[int]) -> ColumnElement[bool]:
    """Whether the order has a report of a short or damaged delivery still open: it holds the order's completion."""
    return exists().where(col(DeliveryClaim.order_id) == order_id, col(DeliveryClaim.state) != ClaimState.SETTLED)


def order_url(order: Order, *, vendor: bool) -> str:
    return f"/vendor/orders/{order.id}" if vendor else f"/orders/{order.id}"


async def _vendor_suspended(session: AsyncSession, vendor_id: int) -> bool:
    status = (await session.execute(select(col(Vendor.status)).where(col(Vendor.id) == vendor_id))).scalar_one()
    return status != VendorStatus.ACTIVE


async def release_holds(*, session: AsyncSession, order: Order) -> None:
    """Give back the vendor's capacity for the day and the stock of ready goods that this order held."""
    if order.held_capacity:
        await capacity.release_capacity(
            session=session, vendor_id=order.vendor_id, day=order.delivery_day, quantity=order.held_capacity
        )
    stock: dict[int, int] = defaultdict(int)
    rows = await session.execute(
        select(col(OrderLine.product_id), col(OrderLine.quantity)).where(
            col(OrderLine.order_id) == order.id, col(OrderLine.fulfilment) == Fulfilment.READY_STOCK
        )
    )
    for product_id, quantity in rows:
        stock[product_id] += quantity
    await capacity.release_stocks(session=session, returned=dict(stock))


async def _recipients(
    *, session: AsyncSession, order: Order, vendor_user_id: int, acting: Side, actor: User | None
) -> set[int]:
    """Everyone on both sides but the person who acted: the vendor, the buyer and a canteen's whole staff."""
    users = {vendor_user_id, order.buyer_id}
    if order.organisation_id is not None:
        users |= await organisation_staff_ids(session=session, organisation_id=order.organisation_id)
    if actor is not None:
        users.discard(actor.id)
    return users


async def mark_checkout_paid(*, session: AsyncSession, checkout_id: int, now: datetime) -> list[Order]:
    """The payment of a checkout succeeded: each of its orders still waiting for it is placed (idempotent)."""
    rows = (
        await session.execute(
            select(Order, col(Vendor.user_id))
            .join(Vendor, col(Vendor.id) == col(Order.vendor_id))
            .where(col(Order.checkout_id) == checkout_id, col(Order.status) == S.PENDING_PAYMENT)
            .order_by(col(Order.id))
        )
    ).all()
    for order, vendor_user_id in rows:
        await apply_transition(
            session=session,
            order=order,
            vendor_user_id=vendor_user_id,
            side=Side.SYSTEM,
            target=S.PLACED,
            actor=None,
            now=now,
            today=wib_today(now),
        )
    return [order for order, _ in rows]


async def cancel_unpaid_orders(*, session: AsyncSession, now: datetime, limit: int = 200) -> int:
    """The job: card orders not paid by their due time are cancelled and what they held is released."""
    return await _system_transitions(
        session=session,
        target=S.CANCELLED,
        reason=MSG_UNPAID,
        now=now,
        limit=limit,
        where=[col(Order.status) == S.PENDING_PAYMENT, col(Order.payment_due_at) <= now],
    )


async def complete_delivered_orders(*, session: AsyncSession, now: datetime, limit: int = 200) -> int:
    """The job: delivered orders the buyer did not confirm complete two days after delivery, unless a report of a
    short or damaged delivery is still open."""
    return await _system_transitions(
        session=session,
        target=S.COMPLETED,
        reason=MSG_AUTO_COMPLETED,
        now=now,
        limit=limit,
        where=[
            col(Order.status) == S.DELIVERED,
            col(Order.updated_at) <= now - AUTO_COMPLETE_AFTER,
            ~unsettled_claim(col(Order.id)),
        ],
    )


async def _system_transitions(
    *,
    session: AsyncSession,
    target: OrderStatus,
    reason: str,
    now: datetime,
    limit: int,
    where: list[ColumnElement[bool]],
) -> int:
    statement = (
        select(Order, col(Vendor.user_id))
        .join(Vendor, col(Vendor.id) == col(Order.vendor_id))
        .where(*where)
        .order_by(col(Order.id))
        .limit(limit)
    )
    if is_postgres(session):
        # Several workers run the job: each takes orders the others are not handling.
        statement = statement.with_for_update(of=Order, skip_locked=True)
    changed = 0
    for order, vendor_user_id in (await session.execute(statement)).all():
        await apply_transition(
            session=session,
            order=order,
            vendor_user_id=vendor_user_id,
            side=Side.SYSTEM,
            target=target,
            actor=None,
            reason=reason,
            now=now,
            today=wib_today(now),
        )
        changed += 1
    return changed
