"""When and where an order is delivered: slots in local time (WIB), delivery points, lead times, delivery radius,
the vendor's delivery fee and minimum order.

Every rule here is checked at placement, for pages, the API and standing orders alike; the checkout offers its slots
and shows its fees by the same functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Organisation, Role, User, Zone
from backend.catalog.models import Product
from backend.clock import WIB, format_date, to_wib, wib_to_utc
from backend.db import great_circle_km
from backend.errors import N_, FieldError, Forbidden, NotFound, ValidationFailed
from backend.i18n import get_locale
from backend.location import location_errors
from backend.moderation.audit import record
from backend.money import format_rupiah
from backend.orders.models import DeliveryKind, DeliveryPoint, PointKind
from backend.vendors.models import Vendor

# Delivery slots on the hour, from the early shift's breakfast to the night shift's meal (local time, WIB).
DELIVERY_SLOTS = tuple(time(hour) for hour in range(5, 23))
# Even ready goods need a vendor to see, accept and bring the order.
MIN_NOTICE = timedelta(hours=1)
MAX_DAYS_AHEAD = 60

MSG_SLOT = N_("Choose a delivery time from the list.")
MSG_PAST = N_("Choose a delivery time at least an hour from now.")
MSG_FAR = N_("Choose a delivery date within the next 60 days.")
MSG_POINT = N_("Choose a delivery point from the list.")
MSG_PLACE = N_("Choose where the order goes.")
MSG_CANTEEN_ONLY = N_("Delivery to the canteen is for canteen staff; choose a gate, a dormitory or pickup.")
MSG_CLOSED_DAY = N_("%(vendor)s does not deliver on %(day)s.")
MSG_HOURS = N_("%(vendor)s delivers between %(opens)s and %(closes)s.")
MSG_OUT_OF_REACH = N_("%(vendor)s does not deliver to %(place)s (%(distance)s km away, at most %(radius)s km).")
MSG_CUTOFF = N_("%(product)s must be ordered before %(cutoff)s the day before delivery.")
MSG_LEAD_TIME = N_("%(product)s needs %(hours)s hours' notice: choose a later delivery time.")
MSG_BEYOND_BANDS = N_(
    "%(vendor)s charges delivery up to %(limit)s km and %(place)s is %(distance)s km away: choose pickup or another "
    "vendor."
)
MSG_MINIMUM = N_("%(vendor)s takes orders from %(minimum)s: this one comes to %(subtotal)s. Add %(missing)s more.")


@dataclass(frozen=True)
class DeliveryChoice:
    """What the buyer chose at checkout: a local day and slot, where, a note for the vendor, and the canteen's
    purchase-order number for its own books."""

    day: date
    slot: time
    kind: DeliveryKind
    point_id: int | None = None
    notes: str = ""
    po_number: str = ""

    def deliver_at(self) -> datetime:
        return wib_to_utc(self.day, self.slot)


@dataclass(frozen=True)
class DeliveryPlace:
    """Where the order goes, as written on the order (with a canteen's receiving contact); coordinates for the radius
    check (None for pickup)."""

    kind: DeliveryKind
    address: str
    latitude: float | None
    longitude: float | None
    point_id: int | None = None
    receiving_contact: str = ""
    receiving_phone: str = ""


def default_delivery_day(now: datetime) -> date:
    """The day a product page checks and a checkout proposes when none was chosen: tomorrow (WIB), the usual day
    of a planned order."""
    return to_wib(now).date() + timedelta(days=1)


def check_time(choice: DeliveryChoice, now: datetime) -> list[FieldError]:
    """The slot is one of ours, at least an hour ahead and within the next 60 days."""
    if choice.slot not in DELIVERY_SLOTS:
        return [FieldError("delivery_slot", MSG_SLOT)]
    today = to_wib(now).date()
    # The day is checked before any date arithmetic: year 1 or 9999 must be refused, not overflow.
    if choice.day < today:
        return [FieldError("delivery_day", MSG_PAST)]
    if choice.day > today + timedelta(days=MAX_DAYS_AHEAD):
        return [FieldError("delivery_day", MSG_FAR)]
    if choice.deliver_at() < now + MIN_NOTICE:
        return [FieldError("delivery_slot", MSG_PAST)]
    return []


def canteen_address(organisation: Organisation) -> str:
    """A canteen's address as orders carry it: its name, then its delivery address."""
    return ", ".join(part for part in (organisation.name, organisation.address) if part)


def canteen_with_zone(buyer: User) -> Select[Organisation, Zone]:
    """The buyer's canteen and its zone, in one row."""
    return (
        select(Organisation, Zone)
        .join(Zone, col(Zone.id) == col(Organisation.zone_id))
        .where(col(Organisation.id) == buyer.organisation_id)
    )


async def buyer_place(*, session: AsyncSession, buyer: User) -> DeliveryPlace | None:
    """Where a buyer's orders go before anything is chosen: a canteen's own place (one query); None for a worker,
    who chooses a gate, a dormitory or pickup at checkout."""
    if buyer.role != Role.CANTEEN_STAFF or buyer.organisation_id is None:
        return None
    row = (await session.execute(canteen_with_zone(buyer))).one_or_none()
    return canteen_place(*row) if row is not None else None


def canteen_place(organisation: Organisation, zone: Zone) -> DeliveryPlace:
    """Where a canteen's orders go: its delivery address and receiving contact (its settings) at its factory's
    location, else the zone's."""
    located = organisation if organisation.latitude is not None and organisation.longitude is not None else zone
    return DeliveryPlace(
        DeliveryKind.CANTEEN,
        canteen_address(organisation),
        located.latitude,
        located.longitude,
        receiving_contact=organisation.receiving_contact,
        receiving_phone=organisation.receiving_phone,
    )


async def resolve_place(*, session: AsyncSession, buyer: User, choice: DeliveryChoice) -> DeliveryPlace:
    """The canteen's delivery address and receiving contact (its settings) at its factory's location (else the
    zone's), one of the zone's gates or dormitories, or pickup."""
    if choice.kind == DeliveryKind.PICKUP:
        return DeliveryPlace(DeliveryKind.PICKUP, "", None, None)
    if choice.kind == DeliveryKind.CANTEEN:
        if buyer.role != Role.CANTEEN_STAFF or buyer.organisation_id is None:
            raise ValidationFailed.single("delivery_kind", MSG_CANTEEN_ONLY)
        organisation, zone = (await session.execute(canteen_with_zone(buyer))).one()
        return canteen_place(organisation, zone)
    point = None
    if choice.point_id is not None:
        point = (
            await session.execute(
                select(DeliveryPoint).where(
                    col(DeliveryPoint.id) == choice.point_id,
                    col(DeliveryPoint.zone_id) == buyer.zone_id,
                    col(DeliveryPoint.active).is_(True),
                )
            )
        ).scalar_one_or_none()
    if point is None:
        raise ValidationFailed.single("delivery_point", MSG_POINT)
    return DeliveryPlace(DeliveryKind.ZONE_POINT, point.name, point.latitude, point.longitude, point.id)


def vendor_problems(vendor: Vendor, choice: DeliveryChoice, place: DeliveryPlace) -> list[FieldError]:
    """The vendor works that weekday, in those hours, and delivers that far (its radius, and its last distance band
    when it charges by distance)."""
    problems = vendor_time_problems(vendor, choice)
    if (reach := reach_problem(vendor, place) or charge_problem(vendor, place)) is not None:
        problems.append(reach)
    return problems


def vendor_time_problems(vendor: Vendor, choice: DeliveryChoice) -> list[FieldError]:
    """The vendor works that weekday and delivers at that time of day."""
    problems = []
    if not vendor.operating_days & (1 << (choice.day.isoweekday() - 1)):
        problems.append(
            FieldError(
                f"vendor-{vendor.id}",
                MSG_CLOSED_DAY,
                {"vendor": vendor.business_name, "day": format_date(choice.day, get_locale())},
            )
        )
    if (
        vendor.opens_at is not None
        and vendor.closes_at is not None
        and not (vendor.opens_at <= choice.slot <= vendor.closes_at)
    ):
        problems.append(
            FieldError(
                f"vendor-{vendor.id}",
                MSG_HOURS,
                {
                    "vendor": vendor.business_name,
                    "opens": f"{vendor.opens_at:%H.%M}",
                    "closes": f"{vendor.closes_at:%H.%M}",
                },
            )
        )
    return problems


def delivery_distance(vendor: Vendor, place: DeliveryPlace) -> float | None:
    """Kilometres from the vendor to the place as the crow flies; None for pickup or a vendor without a location."""
    if place.latitude is None or place.longitude is None:
        return None
    return great_circle_km(place.latitude, place.longitude, vendor.latitude, vendor.longitude)


def reach_problem(vendor: Vendor, place: DeliveryPlace) -> FieldError | None:
    """The place is within the vendor's delivery radius (pickup always is)."""
    if place.latitude is None or place.longitude is None:
        return None
    distance = delivery_distance(vendor, place)
    if distance is not None and distance <= vendor.delivery_radius_km:
        return None
    return FieldError(
        f"vendor-{vendor.id}",
        MSG_OUT_OF_REACH,
        {
            "vendor": vendor.business_name,
            "place": place.address,
            "distance": "?" if distance is None else f"{distance:.1f}",
            "radius": f"{vendor.delivery_radius_km:g}",
        },
    )


def lead_time_problem(product: Product, choice: DeliveryChoice, now: datetime) -> FieldError | None:
    """ "Order before 15.00 the day before", or a number of hours before the slot."""
    if product.order_cutoff is not None:
        deadline = datetime.combine(choice.day - timedelta(days=1), product.order_cutoff, tzinfo=WIB)
        if to_wib(now) >= deadline:
            return FieldError(
                f"line-{product.id}", MSG_CUTOFF, {"product": product.name, "cutoff": f"{product.order_cutoff:%H.%M}"}
            )
    if product.lead_time_hours is not None and now + timedelta(hours=product.lead_time_hours) > choice.deliver_at():
        return FieldError(
            f"line-{product.id}", MSG_LEAD_TIME, {"product": product.name, "hours": product.lead_time_hours}
        )
    return None


def delivery_charge(vendor: Vendor, place: DeliveryPlace) -> int | None:
    """What an order of this vendor pays for delivery to `place`: nothing for pickup, the fee of the first distance
    band the place lies within, else the vendor's flat fee. None when the vendor has bands and the place lies beyond
    the last one (or cannot be measured): the vendor does not deliver there."""
    if place.latitude is None or place.longitude is None:
        return 0
    if not vendor.delivery_fee_bands:
        return vendor.delivery_fee
    distance = delivery_distance(vendor, place)
    if distance is None:
        return None
    return next((int(band["fee"]) for band in fee_bands(vendor) if distance <= band["up_to_km"]), None)


def fee_bands(vendor: Vendor) -> list[dict[str, Any]]:
    """The vendor's distance bands, nearest first."""
    return sorted(vendor.delivery_fee_bands, key=lambda band: float(band["up_to_km"]))


def charge_problem(vendor: Vendor, place: DeliveryPlace) -> FieldError | None:
    """The place lies within the vendor's last distance band, when it has bands."""
    if delivery_charge(vendor, place) is not None:
        return None
    distance = delivery_distance(vendor, place)
    return FieldError(
        f"vendor-{vendor.id}",
        MSG_BEYOND_BANDS,
        {
            "vendor": vendor.business_name,
            "limit": f"{fee_bands(vendor)[-1]['up_to_km']:g}",
            "place": place.address,
            "distance": "?" if distance is None else f"{distance:.1f}",
        },
    )


def minimum_problem(vendor: Vendor, goods_total: int) -> FieldError | None:
    """An order's goods reach the vendor's minimum order value."""
    if goods_total >= vendor.min_order_value:
        return None
    return FieldError(
        f"vendor-{vendor.id}",
        MSG_MINIMUM,
        {
            "vendor": vendor.business_name,
            "minimum": format_rupiah(vendor.min_order_value),
            "subtotal": format_rupiah(goods_total),
            "missing": format_rupiah(vendor.min_order_value - goods_total),
        },
    )


def slot_problems(
    *, day: date, slot: time, vendors: Iterable[Vendor], products: Iterable[Product], now: datetime
) -> list[FieldError]:
    """Why a delivery at `slot` on `day` cannot be placed for these vendors and products, by the rules placement
    checks: the slot ahead of `now` and within 60 days, each vendor's days and hours, each product's lead time."""
    choice = DeliveryChoice(day=day, slot=slot, kind=DeliveryKind.PICKUP)
    problems = check_time(choice, now)
    if problems:  # a lead time means nothing for a day that cannot be
        return problems
    for vendor in vendors:
        problems.extend(vendor_time_problems(vendor, choice))
    problems.extend(problem for product in products if (problem := lead_time_problem(product, choice, now)))
    return problems


def offered_slots(*, day: date, vendors: Iterable[Vendor], products: Iterable[Product], now: datetime) -> list[time]:
    """The slots of `day` a checkout of these vendors' products may choose: those `slot_problems` finds nothing
    against, so the list offered and the check at placement never disagree."""
    vendors, products = list(vendors), list(products)
    return [
        slot
        for slot in DELIVERY_SLOTS
        if not slot_problems(day=day, slot=slot, vendors=vendors, products=products, now=now)
    ]


async def zone_delivery_points(*, session: AsyncSession, zone_id: int | None) -> list[DeliveryPoint]:
    """The gates and dormitories a worker of the zone can choose."""
    if zone_id is None:
        return []
    return list(
        (
            await session.execute(
                select(DeliveryPoint)
                .where(col(DeliveryPoint.zone_id) == zone_id, col(DeliveryPoint.active).is_(True))
                .order_by(col(DeliveryPoint.kind), col(DeliveryPoint.name))
            )
        ).scalars()
    )


MSG_POINT_NAME = N_("Type the name of the gate or dormitory.")
MSG_POINT_KIND = N_("Choose gate or dormitory.")
MSG_MANAGERS_ONLY = N_("Only the zone's managers set delivery points.")


async def managed_delivery_points(*, session: AsyncSession, actor: User) -> list[DeliveryPoint]:
    """Every gate and dormitory of the manager's zone, open ones first, closed ones too."""
    return list(
        (
            await session.execute(
                select(DeliveryPoint)
                .where(col(DeliveryPoint.zone_id) == actor.zone_id)
                .order_by(col(DeliveryPoint.active).desc(), col(DeliveryPoint.kind), col(DeliveryPoint.name))
            )
        ).scalars()
    )


def _managed_zone(actor: User, zone_id: int | None) -> int:
    """The zone whose delivery points the actor sets: a manager's own, or the one an admin names."""
    if actor.role == Role.MANAGER and actor.zone_id is not None and zone_id in (None, actor.zone_id):
        return actor.zone_id
    if actor.role == Role.ADMIN and zone_id is not None:
        return zone_id
    raise Forbidden(MSG_MANAGERS_ONLY)


async def add_delivery_point(
    *,
    session: AsyncSession,
    actor: User,
    kind: PointKind,
    name: str,
    latitude: float | None,
    longitude: float | None,
    zone_id: int | None = None,
) -> DeliveryPoint:
    """A manager adds a gate or dormitory of their zone where workers' orders can be handed over; an admin adds
    one to the zone `zone_id`. The audit log keeps it."""
    zone_id = _managed_zone(actor, zone_id)
    errors = []
    if not name.strip():
        errors.append(FieldError("name", MSG_POINT_NAME))
    errors.extend(location_errors(latitude, longitude, required=True))
    if errors:
        raise ValidationFailed(errors)
    assert latitude is not None and longitude is not None  # required above
    if await session.get(Zone, zone_id) is None:
        raise NotFound(N_("This zone does not exist."))
    point = DeliveryPoint(zone_id=zone_id, kind=kind, name=name.strip()[:120], latitude=latitude, longitude=longitude)
    session.add(point)
    await session.flush()
    await record(
        session,
        actor,
        "delivery_point.add",
        point,
        zone_id,
        after={"kind": point.kind, "latitude": point.latitude, "longitude": point.longitude},
    )
    return point


async def set_delivery_point_active(
    *, session: AsyncSession, actor: User, point_id: int, active: bool
) -> DeliveryPoint:
    """Close a gate or dormitory to new orders (orders already placed keep it), or open it again: a manager in
    their zone, an admin in any; the audit log keeps it."""
    point = await session.get(DeliveryPoint, point_id)
    if point is None or actor.role not in (Role.MANAGER, Role.ADMIN):
        raise NotFound(MSG_POINT)
    if actor.role == Role.MANAGER and point.zone_id != actor.zone_id:
        raise NotFound(MSG_POINT)
    if point.active != active:
        point.active = active
        session.add(point)
        await session.flush()
        action = "delivery_point.open" if active else "delivery_point.close"
        await record(
            session, actor, action, point, point.zone_id, before={"active": not active}, after={"active": active}
        )
    return point
