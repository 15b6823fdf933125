"""Cash on delivery for workers: a limit on each vendor's order (the vendor carries the cash and the risk), and
the vendor's "cash received", recorded once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import User
from backend.config import DEFAULT_CASH_ON_DELIVERY_LIMIT
from backend.db import matched_rows
from backend.errors import N_, Conflict, FieldError, NotFound
from backend.money import format_rupiah
from backend.orders.models import Order, OrderStatus, PaymentMethod
from backend.orders.states import order_with_vendor_user

DEFAULT_CASH_LIMIT = DEFAULT_CASH_ON_DELIVERY_LIMIT
# Cash changes hands when the order is handed over.
CASH_RECEIVABLE = (OrderStatus.DELIVERED, OrderStatus.COMPLETED)

MSG_OVER_LIMIT = N_(
    "Cash on delivery is for orders up to %(limit)s; the order from %(vendor)s comes to "
    "%(total)s. Order less from this vendor, or choose another way to pay."
)
MSG_ORDER_NOT_FOUND = N_("We could not find this order.")
MSG_NOT_CASH = N_("This order is not paid in cash.")
MSG_NOT_HANDED_OVER = N_("Mark the cash received once the order is delivered.")
MSG_ALREADY_RECEIVED = N_("The cash for this order was already marked received.")


def cash_limit_problems(*, orders: list[Order], vendor_names: dict[int, str], limit: int) -> list[FieldError]:
    """One error per vendor whose order is above the cash-on-delivery limit, next to that vendor in the cart."""
    return [
        FieldError(
            f"vendor-{order.vendor_id}",
            MSG_OVER_LIMIT,
            {
                "limit": format_rupiah(limit),
                "vendor": vendor_names.get(order.vendor_id, ""),
                "total": format_rupiah(order.total),
            },
        )
        for order in orders
        if order.total > limit
    ]


class CashStep(StrEnum):
    """Where the cash of an order paid on delivery stands, for the vendor who collects it."""

    DUE = "due"  # to collect when the order is handed over
    RECEIVABLE = "receivable"  # handed over: the vendor can record the cash now
    RECEIVED = "received"  # recorded, once


def cash_step(order: Order) -> CashStep | None:
    """The order's cash step; None when it is not paid in cash, or when no cash will change hands (declined or
    cancelled before it was received)."""
    if order.payment_method != PaymentMethod.CASH:
        return None
    if order.cash_received_at is not None:
        return CashStep.RECEIVED
    if order.status in CASH_RECEIVABLE:
        return CashStep.RECEIVABLE
    if order.status in (OrderStatus.DECLINED, OrderStatus.CANCELLED):
        return None
    return CashStep.DUE


async def mark_cash_received(*, session: AsyncSession, actor: User, order_id: int, now: datetime) -> Order:
    """The vendor says the buyer paid the cash for a delivered (or completed) order; once only (409 after).
    Another vendor's order, or anyone else's, is not found."""
    found = await order_with_vendor_user(session=session, order_id=order_id)
    if found is None or found[1] != actor.id:
        raise NotFound(MSG_ORDER_NOT_FOUND)
    order = found[0]
    step = cash_step(order)
    if order.payment_method != PaymentMethod.CASH:
        raise Conflict(MSG_NOT_CASH)
    if step == CashStep.RECEIVED:
        raise Conflict(MSG_ALREADY_RECEIVED)
    if step != CashStep.RECEIVABLE:
        raise Conflict(MSG_NOT_HANDED_OVER)
    # A double tap, or the page and the API at once: one of them records it, the other is told.
    marked = await session.execute(
        update(Order)
        .where(col(Order.id) == order.id, col(Order.cash_received_at).is_(None))
        .values(cash_received_at=now, cash_received_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if matched_rows(marked) != 1:
        raise Conflict(MSG_ALREADY_RECEIVED)
    order.cash_received_at, order.cash_received_by_id = now, actor.id
    return order
