"""Requests from buyers: what a canteen needs and cannot find ("300 box sarapan halal, Senin–Jumat, 06.00,
± Rp 12.000"), and the vendors' offers answering it. An accepted offer becomes a standing order."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.catalog.models import Category, Unit
from backend.db import created_at_field, id_field
from backend.errors import N_


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class RequestStatus(StrEnum):
    OPEN = "open"  # vendors who fit see it and may offer (until it expires)
    ACCEPTED = "accepted"  # the canteen chose an offer: it became a standing order
    CLOSED = "closed"  # the canteen took it back
    HIDDEN = "hidden"  # a manager hid it (abusive), with a reason in the audit log


REQUEST_STATUS_LABELS = {
    RequestStatus.OPEN: N_("Open"),
    RequestStatus.ACCEPTED: N_("Offer accepted"),
    RequestStatus.CLOSED: N_("Closed"),
    RequestStatus.HIDDEN: N_("Hidden by the manager"),
}


class OfferStatus(StrEnum):
    OPEN = "open"  # the canteen may accept it; the vendor may change or withdraw it
    WITHDRAWN = "withdrawn"  # the vendor took it back (and may offer again while the request is open)
    ACCEPTED = "accepted"
    NOT_CHOSEN = "not_chosen"  # the canteen accepted another offer


OFFER_STATUS_LABELS = {
    OfferStatus.OPEN: N_("Waiting for the canteen"),
    OfferStatus.WITHDRAWN: N_("Withdrawn"),
    OfferStatus.ACCEPTED: N_("Accepted"),
    OfferStatus.NOT_CHOSEN: N_("Not chosen"),
}

# Certificates a canteen may require of what it buys (the kinds that show as badges on a listing).
REQUIRABLE_CERTIFICATES = ("halal", "pirt", "bpom", "sni")


class BuyerRequest(SQLModel, table=True):
    """What a canteen (or a worker, for a group of workers, delivered to a gate or dormitory) needs: a kind of product, how much on which days at what time, the price it expects and the
    certificates it requires. Open until `expires_on` (a WIB date, inclusive)."""

    __tablename__ = "buyer_request"
    __table_args__ = (
        CheckConstraint(f"status IN ({_values(RequestStatus)})", name="status_known"),
        CheckConstraint(f"category IN ({_values(Category)})", name="category_known"),
        CheckConstraint(f"unit IN ({_values(Unit)})", name="unit_known"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("expected_price IS NULL OR expected_price > 0", name="expected_price_positive"),
        CheckConstraint("weekdays > 0 AND weekdays <= 127", name="weekdays_mask"),
        # A canteen's request goes to its own address; a group of workers' to a gate or dormitory of the zone.
        CheckConstraint("(organisation_id IS NULL) <> (delivery_point_id IS NULL)", name="one_buyer_place"),
        # Vendors read the zone's open requests; a canteen its own.
        Index("ix_buyer_request_zone_status", "zone_id", "status", "expires_on"),
    )

    id: int = id_field()
    zone_id: int = Field(foreign_key="zone.id")
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)  # a canteen's
    delivery_point_id: int | None = Field(default=None, foreign_key="delivery_point.id")  # a workers' group's
    created_by_id: int = Field(foreign_key="user.id", index=True)
    title: str = Field(max_length=120)  # the kind of product, in the canteen's words: "Nasi box sarapan"
    category: str = Field(sa_column=Column(String(16), nullable=False))
    quantity: int
    unit: str = Field(sa_column=Column(String(8), nullable=False))
    weekdays: int  # bit mask, Monday = bit 0 (vendors.models.days_to_mask)
    delivery_slot: time  # local time (WIB)
    expected_price: int | None = None  # rupiah per unit, "± Rp 12.000"
    required_certificates: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    start_date: date
    expires_on: date
    notes: str = Field(default="", max_length=500)
    status: str = Field(default=RequestStatus.OPEN, sa_column=Column(String(12), nullable=False))
    accepted_offer_id: int | None = None
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class RequestOffer(SQLModel, table=True):
    """A vendor's answer to a request: one of its products at the price that product costs for the quantity
    asked (the price the standing order will pay), from a start date. One row per vendor and request: changing or
    withdrawing the offer changes that row."""

    __tablename__ = "request_offer"
    __table_args__ = (
        UniqueConstraint("request_id", "vendor_id", name="uq_request_offer_request_vendor"),
        CheckConstraint(f"status IN ({_values(OfferStatus)})", name="status_known"),
        CheckConstraint("unit_price > 0", name="unit_price_positive"),
    )

    id: int = id_field()
    request_id: int = Field(foreign_key="buyer_request.id", index=True, ondelete="CASCADE")
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    product_id: int = Field(foreign_key="product.id")
    unit_price: int  # rupiah per unit for the request's quantity, the product's tiers applied
    start_date: date
    notes: str = Field(default="", max_length=500)
    status: str = Field(default=OfferStatus.OPEN, sa_column=Column(String(12), nullable=False))
    standing_order_id: int | None = Field(default=None, foreign_key="standing_order.id")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class SearchDemand(SQLModel, table=True):
    """How many searches in a zone, in an ISO week (its Monday), looked for a word and found few or no products:
    counts only, never who searched. The zone's "dicari" list reads it."""

    __tablename__ = "search_demand"
    __table_args__ = (CheckConstraint("searches > 0", name="searches_positive"),)

    zone_id: int = Field(foreign_key="zone.id", primary_key=True)
    week_start: date = Field(primary_key=True)  # the Monday of the ISO week (WIB)
    word: str = Field(primary_key=True, max_length=60)
    searches: int = 1
