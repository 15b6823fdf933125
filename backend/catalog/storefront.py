"""A product and a vendor as buyers see them: only what the buyer-visibility rule lets through."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.catalog.models import PriceTier, Product, ProductCertificate, ProductPhoto
from backend.catalog.search import (
    CataloguePage,
    CatalogueQuery,
    Place,
    Sort,
    available_quantity_column,
    check_delivery_date,
    orderable_on,
    search_catalogue,
)
from backend.catalog.service import buyer_visible
from backend.certification.models import Certificate, CertificateStatus
from backend.certification.service import badges
from backend.clock import wib_today
from backend.db import great_circle_km
from backend.errors import N_, NotFound
from backend.orders.models import CapacityDay
from backend.vendors.models import Vendor, VendorStatus, rating_average

MSG_NO_PRODUCT = N_("This product is not on sale.")
MSG_NO_VENDOR = N_("This vendor is not on Pasar Kawasan.")
VENDOR_PRODUCTS = 60


@dataclass
class ProductPage:
    product: Product
    vendor: Vendor
    photos: list[ProductPhoto]
    tiers: list[PriceTier]
    certificates: list[Certificate]
    badges: list[str]
    available_on: date | None
    # Capacity left or stock for `available_on`; None when no day was asked for a made-to-order product.
    available_quantity: int | None
    # False when the product cannot be ordered for that day (lead time, working days, sold out); None without a day.
    orderable: bool | None


@dataclass
class VendorPage:
    vendor: Vendor
    certificates: list[Certificate]
    products: CataloguePage
    # From the buyer; None while the vendor has not set a location.
    distance_km: float | None

    @property
    def delivers_here(self) -> bool:
        return self.distance_km is None or self.distance_km <= self.vendor.delivery_radius_km

    @property
    def rating_average(self) -> float | None:
        return rating_average(self.vendor.rating_sum, self.vendor.rating_count)


async def product_for_buyer(
    *, session: AsyncSession, product_id: int, now: datetime, available_on: date | None = None
) -> ProductPage:
    """A visible product with its photos, tiers and certificates, and what is left for a delivery day."""
    today = wib_today(now)
    if available_on is not None:
        check_delivery_date(available_on, today=today)
    statement = (
        select(Product, Vendor, available_quantity_column(available_on).label("available"))
        .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
        .where(col(Product.id) == product_id, buyer_visible(today))
    )
    if available_on is not None:
        statement = statement.outerjoin(
            CapacityDay, and_(col(CapacityDay.vendor_id) == col(Vendor.id), col(CapacityDay.day) == available_on)
        ).add_columns(and_(*orderable_on(available_on, now)).label("orderable"))
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        raise NotFound(MSG_NO_PRODUCT)
    product, vendor, available = row[0], row[1], row[2]
    photos = list(
        (
            await session.execute(
                select(ProductPhoto)
                .where(col(ProductPhoto.product_id) == product.id)
                .order_by(col(ProductPhoto.position), col(ProductPhoto.id))
            )
        ).scalars()
    )
    tiers = list(
        (
            await session.execute(
                select(PriceTier).where(col(PriceTier.product_id) == product.id).order_by(col(PriceTier.min_quantity))
            )
        ).scalars()
    )
    certificates = list(
        (
            await session.execute(
                select(Certificate)
                .join(ProductCertificate, col(ProductCertificate.certificate_id) == col(Certificate.id))
                .where(col(ProductCertificate.product_id) == product.id)
                .order_by(col(Certificate.kind))
            )
        ).scalars()
    )
    orderable = None
    if available_on is not None:
        enough = available is not None and available >= product.min_order_qty
        orderable = bool(row.orderable) and enough
    return ProductPage(
        product=product,
        vendor=vendor,
        photos=photos,
        tiers=tiers,
        certificates=certificates,
        badges=badges(certificates, today),
        available_on=available_on,
        available_quantity=available,
        orderable=orderable,
    )


async def vendor_for_buyer(
    *, session: AsyncSession, vendor_id: int, near: Place, now: datetime, per_page: int = VENDOR_PRODUCTS
) -> VendorPage:
    """An active vendor's profile with the certificates that count today (verified, unexpired), their products on
    sale cheapest first, and how far they are from the buyer (products are listed even out of delivery reach)."""
    today = wib_today(now)
    # A vendor without such certificates comes back once, with None (the outer join).
    rows: Sequence[tuple[Vendor, Certificate | None]] = (
        await session.execute(
            select(Vendor, Certificate)
            .outerjoin(
                Certificate,
                and_(
                    col(Certificate.vendor_id) == col(Vendor.id),
                    col(Certificate.status) == CertificateStatus.VERIFIED,
                    or_(col(Certificate.expires_on).is_(None), col(Certificate.expires_on) >= today),
                ),
            )
            .where(col(Vendor.id) == vendor_id, col(Vendor.status) == VendorStatus.ACTIVE)
            .order_by(col(Certificate.kind))
        )
    ).all()
    if not rows:
        raise NotFound(MSG_NO_VENDOR)
    vendor = rows[0][0]
    products = await search_catalogue(
        session=session,
        per_page=per_page,
        now=now,
        query=CatalogueQuery(near=near, vendor_id=vendor_id, within_delivery_radius=False, sort=Sort.PRICE),
    )
    distance_km = great_circle_km(near.latitude, near.longitude, vendor.latitude, vendor.longitude)
    return VendorPage(
        vendor=vendor,
        certificates=[certificate for _, certificate in rows if certificate is not None],
        products=products,
        distance_km=round(distance_km, 1) if distance_km is not None else None,
    )
