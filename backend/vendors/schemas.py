"""Vendor profile input (pages and API alike) and its public shape."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, field_validator

from backend.errors import N_
from backend.money import format_rupiah
from backend.public import media_url, public_from
from backend.validation import Rupiah
from backend.vendors.models import Vendor, mask_to_days

DEFAULT_RADIUS_KM = 10.0
MSG_BANDS = N_("Write one distance band a line, as km: fee, for example 5: 5.000.")
MAX_BANDS = 6


class FeeBand(BaseModel):
    """Orders delivered within `up_to_km` of the vendor pay `fee`."""

    up_to_km: float = Field(gt=0, le=100)
    fee: Rupiah = Field(ge=0, le=10_000_000)


def _bands_from_text(value: object) -> object:
    """A page's bands, one a line as "5: 5.000" (km: rupiah), as the list the API sends."""
    if not isinstance(value, str):
        return value
    bands = []
    for line in value.splitlines():
        if not line.strip():
            continue
        km, separator, fee = line.partition(":")
        if not separator:
            raise ValueError(MSG_BANDS)
        try:
            bands.append(
                {"up_to_km": float(km.strip().lower().removesuffix("km").strip().replace(",", ".")), "fee": fee}
            )
        except ValueError:
            raise ValueError(MSG_BANDS) from None
    return bands


def bands_as_text(bands: list[dict[str, Any]]) -> str:
    """The bands as the page's field shows them: "5: 5.000" a line."""
    return "\n".join(
        f"{band['up_to_km']:g}: {format_rupiah(int(band['fee'])).removeprefix('Rp').strip()}" for band in bands
    )


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
    delivery_radius_km: float | None = Field(
        default=None,
        gt=0,
        le=100,
        description="Kilometres; when not given, a new shop's radius reaches the zone's nearest canteen, gate or "
        "dormitory (at least 10 km) and an existing shop keeps its radius",
    )
    delivery_fee: Rupiah = Field(default=0, ge=0, le=10_000_000, description="Rupiah each order pays for delivery")
    min_order_value: Rupiah = Field(
        default=0, ge=0, le=100_000_000, description="Rupiah: an order whose goods come to less is refused"
    )
    delivery_fee_bands: Annotated[list[FeeBand], BeforeValidator(_bands_from_text)] = Field(
        default_factory=list,
        max_length=MAX_BANDS,
        description="Optional fees by distance: they replace delivery_fee, and a place beyond the last band is not "
        "delivered to",
    )
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

    @field_validator("delivery_fee_bands")
    @classmethod
    def _nearest_first(cls, bands: list[FeeBand]) -> list[FeeBand]:
        return sorted(bands, key=lambda band: band.up_to_km)

    @field_validator("operating_days")
    @classmethod
    def _weekdays(cls, days: list[int]) -> list[int]:
        if any(day < 1 or day > 7 for day in days):
            raise ValueError(N_("Operating days are numbered 1 (Monday) to 7 (Sunday)."))
        return sorted(set(days))


class DeliveryRadiusInput(BaseModel):
    """A new delivery radius alone (the one-tap fix of a radius that reaches nobody)."""

    delivery_radius_km: float = Field(gt=0, le=100, description="Kilometres")


class VendorReachPublic(BaseModel):
    """Who sees the vendor's live products: the zone's canteens, gates and dormitories within the delivery radius;
    when it reaches none, the radius that would reach the nearest (`needed_radius_km`, None when none would)."""

    radius_km: float
    canteens: int
    gates: int
    dormitories: int
    reaches_any: bool
    nearest_km: float | None
    needed_radius_km: int | None
    summary: str


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
    delivery_fee: int
    min_order_value: int
    delivery_fee_bands: list[FeeBand]
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
