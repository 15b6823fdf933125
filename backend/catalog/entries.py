"""The catalogue's read model: `catalogue_entry` (what a result card shows, buyer-visible products only) and
`vendor_reach` (which vendors may deliver to each 0.05° cell), kept in step with the tables they copy.

Every change that decides whether buyers see a product or what its card says calls `refresh_entries` in the
same transaction, before it commits: a listing approved, paused, edited, or a change to it approved; a vendor
suspended, reinstated, renamed, moved or rated; a certificate verified, refused or changed; a price, tier or
photo changed. It rewrites the rows of the products (or the vendor) concerned from the tables of record, so
the rule of what buyers see lives in one SELECT (`entry_rows`). A certificate's expiry needs no rewrite: each
row carries `visible_until`, compared with the day of the search.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Select, String, case, delete, exists, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.catalog.models import (
    CatalogueEntry,
    ListingStatus,
    PriceTier,
    Product,
    ProductCertificate,
    ProductPhoto,
    VendorReach,
)
from backend.certification.formats import FORMATS, CertificateKind
from backend.certification.models import Certificate, CertificateStatus
from backend.db import EARTH_RADIUS_KM
from backend.vendors.models import Vendor, VendorStatus

CELL_DEGREES = 0.05
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180
# The box is widened a little, so that rounding never leaves a reachable buyer's cell out.
BOX_MARGIN = 1.02
BADGE_KINDS = tuple(kind for kind in CertificateKind if FORMATS[kind].badge)
ENTRY_COLUMNS = tuple(CatalogueEntry.__table__.columns.keys())  # type: ignore[attr-defined]


async def refresh_entries(
    session: AsyncSession, *, product_ids: Collection[int] | None = None, vendor_id: int | None = None
) -> None:
    """Rewrite the catalogue rows of these products, or of all the vendor's products and the vendor's reach,
    from the tables of record (pending changes of the session are flushed first). Never commits."""
    await session.flush()
    if vendor_id is not None:
        await _refresh_reach(session, vendor_id)
        await session.execute(delete(CatalogueEntry).where(col(CatalogueEntry.vendor_id) == vendor_id))
        which: ColumnElement[bool] = col(Product.vendor_id) == vendor_id
    elif product_ids:
        ids = sorted(set(product_ids))
        await session.execute(delete(CatalogueEntry).where(col(CatalogueEntry.product_id).in_(ids)))
        which = col(Product.id).in_(ids)
    else:
        return
    await session.execute(insert(CatalogueEntry).from_select(ENTRY_COLUMNS, entry_rows().where(which)))


def entry_rows() -> Select[Any]:
    """The catalogue rows of buyer-visible products, in ENTRY_COLUMNS order: live, the vendor active, every
    certificate relied on verified (an expiry date is kept as `visible_until`, not applied)."""
    failing = exists(
        select(literal(1))
        .select_from(ProductCertificate)
        .join(Certificate, col(Certificate.id) == col(ProductCertificate.certificate_id))
        .where(
            col(ProductCertificate.product_id) == col(Product.id),
            col(Certificate.status) != CertificateStatus.VERIFIED,
        )
    )
    badges = {kind: _relies_on(kind) for kind in BADGE_KINDS}
    columns: dict[str, Any] = {
        "product_id": col(Product.id),
        "vendor_id": col(Product.vendor_id),
        "name": col(Product.name),
        "category": col(Product.category),
        "unit": col(Product.unit),
        "price": col(Product.price),
        "min_order_qty": col(Product.min_order_qty),
        "fulfilment": col(Product.fulfilment),
        "lead_time_hours": col(Product.lead_time_hours),
        "order_cutoff": col(Product.order_cutoff),
        "best_tier_quantity": _best_tier(col(PriceTier.min_quantity)),
        "best_tier_price": _best_tier(col(PriceTier.unit_price)),
        "thumb_key": _first_photo(),
        "halal": case((badges[CertificateKind.HALAL], True), else_=False),
        "certified": case((_relies_on(*BADGE_KINDS), True), else_=False),
        "badge_kinds": func.trim(_words_when(badges)),
        "visible_until": _earliest_expiry(),
        "vendor_name": col(Vendor.business_name),
        "kecamatan": col(Vendor.kecamatan),
        "latitude": col(Vendor.latitude),
        "longitude": col(Vendor.longitude),
        "delivery_radius_km": col(Vendor.delivery_radius_km),
        "operating_days": col(Vendor.operating_days),
        "daily_capacity": col(Vendor.daily_capacity),
        "rating_count": col(Vendor.rating_count),
        "rating_sum": col(Vendor.rating_sum),
        "search_name": literal(" ", String) + col(Product.search_name),
        "search_vendor": literal(" ", String) + col(Product.search_vendor),
        "search_text": literal(" ", String)
        + col(Product.search_name)
        + " "
        + col(Product.search_vendor)
        + " "
        + col(Product.search_body),
        "search_filters": _filter_words(badges),
    }
    return (
        select(*(columns[name].label(name) for name in ENTRY_COLUMNS))
        .select_from(Product)
        .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
        .where(col(Product.status) == ListingStatus.LIVE, col(Vendor.status) == VendorStatus.ACTIVE, ~failing)
    )


def filter_word(name: str) -> str:
    """The text index's word for a filter ("halal", "certified", "cat" + a category): no buyer types these."""
    return f"x{name}"


def _filter_words(badges: dict[CertificateKind, ColumnElement[bool]]) -> ColumnElement[str]:
    halal = case((badges[CertificateKind.HALAL], " " + filter_word("halal")), else_="")
    certified = case((_relies_on(*BADGE_KINDS), " " + filter_word("certified")), else_="")
    return literal(filter_word("cat"), String) + col(Product.category) + halal + certified


def _words_when(flags: dict[CertificateKind, ColumnElement[bool]]) -> ColumnElement[str]:
    text: ColumnElement[str] = literal("", String)
    for kind, flag in flags.items():
        text = text + case((flag, f"{kind.value} "), else_="")
    return text


def _relies_on(*kinds: CertificateKind) -> ColumnElement[bool]:
    return exists(
        select(literal(1))
        .select_from(ProductCertificate)
        .join(Certificate, col(Certificate.id) == col(ProductCertificate.certificate_id))
        .where(
            col(ProductCertificate.product_id) == col(Product.id),
            col(Certificate.kind).in_([kind.value for kind in kinds]),
        )
    )


def _earliest_expiry() -> Any:
    return (
        select(func.min(col(Certificate.expires_on)))
        .join(ProductCertificate, col(ProductCertificate.certificate_id) == col(Certificate.id))
        .where(col(ProductCertificate.product_id) == col(Product.id))
        .scalar_subquery()
    )


def _best_tier(column: Any) -> Any:
    """A column of the best tier: tiers get cheaper as the quantity grows, so the one of the largest quantity."""
    return (
        select(column)
        .where(col(PriceTier.product_id) == col(Product.id))
        .order_by(col(PriceTier.min_quantity).desc())
        .limit(1)
        .scalar_subquery()
    )


def _first_photo() -> Any:
    return (
        select(col(ProductPhoto.thumb_key))
        .where(col(ProductPhoto.product_id) == col(Product.id))
        .order_by(col(ProductPhoto.position), col(ProductPhoto.id))
        .limit(1)
        .scalar_subquery()
    )


# --- reach -------------------------------------------------------------------------------------------------


def cell_of(degrees: float) -> int:
    """The 0.05° band a latitude or longitude lies in."""
    return math.floor(degrees / CELL_DEGREES)


def reach_rows(vendor: Vendor) -> list[dict[str, Any]]:
    """The vendor's `vendor_reach` rows: every cell of the box around its delivery circle; none while it is
    suspended or has no location."""
    if vendor.status != VendorStatus.ACTIVE or vendor.latitude is None or vendor.longitude is None:
        return []
    lat, lon, radius = vendor.latitude, vendor.longitude, vendor.delivery_radius_km
    lat_span = radius * BOX_MARGIN / KM_PER_DEGREE
    # The box is widest where the circle is nearest a pole.
    widest = min(max(abs(lat - lat_span), abs(lat + lat_span)), 89.0)
    lon_span = lat_span / math.cos(math.radians(widest))
    rating_key = vendor.rating_sum / vendor.rating_count if vendor.rating_count else -1.0
    return [
        {
            "cell_lat": cell_lat,
            "cell_lon": cell_lon,
            "vendor_id": vendor.id,
            "latitude": lat,
            "longitude": lon,
            "delivery_radius_km": radius,
            "rating_key": rating_key,
            "rating_count": vendor.rating_count,
        }
        for cell_lat in range(cell_of(lat - lat_span), cell_of(lat + lat_span) + 1)
        for cell_lon in range(cell_of(lon - lon_span), cell_of(lon + lon_span) + 1)
    ]


async def _refresh_reach(session: AsyncSession, vendor_id: int) -> None:
    await session.execute(delete(VendorReach).where(col(VendorReach.vendor_id) == vendor_id))
    vendor = await session.get_one(Vendor, vendor_id, populate_existing=True)
    rows = reach_rows(vendor)
    if rows:
        await session.execute(insert(VendorReach), rows)


def distance_km(latitude: Any, longitude: Any, lat_column: Any, lon_column: Any) -> ColumnElement[float]:
    """The great-circle (haversine) distance from a point (numbers, or columns of another row) to the coordinates
    in two columns, in plain SQL functions both databases have, so neither calls back into Python for a row."""
    radians = math.pi / 180
    half_lat = func.sin((lat_column - latitude) * (radians / 2))
    half_lon = func.sin((lon_column - longitude) * (radians / 2))
    cos_lat = math.cos(latitude * radians) if isinstance(latitude, int | float) else func.cos(latitude * radians)
    half_chord = half_lat * half_lat + cos_lat * func.cos(lat_column * radians) * (half_lon * half_lon)
    return 2 * EARTH_RADIUS_KM * func.asin(func.sqrt(half_chord))
