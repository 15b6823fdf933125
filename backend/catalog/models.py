"""Products and what hangs on them: price tiers, photos, the certificates they rely on."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from backend.db import created_at_field, id_field
from backend.errors import N_


class Category(StrEnum):
    CATERING = "catering"
    SNACKS = "snacks"
    FROZEN = "frozen"
    DRINKS = "drinks"
    FRESH = "fresh"
    UNIFORMS = "uniforms"
    CRAFTS = "crafts"
    OTHER = "other"


CATEGORY_LABELS = {
    Category.CATERING: N_("Catering and nasi box"),
    Category.SNACKS: N_("Snacks and processed food"),
    Category.FROZEN: N_("Frozen food"),
    Category.DRINKS: N_("Drinks"),
    Category.FRESH: N_("Fresh produce"),
    Category.UNIFORMS: N_("Konveksi and uniforms"),
    Category.CRAFTS: N_("Crafts"),
    Category.OTHER: N_("Other"),
}


class Unit(StrEnum):
    PORSI = "porsi"
    BOX = "box"
    KG = "kg"
    PCS = "pcs"
    PACK = "pack"
    LUSIN = "lusin"


UNIT_LABELS = {
    Unit.PORSI: N_("portion"),
    Unit.BOX: N_("box"),
    Unit.KG: N_("kg"),
    Unit.PCS: N_("piece"),
    Unit.PACK: N_("pack"),
    Unit.LUSIN: N_("dozen"),
}


class Fulfilment(StrEnum):
    MADE_TO_ORDER = "made_to_order"  # cooked or sewn for the order: uses the vendor's daily capacity
    READY_STOCK = "ready_stock"  # already made: uses the product's stock count


class ListingStatus(StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    LIVE = "live"
    REJECTED = "rejected"
    PAUSED = "paused"


class ListingAction(StrEnum):
    """What a vendor may do to a listing (approving and rejecting are a market manager's)."""

    SUBMIT = "submit"  # for review
    PAUSE = "pause"  # hidden from buyers
    RESUME = "resume"  # on sale again


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


MAX_PHOTOS = 5
MAX_TIERS = 5


class Product(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(f"category IN ({_values(Category)})", name="category_known"),
        CheckConstraint(f"unit IN ({_values(Unit)})", name="unit_known"),
        CheckConstraint(f"fulfilment IN ({_values(Fulfilment)})", name="fulfilment_known"),
        CheckConstraint(f"status IN ({_values(ListingStatus)})", name="status_known"),
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("min_order_qty >= 1", name="min_order_positive"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
        CheckConstraint("(fulfilment = 'ready_stock') = (stock IS NOT NULL)", name="stock_for_ready_goods"),
        CheckConstraint("lead_time_hours IS NULL OR order_cutoff IS NULL", name="one_lead_time_rule"),
        # The catalogue reads the live products of the vendors around a buyer.
        Index("ix_product_vendor_status", "vendor_id", "status"),
    )

    id: int = id_field()
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    name: str = Field(max_length=120)
    description: str = Field(default="", max_length=2000)
    category: str = Field(sa_column=Column(String(16), nullable=False, index=True))
    unit: str = Field(sa_column=Column(String(8), nullable=False))
    price: int
    min_order_qty: int = 1
    fulfilment: str = Field(sa_column=Column(String(16), nullable=False))
    stock: int | None = None
    lead_time_hours: int | None = None
    # "Order before HH:MM the day before" (WIB), the usual rule for catering.
    order_cutoff: time | None = None
    status: str = Field(default=ListingStatus.DRAFT, sa_column=Column(String(16), nullable=False, index=True))
    status_reason: str = Field(default="", max_length=500)
    submitted_at: datetime | None = None
    reviewed_at: datetime | None = None
    # What a manager approved last (name, category, photos, certificates), to show what changed since.
    approved_snapshot: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # What search matches, normalised (catalog.searchtext): indexed by SQLite FTS5 or a PostgreSQL GIN index
    # (migration 0004). The vendor's name is copied here so one index answers "nasi box bu sri".
    search_name: str = Field(default="", max_length=200)
    search_vendor: str = Field(default="", max_length=200)
    search_body: str = Field(default="", max_length=2400)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class PriceTier(SQLModel, table=True):
    __tablename__ = "price_tier"
    __table_args__ = (
        UniqueConstraint("product_id", "min_quantity", name="uq_price_tier_product_quantity"),
        CheckConstraint("min_quantity >= 2", name="quantity_from_two"),
        CheckConstraint("unit_price > 0", name="price_positive"),
    )

    id: int = id_field()
    product_id: int = Field(foreign_key="product.id", index=True, ondelete="CASCADE")
    min_quantity: int
    unit_price: int


class ProductCertificate(SQLModel, table=True):
    __tablename__ = "product_certificate"

    product_id: int = Field(foreign_key="product.id", primary_key=True, ondelete="CASCADE")
    certificate_id: int = Field(foreign_key="certificate.id", primary_key=True, index=True, ondelete="CASCADE")


class ProductPhoto(SQLModel, table=True):
    __tablename__ = "product_photo"
    # The database itself holds the limit and the order: positions 0 to MAX_PHOTOS - 1, each taken once.
    __table_args__ = (
        UniqueConstraint("product_id", "position", name="uq_product_photo_product_position"),
        CheckConstraint(f"position >= 0 AND position < {MAX_PHOTOS}", name="position_within_limit"),
    )

    id: int = id_field()
    product_id: int = Field(foreign_key="product.id", index=True, ondelete="CASCADE")
    # The first photo (0) is the one shown in lists; photos keep no gaps (removing one moves the later ones up).
    position: int = 0
    thumb_key: str = Field(max_length=200)
    detail_key: str = Field(max_length=200)
    width: int
    height: int
    created_at: datetime = created_at_field()


class RevisionStatus(StrEnum):
    PENDING = "pending"  # waiting for a manager; the approved version stays on sale meanwhile
    APPROVED = "approved"  # its fields and photos became the product's
    REJECTED = "rejected"  # `reason` says why; the approved version stays as it was
    WITHDRAWN = "withdrawn"  # the vendor dropped it


# What a manager reviews in a change to an approved listing; everything else (price, tiers, stock, unit, lead
# time) applies at once.
REVIEWED_FIELDS = ("name", "description", "category", "certificate_ids", "photos")


class ProductRevision(SQLModel, table=True):
    """A vendor's proposed change to an approved (live or paused) listing: the reviewed fields as they would
    become, and the photos as they would be (product_revision_photo). At most one is pending for a product."""

    __tablename__ = "product_revision"
    __table_args__ = (
        CheckConstraint(f"status IN ({_values(RevisionStatus)})", name="status_known"),
        CheckConstraint(f"category IN ({_values(Category)})", name="category_known"),
        Index(
            "uq_product_revision_pending",
            "product_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: int = id_field()
    product_id: int = Field(foreign_key="product.id", index=True, ondelete="CASCADE")
    status: str = Field(default=RevisionStatus.PENDING, sa_column=Column(String(16), nullable=False))
    name: str = Field(max_length=120)
    description: str = Field(default="", max_length=2000)
    category: str = Field(sa_column=Column(String(16), nullable=False))
    certificate_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reason: str = Field(default="", max_length=500)
    submitted_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    decided_at: datetime | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="user.id")


class ProductRevisionPhoto(SQLModel, table=True):
    """A photo as a revision proposes the product's photos: copies of the approved ones (the same stored files)
    and new uploads, in order; they become the product's photos when the revision is approved."""

    __tablename__ = "product_revision_photo"
    __table_args__ = (
        UniqueConstraint("revision_id", "position", name="uq_product_revision_photo_revision_position"),
        CheckConstraint(f"position >= 0 AND position < {MAX_PHOTOS}", name="position_within_limit"),
    )

    id: int = id_field()
    revision_id: int = Field(foreign_key="product_revision.id", index=True, ondelete="CASCADE")
    position: int = 0
    thumb_key: str = Field(max_length=200)
    detail_key: str = Field(max_length=200)
    width: int
    height: int
    created_at: datetime = created_at_field()


class CatalogueEntry(SQLModel, table=True):
    """One buyer-visible product as a result card shows it, with its sort keys (catalog.entries keeps it).

    Only live products of active vendors whose every relied-on certificate is verified have a row; an expiry
    needs no rewrite: `visible_until` (the earliest expiry among its certificates) is compared with the day of
    the search. Stock and the capacity held per day change with every order and are read from `product` and
    `capacity_day` where a filter needs them, so placing an order writes nothing here."""

    __tablename__ = "catalogue_entry"
    __table_args__ = (
        # The walk over the nearest vendors probes each vendor's products in id order.
        Index("ix_catalogue_entry_vendor_product", "vendor_id", "product_id"),
        # "Cheapest first" walks this index and stops at the page's end.
        Index("ix_catalogue_entry_price", "price", "product_id"),
    )

    product_id: int = Field(primary_key=True, foreign_key="product.id", ondelete="CASCADE")
    vendor_id: int = Field(foreign_key="vendor.id", ondelete="CASCADE")
    name: str = Field(max_length=120)
    category: str = Field(sa_column=Column(String(16), nullable=False))
    unit: str = Field(sa_column=Column(String(8), nullable=False))
    price: int
    min_order_qty: int
    fulfilment: str = Field(sa_column=Column(String(16), nullable=False))
    lead_time_hours: int | None = None
    order_cutoff: time | None = None
    best_tier_quantity: int | None = None
    best_tier_price: int | None = None
    thumb_key: str | None = Field(default=None, max_length=200)
    halal: bool = False
    certified: bool = False
    # The badge-giving certificate kinds the listing relies on, in CertificateKind order: "halal pirt".
    badge_kinds: str = Field(default="", max_length=60)
    visible_until: date | None = None
    vendor_name: str = Field(max_length=120)
    kecamatan: str = Field(max_length=80)
    latitude: float | None = None
    longitude: float | None = None
    delivery_radius_km: float
    operating_days: int
    daily_capacity: int | None = None
    rating_count: int = 0
    rating_sum: int = 0
    # The product's normalised words (Product.search_*), each column after a space: a word starts in it where
    # " word" is found. The name and the vendor's name rank a match; search_text (name, vendor's name and
    # description) decides it.
    search_name: str = Field(default="", max_length=201)
    search_vendor: str = Field(default="", max_length=201)
    search_text: str = Field(default="", max_length=2803)
    # Filters as words of the text index (catalog.entries.filter_words), so "words + a rare filter" is one
    # index lookup: "xhalal xcertified xcatsnacks".
    search_filters: str = Field(default="", max_length=100)


class VendorReach(SQLModel, table=True):
    """Each active vendor with a location, under every 0.05° cell its delivery box overlaps: the vendors that
    may reach a buyer are one primary-key range (the buyer's cell); the exact distance is checked in SQL."""

    __tablename__ = "vendor_reach"
    # A vendor's rows are rewritten when it moves, changes its radius or is suspended. On SQLite the rows are
    # stored in key order (WITHOUT ROWID), so a cell's vendors are read in one sweep, not one lookup each.
    __table_args__ = (Index("ix_vendor_reach_vendor", "vendor_id"), {"sqlite_with_rowid": False})

    cell_lat: int = Field(primary_key=True)
    cell_lon: int = Field(primary_key=True)
    vendor_id: int = Field(primary_key=True, foreign_key="vendor.id", ondelete="CASCADE")
    latitude: float
    longitude: float
    delivery_radius_km: float
    # Average rating, -1 before the first review (so "best rated first" is one descending key), and the count.
    rating_key: float = -1.0
    rating_count: int = 0
