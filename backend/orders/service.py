"""Reading orders: a buyer's or vendor's list, one order with its timeline, the vendor's board for a day; and
reordering a past order. Each answers in a fixed number of queries, whatever the number of orders or lines."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, Date, ScalarSelect, Select, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from backend.accounts.models import Organisation, Role, User
from backend.accounts.service import staff_by_organisation
from backend.errors import N_, DomainError, NotFound, ValidationFailed
from backend.i18n import gettext
from backend.notifications.service import Note, notify_each
from backend.orders import cart as carts
from backend.orders.claim_models import ClaimState, DeliveryClaim
from backend.orders.models import OPEN_STATUSES, CapacityDay, Order, OrderEvent, OrderLine, OrderStatus, Review
from backend.orders.states import MSG_NOT_FOUND, Side, allowed_targets, order_with_vendor_user, side_of
from backend.payments.models import Refund
from backend.vendors.models import Vendor

PER_PAGE = 20
# The board shows what is still to prepare or to hand over, and what was handed over that day.
BOARD_STATUSES = (OrderStatus.PLACED, OrderStatus.ACCEPTED, OrderStatus.READY, OrderStatus.DELIVERED)

MSG_REORDER_GONE = N_("%(product)s is no longer on sale and was left out.")


@dataclass
class OrderSummary:
    """An order as a list or a board shows it."""

    order: Order
    vendor_name: str
    buyer_name: str
    buyer_phone: str
    organisation_name: str | None
    lines: list[OrderLine] = field(default_factory=list)
    # Where a report of a short or damaged delivery stands (the board's badge); None without one.
    claim_state: str | None = None


@dataclass
class OrderList:
    orders: list[OrderSummary]
    page: int
    has_more: bool


@dataclass
class TimelineEntry:
    at: datetime
    from_status: str | None
    to_status: str
    actor_name: str | None
    actor_role: str
    reason: str

    @property
    def reason_text(self) -> str:
        """The reason in the reader's language: the system writes message ids ("Not paid in time."), people
        write their own words."""
        return gettext(self.reason) if self.actor_role == Side.SYSTEM and self.reason else self.reason


@dataclass
class OrderDetail:
    summary: OrderSummary
    vendor: Vendor
    side: Side
    # What the reader may do next (the buttons).
    actions: list[OrderStatus]
    timeline: list[TimelineEntry]
    review: Review | None
    # The money given back for a paid card or bank-transfer order that was cancelled or declined, or for the agreed
    # part of a short or damaged delivery (pending until Stripe confirms, or until the platform's staff record the
    # transfer back).
    refund: Refund | None = None
    # The buyer's report of a short or damaged delivery, if one was made.
    claim: DeliveryClaim | None = None

    @property
    def order(self) -> Order:
        return self.summary.order

    @property
    def can_review(self) -> bool:
        """The buyer may rate a completed order once (orders.reviews enforces it)."""
        return self.side == Side.BUYER and self.order.status == OrderStatus.COMPLETED and self.review is None


@dataclass
class ProductTotal:
    product_name: str
    unit: str
    quantity: int


@dataclass
class BoardSlot:
    delivery_day: date
    slot: time
    orders: list[OrderSummary]
    # What to prepare for the slot, summed over its orders still to prepare: "350 box Nasi Box Ayam".
    totals: list[ProductTotal]

    @property
    def delivery_slot(self) -> time:
        """As an order names it, so a slot's heading reads like its orders' delivery."""
        return self.slot


@dataclass
class Board:
    day: date
    slots: list[BoardSlot]


def _summaries() -> Select[Order, str, str, str, str]:
    buyer = aliased(User)
    return (
        select(Order, col(Vendor.business_name), col(buyer.full_name), col(buyer.phone), col(Organisation.name))
        .join(Vendor, col(Vendor.id) == col(Order.vendor_id))
        .join(buyer, col(buyer.id) == col(Order.buyer_id))
        .outerjoin(Organisation, col(Organisation.id) == col(Order.organisation_id))
    )


async def _with_lines(*, session: AsyncSession, rows: Iterable[Sequence[Any]]) -> list[OrderSummary]:
    # Each row as _summaries() selects it: the order, its vendor's and buyer's names, the phone, the canteen.
    summaries = [
        OrderSummary(order=row[0], vendor_name=row[1], buyer_name=row[2], buyer_phone=row[3], organisation_name=row[4])
        for row in rows
    ]
    by_id = {summary.order.id: summary for summary in summaries}
    if by_id:
        lines = await session.execute(
            select(OrderLine).where(col(OrderLine.order_id).in_(by_id)).order_by(col(OrderLine.id))
        )
        for line in lines.scalars():
            by_id[line.order_id].lines.append(line)
    return summaries


def buyer_orders_filter(actor: User) -> ColumnElement[bool]:
    """A canteen's staff see all the canteen's orders; a worker sees their own."""
    if actor.role == Role.CANTEEN_STAFF and actor.organisation_id is not None:
        return or_(col(Order.organisation_id) == actor.organisation_id, col(Order.buyer_id) == actor.id)
    return col(Order.buyer_id) == actor.id


async def list_orders(
    *,
    session: AsyncSession,
    actor: User,
    vendor: Vendor | None = None,
    status: OrderStatus | None = None,
    page: int = 1,
) -> OrderList:
    """The vendor's orders when `vendor` is given (the actor's own shop), else the buyer's (or canteen's)."""
    statement = _summaries().where(
        col(Order.vendor_id) == vendor.id if vendor is not None else buyer_orders_filter(actor)
    )
    if status is not None:
        statement = statement.where(col(Order.status) == status)
    page = max(page, 1)
    rows = (
        await session.execute(
            statement.order_by(col(Order.created_at).desc(), col(Order.id).desc())
            .limit(PER_PAGE + 1)
            .offset((page - 1) * PER_PAGE)
        )
    ).all()
    return OrderList(
        orders=await _with_lines(session=session, rows=rows[:PER_PAGE]), page=page, has_more=len(rows) > PER_PAGE
    )


async def order_detail(
    *, session: AsyncSession, actor: User, order_id: int, today: date, as_side: Side | None = None
) -> OrderDetail:
    """One order for whoever may see it (its buyer or canteen, its vendor, the zone's manager), with its
    timeline and the actions open to the reader; three queries. With `as_side` only a reader on that side sees
    it (the buyer's pages, the vendor's): for anyone else it is not found."""
    row = (
        await session.execute(
            _summaries()
            .add_columns(Vendor, Review, Refund, DeliveryClaim)
            .outerjoin(Review, col(Review.order_id) == col(Order.id))
            .outerjoin(Refund, col(Refund.order_id) == col(Order.id))
            .outerjoin(DeliveryClaim, col(DeliveryClaim.order_id) == col(Order.id))
            .where(col(Order.id) == order_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(MSG_NOT_FOUND)
    vendor, review, refund, claim = row[5], row[6], row[7], row[8]
    side = side_of(row[0], vendor.user_id, actor)
    if side is None or as_side not in (None, side):
        raise NotFound(MSG_NOT_FOUND)
    (summary,) = await _with_lines(session=session, rows=[row[:5]])
    summary.claim_state = claim.state if claim is not None else None
    events = await session.execute(
        select(OrderEvent, col(User.full_name))
        .outerjoin(User, col(User.id) == col(OrderEvent.actor_id))
        .where(col(OrderEvent.order_id) == order_id)
        .order_by(col(OrderEvent.at), col(OrderEvent.id))
    )
    timeline = [
        TimelineEntry(
            at=event.at,
            from_status=event.from_status,
            to_status=event.to_status,
            actor_name=name,
            actor_role=event.actor_role,
            reason=event.reason,
        )
        for event, name in events
    ]
    return OrderDetail(
        summary=summary,
        vendor=vendor,
        side=side,
        actions=[
            target
            for target in allowed_targets(summary.order, side, today=today)
            # An open report holds the completion (orders.states refuses it too).
            if not (target == OrderStatus.COMPLETED and claim is not None and claim.state != ClaimState.SETTLED)
        ],
        timeline=timeline,
        review=review,
        refund=refund,
        claim=claim,
    )


async def vendor_board(*, session: AsyncSession, vendor: Vendor, day: date) -> Board:
    """A day's orders for the vendor, by slot, with what to prepare per product (two queries)."""
    rows = (
        await session.execute(
            _summaries()
            .add_columns(col(DeliveryClaim.state))
            .outerjoin(DeliveryClaim, col(DeliveryClaim.order_id) == col(Order.id))
            .where(
                col(Order.vendor_id) == vendor.id, col(Order.delivery_day) == day, col(Order.status).in_(BOARD_STATUSES)
            )
            .order_by(col(Order.delivery_slot), col(Order.id))
        )
    ).all()
    summaries = await _with_lines(session=session, rows=rows)
    for summary, row in zip(summaries, rows, strict=True):
        summary.claim_state = row[5]
    slots: dict[time, list[OrderSummary]] = defaultdict(list)
    for summary in summaries:
        slots[summary.order.delivery_slot].append(summary)
    board = []
    for slot, orders in slots.items():
        totals: dict[tuple[str, str], int] = defaultdict(int)
        for summary in orders:
            if summary.order.status in OPEN_STATUSES:
                for line in summary.lines:
                    totals[(line.product_name, line.unit)] += line.quantity
        board.append(
            BoardSlot(
                delivery_day=day,
                slot=slot,
                orders=orders,
                totals=[
                    ProductTotal(product_name=name, unit=unit, quantity=quantity)
                    for (name, unit), quantity in sorted(totals.items())
                ],
            )
        )
    return Board(day=day, slots=board)


def new_orders_count(vendor_id: int) -> ScalarSelect[int]:
    """The count of orders waiting for the vendor's answer, as a subquery a page's other query can carry."""
    return (
        select(func.count())
        .select_from(Order)
        .where(col(Order.vendor_id) == vendor_id, col(Order.status) == OrderStatus.PLACED)
        .scalar_subquery()
    )


@dataclass(frozen=True)
class BoardFacts:
    waiting: int  # orders waiting for the vendor's answer, any day
    day: date  # the day the board shows
    capacity_left: int | None  # what the vendor can still accept that day; None for a vendor without a capacity


async def board_facts(*, session: AsyncSession, vendor: Vendor, today: date, day: date | None) -> BoardFacts:
    """What heads the board, in one query: the new orders waiting, the day to show (`day`, or else the next day
    from `today` that has orders to prepare or deliver, or else today) and the capacity left that day."""
    next_day = (
        select(func.min(col(Order.delivery_day)))
        .where(
            col(Order.vendor_id) == vendor.id,
            col(Order.delivery_day) >= today,
            col(Order.status).in_(OPEN_STATUSES),
        )
        .scalar_subquery()
    )
    shown = literal(day, Date) if day is not None else func.coalesce(next_day, literal(today, Date), type_=Date)
    held = (
        select(col(CapacityDay.capacity) - col(CapacityDay.held))
        .where(col(CapacityDay.vendor_id) == vendor.id, col(CapacityDay.day) == shown)
        .scalar_subquery()
    )
    waiting, shown_day, left = (await session.execute(select(new_orders_count(vendor.id), shown, held))).one()
    if isinstance(shown_day, str):  # SQLite gives a computed date back as text
        shown_day = date.fromisoformat(shown_day)
    capacity = vendor.daily_capacity if left is None else left
    return BoardFacts(waiting=waiting, day=shown_day, capacity_left=capacity if vendor.daily_capacity else None)


@dataclass
class Reorder:
    added: list[str]
    # Why some lines were left out (message id and parameters).
    left_out: list[DomainError]


async def reorder(*, session: AsyncSession, actor: User, order_id: int, today: date) -> Reorder:
    """Put the lines of a past order back in the buyer's cart (today's prices apply at checkout); products no
    longer on sale `today` are left out and said so."""
    carts.ensure_buyer(actor)
    found = await order_with_vendor_user(session=session, order_id=order_id)
    if found is None or side_of(*found, actor) != Side.BUYER:
        raise NotFound(MSG_NOT_FOUND)
    lines = (
        (
            await session.execute(
                select(OrderLine).where(col(OrderLine.order_id) == order_id).order_by(col(OrderLine.id))
            )
        )
        .scalars()
        .all()
    )
    result = Reorder(added=[], left_out=[])
    for line in lines:
        try:
            async with session.begin_nested():
                await carts.set_quantity(
                    session=session, buyer=actor, product_id=line.product_id, quantity=line.quantity, today=today
                )
        except NotFound:
            result.left_out.append(DomainError(MSG_REORDER_GONE, params={"product": line.product_name}))
        except ValidationFailed as refused:
            first = refused.errors[0]
            result.left_out.append(DomainError(first.message, params=first.params))
        except DomainError as refused:
            result.left_out.append(refused)
        else:
            result.added.append(line.product_name)
    return result


MSG_VENDOR_SUSPENDED = N_(
    "%(vendor)s was suspended by the market manager: order %(number)s may not be delivered. You can cancel it."
)


async def warn_buyers_of_suspension(*, session: AsyncSession, vendor: Vendor, now: datetime) -> int:
    """A suspended vendor's open orders: their buyers (a canteen's whole staff) are told, order by order, and
    decide whether to cancel. Returns the number of orders concerned."""
    orders = (
        (
            await session.execute(
                select(Order).where(col(Order.vendor_id) == vendor.id, col(Order.status).in_(OPEN_STATUSES))
            )
        )
        .scalars()
        .all()
    )
    staff = await staff_by_organisation(
        session=session,
        organisation_ids={order.organisation_id for order in orders if order.organisation_id is not None},
    )
    await notify_each(
        session=session,
        now=now,
        notes=[
            Note(
                user_id=user_id,
                message=MSG_VENDOR_SUSPENDED,
                order_id=order.id,
                url=f"/orders/{order.id}",
                params={"vendor": vendor.business_name, "number": order.number},
            )
            for order in orders
            for user_id in sorted({order.buyer_id} | staff.get(order.organisation_id or 0, set()))
        ],
    )
    return len(orders)
