"""A product and a vendor as buyers see them: only what the buyer-visibility rule lets through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.catalog.models import PriceTier, Product, ProductCertificate, ProductPhoto
from backend.catalog.search import available_quantity_column, check_delivery_date, orderable_on
from backend.catalog.service import buyer_visible
from backend.certification.service import badges
from backend.certification.models import Certificate, CertificateStatus
from backend.clock import utcnow, wib_today
from backend.errors import N_, NotFound
from backend.orders.models import CapacityDay
from backend.vendors.models import Vendor, VendorStatus

MSG_NO_PRODUCT = N_("This product is not on sale.")
MSG_NO_VENDOR = N_("This vendor is not on Pasar Kawasan.")


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

    @property
    def rating_average(self) -> float | None:
        return round(self.vendor.rating_sum / self.vendor.rating_count, 1) if self.vendor.rating_count else None


async def product_for_buyer(*, session: AsyncSession, product_id: int, available_on: date | None = None,
                            now: datetime | None = None) -> ProductPage:
    """A visible product with its photos, tiers and certificates, and what is left for a delivery day."""
    now = now or utcnow()
    today = wib_today(now)
    if available_on is not None:
        check_delivery_date(available_on, today=today)
    statement = (select(Product, Vendor, available_quantity_column(available_on).label("available"))
                 .join(Vendor, Vendor.id == Product.vendor_id)
                 .where(Product.id == product_id, buyer_visible(today)))
    if available_on is not None:
        statement = (statement
                     .outerjoin(CapacityDay, and_(CapacityDay.vendor_id == Vendor.id, CapacityDay.day == available_on))
                     .add_columns(and_(*orderable_on(available_on, now)).label("orderable")))
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        raise NotFound(MSG_NO_PRODUCT)
    product, vendor, available = row[0], row[1], row[2]
    photos = list((await session.execute(
        select(ProductPhoto).where(ProductPhoto.product_id == product.id)
        .order_by(ProductPhoto.position, ProductPhoto.id))).scalars())
    tiers = list((await session.execute(
        select(PriceTier).where(PriceTier.product_id == product.id).order_by(PriceTier.min_quantity))).scalars())
    certificates = list((await session.execute(
        select(Certificate).join(ProductCertificate, ProductCertificate.certificate_id == Certificate.id)
        .where(ProductCertificate.product_id == product.id).order_by(Certificate.kind))).scalars())
    orderable = None
    if available_on is not None:
        enough = available is not None and available >= product.min_order_qty
        orderable = bool(row.orderable) and enough
    return ProductPage(product=product, vendor=vendor, photos=photos, tiers=tiers, certificates=certificates,
                       badges=badges(certificates, today), available_on=available_on, available_quantity=available,
                       orderable=orderable)


async def vendor_for_buyer(*, session: AsyncSession, vendor_id: int, now: datetime | None = None) -> VendorPage:
    """An active vendor's profile with the certificates that count today (verified, unexpired)."""
    today = wib_today(now or utcnow())
    rows = (await session.execute(
        select(Vendor, Certificate)
        .outerjoin(Certificate, and_(
            Certificate.vendor_id == Vendor.id, Certificate.status == CertificateStatus.VERIFIED,
            or_(Certificate.expires_on.is_(None), Certificate.expires_on >= today)))
        .where(Vendor.id == vendor_id, Vendor.status == VendorStatus.ACTIVE)
        .order_by(Certificate.kind)
    )).all()
    if not rows:
        raise NotFound(MSG_NO_VENDOR)
    return VendorPage(vendor=rows[0][0], certificates=[certificate for _, certificate in rows if certificate])

