"""Vendor profile rules. The vendor row is created the first time the profile is saved."""

from __future__ import annotations

from datetime import datetime

import anyio.to_thread
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
from backend.vendors.models import Vendor, VendorStatus, canonical_regency, days_to_mask
from backend.vendors.schemas import VendorProfileInput

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
    fields = data.model_dump(exclude={"operating_days", "whatsapp", "regency"})
    for name, value in fields.items():
        setattr(vendor, name, value)
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
