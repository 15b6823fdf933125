"""Figures for people who run a shop, a canteen's purchasing or a zone: each report is a few aggregate queries.

A "sale" is an order the vendor has to deliver or delivered: placed, accepted, ready, delivered or completed (not
waiting for payment, not declined or cancelled). Days are delivery days, already WIB dates in the database; weeks
are ISO weeks (Monday to Sunday) and months calendar months of those days. Values are integer rupiah: order totals,
or line totals for products, less what a settled report of a short or damaged delivery gave back (its refund or
credit note), as the ledger enters them; a product's quantity likewise leaves out the agreed short or damaged ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    ScalarSelect,
    SQLColumnExpression,
    and_,
    case,
    cast,
    distinct,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Organisation, Role, User, Zone
from backend.catalog.models import ListingStatus, Product
from backend.certification.models import Certificate, CertificateStatus
from backend.clock import wib_today
from backend.db import is_postgres
from backend.errors import N_, FieldError, Forbidden, NotFound, ValidationFailed
from backend.orders.claim_models import ClaimState, DeliveryClaim, DeliveryClaimLine
from backend.orders.models import Order, OrderLine, OrderStatus
from backend.payments.ledger import settled_claim_amount
from backend.vendors.models import Vendor, VendorStatus

SALE_STATUSES = (
    OrderStatus.PLACED,
    OrderStatus.ACCEPTED,
    OrderStatus.READY,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
)
DEFAULT_DAYS = 30
DEFAULT_WEEKS = 12
DEFAULT_MONTHS = 12
MAX_DAYS = 400  # a little over a year: enough for any report, small enough for one chart

MSG_RANGE_YEARS = N_("Choose dates between %(first)s and %(last)s.")
MSG_RANGE_ORDER = N_("The start date must be on or before the end date.")
MSG_RANGE_LONG = N_("Choose at most %(days)s days.")
MSG_ZONE_NOT_FOUND = N_("We could not find this zone.")


# --- date ranges --------------------------------------------------------------------------------------


def last_days(today: date, days: int = DEFAULT_DAYS) -> tuple[date, date]:
    """The last `days` days up to today."""
    return today - timedelta(days=days - 1), today


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def last_weeks(today: date, weeks: int = DEFAULT_WEEKS) -> tuple[date, date]:
    """The last `weeks` ISO weeks, this one included (Monday … Sunday)."""
    monday = week_start(today)
    return monday - timedelta(weeks=weeks - 1), monday + timedelta(days=6)


def month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def last_months(today: date, months: int = DEFAULT_MONTHS) -> tuple[date, date]:
    """The last `months` calendar months, this one included."""
    return _add_months(month_start(today), -(months - 1)), _add_months(month_start(today), 1) - timedelta(days=1)


FIRST_YEAR, LAST_YEAR = 2000, 2100


def check_range(start: date, end: date) -> None:
    if not (FIRST_YEAR <= start.year <= LAST_YEAR and FIRST_YEAR <= end.year <= LAST_YEAR):
        # Weeks and months are counted past the range's end: year 9999 would overflow, year 1 means nothing.
        raise ValidationFailed([FieldError("from", MSG_RANGE_YEARS, {"first": FIRST_YEAR, "last": LAST_YEAR})])
    if start > end:
        raise ValidationFailed([FieldError("from", MSG_RANGE_ORDER)])
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailed([FieldError("from", MSG_RANGE_LONG, {"days": MAX_DAYS})])


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _weeks(start: date, end: date) -> list[date]:
    monday, weeks = week_start(start), []
    while monday <= end:
        weeks.append(monday)
        monday += timedelta(weeks=1)
    return weeks


def _months(start: date, end: date) -> list[date]:
    first, months = month_start(start), []
    while first <= end:
        months.append(first)
        first = _add_months(first, 1)
    return months


def _period(session: AsyncSession, column: SQLColumnExpression[date], unit: str) -> ColumnElement[Any]:
    """The Monday of a date's ISO week, or the first of its month, computed by the database so it can group by it.
    The units are literal SQL (not bound parameters): PostgreSQL must see the same expression in GROUP BY."""
    if is_postgres(session):
        return cast(func.date_trunc(literal_column(f"'{unit}'"), column), Date)
    modifier = "'weekday 0', '-6 days'" if unit == "week" else "'start of month'"
    return func.date(column, literal_column(modifier))


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _sales(start: date, end: date) -> ColumnElement[bool]:
    return and_(col(Order.status).in_(SALE_STATUSES), col(Order.delivery_day) >= start, col(Order.delivery_day) <= end)


def _order_value() -> ColumnElement[int]:
    """An order's total less what a settled short or damaged delivery gave back: the gross the ledger enters."""
    return col(Order.total) - settled_claim_amount(col(Order.id))


# An order line's agreed short or damaged quantity once its report is settled (0 otherwise), on queries of order
# lines outer-joined to their claim line and its settled claim (`_with_settled_claims`); at most one claim line
# per order line, so the join never repeats a line.
_AGREED = case((col(DeliveryClaim.id).is_not(None), func.coalesce(col(DeliveryClaimLine.agreed_quantity), 0)), else_=0)
_LINE_QUANTITY = col(OrderLine.quantity) - _AGREED
_LINE_VALUE = col(OrderLine.line_total) - _AGREED * col(OrderLine.unit_price)


def _with_settled_claims(query: Any) -> Any:
    return query.outerjoin(DeliveryClaimLine, col(DeliveryClaimLine.order_line_id) == col(OrderLine.id)).outerjoin(
        DeliveryClaim,
        and_(col(DeliveryClaim.id) == col(DeliveryClaimLine.claim_id), col(DeliveryClaim.state) == ClaimState.SETTLED),
    )


# --- a vendor's sales -----------------------------------------------------------------------------------


@dataclass
class DaySales:
    day: date
    orders: int
    quantity: int
    value: int


@dataclass
class ProductSales:
    name: str
    unit: str
    quantity: int
    value: int


@dataclass
class VendorSales:
    vendor_id: int
    vendor_name: str
    start: date
    end: date
    days: list[DaySales]  # every day of the range, days without sales at zero
    products: list[ProductSales]  # best sellers (by value) first
    orders: int = 0
    value: int = 0


async def vendor_sales(
    *, session: AsyncSession, vendor: Vendor, today: date, start: date | None = None, end: date | None = None
) -> VendorSales:
    """The shop's sales per delivery day (orders, quantity, value) and per product (quantity, value), over the
    range (default: the last 30 days up to `today`); two queries. The caller passes the actor's own vendor
    (vendors.require_vendor), so a vendor only ever sees their shop."""
    if start is None or end is None:
        start, end = last_days(today)
    check_range(start, end)
    sold = and_(col(Order.vendor_id) == vendor.id, _sales(start, end))
    per_day = {
        row[0]: row
        for row in (
            await session.execute(
                _with_settled_claims(
                    select(
                        col(Order.delivery_day),
                        func.count(distinct(col(Order.id))),
                        func.sum(_LINE_QUANTITY),
                        func.sum(_LINE_VALUE),
                    ).join(OrderLine, col(OrderLine.order_id) == col(Order.id))
                )
                .where(sold)
                .group_by(col(Order.delivery_day))
            )
        ).all()
    }
    days = [
        DaySales(day, *(int(n) for n in per_day[day][1:])) if day in per_day else DaySales(day, 0, 0, 0)
        for day in _days(start, end)
    ]
    value = func.sum(_LINE_VALUE)
    products = [
        ProductSales(name, unit, int(quantity), int(total))
        for name, unit, quantity, total in (
            await session.execute(
                _with_settled_claims(
                    select(col(OrderLine.product_name), col(OrderLine.unit), func.sum(_LINE_QUANTITY), value).join(
                        Order, col(Order.id) == col(OrderLine.order_id)
                    )
                )
                .where(sold)
                .group_by(col(OrderLine.product_name), col(OrderLine.unit))
                .order_by(value.desc(), col(OrderLine.product_name))
            )
        )
    ]
    return VendorSales(
        vendor_id=vendor.id,
        vendor_name=vendor.business_name,
        start=start,
        end=end,
        days=days,
        products=products,
        orders=sum(d.orders for d in days),
        value=sum(d.value for d in days),
    )


# --- a canteen's spend ----------------------------------------------------------------------------------


@dataclass
class SpendRow:
    month: date  # the first of the month
    vendor_id: int
    vendor_name: str
    orders: int
    value: int


@dataclass
class SpendTotal:
    key: str  # "2026-11" for a month, the vendor's name for a vendor
    orders: int
    value: int
    month: date | None = None
    vendor_id: int | None = None


@dataclass
class CanteenSpend:
    organisation_id: int
    organisation_name: str
    start: date
    end: date
    rows: list[SpendRow]  # month by month, the biggest vendor first
    months: list[SpendTotal]  # every month of the range, months without orders at zero
    vendors: list[SpendTotal]  # the biggest first
    orders: int = 0
    value: int = 0


async def canteen_spend(
    *, session: AsyncSession, actor: User, today: date, start: date | None = None, end: date | None = None
) -> CanteenSpend:
    """What the actor's canteen (organisation) spent with each vendor per month (default: the last 12 months up
    to the month of `today`); two queries. Only canteen staff have an organisation to report on."""
    if actor.role != Role.CANTEEN_STAFF or actor.organisation_id is None:
        raise Forbidden()
    if start is None or end is None:
        start, end = last_months(today)
    check_range(start, end)
    organisation = await session.get(Organisation, actor.organisation_id)
    month = _period(session, col(Order.delivery_day), "month").label("month")
    value = func.sum(_order_value())
    rows = [
        SpendRow(_as_date(m), vendor_id, name, int(orders), int(total))
        for m, vendor_id, name, orders, total in (
            await session.execute(
                select(month, col(Order.vendor_id), col(Vendor.business_name), func.count(col(Order.id)), value)
                .join(Vendor, col(Vendor.id) == col(Order.vendor_id))
                .where(col(Order.organisation_id) == actor.organisation_id, _sales(start, end))
                .group_by(month, col(Order.vendor_id), col(Vendor.business_name))
                .order_by(month, value.desc(), col(Vendor.business_name))
            )
        )
    ]
    months = []
    for first in _months(start, end):
        of_month = [row for row in rows if row.month == first]
        months.append(
            SpendTotal(f"{first:%Y-%m}", sum(r.orders for r in of_month), sum(r.value for r in of_month), month=first)
        )
    by_vendor: dict[int, SpendTotal] = {}
    for row in rows:
        total = by_vendor.setdefault(row.vendor_id, SpendTotal(row.vendor_name, 0, 0, vendor_id=row.vendor_id))
        total.orders += row.orders
        total.value += row.value
    return CanteenSpend(
        organisation_id=actor.organisation_id,
        organisation_name=organisation.name if organisation else "",
        start=start,
        end=end,
        rows=rows,
        months=months,
        vendors=sorted(by_vendor.values(), key=lambda t: (-t.value, t.key)),
        orders=sum(m.orders for m in months),
        value=sum(m.value for m in months),
    )


@dataclass
class OrderRow:
    """One order of an export: what a canteen's or a vendor's books match against purchase orders and invoices."""

    number: str
    ordered_on: date  # WIB
    delivery_day: date
    delivery_slot: str  # HH:MM, WIB
    other_party: str  # the vendor in a canteen's export, the canteen (or the worker) in a vendor's
    status: str
    po_number: str
    delivery_fee: int
    value: int  # the order's total, its delivery fee included, less what was given back
    given_back: int = 0  # refunded or credited for a short or damaged delivery


@dataclass
class OrderList:
    start: date
    end: date
    rows: list[OrderRow]


def _order_rows(rows: Iterable[Sequence[Any]]) -> list[OrderRow]:
    # Each row: the order, the name of the other party, what a short or damaged delivery gave back.
    return [
        OrderRow(
            number=order.number,
            ordered_on=wib_today(order.created_at),
            delivery_day=order.delivery_day,
            delivery_slot=f"{order.delivery_slot:%H:%M}",
            other_party=name,
            status=order.status,
            po_number=order.po_number,
            delivery_fee=order.delivery_fee,
            value=order.total - given_back,
            given_back=given_back,
        )
        for order, name, given_back in rows
    ]


async def vendor_orders(
    *, session: AsyncSession, vendor: Vendor, today: date, start: date | None = None, end: date | None = None
) -> OrderList:
    """Each sale of the vendor's shop delivered in the range (default: the last 30 days up to `today`), by delivery
    day, with the buyer's canteen (or name) and purchase-order number: one query."""
    if start is None or end is None:
        start, end = last_days(today)
    check_range(start, end)
    buyer = func.coalesce(col(Organisation.name), col(User.full_name))
    rows = (
        await session.execute(
            select(Order, buyer, settled_claim_amount(col(Order.id)))
            .join(User, col(User.id) == col(Order.buyer_id))
            .outerjoin(Organisation, col(Organisation.id) == col(Order.organisation_id))
            .where(col(Order.vendor_id) == vendor.id, _sales(start, end))
            .order_by(col(Order.delivery_day), col(Order.delivery_slot), col(Order.id))
        )
    ).all()
    return OrderList(start=start, end=end, rows=_order_rows(rows))


async def canteen_orders(
    *, session: AsyncSession, actor: User, today: date, start: date | None = None, end: date | None = None
) -> OrderList:
    """Each sale of the actor's canteen delivered in the range (default: the last 12 months up to `today`'s), by
    delivery day, with its purchase-order number: one query."""
    if actor.role != Role.CANTEEN_STAFF or actor.organisation_id is None:
        raise Forbidden()
    if start is None or end is None:
        start, end = last_months(today)
    check_range(start, end)
    rows = (
        await session.execute(
            select(Order, col(Vendor.business_name), settled_claim_amount(col(Order.id)))
            .join(Vendor, col(Vendor.id) == col(Order.vendor_id))
            .where(col(Order.organisation_id) == actor.organisation_id, _sales(start, end))
            .order_by(col(Order.delivery_day), col(Order.delivery_slot), col(Order.id))
        )
    ).all()
    return OrderList(start=start, end=end, rows=_order_rows(rows))


# --- a zone's dashboard ---------------------------------------------------------------------------------


@dataclass
class WeekFigures:
    week_start: date  # Monday
    orders: int  # sold by the zone's vendors
    value: int
    bought_in_zone: int  # bought by the zone's canteens and workers, from any vendor
    bought_locally: int  # … of which from the zone's own vendors

    @property
    def iso_week(self) -> str:
        year, week, _ = self.week_start.isocalendar()
        return f"{year}-W{week:02d}"


@dataclass
class ZoneChoice:
    id: int
    code: str
    name: str


@dataclass
class ZoneDashboard:
    """The zone at a glance.

    The local share is the part of what the zone's buyers (its canteens, its workers) bought that was sold by
    UMKM of the zone's own regency (vendor.regency, kept in one spelling by vendors.models.canonical_regency),
    wherever they are registered: the figure the regency's trade and UMKM office asks for.
    """

    zone_id: int
    zone_code: str
    zone_name: str
    regency: str
    start: date
    end: date
    active_vendors: int
    certified_vendors: int  # active, with at least one verified certificate not expired today
    live_listings: int
    pending_listings: int
    weeks: list[WeekFigures] = field(default_factory=list)  # every ISO week of the range
    orders: int = 0
    value: int = 0
    bought_in_zone: int = 0
    bought_locally: int = 0
    certified_share: float | None = None  # per cent of active vendors
    local_share: float | None = None  # per cent of the zone's buyers' value, None when they bought nothing
    zones: list[ZoneChoice] = field(default_factory=list)  # what an admin may pick from


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


async def _dashboard_zone(session: AsyncSession, actor: User, zone_id: int | None) -> tuple[Zone, list[Zone]]:
    """A manager's own zone (another zone's id answers 404); any zone for an admin (the first by code when none
    is asked for), with every zone to choose from. One query."""
    if actor.role == Role.MANAGER:
        if zone_id is not None and zone_id != actor.zone_id:
            raise NotFound(MSG_ZONE_NOT_FOUND)
        zone = await session.get(Zone, actor.zone_id)
        if zone is None:
            raise NotFound(MSG_ZONE_NOT_FOUND)
        return zone, []
    if actor.role != Role.ADMIN:
        raise Forbidden()
    zones = list((await session.execute(select(Zone).order_by(col(Zone.code)))).scalars())
    chosen = [z for z in zones if z.id == zone_id] if zone_id is not None else zones[:1]
    if not chosen:
        raise NotFound(MSG_ZONE_NOT_FOUND)
    return chosen[0], zones


async def zone_dashboard(
    *,
    session: AsyncSession,
    actor: User,
    today: date,
    zone_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
) -> ZoneDashboard:
    """The manager's zone (an admin's pick): active and certified vendors (certificates counting `today`), live
    and pending listings, orders and value per ISO week (default: the last 12 weeks) and the local share; three
    queries."""
    if start is None or end is None:
        start, end = last_weeks(today)
    check_range(start, end)
    zone, zones = await _dashboard_zone(session, actor, zone_id)
    active = and_(col(Vendor.zone_id) == zone.id, col(Vendor.status) == VendorStatus.ACTIVE)

    def listings(status: ListingStatus) -> ScalarSelect[int]:
        return (
            select(func.count(col(Product.id)))
            .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
            .where(col(Vendor.zone_id) == zone.id, col(Product.status) == status)
            .scalar_subquery()
        )

    counts = (
        await session.execute(
            select(
                select(func.count(col(Vendor.id))).where(active).scalar_subquery(),
                select(func.count(distinct(col(Vendor.id))))
                .join(Certificate, col(Certificate.vendor_id) == col(Vendor.id))
                .where(
                    active,
                    col(Certificate.status) == CertificateStatus.VERIFIED,
                    or_(col(Certificate.expires_on).is_(None), col(Certificate.expires_on) >= today),
                )
                .scalar_subquery(),
                listings(ListingStatus.LIVE),
                listings(ListingStatus.PENDING_REVIEW),
            )
        )
    ).one()

    # Orders sold by the zone's vendors (Order.zone_id is the vendor's zone) and orders bought by the zone's
    # buyers (a canteen's organisation's zone, else the buyer's own), in one pass.
    week = _period(session, col(Order.delivery_day), "week").label("week")
    sold_here = col(Order.zone_id) == zone.id
    bought_here = func.coalesce(col(Organisation.zone_id), col(User.zone_id)) == zone.id
    from_the_regency = col(Vendor.regency) == zone.regency
    rows = (
        await session.execute(
            select(
                week,
                func.sum(case((sold_here, 1), else_=0)),
                func.sum(case((sold_here, _order_value()), else_=0)),
                func.sum(case((bought_here, _order_value()), else_=0)),
                func.sum(case((and_(bought_here, from_the_regency), _order_value()), else_=0)),
            )
            .join(User, col(User.id) == col(Order.buyer_id))
            .outerjoin(Organisation, col(Organisation.id) == col(Order.organisation_id))
            .join(Vendor, col(Vendor.id) == col(Order.vendor_id))
            .where(_sales(start, end), or_(sold_here, bought_here))
            .group_by(week)
        )
    ).all()
    per_week = {_as_date(row[0]): [int(n or 0) for n in row[1:]] for row in rows}
    weeks = [WeekFigures(monday, *per_week.get(monday, (0, 0, 0, 0))) for monday in _weeks(start, end)]
    dashboard = ZoneDashboard(
        zone_id=zone.id,
        zone_code=zone.code,
        zone_name=zone.name,
        regency=zone.regency,
        start=start,
        end=end,
        active_vendors=int(counts[0]),
        certified_vendors=int(counts[1]),
        live_listings=int(counts[2]),
        pending_listings=int(counts[3]),
        weeks=weeks,
        orders=sum(w.orders for w in weeks),
        value=sum(w.value for w in weeks),
        bought_in_zone=sum(w.bought_in_zone for w in weeks),
        bought_locally=sum(w.bought_locally for w in weeks),
        zones=[ZoneChoice(z.id, z.code, z.name) for z in zones],
    )
    dashboard.certified_share = _percent(dashboard.certified_vendors, dashboard.active_vendors)
    dashboard.local_share = _percent(dashboard.bought_locally, dashboard.bought_in_zone)
    return dashboard
