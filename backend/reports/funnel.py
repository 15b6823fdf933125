"""The district funnel: how far the UMKM of the zone's register have come on the way to selling into the zone, step
by step, by kecamatan and by category, month by month; and the share of the zone's canteen spend that goes to the
regency's own UMKM.

The funnel follows the rows of the imported register (vendor_invitation): kecamatan and category are the row's own
(the register's words, as imported). A vendor who signed up without a register row is not part of it. Each step is
counted once per row, in the month (WIB) it was first reached:

- registered: the row was imported;
- invited: a manager sent it the WhatsApp invitation, or marked it as invited (`invited_at`, the first time);
- signed up: the UMKM claimed the row by signing up with its phone number (`claimed_at`);
- certified: a certificate of theirs was verified by a manager (the earliest still verified);
- listed: a first listing went live: the earliest approval of one of their products by a manager (the audit log's
  `listing.approve`), or for a product live without one, its last review;
- first sale: their first order delivered (or completed), on its delivery day;
- repeat buyer: a buyer came back: the delivery day of the second delivered order of the same buyer (a canteen's
  staff are one buyer, their organisation; a worker is one).

The steps are counted independently: a row may sign up without having been marked as invited, or sell without a
verified certificate; the figures say what happened, they are not forced into a funnel shape.

The canteen spend is what the zone's canteens (organisations of the zone) bought over the months, orders sold as the
other reports count them (placed to completed, by delivery day) less what settled short or damaged deliveries gave
back; the local part is what vendors whose regency is the zone's sold them.

Two queries, whatever the size of the register: one counts every step per month, kecamatan and category (grouped in
the database), the other sums the canteen spend per month.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, case, cast, func, literal, literal_column, select, type_coerce, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from backend.accounts.models import Organisation, User
from backend.catalog.models import ListingStatus, Product
from backend.certification.models import Certificate, CertificateStatus
from backend.db import is_postgres
from backend.moderation.models import AuditEntry, VendorInvitation
from backend.orders.models import Order, OrderStatus
from backend.reports.service import (
    ZoneChoice,
    _add_months,
    _as_date,
    _dashboard_zone,
    _months,
    _order_value,
    _percent,
    _period,
    _sales,
    check_range,
    last_months,
    month_start,
)
from backend.vendors.models import Vendor


class FunnelStep(StrEnum):
    REGISTERED = "registered"
    INVITED = "invited"
    SIGNED_UP = "signed_up"
    CERTIFIED = "certified"
    LISTED = "listed"
    FIRST_SALE = "first_sale"
    REPEAT_BUYER = "repeat_buyer"


STEPS = list(FunnelStep)
SOLD = (OrderStatus.DELIVERED, OrderStatus.COMPLETED)
DEFAULT_FUNNEL_MONTHS = 6


def _no_steps() -> dict[str, int]:
    return {step.value: 0 for step in STEPS}


@dataclass
class FunnelMonth:
    month: date  # the first of the month
    counts: dict[str, int]  # register rows that first reached each step in the month
    canteen_spend: int = 0  # rupiah bought by the zone's canteens
    local_spend: int = 0  # … of which from UMKM of the zone's regency
    local_share: float | None = None  # per cent, None without canteen spend

    @property
    def key(self) -> str:
        return f"{self.month:%Y-%m}"


@dataclass
class FunnelGroup:
    key: str  # a kecamatan as the register spells it, or a category
    counts: dict[str, int]  # over the months of the range
    to_date: dict[str, int]  # by the end of the range, since the register was first imported


@dataclass
class FunnelCell:
    """The counts of one month, kecamatan and category (the CSV's rows); only cells with something in them."""

    month: date
    kecamatan: str
    category: str
    counts: dict[str, int]


@dataclass
class ZoneFunnel:
    zone_id: int
    zone_code: str
    zone_name: str
    regency: str
    start: date  # the first day of the first month
    end: date  # the last day of the last month
    steps: list[str]
    counts: dict[str, int]  # over the months of the range
    to_date: dict[str, int]  # by the end of the range
    months: list[FunnelMonth]  # every month of the range
    by_kecamatan: list[FunnelGroup]  # by name
    by_category: list[FunnelGroup]  # by category key
    cells: list[FunnelCell] = field(default_factory=list)
    canteen_spend: int = 0
    local_spend: int = 0
    local_share: float | None = None
    zones: list[ZoneChoice] = field(default_factory=list)  # what an admin may pick from


def month_range(start: date | None, end: date | None, *, today: date) -> tuple[date, date]:
    """The first day of `start`'s month and the last day of `end`'s (default: the last six months up to `today`'s),
    checked like every report's range."""
    if start is None or end is None:
        start, end = last_months(today, DEFAULT_FUNNEL_MONTHS)
    check_range(month_start(start), month_start(end))  # the years first: a month past 2100 is not computed
    first, last = month_start(start), _add_months(month_start(end), 1) - timedelta(days=1)
    check_range(first, last)
    return first, last


def _month_of_moment(session: AsyncSession, moment: Any) -> ColumnElement[Any]:
    """The first of the WIB month of a UTC moment, as the database computes it."""
    if is_postgres(session):
        local = func.timezone(literal_column("'Asia/Jakarta'"), moment)
        return cast(func.date_trunc(literal_column("'month'"), local), Date)
    return func.date(moment, literal_column("'+7 hours'"), literal_column("'start of month'"))


def _reached(session: AsyncSession, zone_id: int) -> Any:
    """One row per register row of the zone and step it reached: the step, the month, kecamatan and category."""
    row = VendorInvitation
    of_zone = col(row.zone_id) == zone_id
    vendor_of_row = col(Vendor.user_id) == col(row.claimed_by_id)
    # Each step's subquery reads the zone's vendors only (an order's zone is its vendor's).
    zone_vendors = select(col(Vendor.id)).where(col(Vendor.zone_id) == zone_id)

    def step(name: FunnelStep, month: ColumnElement[Any]) -> Any:
        return select(
            literal(name.value).label("step"),
            type_coerce(month, Date).label("month"),
            col(row.kecamatan).label("kecamatan"),
            col(row.category).label("category"),
        )

    def by_moment(name: FunnelStep, moment: Any) -> Any:
        return step(name, _month_of_moment(session, moment)).where(of_zone, moment.is_not(None))

    certified = (
        select(
            col(Certificate.vendor_id).label("vendor_id"),
            func.min(func.coalesce(col(Certificate.verified_at), col(Certificate.created_at))).label("at"),
        )
        .where(col(Certificate.status) == CertificateStatus.VERIFIED, col(Certificate.vendor_id).in_(zone_vendors))
        .group_by(col(Certificate.vendor_id))
        .subquery("certified")
    )
    approvals = union_all(
        select(col(Product.vendor_id).label("vendor_id"), col(AuditEntry.at).label("at"))
        .join(Product, col(Product.id) == col(AuditEntry.subject_id))
        .where(
            col(AuditEntry.action) == "listing.approve",
            col(AuditEntry.subject_type) == "product",
            col(AuditEntry.zone_id) == zone_id,
        ),
        select(
            col(Product.vendor_id).label("vendor_id"),
            func.coalesce(col(Product.reviewed_at), col(Product.updated_at)).label("at"),
        ).where(col(Product.status) == ListingStatus.LIVE, col(Product.vendor_id).in_(zone_vendors)),
    ).subquery("approvals")
    listed = (
        select(approvals.c.vendor_id, func.min(approvals.c.at).label("at"))
        .group_by(approvals.c.vendor_id)
        .subquery("listed")
    )
    first_sale = (
        select(col(Order.vendor_id).label("vendor_id"), func.min(col(Order.delivery_day)).label("day"))
        .where(col(Order.status).in_(SOLD), col(Order.zone_id) == zone_id)
        .group_by(col(Order.vendor_id))
        .subquery("first_sale")
    )
    # The orders of each buyer of a vendor in turn: a canteen's staff share their organisation, a worker is alone.
    worker = case((col(Order.organisation_id).is_(None), col(Order.buyer_id)), else_=None)
    turn = (
        select(
            col(Order.vendor_id).label("vendor_id"),
            col(Order.delivery_day).label("day"),
            func.row_number()
            .over(
                partition_by=(col(Order.vendor_id), col(Order.organisation_id), worker),
                order_by=(col(Order.delivery_day), col(Order.id)),
            )
            .label("turn"),
        )
        .where(col(Order.status).in_(SOLD), col(Order.zone_id) == zone_id)
        .subquery("turn")
    )
    repeat = (
        select(turn.c.vendor_id, func.min(turn.c.day).label("day"))
        .where(turn.c.turn == 2)
        .group_by(turn.c.vendor_id)
        .subquery("repeat")
    )

    def by_vendor(name: FunnelStep, reached: Any, month: ColumnElement[Any]) -> Any:
        return (
            step(name, month)
            .join(Vendor, vendor_of_row)
            .join(reached, reached.c.vendor_id == col(Vendor.id))
            .where(of_zone)
        )

    return union_all(
        by_moment(FunnelStep.REGISTERED, col(row.created_at)),
        by_moment(FunnelStep.INVITED, col(row.invited_at)),
        by_moment(FunnelStep.SIGNED_UP, col(row.claimed_at)),
        by_vendor(FunnelStep.CERTIFIED, certified, _month_of_moment(session, certified.c.at)),
        by_vendor(FunnelStep.LISTED, listed, _month_of_moment(session, listed.c.at)),
        by_vendor(FunnelStep.FIRST_SALE, first_sale, _period(session, first_sale.c.day, "month")),
        by_vendor(FunnelStep.REPEAT_BUYER, repeat, _period(session, repeat.c.day, "month")),
    ).subquery("reached")


async def zone_funnel(
    *,
    session: AsyncSession,
    actor: User,
    today: date,
    zone_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
) -> ZoneFunnel:
    """The manager's zone's funnel (an admin's pick) over the months from `start`'s to `end`'s (default: the last
    six months up to `today`'s), with the canteen spend's local share; three queries (the zone, the steps, the
    spend). Another zone than a manager's own is NotFound."""
    first, last = month_range(start, end, today=today)
    zone, zones = await _dashboard_zone(session, actor, zone_id)

    reached = _reached(session, zone.id)
    month = type_coerce(reached.c.month, Date)
    rows = (
        await session.execute(
            select(reached.c.step, month, reached.c.kecamatan, reached.c.category, func.count())
            .where(month <= last)
            .group_by(reached.c.step, month, reached.c.kecamatan, reached.c.category)
        )
    ).all()

    months = [FunnelMonth(m, _no_steps()) for m in _months(first, last)]
    of_month = {m.month: m for m in months}
    counts, to_date = _no_steps(), _no_steps()
    kecamatan_in: dict[str, dict[str, int]] = defaultdict(_no_steps)
    kecamatan_to_date: dict[str, dict[str, int]] = defaultdict(_no_steps)
    category_in: dict[str, dict[str, int]] = defaultdict(_no_steps)
    category_to_date: dict[str, dict[str, int]] = defaultdict(_no_steps)
    cells: dict[tuple[date, str, str], dict[str, int]] = defaultdict(_no_steps)
    for step, reached_month, kecamatan, category, number in rows:
        reached_month = _as_date(reached_month)
        to_date[step] += number
        kecamatan_to_date[kecamatan][step] += number
        category_to_date[category][step] += number
        if reached_month < first:
            continue
        counts[step] += number
        of_month[reached_month].counts[step] += number
        kecamatan_in[kecamatan][step] += number
        category_in[category][step] += number
        cells[(reached_month, kecamatan, category)][step] += number

    # The zone's canteens' spend per month, and the part sold by UMKM of the zone's regency.
    spend_month = _period(session, col(Order.delivery_day), "month").label("month")
    value = _order_value()
    local = col(Vendor.regency) == zone.regency
    for m, spent, local_spent in (
        await session.execute(
            select(spend_month, func.sum(value), func.sum(case((local, value), else_=0)))
            .join(Organisation, col(Organisation.id) == col(Order.organisation_id))
            .join(Vendor, col(Vendor.id) == col(Order.vendor_id))
            .where(col(Organisation.zone_id) == zone.id, _sales(first, last))
            .group_by(spend_month)
        )
    ).all():
        figures = of_month[_as_date(m)]
        figures.canteen_spend, figures.local_spend = int(spent or 0), int(local_spent or 0)
        figures.local_share = _percent(figures.local_spend, figures.canteen_spend)

    def groups(in_range: dict[str, dict[str, int]], whole: dict[str, dict[str, int]]) -> list[FunnelGroup]:
        return [FunnelGroup(key, in_range.get(key, _no_steps()), whole[key]) for key in sorted(whole)]

    funnel = ZoneFunnel(
        zone_id=zone.id,
        zone_code=zone.code,
        zone_name=zone.name,
        regency=zone.regency,
        start=first,
        end=last,
        steps=[step.value for step in STEPS],
        counts=counts,
        to_date=to_date,
        months=months,
        by_kecamatan=groups(kecamatan_in, kecamatan_to_date),
        by_category=groups(category_in, category_to_date),
        cells=[FunnelCell(m, k, c, cells[(m, k, c)]) for m, k, c in sorted(cells)],
        canteen_spend=sum(m.canteen_spend for m in months),
        local_spend=sum(m.local_spend for m in months),
        zones=[ZoneChoice(z.id, z.code, z.name) for z in zones],
    )
    funnel.local_share = _percent(funnel.local_spend, funnel.canteen_spend)
    return funnel


def conversion(counts: dict[str, int], step: str) -> float | None:
    """The step's count as a per cent of the register rows (None without rows)."""
    return _percent(counts[step], counts[FunnelStep.REGISTERED.value])
