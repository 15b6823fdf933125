"""JSON API of the catalogue for canteens' procurement systems: the same search, filters and rules as the pages.

Open without a token (the catalogue is public); with a canteen's token, "near" defaults to its factory.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request, get
from litestar.openapi.spec import SecurityRequirement
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.types import ControllerRouterHandler

from backend.accounts.auth import BEARER
from backend.catalog.models import Category
from backend.catalog.schemas import (
    CatalogueItemPublic,
    CataloguePagePublic,
    CertificateBadgePublic,
    PhotoPublic,
    ProductDetailPublic,
    ReviewPublic,
    SuggestionsPublic,
    TierPublic,
    VendorStorefrontPublic,
)
from backend.catalog.search import CatalogueItem, CatalogueQuery, Sort, buyer_location, search_catalogue
from backend.catalog.storefront import product_for_buyer, vendor_for_buyer
from backend.catalog.vocabulary import suggest
from backend.certification.formats import FORMATS, CertificateKind
from backend.certification.models import Certificate
from backend.clock import utcnow
from backend.db import DbSession
from backend.orders.reviews import vendor_reviews
from backend.vendors.models import mask_to_days

# The catalogue is public: a token only says who asks (its "near" defaults to a canteen's factory).
OPTIONAL_TOKEN: list[SecurityRequirement] = [{}, *BEARER]


def _item(item: CatalogueItem) -> CatalogueItemPublic:
    return CatalogueItemPublic(
        product_id=item.product_id,
        name=item.name,
        category=item.category,
        unit=item.unit,
        price=item.price,
        min_order_qty=item.min_order_qty,
        best_tier_quantity=item.best_tier_quantity,
        best_tier_price=item.best_tier_price,
        vendor_id=item.vendor_id,
        vendor_name=item.vendor_name,
        kecamatan=item.kecamatan,
        distance_km=item.distance_km,
        delivers_here=item.delivers_here,
        rating_average=item.rating_average,
        rating_count=item.rating_count,
        badges=item.badges,
        available_quantity=item.available_quantity,
        thumbnail_url=f"/media/{item.thumb_key}" if item.thumb_key else None,
        url=f"/products/{item.product_id}",
    )


def _certificate(certificate: Certificate) -> CertificateBadgePublic:
    return CertificateBadgePublic(
        kind=certificate.kind,
        badge=FORMATS[CertificateKind(certificate.kind)].badge,
        number=certificate.number,
        issuer=certificate.issuer,
        expires_on=certificate.expires_on,
    )


@get(
    "/api/v1/catalogue/products",
    tags=["catalogue"],
    security=OPTIONAL_TOKEN,
    summary="Search live, certified products of vendors who deliver to a place",
)
async def search_products(
    request: Request[Any, Any, Any],
    db_session: DbSession,
    q: Annotated[str, QueryParameter(max_length=100, description="Words matched as prefixes, any case or accent")] = "",
    category: FromQuery[Category | None] = None,
    halal: Annotated[bool, QueryParameter(description="Only products relying on a verified Halal certificate")] = False,
    certified: Annotated[
        bool, QueryParameter(description="Only products with a Halal, PIRT, BPOM or SNI badge")
    ] = False,
    price_min: Annotated[int | None, QueryParameter(ge=0, le=100_000_000)] = None,
    price_max: Annotated[int | None, QueryParameter(ge=0, le=100_000_000)] = None,
    available_on: Annotated[
        date | None,
        QueryParameter(description="Delivery day (WIB): only what can still be ordered for it, with the quantity left"),
    ] = None,
    sort: FromQuery[Sort] = Sort.RELEVANCE,
    latitude: Annotated[float | None, QueryParameter(ge=-90, le=90)] = None,
    longitude: Annotated[float | None, QueryParameter(ge=-180, le=180)] = None,
    page: Annotated[int, QueryParameter(ge=1, le=50)] = 1,
) -> CataloguePagePublic:
    near = await buyer_location(
        session=db_session, user=request.scope.get("user"), latitude=latitude, longitude=longitude
    )
    result = await search_catalogue(
        session=db_session,
        now=utcnow(),
        query=CatalogueQuery(
            near=near,
            text=q,
            category=category,
            halal_only=halal,
            certified_only=certified,
            price_min=price_min,
            price_max=price_max,
            available_on=available_on,
            sort=sort,
            page=page,
        ),
    )
    suggestions = await suggest(session=db_session, text=q, found_any=bool(result.items) or result.page > 1)
    return CataloguePagePublic(
        items=[_item(item) for item in result.items],
        page=result.page,
        has_more=result.has_more,
        sort=result.sort.value,
        near={"latitude": near.latitude, "longitude": near.longitude},
        suggestions=SuggestionsPublic(
            texts=suggestions.texts, categories=[category.value for category in suggestions.categories]
        ),
    )


@get(
    "/api/v1/catalogue/products/{product_id:int}",
    tags=["catalogue"],
    security=OPTIONAL_TOKEN,
    summary="A product on sale, with what is left for a delivery day",
)
async def get_product(
    db_session: DbSession, product_id: FromPath[int], available_on: FromQuery[date | None] = None
) -> ProductDetailPublic:
    item = await product_for_buyer(session=db_session, product_id=product_id, available_on=available_on, now=utcnow())
    product = item.product
    return ProductDetailPublic(
        id=product.id,
        name=product.name,
        description=product.description,
        category=product.category,
        unit=product.unit,
        price=product.price,
        min_order_qty=product.min_order_qty,
        fulfilment=product.fulfilment,
        lead_time_hours=product.lead_time_hours,
        order_cutoff=product.order_cutoff,
        tiers=[TierPublic.of(tier) for tier in item.tiers],
        photos=[PhotoPublic.of(photo) for photo in item.photos],
        badges=item.badges,
        certificates=[_certificate(c) for c in item.certificates],
        vendor_id=item.vendor.id,
        vendor_name=item.vendor.business_name,
        available_on=item.available_on,
        available_quantity=item.available_quantity,
        orderable=item.orderable,
    )


@get(
    "/api/v1/catalogue/vendors/{vendor_id:int}",
    tags=["catalogue"],
    security=OPTIONAL_TOKEN,
    summary="An active vendor: profile, verified certificates, products on sale",
)
async def get_vendor(
    request: Request[Any, Any, Any], db_session: DbSession, vendor_id: FromPath[int]
) -> VendorStorefrontPublic:
    near = await buyer_location(session=db_session, user=request.scope.get("user"))
    storefront = await vendor_for_buyer(session=db_session, vendor_id=vendor_id, near=near, now=utcnow())
    vendor = storefront.vendor
    assert vendor.id is not None
    return VendorStorefrontPublic(
        id=vendor.id,
        business_name=vendor.business_name,
        kecamatan=vendor.kecamatan,
        desa=vendor.desa,
        story=vendor.story,
        delivery_radius_km=vendor.delivery_radius_km,
        operating_days=mask_to_days(vendor.operating_days),
        opens_at=vendor.opens_at,
        closes_at=vendor.closes_at,
        whatsapp=vendor.whatsapp if request.scope.get("user") else None,
        photo_url=f"/media/{vendor.photo_detail_key}" if vendor.photo_detail_key else None,
        rating_average=storefront.rating_average,
        rating_count=vendor.rating_count,
        certificates=[_certificate(c) for c in storefront.certificates],
        products=[_item(item) for item in storefront.products.items],
    )


@get(
    "/api/v1/catalogue/vendors/{vendor_id:int}/reviews",
    tags=["catalogue"],
    security=OPTIONAL_TOKEN,
    summary="An active vendor's latest reviews, with the vendor's answers",
)
async def get_vendor_reviews(db_session: DbSession, vendor_id: FromPath[int]) -> list[ReviewPublic]:
    _, reviews = await vendor_reviews(session=db_session, vendor_id=vendor_id)
    return [
        ReviewPublic(rating=r.rating, comment=r.comment, author=r.author, created_at=r.created_at, reply=r.reply)
        for r in reviews
    ]


API_ROUTES: list[ControllerRouterHandler] = [search_products, get_product, get_vendor, get_vendor_reviews]
