"""JSON API of the catalogue for canteens' procurement systems: the same search, filters and rules as the pages.

Open without a token (the catalogue is public); with a canteen's token, "near" defaults to its factory.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get
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
from backend.clock import utcnow, wib_today
from backend.db import DbSession
from backend.orders.reviews import vendor_reviews
from backend.public import media_url, public_from
from backend.requests.demand import count_unmet_search
from backend.vendors.models import mask_to_days

# The catalogue is public: a token only says who asks (its "near" defaults to a canteen's factory).
OPTIONAL_TOKEN: list[SecurityRequirement] = [{}, *BEARER]


def _item(item: CatalogueItem) -> CatalogueItemPublic:
    return public_from(
        CatalogueItemPublic, item, thumbnail_url=media_url(item.thumb_key), url=f"/products/{item.product_id}"
    )


def _certificate(certificate: Certificate) -> CertificateBadgePublic:
    return public_from(CertificateBadgePublic, certificate, badge=FORMATS[CertificateKind(certificate.kind)].badge)


class CatalogueController(Controller):
    """Open to anybody; a token only says who asks."""

    path = "/api/v1/catalogue"
    tags = ["catalogue"]
    security = OPTIONAL_TOKEN

    @get("/products", summary="Search live, certified products of vendors who deliver to a place")
    async def search_products(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        q: Annotated[
            str, QueryParameter(max_length=100, description="Words matched as prefixes, any case or accent")
        ] = "",
        category: FromQuery[Category | None] = None,
        halal: Annotated[
            bool, QueryParameter(description="Only products relying on a verified Halal certificate")
        ] = False,
        certified: Annotated[
            bool, QueryParameter(description="Only products with a Halal, PIRT, BPOM or SNI badge")
        ] = False,
        price_min: Annotated[int | None, QueryParameter(ge=0, le=100_000_000)] = None,
        price_max: Annotated[int | None, QueryParameter(ge=0, le=100_000_000)] = None,
        available_on: Annotated[
            date | None,
            QueryParameter(
                description="Delivery day (WIB): only what can still be ordered for it, with the quantity left"
            ),
        ] = None,
        sort: FromQuery[Sort] = Sort.RELEVANCE,
        latitude: Annotated[float | None, QueryParameter(ge=-90, le=90)] = None,
        longitude: Annotated[float | None, QueryParameter(ge=-180, le=180)] = None,
        after: Annotated[
            str,
            QueryParameter(
                max_length=400, description="The `next_cursor` of the page before: where the next page starts"
            ),
        ] = "",
        page: Annotated[
            int, QueryParameter(ge=1, le=50, description="The page's number; a page after the first needs `after`")
        ] = 1,
        submitted: Annotated[
            bool,
            QueryParameter(
                description="false for the answers shown while someone types (search as you type): only a search"
                " submitted is counted, anonymously, in the zone's 'dicari' list when it finds few products"
            ),
        ] = True,
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
                after=after,
            ),
        )
        suggestions = await suggest(session=db_session, text=q, found_any=bool(result.items) or result.page > 1)
        if submitted and not after:
            user = request.scope.get("user")
            await count_unmet_search(
                session=db_session,
                zone_id=getattr(user, "zone_id", None),
                text=q,
                found=len(result.items),
                today=wib_today(utcnow()),
            )
        return CataloguePagePublic(
            items=[_item(item) for item in result.items],
            page=result.page,
            has_more=result.has_more,
            next_cursor=result.next_cursor or None,
            sort=result.sort.value,
            near={"latitude": near.latitude, "longitude": near.longitude},
            suggestions=SuggestionsPublic(
                texts=suggestions.texts, categories=[category.value for category in suggestions.categories]
            ),
        )

    @get("/products/{product_id:int}", summary="A product on sale, with what is left for a delivery day")
    async def get_product(
        self, db_session: DbSession, product_id: FromPath[int], available_on: FromQuery[date | None] = None
    ) -> ProductDetailPublic:
        item = await product_for_buyer(
            session=db_session, product_id=product_id, available_on=available_on, now=utcnow()
        )
        # The product's own columns, and from the page what a buyer sees of it today.
        return public_from(
            ProductDetailPublic,
            item,
            **item.product.model_dump(),
            tiers=[TierPublic.of(tier) for tier in item.tiers],
            photos=[PhotoPublic.of(photo) for photo in item.photos],
            certificates=[_certificate(c) for c in item.certificates],
            vendor_name=item.vendor.business_name,
        )

    @get("/vendors/{vendor_id:int}", summary="An active vendor: profile, verified certificates, products on sale")
    async def get_vendor(
        self, request: Request[Any, Any, Any], db_session: DbSession, vendor_id: FromPath[int]
    ) -> VendorStorefrontPublic:
        near = await buyer_location(session=db_session, user=request.scope.get("user"))
        storefront = await vendor_for_buyer(session=db_session, vendor_id=vendor_id, near=near, now=utcnow())
        vendor = storefront.vendor
        return public_from(
            VendorStorefrontPublic,
            vendor,
            operating_days=mask_to_days(vendor.operating_days),
            whatsapp=vendor.whatsapp if request.scope.get("user") else None,
            photo_url=media_url(vendor.photo_detail_key),
            rating_average=storefront.rating_average,
            certificates=[_certificate(c) for c in storefront.certificates],
            products=[_item(item) for item in storefront.products.items],
        )

    @get("/vendors/{vendor_id:int}/reviews", summary="An active vendor's latest reviews, with the vendor's answers")
    async def get_vendor_reviews(self, db_session: DbSession, vendor_id: FromPath[int]) -> list[ReviewPublic]:
        _, reviews = await vendor_reviews(session=db_session, vendor_id=vendor_id)
        return [public_from(ReviewPublic, review) for review in reviews]


API_ROUTES: list[ControllerRouterHandler] = [CatalogueController]
