"""Product input (pages and API alike) and the vendor's view of a product."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from pydantic import BaseModel, Field, field_validator

from backend.catalog.models import (
    MAX_TIERS,
    Category,
    Fulfilment,
    ListingAction,
    ListingStatus,
    PriceTier,
    Product,
    ProductPhoto,
    ProductRevision,
    ProductRevisionPhoto,
    Unit,
)
from backend.public import RowShape, public_from
from backend.validation import Rupiah

MAX_PRICE = 100_000_000


class TierInput(BaseModel):
    min_quantity: int = Field(ge=2, le=1_000_000, description="From this quantity on …")
    unit_price: Rupiah = Field(gt=0, le=MAX_PRICE, description="… each unit costs this many rupiah")


class ProductInput(BaseModel):
    name: str = Field(min_length=3, max_length=120)
    description: str = Field(default="", max_length=2000)
    category: Category
    unit: Unit
    price: Rupiah = Field(gt=0, le=MAX_PRICE, description="Rupiah per unit, a whole number")
    tiers: list[TierInput] = Field(default_factory=list, max_length=MAX_TIERS)
    min_order_qty: int = Field(default=1, ge=1, le=1_000_000)
    fulfilment: Fulfilment
    stock: int | None = Field(default=None, ge=0, le=10_000_000, description="Ready goods only: what is left to sell")
    stock_seen: int | None = Field(
        default=None,
        ge=0,
        le=10_000_000,
        description="On a change: the stock the editor showed. The difference (stock - stock_seen) is applied to "
        "what is left now, so orders placed meanwhile are not put back on sale. Without it, stock is "
        "set as given.",
    )
    lead_time_hours: int | None = Field(default=None, ge=0, le=720)
    order_cutoff: time | None = Field(default=None, description="Order before this time (WIB) the day before")
    certificate_ids: list[int] = Field(default_factory=list, max_length=20)

    @field_validator("name", mode="before")
    @classmethod
    def _collapse_spaces(cls, value: object) -> object:
        return " ".join(value.split()) if isinstance(value, str) else value


class TierPublic(RowShape):
    min_quantity: int
    unit_price: int


class PhotoPublic(BaseModel):
    id: int
    thumbnail_url: str
    detail_url: str
    width: int
    height: int

    @classmethod
    def of(cls, photo: ProductPhoto | ProductRevisionPhoto) -> PhotoPublic:
        return public_from(
            cls, photo, thumbnail_url=f"/media/{photo.thumb_key}", detail_url=f"/media/{photo.detail_key}"
        )


class ProductFacts(BaseModel):
    """What the vendor's own view and a buyer's view of a product both give first."""

    id: int
    name: str
    description: str
    category: str
    unit: str
    price: int
    tiers: list[TierPublic]
    min_order_qty: int
    fulfilment: str


class RevisionPublic(BaseModel):
    """A change to an approved listing waiting for a manager: the reviewed fields and photos as they would become.
    Buyers see the approved version (the product's own fields) until it is approved."""

    id: int
    name: str
    description: str
    category: str
    certificate_ids: list[int]
    photos: list[PhotoPublic] = Field(description="Remove one with DELETE …/photos/{id} using these ids")
    submitted_at: datetime
    updated_at: datetime


class RejectedRevisionPublic(BaseModel):
    """The vendor's latest change a market manager rejected, shown until the vendor sends another change."""

    id: int
    reason: str = Field(description="Why the market manager rejected it")
    submitted_at: datetime
    decided_at: datetime


class ProductPublic(ProductFacts):
    stock: int | None
    lead_time_hours: int | None
    order_cutoff: time | None
    certificate_ids: list[int]
    photos: list[PhotoPublic]
    status: str
    status_reason: str
    submitted_at: datetime | None
    updated_at: datetime
    pending_revision: RevisionPublic | None = Field(
        default=None,
        description="The change to name, description, category, certificates or photos waiting for review; "
        "the listing stays on sale as approved meanwhile",
    )
    rejected_revision: RejectedRevisionPublic | None = Field(
        default=None,
        description="The latest change a market manager rejected, with the reason, until another change is sent",
    )


@dataclass
class ProductView:
    """A product with what hangs on it, loaded in a fixed number of queries."""

    product: Product
    tiers: list[PriceTier]
    photos: list[ProductPhoto]
    certificate_ids: list[int]
    # What the listing's status allows, by catalog.service's rules: the vendor's buttons, and whether a change a
    # manager reviews (name, description, category, photos, certificates) waits as a revision while the approved
    # version stays on sale.
    actions: list[ListingAction] = field(default_factory=list)
    changes_are_reviewed: bool = False
    # The change waiting for review, if any, and its proposed photos.
    revision: ProductRevision | None = None
    revision_photos: list[ProductRevisionPhoto] = field(default_factory=list)
    # The latest change a manager rejected, while the vendor has sent none since.
    rejected_revision: ProductRevision | None = None

    @property
    def editable_photos(self) -> list[ProductPhoto] | list[ProductRevisionPhoto]:
        """The photos the vendor works on: the proposed ones while a change waits for review."""
        return self.revision_photos if self.revision else self.photos

    @property
    def rejection_reason(self) -> str:
        """Why a manager rejected the listing, for the vendor to fix."""
        return self.product.status_reason if self.product.status == ListingStatus.REJECTED else ""

    def public(self) -> ProductPublic:
        return ProductPublic(
            **self.product.model_dump(exclude={"vendor_id", "approved_snapshot", "reviewed_at", "created_at"}),
            tiers=[TierPublic.of(tier) for tier in self.tiers],
            certificate_ids=self.certificate_ids,
            photos=[PhotoPublic.of(photo) for photo in self.photos],
            pending_revision=(
                RevisionPublic(
                    **self.revision.model_dump(
                        include={
                            "id",
                            "name",
                            "description",
                            "category",
                            "certificate_ids",
                            "submitted_at",
                            "updated_at",
                        }
                    ),
                    photos=[PhotoPublic.of(photo) for photo in self.revision_photos],
                )
                if self.revision
                else None
            ),
            rejected_revision=(
                RejectedRevisionPublic(
                    id=self.rejected_revision.id,
                    reason=self.rejected_revision.reason,
                    submitted_at=self.rejected_revision.submitted_at,
                    decided_at=self.rejected_revision.decided_at or self.rejected_revision.updated_at,
                )
                if self.rejected_revision
                else None
            ),
        )


# --- what buyers see (catalog.search and catalog.storefront) ------------------------------------------


class CatalogueItemPublic(BaseModel):
    product_id: int
    name: str
    category: str
    unit: str
    price: int = Field(description="Rupiah per unit at the minimum order")
    min_order_qty: int
    best_tier_quantity: int | None = Field(description="From this quantity on, the lowest unit price")
    best_tier_price: int | None
    vendor_id: int
    vendor_name: str
    kecamatan: str
    distance_km: float
    delivers_here: bool
    rating_average: float | None
    rating_count: int
    badges: list[str] = Field(description="From verified certificates only: Halal, PIRT, BPOM, SNI")
    available_quantity: int | None = Field(
        description="Capacity left or stock for available_on; null for made-to-order goods without a date"
    )
    thumbnail_url: str | None
    url: str


class SuggestionsPublic(BaseModel):
    texts: list[str] = Field(
        default_factory=list, description="Searches with the closest known words, for a search that found nothing"
    )
    categories: list[str] = Field(default_factory=list, description="Categories whose words the search's words start")


class CataloguePagePublic(BaseModel):
    items: list[CatalogueItemPublic]
    page: int
    has_more: bool
    next_cursor: str | None = Field(
        default=None, description="Pass as `after` (with `page` + 1) for the next page; null on the last page"
    )
    sort: str
    near: dict[str, float]
    suggestions: SuggestionsPublic = Field(
        default_factory=SuggestionsPublic, description="Filled only when a search found nothing"
    )


class CertificateBadgePublic(BaseModel):
    kind: str
    badge: str | None
    number: str
    issuer: str
    expires_on: date | None


class ProductDetailPublic(ProductFacts):
    lead_time_hours: int | None
    order_cutoff: time | None
    photos: list[PhotoPublic]
    badges: list[str]
    certificates: list[CertificateBadgePublic]
    vendor_id: int
    vendor_name: str
    available_on: date | None
    available_quantity: int | None
    orderable: bool | None = Field(description="Null when no available_on was given")


class VendorStorefrontPublic(BaseModel):
    id: int
    business_name: str
    kecamatan: str
    desa: str
    story: str
    delivery_radius_km: float
    operating_days: list[int]
    opens_at: time | None
    closes_at: time | None
    whatsapp: str | None = Field(description="E.164, for click-to-chat; only with a token")
    photo_url: str | None
    rating_average: float | None
    rating_count: int
    certificates: list[CertificateBadgePublic]
    products: list[CatalogueItemPublic]


class ReviewPublic(BaseModel):
    rating: int = Field(ge=1, le=5)
    comment: str
    author: str = Field(description="The reviewer's first name")
    created_at: datetime
    reply: str | None = Field(description="The vendor's answer, if any")
