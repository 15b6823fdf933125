"""Vendor profile rules. The vendor row is created the first time the profile is saved."""

from __future__ import annotations

from datetime import datetime

import anyio.to_thread
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Role, User, Zone
from backend.catalog import searchtext
from backend.catalog.entries import refresh_entries
from backend.catalog.models import Product
from backend.clock import wib_today
from backend.errors import N_, Conflict, FieldError, Forbidden, ValidationFailed
from backend.media.images import ProcessedPhoto
from backend.media.storage import Storage, content_key
from backend.orders import capacity
from backend.phone import InvalidPhoneNumber, normalize_phone
from backend.vendors.models import Vendor, VendorStatus, canonical_regency, days_to_mask, mask_to_days
from backend.vendors.reach import Reach, vendor_reach, vendor_with_reach
from backend.vendors.schemas import DEFAULT_RADIUS_KM, VendorProfileInput

MSG_PROFILE_FIRST = N_("Complete your business profile first.")
MSG_SUSPENDED = N_("Your shop is suspended: %(reason)s")


class ProfileIncomplete(Conflict):
    code = "profile_incomplete"
    default_message = MSG_PROFILE_FIRST


async def vendor_for_user(*, session: AsyncSession, user: User) -> Vendor | None:
    if user.role != Role.VENDOR:
        return None
    return (await session.execute(select(Vendor).where(col(Vendor.user_id) == user.id))).scalar_one_or_none()


async def require_vendor(*, session: AsyncSession, user: User) -> Vendor:
    """The acting vendor's own profile; vendor-only actions start here."""
    if user.role != Role.VENDOR:
        raise Forbidden()
    vendor = await vendor_for_user(session=session, user=user)
    if vendor is None:
        raise ProfileIncomplete()
    return vendor


async def require_vendor_with_reach(*, session: AsyncSession, user: User) -> tuple[Vendor, Reach]:
    """The acting vendor's own profile and who its delivery radius reaches, in one query (`require_vendor`'s
    refusals)."""
    if user.role != Role.VENDOR:
        raise Forbidden()
    found = await vendor_with_reach(session=session, user=user)
    if found is None:
        raise ProfileIncomplete()
    return found


def ensure_active(vendor: Vendor) -> None:
    """A suspended vendor keeps read access but cannot change listings."""
    if vendor.status != VendorStatus.ACTIVE:
        raise Forbidden(MSG_SUSPENDED, params={"reason": vendor.status_reason or "-"})


async def save_profile(*, session: AsyncSession, user: User, data: VendorProfileInput, now: datetime) -> Vendor:
    """Create or update the business profile of the vendor account `user`. A new daily capacity applies from
    the day of `now` (WIB) on."""
    if user.role != Role.VENDOR:
        raise Forbidden()
    errors: list[FieldError] = []
    whatsapp = ""
    try:
        whatsapp = normalize_phone(data.whatsapp)
    except InvalidPhoneNumber:
        errors.append(FieldError("whatsapp", N_("Enter a mobile number such as 0812-3456-7890.")))
    if (data.latitude is None) != (data.longitude is None):
        errors.append(FieldError("longitude", N_("Give both latitude and longitude, or neither.")))
    if data.opens_at and data.closes_at and data.closes_at <= data.opens_at:
        errors.append(FieldError("closes_at", N_("Closing time must be after opening time.")))
    if user.zone_id is None:
        errors.append(FieldError("_form", N_("Your account has no zone. Ask a market manager to set it.")))
    if not data.operating_days:
        errors.append(FieldError("operating_days", N_("Choose at least one operating day.")))
    if errors:
        raise ValidationFailed(errors)

    assert user.zone_id is not None  # refused above
    vendor = await vendor_for_user(session=session, user=user)
    if vendor is None:
        vendor = Vendor(
            user_id=user.id,
            zone_id=user.zone_id,
            business_name="",
            owner_name="",
            whatsapp="",
            kecamatan="",
            desa="",
            created_at=now,
        )
    old_name, old_capacity = vendor.business_name, vendor.daily_capacity
    is_new = vendor.id is None
    fields = data.model_dump(exclude={"operating_days", "whatsapp", "regency", "delivery_radius_km"})
    for name, value in fields.items():
        setattr(vendor, name, value)
    if data.delivery_radius_km is not None:
        vendor.delivery_radius_km = data.delivery_radius_km
    elif is_new:
        vendor.delivery_radius_km = await _radius_reaching_zone(session, vendor)
    _check_bands_cover_radius(vendor)
    vendor.regency = (
        canonical_regency(data.regency or "") or vendor.regency or (await session.get_one(Zone, user.zone_id)).regency
    )
    vendor.whatsapp = whatsapp
    vendor.operating_days = days_to_mask(data.operating_days)
    vendor.updated_at = now
    session.add(vendor)
    await session.flush()
    if vendor.business_name != old_name:
        # The catalogue finds products by their vendor's name too (catalog.search).
        await session.execute(
            update(Product)
            .where(col(Product.vendor_id) == vendor.id)
            .values(search_vendor=searchtext.fitted(vendor.business_name, 200))
        )
    if old_capacity is not None and vendor.daily_capacity != old_capacity:
        await capacity.change_daily_capacity(
            session=session, vendor_id=vendor.id, capacity=vendor.daily_capacity or 0, from_day=wib_today(now)
        )
    # Name, location, radius, working days and capacity are on the catalogue's cards and decide its reach.
    await refresh_entries(session, vendor_id=vendor.id)
    return vendor


def _check_bands_cover_radius(vendor: Vendor) -> None:
    """Fee bands replace the flat fee and nobody beyond the last one is delivered to, so a last band short of the
    radius would show products to buyers whose orders are then refused."""
    bands = vendor.delivery_fee_bands
    if bands and bands[-1]["up_to_km"] < vendor.delivery_radius_km:
        raise ValidationFailed(
            [
                FieldError(
                    "delivery_fee_bands",
                    N_(
                        "Your last fee band ends at %(band)s km but you deliver up to %(radius)s km: add a band up "
                        "to %(radius)s km or deliver less far."
                    ),
                    {"band": f"{bands[-1]['up_to_km']:g}", "radius": f"{vendor.delivery_radius_km:g}"},
                )
            ]
        )


async def _radius_reaching_zone(session: AsyncSession, vendor: Vendor) -> float:
    """A new vendor's radius when they give none: the usual 10 km, or as far as the zone's nearest canteen, gate or
    dormitory when that is further (up to the most a vendor may deliver), so that buyers see the shop at once."""
    reach = await vendor_reach(session=session, vendor=vendor, radius_km=DEFAULT_RADIUS_KM)
    return float(reach.needed_km) if reach.needed_km is not None else DEFAULT_RADIUS_KM


def profile_input(vendor: Vendor, **changes: object) -> VendorProfileInput:
    """The vendor's profile as it is saved, with `changes`: what a one-field change hands to `save_profile`."""
    current = {
        name: getattr(vendor, name)
        for name in VendorProfileInput.model_fields
        if name not in ("operating_days", "delivery_fee_bands") and hasattr(vendor, name)
    }
    current["operating_days"] = mask_to_days(vendor.operating_days)
    current["delivery_fee_bands"] = vendor.delivery_fee_bands
    return VendorProfileInput.model_validate({**current, **changes})


async def set_delivery_radius(*, session: AsyncSession, user: User, radius_km: float, now: datetime) -> Vendor:
    """Change only the delivery radius (the one-tap fix of a radius that reaches nobody), by the profile's own rules
    (`save_profile`), so the catalogue's reach is rewritten as after any profile edit."""
    vendor = await require_vendor(session=session, user=user)
    try:
        data = profile_input(vendor, delivery_radius_km=radius_km)
    except PydanticValidationError as refused:
        raise ValidationFailed(
            [FieldError("delivery_radius_km", N_("Choose a delivery distance between 0 and 100 km."))]
        ) from refused
    return await save_profile(session=session, user=user, data=data, now=now)


async def set_profile_photo(
    *, session: AsyncSession, vendor: Vendor, photo: ProcessedPhoto, storage: Storage, now: datetime
) -> Vendor:
    thumb_key = content_key("vendors", photo.thumbnail.data, "webp")
    detail_key = content_key("vendors", photo.detail.data, "webp")
    await anyio.to_thread.run_sync(storage.save, thumb_key, photo.thumbnail.data)
    await anyio.to_thread.run_sync(storage.save, detail_key, photo.detail.data)
    vendor.photo_thumb_key, vendor.photo_detail_key = thumb_key, detail_key
    vendor.updated_at = now
    session.add(vendor)
    await session.flush()
    return vendor
