"""The catalogue's query path before its read model (main at 0b66063, backend/catalog/search.py), kept only so
that bench/catalogue_search.py can measure before and after side by side on the same data. Not used by the app.

It reads `product`, `vendor` and the certificates directly: the largest delivery radius sizes a bounding box,
every product of the vendors in reach is joined and sorted, then a second query adds photos, tiers and badges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    ScalarSelect,
    SQLColumnExpression,
    and_,
    case,
    column,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Organisation, User, Zone
from backend.catalog.models import Category, Fulfilment, PriceTier, Product, ProductCertificate
from backend.catalog.searchtext import query_terms
from backend.catalog.service import buyer_visible, first_photo_key
from backend.catalog.vocabulary import Term, understand_query
from backend.certification.formats import FORMATS, CertificateKind
from backend.certification.models import Certificate
from backend.clock import WIB, to_wib, wib_today
from backend.db import EARTH_RADIUS_KM, is_postgres
from backend.errors import N_, FieldError, NotFound, ValidationFailed
from backend.orders.models import CapacityDay
from backend.vendors.models import Vendor, VendorStatus, rating_average

PER_PAGE = 20
MAX_PAGE = 50
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180
# The box is widened a little: the longitude span is taken at the buyer's latitude, not the vendor's.
BOX_MARGIN = 1.02
BADGE_KINDS = tuple(kind for kind in CertificateKind if FORMATS[kind].badge)
# PostgreSQL's stored, GIN-indexed tsvector of the search columns (migration 0004); not in the model.
PG_DOCUMENT = "product.search_document"
MSG_PRICE_RANGE = N_("The lowest price must not be above the highest.")
MSG_PAST_DATE = N_("Choose today or a later date.")
MSG_FAR_DATE = N_("Choose a date within the next 60 days.")
MSG_PLACE = N_("The location is not a valid latitude and longitude.")
MSG_PAGE = N_("There are no more pages.")
MAX_DAYS_AHEAD = 60


class Sort(StrEnum):
    RELEVANCE = "relevance"  # needs a search text; otherwise it falls back to distance
    DISTANCE = "distance"
    PRICE = "price"
    RATING = "rating"


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class CatalogueQuery:
    """What a buyer asked for. `near` is where distances are measured from (resolve it with buyer_location)."""

    near: Place
    text: str = ""
    category: Category | None = None
    certified_only: bool = False
    halal_only: bool = False
    price_min: int | None = None
    price_max: int | None = None
    available_on: date | None = None
    sort: Sort = Sort.RELEVANCE
    page: int = 1
    vendor_id: int | None = None
    # A vendor's own page lists all their products, with the distance, even where they do not deliver.
    within_delivery_radius: bool = True


@dataclass
class CatalogueItem:
    product_id: int
    name: str
    category: str
    unit: str
    price: int
    min_order_qty: int
    fulfilment: str
    vendor_id: int
    vendor_name: str
    kecamatan: str
    distance_km: float
    delivers_here: bool
    rating_count: int
    rating_average: float | None
    # What can still be ordered for the chosen day: capacity left or stock; None when no day was chosen
    # for a made-to-order product.
    available_quantity: int | None
    best_tier_quantity: int | None = None
    best_tier_price: int | None = None
    thumb_key: str | None = None
    badges: list[str] = field(default_factory=list)


@dataclass
class CataloguePage:
    items: list[CatalogueItem]
    page: int
    has_more: bool
    sort: Sort


def check_query(query: CatalogueQuery, *, today: date) -> None:
    """Refuse a query that cannot mean anything, with a message per field (nothing is searched)."""
    errors: list[FieldError] = []
    if not (-90 <= query.near.latitude <= 90 and -180 <= query.near.longitude <= 180):
        errors.append(FieldError("near", MSG_PLACE))
    if query.price_min is not None and query.price_max is not None and query.price_min > query.price_max:
        errors.append(FieldError("price_min", MSG_PRICE_RANGE))
    if query.available_on is not None:
        errors.extend(_date_errors(query.available_on, today))
    if not 1 <= query.page <= MAX_PAGE:
        errors.append(FieldError("page", MSG_PAGE))
    if errors:
        raise ValidationFailed(errors)


def _date_errors(day: date, today: date) -> list[FieldError]:
    if day < today:
        return [FieldError("available_on", MSG_PAST_DATE)]
    if day > today + timedelta(days=MAX_DAYS_AHEAD):
        return [FieldError("available_on", MSG_FAR_DATE)]
    return []


def check_delivery_date(day: date, *, today: date) -> None:
    """A delivery day buyers may ask about: from today to 60 days ahead."""
    errors = _date_errors(day, today)
    if errors:
        raise ValidationFailed(errors)


async def search_catalogue(
    *, session: AsyncSession, query: CatalogueQuery, now: datetime, per_page: int = PER_PAGE
) -> CataloguePage:
    """One page of what the buyer may see and order, filtered and sorted as asked (see the module's docstring)."""
    today = wib_today(now)
    check_query(query, today=today)
    postgres = is_postgres(session)
    typed = query_terms(query.text)
    if query.text.strip() and not typed:  # only emoji or punctuation: nothing can match it
        return CataloguePage(items=[], page=query.page, has_more=False, sort=query.sort)
    # The words' lookup carries the largest delivery radius with it: one round trip for both.
    words = await understand_query(
        session=session,
        text=query.text,
        along_with=_largest_delivery_radius() if query.within_delivery_radius else None,
    )
    terms = words.terms
    sort = query.sort if (query.sort != Sort.RELEVANCE or terms) else Sort.DISTANCE

    # Vendors first: the distance is computed once a vendor (a materialised CTE, not once a product), and
    # only for vendors in the bounding box around the buyer.
    lat, lon = query.near.latitude, query.near.longitude
    vendor_distance = func.great_circle_km(lat, lon, col(Vendor.latitude), col(Vendor.longitude))
    in_reach = [
        col(Vendor.status) == VendorStatus.ACTIVE,
        col(Vendor.latitude).is_not(None),
        col(Vendor.longitude).is_not(None),
    ]
    if query.vendor_id is not None:
        in_reach.append(col(Vendor.id) == query.vendor_id)
    if query.within_delivery_radius:
        largest_radius = words.along_with
        if largest_radius is None:
            return CataloguePage(items=[], page=query.page, has_more=False, sort=sort)
        in_reach += [*_bounding_box(lat, lon, largest_radius), vendor_distance <= col(Vendor.delivery_radius_km)]
    reach = (
        select(col(Vendor.id).label("vendor_id"), vendor_distance.label("distance_km")).where(*in_reach).cte("reach")
    )
    if not postgres:
        # SQLite would otherwise inline it and call the Python distance function for every product; PostgreSQL
        # inlines it into a plan that hash-joins, where a materialised CTE led it into a nested loop.
        reach = reach.prefix_with("MATERIALIZED")
    distance = reach.c.distance_km

    available = available_quantity_column(query.available_on)
    columns = [
        col(Product.id),
        col(Product.name),
        col(Product.category),
        col(Product.unit),
        col(Product.price),
        col(Product.min_order_qty),
        col(Product.fulfilment),
        col(Vendor.id).label("vendor_id"),
        col(Vendor.business_name),
        col(Vendor.kecamatan),
        col(Vendor.delivery_radius_km),
        col(Vendor.rating_count),
        col(Vendor.rating_sum),
        distance.label("distance_km"),
        available.label("available_quantity"),
    ]
    statement = (
        select(*columns)
        .select_from(reach)
        .join(Product, col(Product.vendor_id) == reach.c.vendor_id)
        .join(Vendor, col(Vendor.id) == reach.c.vendor_id)
        .where(buyer_visible(today))
    )
    if query.available_on is not None:
        statement = statement.outerjoin(
            CapacityDay, and_(col(CapacityDay.vendor_id) == col(Vendor.id), col(CapacityDay.day) == query.available_on)
        )
        statement = statement.where(*orderable_on(query.available_on, now), available >= col(Product.min_order_qty))

    rank: ColumnElement[Any] | None = None
    if terms:
        if postgres:
            document: ColumnClause[Any] = literal_column(PG_DOCUMENT)
            tsquery = func.to_tsquery(
                literal_column("'simple'::regconfig"), " & ".join(_text_match(t, postgres=True) for t in terms)
            )
            statement = statement.where(document.op("@@")(tsquery))
            rank = func.ts_rank(document, tsquery).desc()
        else:
            index = table("product_search", column("rowid"))
            statement = statement.join(index, index.c.rowid == col(Product.id)).where(
                literal_column("product_search").op("MATCH")(
                    " AND ".join(_text_match(t, postgres=False) for t in terms)
                )
            )
            # bm25 is lower for a better match; a hit in the name weighs 10, in the vendor's name 4.
            rank = func.bm25(literal_column("product_search"), 10.0, 4.0, 1.0).asc()

    if query.category is not None:
        statement = statement.where(col(Product.category) == query.category)
    if query.price_min is not None:
        statement = statement.where(col(Product.price) >= query.price_min)
    if query.price_max is not None:
        statement = statement.where(col(Product.price) <= query.price_max)
    if query.certified_only:
        statement = statement.where(_relies_on(BADGE_KINDS))
    if query.halal_only:
        statement = statement.where(_relies_on((CertificateKind.HALAL,)))

    average = col(Vendor.rating_sum) * 1.0 / func.nullif(col(Vendor.rating_count), 0)
    orderings: dict[Sort, list[SQLColumnExpression[Any]]] = {
        # `sort` is relevance only when there are terms, and so a rank.
        Sort.RELEVANCE: [_typed_in_name(typed), rank, distance] if rank is not None else [distance],
        Sort.DISTANCE: [distance],
        Sort.PRICE: [col(Product.price), distance],
        Sort.RATING: [average.desc().nulls_last(), col(Vendor.rating_count).desc(), distance],
    }
    statement = (
        statement.order_by(*orderings[sort], col(Product.id)).limit(per_page + 1).offset((query.page - 1) * per_page)
    )

    rows = (await session.execute(statement)).all()
    items = [
        CatalogueItem(
            product_id=row.id,
            name=row.name,
            category=row.category,
            unit=row.unit,
            price=row.price,
            min_order_qty=row.min_order_qty,
            fulfilment=row.fulfilment,
            vendor_id=row.vendor_id,
            vendor_name=row.business_name,
            kecamatan=row.kecamatan,
            distance_km=round(row.distance_km, 1),
            delivers_here=row.distance_km <= row.delivery_radius_km,
            rating_count=row.rating_count,
            rating_average=rating_average(row.rating_sum, row.rating_count),
            available_quantity=row.available_quantity,
        )
        for row in rows[:per_page]
    ]
    await _add_photos_tiers_and_badges(session=session, items=items)
    return CataloguePage(
        items=items, page=query.page, has_more=len(rows) > per_page and query.page < MAX_PAGE, sort=sort
    )


def _text_match(alternatives: Term, *, postgres: bool) -> str:
    """One search term for the index, each alternative matched as a prefix and those of several words needing
    all of them: ("kripik", "nasi box") → `("kripik"* OR ("nasi"* AND "box"*))` for FTS5,
    `(kripik:* | (nasi:* & box:*))` for to_tsquery. Words are normalised ([0-9a-z]), so need no quoting."""
    prefix, every, either = ("{}:*", " & ", " | ") if postgres else ('"{}"*', " AND ", " OR ")
    parts = []
    for alternative in alternatives:
        words = [prefix.format(word) for word in alternative.split()]
        parts.append(words[0] if len(words) == 1 else f"({every.join(words)})")
    return f"({either.join(parts)})"


def _typed_in_name(words: list[str]) -> ColumnElement[int]:
    """0 when every word as typed starts a word of the product's name, else 1: exact matches come before those
    found through a spelling, a synonym or a correction."""
    name = literal(" ") + col(Product.search_name)
    return case((and_(*(name.like(f"% {word}%") for word in words)), 0), else_=1)


def _largest_delivery_radius() -> ScalarSelect[Any]:
    """Read apart, so the planner sees the bounding box as plain numbers (a subquery hides them)."""
    return (
        select(func.max(col(Vendor.delivery_radius_km)))
        .where(col(Vendor.status) == VendorStatus.ACTIVE)
        .scalar_subquery()
    )


def _bounding_box(lat: float, lon: float, radius: float) -> list[ColumnElement[bool]]:
    """The box around the buyer that any vendor able to deliver here lies in; uses ix_vendor_location."""
    lat_span = radius * (BOX_MARGIN / KM_PER_DEGREE)
    lon_span = radius * (BOX_MARGIN / (KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01)))
    return [
        col(Vendor.latitude).between(lat - lat_span, lat + lat_span),
        col(Vendor.longitude).between(lon - lon_span, lon + lon_span),
    ]


def available_quantity_column(day: date | None) -> ColumnElement[int | None]:
    """Stock for ready goods; for made-to-order goods the vendor's capacity left on `day` (query joins CapacityDay)."""
    if day is None:
        return case((col(Product.fulfilment) == Fulfilment.READY_STOCK, col(Product.stock)), else_=None)
    capacity_left = func.coalesce(col(CapacityDay.capacity) - col(CapacityDay.held), col(Vendor.daily_capacity), 0)
    return case((col(Product.fulfilment) == Fulfilment.READY_STOCK, col(Product.stock)), else_=capacity_left)


def orderable_on(day: date, now: datetime) -> list[ColumnElement[bool]]:
    """A product can be ordered now for delivery on `day`: the vendor works that weekday and the lead time holds."""
    local_now = to_wib(now)
    days_ahead = (day - local_now.date()).days
    end_of_day = datetime.combine(day + timedelta(days=1), time(0), tzinfo=WIB)
    hours_left = (end_of_day - local_now).total_seconds() / 3600
    if days_ahead >= 2:
        cutoff_met: ColumnElement[bool] = true()
    elif days_ahead == 1:  # "order before HH:MM the day before": the day before is today
        cutoff_met = or_(
            col(Product.order_cutoff).is_(None), col(Product.order_cutoff) > local_now.time().replace(tzinfo=None)
        )
    else:
        cutoff_met = col(Product.order_cutoff).is_(None)
    weekday_bit = 1 << (day.isoweekday() - 1)
    return [
        col(Vendor.operating_days).op("&")(weekday_bit) != 0,
        cutoff_met,
        or_(col(Product.lead_time_hours).is_(None), col(Product.lead_time_hours) <= hours_left),
    ]


def _relies_on(kinds: tuple[CertificateKind, ...]) -> ColumnElement[bool]:
    """The listing relies on a certificate of one of these kinds (visible listings' certificates are verified).

    A correlated EXISTS (two primary-key lookups a product): as `Product.id IN (…)` SQLite probed the product
    index once per id of the list for every vendor in reach, which took seconds."""
    return exists(
        select(col(ProductCertificate.product_id))
        .join(Certificate, col(Certificate.id) == col(ProductCertificate.certificate_id))
        .where(
            col(ProductCertificate.product_id) == col(Product.id),
            col(Certificate.kind).in_([kind.value for kind in kinds]),
        )
    )


async def _add_photos_tiers_and_badges(*, session: AsyncSession, items: list[CatalogueItem]) -> None:
    """The first photo, the best tier and the badges of a page's products, in one query."""
    if not items:
        return
    first_photo = first_photo_key()
    # Tiers get cheaper as the quantity grows, so the best is the one with the largest quantity.
    best_tier = (
        select(col(PriceTier.min_quantity))
        .where(col(PriceTier.product_id) == col(Product.id))
        .order_by(col(PriceTier.min_quantity).desc())
        .limit(1)
    )
    badge_columns = [
        exists(
            select(col(ProductCertificate.product_id))
            .join(Certificate, col(Certificate.id) == col(ProductCertificate.certificate_id))
            .where(col(ProductCertificate.product_id) == col(Product.id), col(Certificate.kind) == kind.value)
        ).label(kind.value)
        for kind in BADGE_KINDS
    ]
    rows = (
        await session.execute(
            select(
                col(Product.id),
                first_photo.label("thumb_key"),
                best_tier.scalar_subquery().label("tier_quantity"),
                best_tier.with_only_columns(col(PriceTier.unit_price)).scalar_subquery().label("tier_price"),
                *badge_columns,
            ).where(col(Product.id).in_([item.product_id for item in items]))
        )
    ).all()
    extras = {row.id: row._mapping for row in rows}
    for item in items:
        extra = extras[item.product_id]
        item.thumb_key = extra["thumb_key"]
        item.best_tier_quantity, item.best_tier_price = extra["tier_quantity"], extra["tier_price"]
        item.badges = [FORMATS[kind].badge or "" for kind in BADGE_KINDS if extra[kind.value]]


async def buyer_location(
    *, session: AsyncSession, user: User | None, latitude: float | None = None, longitude: float | None = None
) -> Place:
    """Where "near me" is: the phone's location when given, else the canteen's factory, else the buyer's zone,
    else the first zone (a visitor who is not logged in)."""
    if latitude is not None and longitude is not None:
        return Place(latitude, longitude)
    if user is not None and user.organisation_id is not None:
        row = (
            await session.execute(
                select(col(Organisation.latitude), col(Organisation.longitude), col(Zone.latitude), col(Zone.longitude))
                .join(Zone, col(Zone.id) == col(Organisation.zone_id))
                .where(col(Organisation.id) == user.organisation_id)
            )
        ).one()
        return Place(row[0], row[1]) if row[0] is not None and row[1] is not None else Place(row[2], row[3])
    zone_query = select(col(Zone.latitude), col(Zone.longitude))
    zone_query = (
        zone_query.where(col(Zone.id) == user.zone_id)
        if user is not None and user.zone_id is not None
        else zone_query.order_by(col(Zone.id)).limit(1)
    )
    zone_row = (await session.execute(zone_query)).one_or_none()
    if zone_row is None:
        raise NotFound(N_("No industrial zone is set up yet."))
    return Place(zone_row[0], zone_row[1])
