"""Vendor profile input (pages and API alike) and its public shape."""

from __future__ import annotations

from datetime import datetime, time

from pydantic import BaseModel, Field, field_validator

from backend.errors import N_
from backend.public import media_url, public_from
from backend.vendors.models import Vendor, mask_to_days


class VendorProfileInput(BaseModel):
    business_name: str = Field(min_length=2, max_length=120)
    owner_name: str = Field(min_length=2, max_length=120)
    whatsapp: str = Field(min_length=8, max_length=24, description="As typed: 0812..., 62812... or +62 812-...")
    address: str = Field(default="", max_length=300)
    kecamatan: str = Field(min_length=2, max_length=80)
    desa: str = Field(min_length=2, max_length=80)
    regency: str | None = Field(
        default=None, max_length=120, description='Kabupaten/Kota, e.g. "Kabupaten Batang"; the zone\'s when not given'
    )
    # Indonesia lies between about 11°S–6°N and 95°E–141°E.
    latitude: float | None = Field(default=None, ge=-11.5, le=6.5)
    longitude: float | None = Field(default=None, ge=94.0, le=141.5)
    delivery_radius_km: float = Field(default=10.0, gt=0, le=100)
    operating_days: list[int] = Field(
        default_factory=lambda: [1, 2, 3, 4, 5, 6], description="ISO weekdays, 1 = Monday"
    )
    opens_at: time | None = None
    closes_at: time | None = None
    story: str = Field(default="", max_length=1000)
    daily_capacity: int | None = Field(
        default=None, ge=0, le=100_000, description="Units of made-to-order products the vendor can make a day"
    )

    @field_validator("business_name", "owner_name", "kecamatan", "desa", "address", "story", mode="before")
    @classmethod
    def _collapse_spaces(cls, value: object) -> object:
        return " ".join(value.split()) if isinstance(value, str) and "\n" not in value else value

    @field_validator("operating_days")
    @classmethod
    def _weekdays(cls, days: list[int]) -> list[int]:
        if any(day < 1 or day > 7 for day in days):
            raise ValueError(N_("Operating days are numbered 1 (Monday) to 7 (Sunday)."))
        return sorted(set(days))


class VendorPublic(BaseModel):
    id: int
    business_name: str
    owner_name: str
    whatsapp: str
    address: str
    kecamatan: str
    desa: str
    regency: str
    latitude: float | None
    longitude: float | None
    delivery_radius_km: float
    operating_days: list[int]
    opens_at: time | None
    closes_at: time | None
    story: str
    daily_capacity: int | None
    status: str
    photo_url: str | None
    updated_at: datetime

    @classmethod
    def of(cls, vendor: Vendor) -> VendorPublic:
        return public_from(
            cls,
            vendor,
            operating_days=mask_to_days(vendor.operating_days),
            photo_url=media_url(vendor.photo_detail_key),
        )
