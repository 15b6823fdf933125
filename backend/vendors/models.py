"""The vendor's business profile; one per vendor account."""

from __future__ import annotations

import re
from datetime import datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, String
from sqlmodel import Field, SQLModel

from backend.db import created_at_field, id_field


class VendorStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


# Monday is bit 0 … Sunday is bit 6, the ISO weekday minus one.
WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)
ALL_DAYS_MASK = 0b1111111


def canonical_regency(text: str) -> str:
    """A regency as typed ("kab. batang", "Batang", "KOTA pekalongan") in one spelling: "Kabupaten Batang",
    "Kota Pekalongan". A name without "Kota" is a kabupaten."""
    words = re.sub(r"[^\w\s]", " ", text).split()
    if not words:
        return ""
    kind = "Kabupaten"
    if words[0].casefold() in ("kabupaten", "kab"):
        words = words[1:]
    elif words[0].casefold() == "kota":
        kind, words = "Kota", words[1:]
    return f"{kind} {' '.join(word.capitalize() for word in words)}" if words else ""


def rating_average(rating_sum: int, rating_count: int) -> float | None:
    """The vendor's average rating to one decimal, None before the first review."""
    return round(rating_sum / rating_count, 1) if rating_count else None


def days_to_mask(days: list[int]) -> int:
    mask = 0
    for day in days:
        mask |= 1 << (day - 1)
    return mask


def mask_to_days(mask: int) -> list[int]:
    return [day for day in WEEKDAYS if mask & (1 << (day - 1))]


class Vendor(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("status IN ('active', 'suspended')", name="status_known"),
        CheckConstraint("delivery_radius_km > 0 AND delivery_radius_km <= 100", name="radius_range"),
        CheckConstraint(f"operating_days >= 0 AND operating_days <= {ALL_DAYS_MASK}", name="days_mask"),
        CheckConstraint("daily_capacity IS NULL OR daily_capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("delivery_fee >= 0 AND min_order_value >= 0", name="fees_not_negative"),
        CheckConstraint(
            "rating_count >= 0 AND rating_sum >= rating_count AND rating_sum <= 5 * rating_count", name="rating_range"
        ),
        # The catalogue's bounding-box prefilter reads both coordinates from one index.
        Index("ix_vendor_location", "latitude", "longitude"),
        # The largest delivery radius of active vendors (it sizes that box) is read from the end of this index.
        Index("ix_vendor_status_radius", "status", "delivery_radius_km"),
    )

    id: int = id_field()
    user_id: int = Field(foreign_key="user.id", unique=True)
    zone_id: int = Field(foreign_key="zone.id", index=True)
    business_name: str = Field(max_length=120)
    owner_name: str = Field(max_length=120)
    whatsapp: str = Field(max_length=16)
    address: str = Field(default="", max_length=300)
    kecamatan: str = Field(max_length=80)
    desa: str = Field(max_length=80)
    # "Kabupaten Batang", "Kota Pekalongan": tells the zone's own regency's UMKM from neighbours' (reports).
    regency: str = Field(default="", max_length=120)
    latitude: float | None = None
    longitude: float | None = None
    delivery_radius_km: float = 10.0
    # What each order pays for delivery (rupiah), and the goods' value below which an order is refused.
    delivery_fee: int = 0
    min_order_value: int = 0
    # Optional fees by distance, [{"up_to_km": 5.0, "fee": 5000}, …] by distance: they replace the flat fee, and
    # a place beyond the last band is not delivered to (orders.delivery.delivery_charge).
    delivery_fee_bands: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    operating_days: int = ALL_DAYS_MASK
    opens_at: time | None = None
    closes_at: time | None = None
    story: str = Field(default="", max_length=1000)
    photo_thumb_key: str | None = Field(default=None, max_length=200)
    photo_detail_key: str | None = Field(default=None, max_length=200)
    # Made-to-order products share this many units a day; None means the vendor sells ready goods only.
    daily_capacity: int | None = None
    status: str = Field(default=VendorStatus.ACTIVE, sa_column=Column(String(16), nullable=False))
    status_reason: str = Field(default="", max_length=500)
    # Kept by the reviews of completed orders: the average is rating_sum / rating_count.
    rating_count: int = 0
    rating_sum: int = 0
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
