"""Standing weekly orders: a canteen's "Monday to Friday, 200 box from Bu Sri for 11.00", placed ahead of time.

A job places each standing order's days up to `days_ahead` days in advance through the same placement path as
a checkout, so capacity, stock, lead times and prices apply exactly as for any order. A day is tried once
(standing_order_run): a day that could not be held is recorded with the reason and the canteen is told.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Organisation, Role, User
from backend.accounts.service import organisation_staff_ids
from backend.catalog.models import PriceTier, Product
from backend.catalog.service import buyer_visible
from backend.clock import wib_today
from backend.db import upsert_insert
from backend.errors import (
    N_,
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    InsufficientCapacity,
    NotFound,
    ValidationFailed,
)
from backend.money import format_rupiah, unit_price_for
from backend.notifications.service import notify
from backend.orders.cart import MSG_MIN_ORDER, MSG_NO_PRODUCT
from backend.orders.delivery import DELIVERY_SLOTS, MSG_SLOT, DeliveryChoice, resolve_place, vendor_problems
from backend.orders.models import DeliveryKind, PaymentMethod, StandingOrder, StandingOrderRun
from backend.orders.placement import place_orders
from backend.vendors.models import Vendor, days_to_mask, mask_to_days

RECENT_RUN_DAYS = 31
MSG_CANTEENS_ONLY = N_("Standing orders are for canteens.")
MSG_NOT_FOUND = N_("We could not find this standing order.")
MSG_WEEKDAYS = N_("Choose at least one day of the week.")
MSG_VENDOR_DAYS = N_("%(vendor)s does not deliver on some of the days chosen.")
MSG_DAYS_AHEAD = N_("Place the orders 1 to 14 days ahead.")
MSG_QUANTITY = N_("Type a quantity of at least 1.")
MSG_CREATOR_GONE = N_("The colleague who set up this standing order no longer orders for the canteen: set it up again.")
MSG_NOT_PLACED = N_("The standing order for %(product)s could not be placed for %(day)s. Open it to see why.")
MSG_ABOVE_AGREED_PRICE = N_("%(product)s now costs %(price)s a unit, above the agreed %(agreed)s.")
MSG_VENDOR_ABOVE_AGREED_PRICE = N_(
    "The standing order of %(canteen)s for %(product)s was not placed for %(day)s: your price %(price)s a unit is"
    " above the agreed %(agreed)s."
)


@dataclass(frozen=True)
class StandingOrderInput:
    product_id: int
    quantity: int
    weekdays: list[int]  # ISO weekdays, Monday = 1
    slot: time
    delivery_kind: DeliveryKind = DeliveryKind.CANTEEN
    notes: str = ""
    days_ahead: int = 7
    starts_on: date | None = None  # no day before it is placed
    max_unit_price: int | None = None  # the agreed price per unit: a day priced above it is not placed


@dataclass
class StandingOrderView:
    standing: StandingOrder
    product_name: str
    unit: str
    vendor_name: str
    # The latest days tried, newest first: an order placed, or why not.
    recent_runs: list[StandingOrderRun] = field(default_factory=list)

    @property
    def weekdays(self) -> list[int]:
        return mask_to_days(self.standing.weekdays)


class AboveAgreedPrice(Conflict):
    """A day of a standing order whose price for the quantity is above the price agreed for it."""


@dataclass
class StandingRun:
    placed: int = 0
    refused: int = 0


def can_order_weekly(user: User | None) -> bool:
    """Standing orders are a canteen's: its staff set them up for the organisation."""
    return user is not None and user.role == Role.CANTEEN_STAFF and user.organisation_id is not None


def _ensure_canteen(actor: User) -> int:
    """The actor's canteen (its organisation's id); Forbidden for anyone but a canteen's staff."""
    if not can_order_weekly(actor) or actor.organisation_id is None:
        raise Forbidden(MSG_CANTEENS_ONLY)
    return actor.organisation_id


async def product_to_repeat(*, session: AsyncSession, product_id: int, today: date) -> tuple[Product, str] | None:
    """The product a standing order is being set up for, with its vendor's name, if buyers may see it `today`."""
    row = (
        await session.execute(
            select(Product, col(Vendor.business_name))
            .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
            .where(col(Product.id) == product_id, buyer_visible(today))
        )
    ).one_or_none()
    return (row[0], row[1]) if row else None


async def create_standing_order(
    *, session: AsyncSession, actor: User, data: StandingOrderInput, today: date
) -> StandingOrder:
    """Set up a weekly order for the actor's canteen, checked as an order would be (except capacity, which is
    held day by day when each order is placed)."""
    organisation_id = _ensure_canteen(actor)
    row = (
        await session.execute(
            select(Product, Vendor)
            .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
            .where(col(Product.id) == data.product_id, buyer_visible(today))
        )
    ).one_or_none()
    if row is None:
        raise NotFound(MSG_NO_PRODUCT)
    product, vendor = row
    errors: list[FieldError] = []
    if data.quantity < 1:
        errors.append(FieldError("quantity", MSG_QUANTITY))
    elif data.quantity < product.min_order_qty:
        errors.append(
            FieldError("quantity", MSG_MIN_ORDER, {"product": product.name, "minimum": product.min_order_qty})
        )
    weekdays = sorted({day for day in data.weekdays if 1 <= day <= 7})
    if not weekdays:
        errors.append(FieldError("weekdays", MSG_WEEKDAYS))
    elif days_to_mask(weekdays) & ~vendor.operating_days:
        errors.append(FieldError("weekdays", MSG_VENDOR_DAYS, {"vendor": vendor.business_name}))
    if data.slot not in DELIVERY_SLOTS:
        errors.append(FieldError("slot", MSG_SLOT))
    if not 1 <= data.days_ahead <= 14:
        errors.append(FieldError("days_ahead", MSG_DAYS_AHEAD))
    if data.delivery_kind not in (DeliveryKind.CANTEEN, DeliveryKind.PICKUP):
        errors.append(FieldError("delivery_kind", N_("Choose delivery to the canteen or pickup.")))
    if not errors:
        # Hours and delivery radius, as for an order on the first chosen weekday.
        start = max(today, data.starts_on - timedelta(days=1)) if data.starts_on else today
        first_day = start + timedelta(days=(weekdays[0] - start.isoweekday()) % 7 or 7)
        choice = DeliveryChoice(day=first_day, slot=data.slot, kind=data.delivery_kind)
        place = await resolve_place(session=session, buyer=actor, choice=choice)
        errors.extend(
            FieldError("delivery_kind", error.message, error.params) for error in vendor_problems(vendor, choice, place)
        )
    if errors:
        raise ValidationFailed(errors)
    standing = StandingOrder(
        organisation_id=organisation_id,
        created_by_id=actor.id,
        vendor_id=vendor.id,
        product_id=product.id,
        quantity=data.quantity,
        weekdays=days_to_mask(weekdays),
        delivery_slot=data.slot,
        delivery_kind=data.delivery_kind,
        notes=data.notes.strip()[:500],
        days_ahead=data.days_ahead,
        starts_on=data.starts_on,
        max_unit_price=data.max_unit_price,
    )
    session.add(standing)
    await session.flush()
    return standing


async def list_standing_orders(
    *, session: AsyncSession, actor: User, today: date, runs_per_order: int = 5
) -> list[StandingOrderView]:
    """The canteen's standing orders with their latest days, from RECENT_RUN_DAYS before `today` on (two queries)."""
    _ensure_canteen(actor)
    rows = (
        await session.execute(
            select(StandingOrder, col(Product.name), col(Product.unit), col(Vendor.business_name))
            .join(Product, col(Product.id) == col(StandingOrder.product_id))
            .join(Vendor, col(Vendor.id) == col(StandingOrder.vendor_id))
            .where(col(StandingOrder.organisation_id) == actor.organisation_id)
            .order_by(col(StandingOrder.active).desc(), col(StandingOrder.id))
        )
    ).all()
    views = {
        row[0].id: StandingOrderView(standing=row[0], product_name=row[1], unit=row[2], vendor_name=row[3])
        for row in rows
    }
    if views:
        # The latest days only: a standing order tries a few days a week, for years.
        since = today - timedelta(days=RECENT_RUN_DAYS)
        runs = await session.execute(
            select(StandingOrderRun)
            .where(col(StandingOrderRun.standing_order_id).in_(views), col(StandingOrderRun.delivery_day) >= since)
            .order_by(col(StandingOrderRun.delivery_day).desc())
        )
        for run in runs.scalars():
            view = views[run.standing_order_id]
            if len(view.recent_runs) < runs_per_order:
                view.recent_runs.append(run)
    return list(views.values())


async def set_active(
    *, session: AsyncSession, actor: User, standing_order_id: int, active: bool, now: datetime
) -> StandingOrder:
    """Pause or resume a standing order (orders already placed stay; cancel them one by one)."""
    _ensure_canteen(actor)
    standing = await session.get(StandingOrder, standing_order_id)
    if standing is None or standing.organisation_id != actor.organisation_id:
        raise NotFound(MSG_NOT_FOUND)
    standing.active = active
    standing.updated_at = now
    session.add(standing)
    await session.flush()
    return standing


async def place_standing_orders(*, session: AsyncSession, now: datetime) -> StandingRun:
    """The job: place every active standing order's days that are due and not tried yet. Each day is placed in a
    savepoint of its own, so a day that cannot be held changes nothing but its own record."""
    today = wib_today(now)
    rows = (
        await session.execute(
            select(StandingOrder, User, col(Product.name), col(Vendor.user_id), col(Organisation.name))
            .join(User, col(User.id) == col(StandingOrder.created_by_id))
            .join(Product, col(Product.id) == col(StandingOrder.product_id))
            .join(Vendor, col(Vendor.id) == col(StandingOrder.vendor_id))
            .join(Organisation, col(Organisation.id) == col(StandingOrder.organisation_id))
            .where(col(StandingOrder.active).is_(True))
            .order_by(col(StandingOrder.id))
        )
    ).all()
    product_names = {standing.id: name for standing, _, name, _, _ in rows}
    vendor_users = {standing.id: (user_id, canteen) for standing, _, _, user_id, canteen in rows}
    due = [
        (standing, buyer, today + timedelta(days=offset))
        for standing, buyer, *_ in rows
        for offset in range(1, standing.days_ahead + 1)
        if standing.weekdays & (1 << ((today + timedelta(days=offset)).isoweekday() - 1))
        and (standing.starts_on is None or today + timedelta(days=offset) >= standing.starts_on)
    ]
    if not due:
        return StandingRun()
    tried = set(
        (
            await session.execute(
                select(col(StandingOrderRun.standing_order_id), col(StandingOrderRun.delivery_day)).where(
                    tuple_(col(StandingOrderRun.standing_order_id), col(StandingOrderRun.delivery_day)).in_(
                        [(s.id, day) for s, _, day in due]
                    )
                )
            )
        ).all()
    )
    result = StandingRun()
    for standing, buyer, day in due:
        if (standing.id, day) in tried:
            continue
        try:
            async with session.begin_nested():
                # Claim the day first: a second worker running the job waits here, then finds it taken.
                if not await _claim(session, standing_order_id=standing.id, day=day, now=now):
                    continue
                if not (
                    buyer.is_active
                    and buyer.role == Role.CANTEEN_STAFF
                    and buyer.organisation_id == standing.organisation_id
                ):
                    raise Forbidden(MSG_CREATOR_GONE)
                if standing.max_unit_price is not None:
                    await _ensure_agreed_price(session, standing, product_names[standing.id])
                placement = await place_orders(
                    session=session,
                    buyer=buyer,
                    lines={standing.product_id: standing.quantity},
                    delivery=DeliveryChoice(
                        day=day,
                        slot=standing.delivery_slot,
                        kind=DeliveryKind(standing.delivery_kind),
                        notes=standing.notes,
                    ),
                    payment_method=PaymentMethod.INVOICE,
                    idempotency_key=f"standing-{standing.id}-{day.isoformat()}",
                    now=now,
                    placed_by=None,
                    standing_order_id=standing.id,
                )
                await session.execute(
                    update(StandingOrderRun)
                    .where(
                        col(StandingOrderRun.standing_order_id) == standing.id,
                        col(StandingOrderRun.delivery_day) == day,
                    )
                    .values(order_id=placement.orders[0].id)
                )
        except DomainError as refused:
            # The savepoint took the claim back with everything else: record the refusal in its place.
            message, params = _reason(refused)
            if not await _claim(
                session, standing_order_id=standing.id, day=day, now=now, message=message, params=params
            ):
                continue
            result.refused += 1
            await notify(
                session=session,
                user_ids=await organisation_staff_ids(session=session, organisation_id=standing.organisation_id),
                message=MSG_NOT_PLACED,
                params={"product": product_names[standing.id], "day": day.isoformat()},
                url="/canteen/standing-orders",
                now=now,
            )
            if isinstance(refused, AboveAgreedPrice):
                # The vendor can lower the price again before the next day is placed: they are told too.
                vendor_user_id, canteen_name = vendor_users[standing.id]
                await notify(
                    session=session,
                    user_ids={vendor_user_id},
                    message=MSG_VENDOR_ABOVE_AGREED_PRICE,
                    params={**refused.params, "canteen": canteen_name, "day": day.isoformat()},
                    url="/vendor/products",
                    now=now,
                )
        else:
            result.placed += 1
    return result


async def _ensure_agreed_price(session: AsyncSession, standing: StandingOrder, product_name: str) -> None:
    """AboveAgreedPrice when the product's price for the standing order's quantity (tiers applied, as placement
    prices it) is above the price agreed for the standing order."""
    assert standing.max_unit_price is not None
    base = (
        await session.execute(select(col(Product.price)).where(col(Product.id) == standing.product_id))
    ).scalar_one()
    tiers = (
        await session.execute(
            select(col(PriceTier.min_quantity), col(PriceTier.unit_price)).where(
                col(PriceTier.product_id) == standing.product_id
            )
        )
    ).all()
    price = unit_price_for(base, [(low, tier_price) for low, tier_price in tiers], standing.quantity)
    if price > standing.max_unit_price:
        raise AboveAgreedPrice(
            MSG_ABOVE_AGREED_PRICE,
            params={
                "product": product_name,
                "price": format_rupiah(price),
                "agreed": format_rupiah(standing.max_unit_price),
            },
        )


async def _claim(
    session: AsyncSession,
    *,
    standing_order_id: int,
    day: date,
    now: datetime,
    message: str = "",
    params: dict[str, Any] | None = None,
) -> bool:
    """Insert the day's run unless it exists; False when another run of the job has it already."""
    insert = upsert_insert(session)
    claimed = await session.execute(
        insert(StandingOrderRun)
        .values(
            standing_order_id=standing_order_id, delivery_day=day, created_at=now, message=message, params=params or {}
        )
        .on_conflict_do_nothing(index_elements=["standing_order_id", "delivery_day"])
        .returning(col(StandingOrderRun.standing_order_id))
    )
    return claimed.scalar_one_or_none() is not None


def _reason(refused: DomainError) -> tuple[str, dict[str, Any]]:
    """The first reason a day was refused, as a message id and parameters (translated when shown)."""
    if isinstance(refused, InsufficientCapacity) and refused.shortages:
        return refused.shortages[0].message, refused.shortages[0].params
    if isinstance(refused, ValidationFailed) and refused.errors:
        return refused.errors[0].message, dict(refused.errors[0].params)
    return refused.message, dict(refused.params)
