"""Request and response shapes of the ordering API: cart, checkout, orders and their history, the vendor's board,
standing orders.

Money is whole rupiah; instants are UTC (ISO 8601); a delivery is also given as its local day and slot ("HH:MM",
WIB). Labels and system reasons are in the reader's language: build responses where the language is set.
"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, ClassVar, Literal, cast

from pydantic import BaseModel, Field, StringConstraints

from backend.i18n import gettext
from backend.orders.cart import (
    MAX_LINE_QUANTITY,
    MSG_QUANTITY,
    Cart,
    CartChange,
    CartItem,
    CartVendor,
    CheckoutWarning,
    VendorCharge,
)
from backend.orders.claim_schemas import ClaimBriefPublic
from backend.orders.delivery import MSG_PLACE, MSG_POINT_KIND, MSG_SLOT, DeliveryChoice
from backend.orders.models import (
    DELIVERY_LABELS,
    PAID_BEFORE_PLACING,
    PAYMENT_LABELS,
    STATUS_LABELS,
    DeliveryKind,
    Order,
    OrderStatus,
    PaymentMethod,
    PointKind,
    StandingOrderRun,
)
from backend.orders.placement import MAX_NOTES, MAX_PO_NUMBER, MSG_PAYMENT, Placement
from backend.orders.reviews import MSG_RATING, MSG_REPLY_EMPTY
from backend.orders.service import Board, BoardSlot, OrderDetail, OrderSummary, Reorder, TimelineEntry
from backend.orders.standing import MSG_DAYS_AHEAD, MSG_WEEKDAYS, StandingOrderInput, StandingOrderView
from backend.orders.standing import MSG_QUANTITY as MSG_STANDING_QUANTITY
from backend.orders.states import MSG_ACTION
from backend.payments.models import Refund
from backend.public import RowShape, UtcDatetime, media_url, public_from
from backend.validation import MSG_CALENDAR_DAY, Coordinate

# A local time on the hour or not: which slots exist is the service's rule (GET /api/v1/delivery-slots).
HH_MM = r"^([01]\d|2[0-3]):[0-5]\d$"
SLOT_DESCRIPTION = "Local time (WIB) as HH:MM, one of GET /api/v1/delivery-slots"
Weekday = Annotated[int, Field(ge=1, le=7)]
SlotText = Annotated[str, StringConstraints(pattern=HH_MM)]


def hh_mm(moment: time) -> str:
    return f"{moment:%H:%M}"


def _time(text: str) -> time:
    return time.fromisoformat(text)  # the pattern has already checked the shape


def slot_time(text: str) -> time:
    """A slot sent as HH:MM (a query parameter whose pattern is HH_MM) as a time."""
    return _time(text)


# --- input --------------------------------------------------------------------------------------------


class CartQuantityInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"quantity": MSG_QUANTITY}

    quantity: int = Field(
        ge=1,
        le=MAX_LINE_QUANTITY,
        description="The quantity to have in the cart (at least the product's minimum order)",
    )


class CartLineChangeInput(BaseModel):
    """The cart page's quantity box of a line, where 0 takes the product out (the API deletes the line)."""

    field_messages: ClassVar[dict[str, str]] = {"quantity": MSG_QUANTITY}

    quantity: int = Field(ge=0, le=MAX_LINE_QUANTITY)


class ProductChoiceInput(BaseModel):
    """The product a page's form is about: to put in the cart, to order every week (the API names it in the path
    or the body)."""

    product_id: int


class CheckoutInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {
        "delivery_day": MSG_CALENDAR_DAY,
        "delivery_slot": MSG_SLOT,
        "delivery_kind": MSG_PLACE,
        "delivery_point_id": MSG_PLACE,
        "payment_method": MSG_PAYMENT,
    }

    delivery_day: date = Field(description="Local delivery day (WIB)")
    delivery_slot: SlotText = Field(examples=["11:00"], description=SLOT_DESCRIPTION)
    delivery_kind: DeliveryKind = Field(
        description="canteen (canteen staff), zone_point (a gate or dormitory: give delivery_point_id) or pickup"
    )
    delivery_point_id: int | None = Field(default=None, description="From GET /api/v1/delivery-points")
    notes: str = Field(
        default="", max_length=MAX_NOTES, description="For the vendors (a canteen's settings suggest its usual notes)"
    )
    po_number: str = Field(
        default="",
        max_length=MAX_PO_NUMBER,
        description="The canteen's purchase-order number, written on every order of the checkout and its invoice",
    )
    payment_method: PaymentMethod = Field(
        description="invoice for canteens, cash on delivery for workers; card only where card payment is available"
    )

    def delivery(self) -> DeliveryChoice:
        return DeliveryChoice(
            day=self.delivery_day,
            slot=_time(self.delivery_slot),
            kind=self.delivery_kind,
            point_id=self.delivery_point_id,
            notes=self.notes,
            po_number=self.po_number,
        )


class DeliveryPointInput(BaseModel):
    """A gate or dormitory a market manager adds (the name and the place are checked by orders.delivery)."""

    field_messages: ClassVar[dict[str, str]] = {"kind": MSG_POINT_KIND}

    kind: PointKind
    name: str = Field(default="", max_length=120)
    latitude: Coordinate | None = None
    longitude: Coordinate | None = None


class TransitionInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"status": MSG_ACTION}

    status: OrderStatus = Field(description="The status to move to: one of the order's `actions`")
    reason: str = Field(default="", max_length=500, description="Required to decline or cancel")


class ReviewInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"rating": MSG_RATING}

    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=1000)


class ReplyInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"reply": MSG_REPLY_EMPTY}

    reply: str = Field(max_length=1000)


class StandingOrderCreate(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {
        "quantity": MSG_STANDING_QUANTITY,
        "weekdays": MSG_WEEKDAYS,
        "slot": MSG_SLOT,
        "delivery_kind": MSG_PLACE,
        "days_ahead": MSG_DAYS_AHEAD,
    }

    product_id: int
    quantity: int = Field(ge=1, le=MAX_LINE_QUANTITY)
    weekdays: list[Weekday] = Field(min_length=1, max_length=7, description="ISO weekdays: 1 = Monday … 7 = Sunday")
    slot: SlotText = Field(examples=["11:00"], description=SLOT_DESCRIPTION)
    delivery_kind: Literal["canteen", "pickup"] = "canteen"
    notes: str = Field(default="", max_length=500)
    days_ahead: int = Field(default=7, ge=1, le=14, description="Each day's order is placed this many days ahead")

    def to_input(self) -> StandingOrderInput:
        return StandingOrderInput(
            product_id=self.product_id,
            quantity=self.quantity,
            weekdays=self.weekdays,
            slot=_time(self.slot),
            delivery_kind=DeliveryKind(self.delivery_kind),
            notes=self.notes,
            days_ahead=self.days_ahead,
        )


class StandingOrderForm(StandingOrderCreate):
    """The page's standing order form: the same input, but a form with no day ticked is left to orders.standing,
    which says so together with the form's other problems (a slot off the list, a vendor closed that day)."""

    weekdays: list[Weekday] = Field(max_length=7)


# --- cart and delivery ---------------------------------------------------------------------------------


class CartLinePublic(BaseModel):
    product_id: int
    name: str
    unit: str
    fulfilment: str
    quantity: int
    min_order_qty: int
    base_price: int = Field(description="Rupiah per unit before bulk tiers")
    unit_price: int = Field(description="Rupiah per unit for this quantity, after bulk tiers")
    line_total: int
    on_sale: bool = Field(
        description="False when the product was taken off sale: it counts for nothing and "
        "blocks the checkout until removed"
    )
    thumbnail_url: str | None

    @classmethod
    def of(cls, item: CartItem) -> CartLinePublic:
        return public_from(cls, item, thumbnail_url=media_url(item.thumb_key))


class CartVendorPublic(BaseModel):
    vendor_id: int
    vendor_name: str
    lines: list[CartLinePublic]
    subtotal: int
    delivery_fee: int | None = Field(
        description="Rupiah the vendor's order pays for delivery to my canteen (0 for free); null when it depends "
        "on the place still to be chosen, or the canteen lies beyond the vendor's distance bands"
    )
    min_order_value: int = Field(description="Rupiah: the vendor refuses an order whose goods come to less")
    missing_for_minimum: int = Field(description="Rupiah the lines lack to reach it (0 when reached)")

    @classmethod
    def of(cls, group: CartVendor, charge: VendorCharge | None) -> CartVendorPublic:
        return public_from(
            cls,
            group,
            lines=[CartLinePublic.of(item) for item in group.items],
            delivery_fee=charge.fee if charge else 0,
            min_order_value=charge.minimum if charge else 0,
            missing_for_minimum=charge.missing if charge else 0,
        )


class CheckoutWarningPublic(BaseModel):
    code: str = Field(
        description="colleague_order: another of the canteen's staff has an open order with this vendor "
        "for the same delivery day and slot"
    )
    message: str = Field(description="In the reader's language")
    vendor_id: int
    order_id: int

    @classmethod
    def of(cls, warning: CheckoutWarning) -> CheckoutWarningPublic:
        return public_from(cls, warning, message=gettext(warning.message, **warning.params))


class CartPublic(BaseModel):
    vendors: list[CartVendorPublic]
    total: int
    line_count: int
    warnings: list[CheckoutWarningPublic] = Field(
        default_factory=list,
        description="With delivery_day and delivery_slot asked: what to know before checking out for that delivery. "
        "A warning does not stop the checkout.",
    )

    @classmethod
    def of(
        cls,
        cart: Cart,
        warnings: list[CheckoutWarning] | None = None,
        charges: dict[int, VendorCharge] | None = None,
    ) -> CartPublic:
        charges = charges if charges is not None else cart.charges(None)
        return public_from(
            cls,
            cart,
            vendors=[CartVendorPublic.of(group, charges.get(group.vendor_id)) for group in cart.vendors],
            warnings=[CheckoutWarningPublic.of(warning) for warning in warnings or []],
        )


class CartChangePublic(BaseModel):
    """The answer to a change of one cart line: that line and the totals it changed, not the whole cart (GET
    /api/v1/cart has that)."""

    line: CartLinePublic | None = Field(description="The line as it is now, at today's prices; null once taken out")
    vendor_id: int | None = Field(description="The product's vendor; null when there is no such product")
    vendor_subtotal: int = Field(description="Rupiah: what the vendor's lines in the cart add up to now")
    line_count: int = Field(description="Lines in the cart now")
    total: int = Field(description="Rupiah: the cart's total now (products taken off sale count for nothing)")

    @classmethod
    def of(cls, change: CartChange) -> CartChangePublic:
        return public_from(cls, change, line=CartLinePublic.of(change.item) if change.item else None)


class DeliveryPointPublic(RowShape):
    id: int
    kind: str = Field(description="gate or dormitory")
    name: str
    latitude: float
    longitude: float


class DeliverySlotsPublic(BaseModel):
    timezone: str = "Asia/Jakarta"
    day: date | None = Field(default=None, description="The day asked for; the slots are then those the cart allows")
    slots: list[str] = Field(description="Local times (WIB) as HH:MM")


# --- orders --------------------------------------------------------------------------------------------


class DeliveryPublic(BaseModel):
    day: date = Field(description="Local delivery day (WIB)")
    slot: str = Field(description="Local delivery time (WIB), HH:MM")
    at: UtcDatetime = Field(description="The same moment in UTC")
    kind: str
    kind_label: str
    point_id: int | None
    address: str = Field(description="The canteen, the gate or dormitory; empty for pickup")
    receiving_contact: str = Field(description="Who receives a canteen's order (its settings when placed)")
    receiving_phone: str = Field(description="Their mobile number, E.164; empty when not set")
    notes: str

    @classmethod
    def of(cls, order: Order) -> DeliveryPublic:
        return cls(
            day=order.delivery_day,
            slot=hh_mm(order.delivery_slot),
            at=order.deliver_at,
            kind=order.delivery_kind,
            kind_label=gettext(DELIVERY_LABELS[DeliveryKind(order.delivery_kind)]),
            point_id=order.delivery_point_id,
            address=order.delivery_address,
            receiving_contact=order.receiving_contact,
            receiving_phone=order.receiving_phone,
            notes=order.notes,
        )


class OrderBriefPublic(BaseModel):
    """One vendor's order of a checkout."""

    id: int
    number: str = Field(description="What people read out: PK-000123")
    checkout_id: int
    vendor_id: int
    status: str
    status_label: str
    status_reason: str = Field(description="Why it was declined or cancelled")
    payment_method: str
    payment_label: str
    total: int = Field(description="Rupiah to pay: the lines and the delivery fee")
    delivery_fee: int = Field(description="Rupiah for delivery, part of the total")
    po_number: str = Field(description="The canteen's purchase-order number; empty when none was given")
    delivery: DeliveryPublic
    payment_due_at: UtcDatetime | None = Field(
        description="A card or bank-transfer order not paid by then is cancelled"
    )
    standing_order_id: int | None
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @staticmethod
    def labels_of(order: Order) -> dict[str, object]:
        """The fields that are not the order's own columns."""
        return {
            "status_label": gettext(STATUS_LABELS[OrderStatus(order.status)]),
            "payment_label": gettext(PAYMENT_LABELS[PaymentMethod(order.payment_method)]),
            "delivery": DeliveryPublic.of(order),
        }

    @classmethod
    def of(cls, order: Order) -> OrderBriefPublic:
        return public_from(cls, order, **cls.labels_of(order))


class OrderLinePublic(RowShape):
    product_id: int
    product_name: str
    unit: str
    quantity: int
    unit_price: int = Field(description="Rupiah per unit as priced when the order was placed")
    line_total: int


class OrderSummaryPublic(OrderBriefPublic):
    vendor_name: str
    buyer_name: str
    buyer_phone: str
    organisation_name: str | None = Field(description="The canteen, for a canteen's order")
    lines: list[OrderLinePublic]
    claim_state: str | None = Field(
        default=None, description="Where a report of a short or damaged delivery stands (the board shows it)"
    )

    @staticmethod
    def summary_fields(summary: OrderSummary) -> dict[str, object]:
        """The fields that are not the order's own columns."""
        return dict(
            **OrderBriefPublic.labels_of(summary.order),
            vendor_name=summary.vendor_name,
            buyer_name=summary.buyer_name,
            buyer_phone=summary.buyer_phone,
            organisation_name=summary.organisation_name,
            lines=[OrderLinePublic.of(line) for line in summary.lines],
            claim_state=summary.claim_state,
        )

    @classmethod
    def of_summary(cls, summary: OrderSummary) -> OrderSummaryPublic:
        return public_from(cls, summary.order, **cls.summary_fields(summary))


class OrderPagePublic(BaseModel):
    orders: list[OrderSummaryPublic]
    page: int
    has_more: bool


class TimelineEntryPublic(BaseModel):
    at: UtcDatetime
    from_status: str | None
    to_status: str
    actor_name: str | None = Field(description="Null when the system acted")
    actor_role: str = Field(description="buyer, vendor, manager or system")
    reason: str

    @classmethod
    def of(cls, entry: TimelineEntry) -> TimelineEntryPublic:
        return public_from(cls, entry, reason=entry.reason_text)


class ReviewPublic(RowShape):
    rating: int
    comment: str
    created_at: UtcDatetime
    reply: str | None
    replied_at: UtcDatetime | None


class RefundPublic(BaseModel):
    """Money given back for the order: to the card through Stripe, a QRIS payment through the payment gateway, or
    transferred back by the platform's staff (a bank transfer, a virtual account, a QRIS payment the gateway could
    not give back)."""

    amount: int
    method: Literal["card", "bank_transfer", "qris", "virtual_account"] = Field(description="How the order was paid")
    status: str = Field(description="pending (under way, or owed until sent back), succeeded, or failed")
    sent_reference: str = Field(description="The platform's transfer back to the buyer; empty for a card")
    updated_at: UtcDatetime

    @classmethod
    def of(cls, refund: Refund, order: Order) -> RefundPublic:
        return cls(
            amount=refund.amount,
            method=cast(
                Literal["card", "bank_transfer", "qris", "virtual_account"],
                order.payment_method if order.payment_method in PAID_BEFORE_PLACING else PaymentMethod.CARD,
            ),
            status=refund.status,
            sent_reference=refund.sent_reference,
            updated_at=refund.updated_at,
        )


class OrderDetailPublic(OrderSummaryPublic):
    side: str = Field(description="The reader's side of the order: buyer, vendor or manager")
    actions: list[str] = Field(
        description="Statuses the reader may move the order to now (POST /api/v1/orders/{order_id}/transitions)"
    )
    timeline: list[TimelineEntryPublic]
    review: ReviewPublic | None
    can_review: bool = Field(description="The reader may rate the order now (POST /api/v1/orders/{order_id}/review)")
    claim: ClaimBriefPublic | None = Field(
        default=None, description="The report of a short or damaged delivery (GET /api/v1/orders/{order_id}/claim)"
    )
    refund: RefundPublic | None = Field(
        default=None, description="Money given back: the order cancelled or declined once paid, or a short delivery"
    )

    @classmethod
    def of_detail(cls, detail: OrderDetail) -> OrderDetailPublic:
        return public_from(
            cls,
            detail.summary.order,
            **OrderSummaryPublic.summary_fields(detail.summary),
            side=detail.side.value,
            actions=[action.value for action in detail.actions],
            can_review=detail.can_review,
            timeline=[TimelineEntryPublic.of(entry) for entry in detail.timeline],
            review=ReviewPublic.of(detail.review) if detail.review is not None else None,
            claim=ClaimBriefPublic.of(detail.claim) if detail.claim is not None else None,
            refund=RefundPublic.of(detail.refund, detail.order) if detail.refund is not None else None,
        )


class CheckoutPublic(BaseModel):
    checkout_id: int
    total: int
    payment_method: str
    replayed: bool = Field(description="True when this Idempotency-Key had been used: nothing new was placed")
    created_at: UtcDatetime
    orders: list[OrderBriefPublic] = Field(description="One order per vendor")

    @classmethod
    def of(cls, placement: Placement) -> CheckoutPublic:
        checkout = placement.checkout
        return public_from(
            cls,
            checkout,
            checkout_id=checkout.id,
            replayed=placement.replayed,
            orders=[OrderBriefPublic.of(order) for order in placement.orders],
        )


class ReorderPublic(BaseModel):
    added: list[str] = Field(description="Products put back in the cart")
    left_out: list[str] = Field(description="Why some lines were left out, in the reader's language")
    cart: CartPublic

    @classmethod
    def of(cls, reorder: Reorder, cart: Cart) -> ReorderPublic:
        return cls(
            added=reorder.added,
            cart=CartPublic.of(cart),
            left_out=[gettext(error.message, **error.params) for error in reorder.left_out],
        )


# --- the vendor's board --------------------------------------------------------------------------------


class ProductTotalPublic(BaseModel):
    product_name: str
    unit: str
    quantity: int


class BoardSlotPublic(BaseModel):
    slot: str = Field(description="Local time (WIB), HH:MM")
    totals: list[ProductTotalPublic] = Field(description="What to prepare for the slot, per product")
    orders: list[OrderSummaryPublic]

    @classmethod
    def of(cls, board_slot: BoardSlot) -> BoardSlotPublic:
        return public_from(
            cls,
            board_slot,
            slot=hh_mm(board_slot.slot),
            totals=[public_from(ProductTotalPublic, total) for total in board_slot.totals],
            orders=[OrderSummaryPublic.of_summary(summary) for summary in board_slot.orders],
        )


class BoardPublic(BaseModel):
    day: date
    slots: list[BoardSlotPublic]

    @classmethod
    def of(cls, board: Board) -> BoardPublic:
        return public_from(cls, board, slots=[BoardSlotPublic.of(board_slot) for board_slot in board.slots])


# --- standing orders -----------------------------------------------------------------------------------


class StandingRunPublic(BaseModel):
    delivery_day: date
    order_id: int | None = Field(description="The order placed for the day; null when it could not be placed")
    message: str = Field(description="Why the day could not be placed; empty when it was")

    @classmethod
    def of(cls, run: StandingOrderRun) -> StandingRunPublic:
        return cls(
            delivery_day=run.delivery_day,
            order_id=run.order_id,
            message=gettext(run.message, **run.params) if run.message else "",
        )


class StandingOrderPublic(BaseModel):
    id: int
    product_id: int
    product_name: str
    unit: str
    vendor_id: int
    vendor_name: str
    quantity: int
    weekdays: list[int] = Field(description="ISO weekdays: 1 = Monday … 7 = Sunday")
    slot: str = Field(description="Local time (WIB), HH:MM")
    delivery_kind: str
    notes: str
    days_ahead: int
    max_unit_price: int | None = Field(
        description="The price per unit agreed (a request's accepted offer), in rupiah: a day priced above it is"
        " not placed; null: the product's price of the day"
    )
    active: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime
    recent_runs: list[StandingRunPublic] = Field(description="The latest days tried, newest first")

    @classmethod
    def of(cls, view: StandingOrderView) -> StandingOrderPublic:
        return public_from(
            cls,
            view.standing,
            product_name=view.product_name,
            unit=view.unit,
            vendor_name=view.vendor_name,
            weekdays=view.weekdays,
            slot=hh_mm(view.standing.delivery_slot),
            recent_runs=[StandingRunPublic.of(run) for run in view.recent_runs],
        )
