"""Who a vendor's delivery radius reaches: the zone's delivery places (its canteens, gates and dormitories) that
lie within it, as the crow flies (the distance placement checks in `orders.delivery.reach_problem`, computed in SQL
by the catalogue's `entries.distance_km`).

A vendor reads it on their home and on each live product ("visible to 4 canteens and 3 gates within 10 km"); a
manager reads it when approving a listing; when the radius reaches none of them, the vendor is told the radius
that would reach the nearest one and can set it with one tap (through `service.set_delivery_radius`, the profile's
own rules). A canteen without its factory's location is where the zone is, as its orders are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Organisation, Role, User, Zone
from backend.catalog.entries import distance_km
from backend.errors import N_
from backend.i18n import gettext, ngettext
from backend.orders.models import DeliveryPoint, PointKind
from backend.vendors.models import Vendor, VendorStatus

MAX_RADIUS_KM = 100  # the vendor table's limit (radius_range)

MSG_VISIBLE = N_("Visible to %(places)s within %(radius)s km.")
MSG_REACHES_NONE = N_(
    "Your delivery radius of %(radius)s km reaches none of the zone's canteens, gates or dormitories: buyers do not "
    "see your products. The nearest is %(distance)s km away."
)
MSG_BEYOND_LIMIT = N_(
    "The zone's nearest canteen, gate or dormitory is %(distance)s km away, beyond the %(limit)s km a vendor may "
    "deliver: check the location in your profile."
)
MSG_NO_LOCATION = N_("Add your location to the profile: buyers see vendors whose delivery radius reaches them.")
MSG_NO_PLACES = N_(
    "Your zone has no canteens, gates or dormitories yet: buyers there will see your products once it has."
)
MSG_SUSPENDED = N_("Your shop is suspended: buyers do not see your products.")
MSG_AND = N_("%(first)s and %(last)s")


@dataclass(frozen=True)
class Reach:
    """The zone's delivery places within the vendor's radius, and how far the nearest one is (None when the vendor
    has no location or the zone has no places)."""

    radius_km: float
    canteens: int
    gates: int
    dormitories: int
    nearest_km: float | None
    located: bool
    active: bool

    @property
    def reaches_any(self) -> bool:
        return self.active and self.canteens + self.gates + self.dormitories > 0

    @property
    def needed_km(self) -> int | None:
        """The whole kilometres that reach the nearest place, when the radius reaches none and a vendor may deliver
        that far; None otherwise."""
        if self.reaches_any or self.nearest_km is None or not self.located:
            return None
        needed = max(1, math.ceil(self.nearest_km))
        return needed if needed <= MAX_RADIUS_KM else None

    def places_text(self) -> str:
        return places_text(self.canteens, self.gates, self.dormitories)

    def summary(self) -> str:
        """What the vendor (or a manager) reads: who sees the products, or why nobody does."""
        message, params = self.summary_message()
        return gettext(message, **params)

    def summary_message(self) -> tuple[str, dict[str, Any]]:
        """The summary's message id and its parameters, for a reader that translates it later (the readiness
        checklist)."""
        if not self.active:
            return MSG_SUSPENDED, {}
        if not self.located:
            return MSG_NO_LOCATION, {}
        if self.reaches_any:
            return MSG_VISIBLE, {"places": self.places_text(), "radius": f"{self.radius_km:g}"}
        if self.nearest_km is None:
            return MSG_NO_PLACES, {}
        distance = f"{self.nearest_km:.1f}"
        if self.needed_km is None:
            return MSG_BEYOND_LIMIT, {"distance": distance, "limit": MAX_RADIUS_KM}
        return MSG_REACHES_NONE, {"radius": f"{self.radius_km:g}", "distance": distance}


def places_text(canteens: int, gates: int, dormitories: int) -> str:
    """ "4 canteens and 3 gates", in the request's language; only the kinds there are."""
    parts = [
        text
        for count, text in (
            (canteens, ngettext("%(num)d canteen", "%(num)d canteens", canteens)),
            (gates, ngettext("%(num)d gate", "%(num)d gates", gates)),
            (dormitories, ngettext("%(num)d dormitory", "%(num)d dormitories", dormitories)),
        )
        if count
    ]
    if len(parts) <= 1:
        return "".join(parts)
    return gettext(MSG_AND, first=", ".join(parts[:-1]), last=parts[-1])


def _reach_columns(latitude: Any, longitude: Any, zone_id: Any, radius_km: Any) -> list[Any]:
    """Who a delivery circle reaches, as five scalar subqueries: canteens, gates and dormitories of the zone within
    `radius_km` of the point, and the distances of the nearest canteen and of the nearest open gate or dormitory.
    The point, zone and radius are numbers, or a vendor row's columns (then they follow the outer query's vendor).
    A canteen without its factory's location is where the zone is, as its orders are (`delivery.canteen_place`)."""
    located = and_(col(Organisation.latitude).is_not(None), col(Organisation.longitude).is_not(None))
    canteen_distance = distance_km(
        latitude,
        longitude,
        case((located, col(Organisation.latitude)), else_=col(Zone.latitude)),
        case((located, col(Organisation.longitude)), else_=col(Zone.longitude)),
    )
    point_distance = distance_km(latitude, longitude, col(DeliveryPoint.latitude), col(DeliveryPoint.longitude))
    canteens = (
        select(func.count())
        .select_from(Organisation)
        .join(Zone, col(Zone.id) == col(Organisation.zone_id))
        .where(col(Organisation.zone_id) == zone_id)
    )
    points = select(func.count()).where(col(DeliveryPoint.zone_id) == zone_id, col(DeliveryPoint.active).is_(True))

    def points_within(kind: PointKind) -> Any:
        return points.where(col(DeliveryPoint.kind) == kind.value, point_distance <= radius_km).scalar_subquery()

    return [
        canteens.where(canteen_distance <= radius_km).scalar_subquery().label("reach_canteens"),
        points_within(PointKind.GATE).label("reach_gates"),
        points_within(PointKind.DORMITORY).label("reach_dormitories"),
        canteens.with_only_columns(func.min(canteen_distance)).scalar_subquery().label("nearest_canteen_km"),
        points.with_only_columns(func.min(point_distance)).scalar_subquery().label("nearest_point_km"),
    ]


def _reach(vendor: Vendor, radius_km: float, row: Sequence[Any] | None) -> Reach:
    located = vendor.latitude is not None and vendor.longitude is not None
    canteens, gates, dormitories, nearest_canteen, nearest_point = row if row is not None else (0, 0, 0, None, None)
    distances = [float(km) for km in (nearest_canteen, nearest_point) if km is not None]
    return Reach(
        radius_km=radius_km,
        canteens=canteens or 0,
        gates=gates or 0,
        dormitories=dormitories or 0,
        nearest_km=min(distances) if distances else None,
        located=located,
        active=vendor.status == VendorStatus.ACTIVE,
    )


async def vendor_reach(*, session: AsyncSession, vendor: Vendor, radius_km: float | None = None) -> Reach:
    """Who the vendor's radius (or `radius_km`, a radius the vendor considers) reaches now, in one query (none
    for a vendor without a location)."""
    radius = vendor.delivery_radius_km if radius_km is None else radius_km
    if vendor.latitude is None or vendor.longitude is None:
        return _reach(vendor, radius, None)
    row = (
        await session.execute(select(*_reach_columns(vendor.latitude, vendor.longitude, vendor.zone_id, radius)))
    ).one()
    return _reach(vendor, radius, tuple(row))


REACH_COLUMNS = 5  # how many columns `vendor_reach_columns` adds to a query


def vendor_reach_columns() -> list[Any]:
    """Who the radius of the outer query's vendor row reaches, as columns that query carries (`reach_from_row`
    reads them back)."""
    return _reach_columns(
        col(Vendor.latitude), col(Vendor.longitude), col(Vendor.zone_id), col(Vendor.delivery_radius_km)
    )


def reach_from_row(vendor: Vendor, values: Sequence[Any]) -> Reach:
    """The reach of `vendor` from the values of `vendor_reach_columns` in its row."""
    located = vendor.latitude is not None and vendor.longitude is not None
    return _reach(vendor, vendor.delivery_radius_km, tuple(values) if located else None)


async def vendor_with_reach(*, session: AsyncSession, user: User) -> tuple[Vendor, Reach] | None:
    """The user's vendor profile and who its radius reaches, in one query; None for a user without one. The
    vendor's own pages start here, so saying who sees the shop costs them no query of its own."""
    if user.role != Role.VENDOR:
        return None
    row = (
        await session.execute(select(Vendor, *vendor_reach_columns()).where(col(Vendor.user_id) == user.id))
    ).one_or_none()
    if row is None:
        return None
    return row[0], reach_from_row(row[0], row[1:])
