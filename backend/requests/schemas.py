"""Request and response shapes of the requests API: what a canteen needs, the offers it compares, the requests a
vendor may answer. Money is whole rupiah; dates are local (WIB); instants are UTC."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from backend.catalog.models import Category, Unit
from backend.i18n import gettext
from backend.orders.delivery import MSG_SLOT
from backend.orders.schemas import SLOT_DESCRIPTION, SlotText, Weekday, hh_mm, slot_time
from backend.public import UtcDatetime, public_from
from backend.requests.demand import WantedList
from backend.requests.models import (
    OFFER_STATUS_LABELS,
    REQUEST_STATUS_LABELS,
    BuyerRequest,
    OfferStatus,
    RequestOffer,
    RequestStatus,
)
from backend.requests.service import (
    MAX_PRICE,
    MAX_QUANTITY,
    MSG_CERTIFICATES,
    MSG_EXPIRES,
    MSG_NEW_PRODUCT_PRICE,
    MSG_OFFER_START,
    MSG_POINT,
    MSG_PRICE,
    MSG_QUANTITY,
    MSG_REASON,
    MSG_START,
    MSG_TITLE,
    MSG_WEEKDAYS,
    CanteenRequestView,
    CartPick,
    OfferInput,
    OfferView,
    RequestInput,
    RequestSummary,
    SeenOffer,
    VendorRequestView,
)
from backend.validation import Rupiah
from backend.vendors.models import mask_to_days

CertificateKindText = Literal["halal", "pirt", "bpom", "sni"]


class RequestCreate(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {
        "title": MSG_TITLE,
        "quantity": MSG_QUANTITY,
        "weekdays": MSG_WEEKDAYS,
        "slot": MSG_SLOT,
        "expected_price": MSG_PRICE,
        "required_certificates": MSG_CERTIFICATES,
        "start_date": MSG_START,
        "expires_on": MSG_EXPIRES,
        "delivery_point_id": MSG_POINT,
    }

    title: str = Field(min_length=3, max_length=120, examples=["Nasi box sarapan"], description="What is needed")
    category: Category
    quantity: int = Field(ge=1, le=MAX_QUANTITY, description="Per delivery day")
    unit: Unit
    weekdays: list[Weekday] = Field(min_length=1, max_length=7, description="ISO weekdays: 1 = Monday … 7 = Sunday")
    slot: SlotText = Field(examples=["06:00"], description=SLOT_DESCRIPTION)
    expected_price: Rupiah | None = Field(default=None, gt=0, le=MAX_PRICE, description="Rupiah per unit, about")
    required_certificates: list[CertificateKindText] = Field(default_factory=list, max_length=4)
    start_date: date = Field(description="The first delivery day wanted (from tomorrow, within 90 days)")
    expires_on: date | None = Field(
        default=None, description="Open to offers until this day (WIB, inclusive): default 14 days, at most 60"
    )
    notes: str = Field(default="", max_length=500)
    delivery_point_id: int | None = Field(
        default=None,
        description="A worker's request for a group of workers: the gate or dormitory of the zone where the group "
        "receives (GET /api/v1/delivery-points); a canteen's requests go to the canteen and leave it out",
    )

    def to_input(self) -> RequestInput:
        return RequestInput(
            title=self.title,
            category=self.category,
            quantity=self.quantity,
            unit=self.unit,
            weekdays=self.weekdays,
            slot=slot_time(self.slot),
            expected_price=self.expected_price,
            required_certificates=list(self.required_certificates),
            start_date=self.start_date,
            expires_on=self.expires_on,
            notes=self.notes,
            delivery_point_id=self.delivery_point_id,
        )


class RequestForm(RequestCreate):
    """The page's form: a form with no day ticked is left to the service, which says so with the other problems."""

    weekdays: list[Weekday] = Field(max_length=7)


class TierPair(BaseModel):
    min_quantity: int = Field(ge=2, le=1_000_000)
    unit_price: Rupiah = Field(gt=0, le=MAX_PRICE)


class OfferCreate(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {
        "start_date": MSG_OFFER_START,
        "new_product_price": MSG_NEW_PRODUCT_PRICE,
    }

    start_date: date = Field(description="The first day the vendor can deliver (from the request's start date)")
    product_id: int | None = Field(
        default=None, description="One of my products in the request's category; leave out to make a new one"
    )
    new_product_name: str = Field(default="", max_length=120, description="A new draft product's name")
    new_product_price: Rupiah | None = Field(
        default=None, gt=0, le=MAX_PRICE, description="A new draft product's price per unit (rupiah)"
    )
    new_product_tiers: list[TierPair] = Field(default_factory=list, max_length=5)
    notes: str = Field(default="", max_length=500)

    def to_input(self) -> OfferInput:
        return OfferInput(
            start_date=self.start_date,
            product_id=self.product_id,
            new_product_name=self.new_product_name,
            new_product_price=self.new_product_price,
            new_product_tiers=[(tier.min_quantity, tier.unit_price) for tier in self.new_product_tiers],
            notes=self.notes,
        )


class OfferForm(BaseModel):
    """The page's offer form: an existing product, or "new" with a price."""

    field_messages: ClassVar[dict[str, str]] = OfferCreate.field_messages

    start_date: date
    product: str = Field(default="new", pattern=r"^(new|[0-9]{1,9})$")
    new_product_name: str = Field(default="", max_length=120)
    new_product_price: Rupiah | None = Field(default=None, gt=0, le=MAX_PRICE)
    notes: str = Field(default="", max_length=500)

    def to_input(self) -> OfferInput:
        return OfferInput(
            start_date=self.start_date,
            product_id=None if self.product == "new" else int(self.product),
            new_product_name=self.new_product_name,
            new_product_price=self.new_product_price,
            notes=self.notes,
        )


class SeenOfferInput(BaseModel):
    """The offer as the buyer saw it (its price per unit and product), sent with an accept: 409 when the vendor
    has changed it since. Both or neither."""

    unit_price: int | None = Field(default=None, gt=0)
    product_id: int | None = Field(default=None, gt=0)

    def seen(self) -> SeenOffer | None:
        if self.unit_price is None or self.product_id is None:
            return None
        return SeenOffer(unit_price=self.unit_price, product_id=self.product_id)


class HideInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"reason": MSG_REASON}

    reason: str = Field(min_length=5, max_length=500, description="Why the request is hidden (kept in the audit log)")


class RequestPublic(BaseModel):
    id: int
    title: str
    category: str
    quantity: int
    unit: str
    weekdays: list[int] = Field(description="ISO weekdays: 1 = Monday … 7 = Sunday")
    slot: str = Field(description="Local time (WIB), HH:MM")
    expected_price: int | None
    required_certificates: list[str]
    start_date: date
    expires_on: date
    notes: str
    delivery_point_id: int | None = Field(description="A workers' group's gate or dormitory; null for a canteen's")
    status: RequestStatus
    status_label: str
    created_at: UtcDatetime

    @classmethod
    def of(cls, request: BuyerRequest) -> RequestPublic:
        return public_from(
            cls,
            request,
            weekdays=mask_to_days(request.weekdays),
            slot=hh_mm(request.delivery_slot),
            status_label=gettext(REQUEST_STATUS_LABELS[RequestStatus(request.status)]),
        )


class CanteenRequestSummaryPublic(RequestPublic):
    open_offers: int

    @classmethod
    def of_summary(cls, summary: RequestSummary) -> CanteenRequestSummaryPublic:
        return cls.model_validate(
            {**RequestPublic.of(summary.request).model_dump(), "open_offers": summary.open_offers}
        )


class OfferPublic(BaseModel):
    id: int
    product_id: int
    unit_price: int = Field(description="Rupiah per unit for the request's quantity, the product's tiers applied")
    start_date: date
    notes: str
    status: OfferStatus
    status_label: str
    updated_at: UtcDatetime

    @classmethod
    def of(cls, offer: RequestOffer) -> OfferPublic:
        return public_from(cls, offer, status_label=gettext(OFFER_STATUS_LABELS[OfferStatus(offer.status)]))


class ComparedOfferPublic(OfferPublic):
    vendor_id: int
    vendor_name: str
    product_name: str
    product_on_sale: bool = Field(description="False while a new product made for the request waits for review")
    rating: float | None
    rating_count: int
    distance_km: float | None
    certificates: list[str] = Field(description="Verified certificate kinds of the product (its badges)")

    @classmethod
    def of_view(cls, view: OfferView) -> ComparedOfferPublic:
        return cls.model_validate(
            {
                **OfferPublic.of(view.offer).model_dump(),
                "vendor_id": view.offer.vendor_id,
                "vendor_name": view.vendor_name,
                "product_name": view.product_name,
                "product_on_sale": view.product_live,
                "rating": view.rating,
                "rating_count": view.rating_count,
                "distance_km": view.distance_km,
                "certificates": view.certificates,
            }
        )


class CanteenRequestPublic(RequestPublic):
    offers: list[ComparedOfferPublic] = Field(description="Cheapest first; withdrawn offers left out")

    @classmethod
    def of_view(cls, view: CanteenRequestView) -> CanteenRequestPublic:
        return cls.model_validate(
            {
                **RequestPublic.of(view.request).model_dump(),
                "offers": [ComparedOfferPublic.of_view(offer) for offer in view.offers],
            }
        )


class VendorRequestPublic(RequestPublic):
    canteen_name: str | None = Field(description="The canteen asking; null for a group of workers")
    delivery_point_name: str | None = Field(description="Where a group of workers receives; null for a canteen")
    distance_km: float | None
    my_offer: OfferPublic | None

    @classmethod
    def of_view(cls, view: VendorRequestView) -> VendorRequestPublic:
        return cls.model_validate(
            {
                **RequestPublic.of(view.request).model_dump(),
                "canteen_name": view.canteen_name or None,
                "delivery_point_name": view.point_name,
                "distance_km": view.distance_km,
                "my_offer": OfferPublic.of(view.own_offer) if view.own_offer else None,
            }
        )


class CartPickPublic(BaseModel):
    """What a worker's accepted offer put in the cart, and the delivery to check it out with."""

    product_id: int
    quantity: int
    unit_price: int = Field(description="Rupiah per unit, as offered")
    delivery_day: date = Field(description="The request's first delivery day (WIB)")
    delivery_slot: str = Field(description="Local time (WIB), HH:MM")
    delivery_point_id: int

    @classmethod
    def of(cls, pick: CartPick) -> CartPickPublic:
        return public_from(cls, pick, delivery_slot=hh_mm(pick.delivery_slot))


class AcceptedPublic(BaseModel):
    request_id: int
    offer_id: int
    standing_order_id: int | None = Field(default=None, description="A canteen's: the standing order it became")
    cart: CartPickPublic | None = Field(
        default=None,
        description="A worker's: the product put in the cart at the request's quantity; check out as usual "
        "(POST /api/v1/checkouts) with this delivery day, slot and point",
    )


class SearchedWordPublic(BaseModel):
    word: str
    category: str | None = Field(description="The category the word names, if it names one")
    this_week: int = Field(description="Searches this week that found fewer than 3 products")
    last_week: int


class RequestedKindPublic(BaseModel):
    title: str
    category: str
    requests: int = Field(description="Open requests with this title")
    quantity: int = Field(description="Asked per delivery day, all these requests together")
    unit: str


class OrderedCategoryPublic(BaseModel):
    category: str
    orders: int = Field(description="Orders for delivery this week with a product of the category")
    quantity: int


class WantedPublic(BaseModel):
    week: date = Field(description="The Monday of the week (WIB)")
    searched: list[SearchedWordPublic]
    requested: list[RequestedKindPublic]
    ordered: list[OrderedCategoryPublic]

    @classmethod
    def of(cls, wanted: WantedList) -> WantedPublic:
        return cls.model_validate(
            {
                "week": wanted.week,
                "searched": [vars(entry) for entry in wanted.searched],
                "requested": [vars(entry) for entry in wanted.requested],
                "ordered": [vars(entry) for entry in wanted.ordered],
            }
        )
