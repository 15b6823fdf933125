"""Orders' tables: carts, checkouts split into one order per vendor, their lines and history, capacity per day,
standing weekly orders, reviews, and the zone's delivery points."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.db import created_at_field, id_field
from backend.errors import N_


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PLACED = "placed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    READY = "ready"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


STATUS_LABELS = {
    OrderStatus.PENDING_PAYMENT: N_("Waiting for payment"),
    OrderStatus.PLACED: N_("Placed"),
    OrderStatus.ACCEPTED: N_("Accepted"),
    OrderStatus.DECLINED: N_("Declined"),
    OrderStatus.READY: N_("Ready"),
    OrderStatus.DELIVERED: N_("Delivered"),
    OrderStatus.COMPLETED: N_("Completed"),
    OrderStatus.CANCELLED: N_("Cancelled"),
}

# Orders still holding capacity or stock, and still to be prepared by the vendor.
OPEN_STATUSES = (OrderStatus.PENDING_PAYMENT, OrderStatus.PLACED, OrderStatus.ACCEPTED, OrderStatus.READY)


class PaymentMethod(StrEnum):
    CARD = "card"  # paid online; the order waits in pending_payment until the payment succeeds
    INVOICE = "invoice"  # canteens: pay within the invoice terms
    CASH = "cash"  # workers: cash on delivery
    # Any buyer: to the platform's bank account with the checkout's payment reference; the order waits in
    # pending_payment, as for a card, until a manager or an admin confirms the money arrived.
    BANK_TRANSFER = "bank_transfer"
    # Through the payment gateway (Xendit), when it is set up: a dynamic QRIS code for the exact amount, paid from
    # any banking or e-wallet app, or a virtual account number (canteens) to transfer to. The order waits in
    # pending_payment, as for a card, until the gateway's callback says the money arrived.
    QRIS = "qris"
    VIRTUAL_ACCOUNT = "virtual_account"


PAYMENT_LABELS = {
    PaymentMethod.CARD: N_("Card"),
    PaymentMethod.INVOICE: N_("Invoice"),
    PaymentMethod.CASH: N_("Cash on delivery"),
    PaymentMethod.BANK_TRANSFER: N_("Bank transfer"),
    PaymentMethod.QRIS: N_("QRIS"),
    PaymentMethod.VIRTUAL_ACCOUNT: N_("Virtual account"),
}
# Paid before the vendor sees the order: it waits in pending_payment until its payment window closes.
PAID_BEFORE_PLACING = (
    PaymentMethod.CARD,
    PaymentMethod.BANK_TRANSFER,
    PaymentMethod.QRIS,
    PaymentMethod.VIRTUAL_ACCOUNT,
)
# Paid through the payment gateway (backend.payments.gateway).
THROUGH_GATEWAY = (PaymentMethod.QRIS, PaymentMethod.VIRTUAL_ACCOUNT)


class DeliveryKind(StrEnum):
    CANTEEN = "canteen"  # the canteen's own address (its factory)
    ZONE_POINT = "zone_point"  # a gate or dormitory of the zone, for workers
    PICKUP = "pickup"  # the buyer collects from the vendor


DELIVERY_LABELS = {
    DeliveryKind.CANTEEN: N_("Delivered to the canteen"),
    DeliveryKind.ZONE_POINT: N_("Delivered to a gate or dormitory"),
    DeliveryKind.PICKUP: N_("Picked up at the vendor"),
}


class PointKind(StrEnum):
    GATE = "gate"
    DORMITORY = "dormitory"


class DeliveryPoint(SQLModel, table=True):
    """A place in the zone where workers' orders are handed over: a factory gate or a dormitory."""

    __tablename__ = "delivery_point"
    __table_args__ = (CheckConstraint(f"kind IN ({_values(PointKind)})", name="kind_known"),)

    id: int = id_field()
    zone_id: int = Field(foreign_key="zone.id", index=True)
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    name: str = Field(max_length=120)
    latitude: float
    longitude: float
    active: bool = True
    created_at: datetime = created_at_field()


class CapacityDay(SQLModel, table=True):
    """How much of a vendor's daily capacity is held by orders for one delivery day (local date, WIB).

    A row appears with the first hold of the day, copying the vendor's daily capacity; what is left is
    `capacity - held`. Holds are conditional updates (orders.capacity), and the CHECK makes an oversell
    impossible even for a statement that forgot the condition.
    """

    __tablename__ = "capacity_day"
    __table_args__ = (CheckConstraint("held >= 0 AND held <= capacity", name="held_within_capacity"),)

    vendor_id: int = Field(foreign_key="vendor.id", primary_key=True, ondelete="CASCADE")
    day: date = Field(primary_key=True)
    capacity: int
    held: int = 0


class CartLine(SQLModel, table=True):
    """A product and quantity in a buyer's cart, kept on the server so a dropped connection loses nothing."""

    __tablename__ = "cart_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    user_id: int = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")
    product_id: int = Field(foreign_key="product.id", primary_key=True, index=True, ondelete="CASCADE")
    quantity: int
    added_at: datetime = created_at_field()


class Checkout(SQLModel, table=True):
    """One placement by a buyer: the orders of several vendors, paid together.

    The idempotency key makes a double tap or a retried request land on the same checkout; the fingerprint
    of what was asked tells a genuine retry from a different order sent with a reused key."""

    __table_args__ = (
        UniqueConstraint("buyer_id", "idempotency_key", name="uq_checkout_buyer_key"),
        CheckConstraint(f"payment_method IN ({_values(PaymentMethod)})", name="payment_method_known"),
        CheckConstraint("total >= 0", name="total_not_negative"),
    )

    id: int = id_field()
    buyer_id: int = Field(foreign_key="user.id", index=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    idempotency_key: str = Field(max_length=100)
    fingerprint: str = Field(max_length=64)
    payment_method: str = Field(sa_column=Column(String(16), nullable=False))
    total: int = 0
    created_at: datetime = created_at_field()


class Order(SQLModel, table=True):
    """One vendor's part of a checkout. Its status changes only through orders.states."""

    __tablename__ = "vendor_order"
    __table_args__ = (
        CheckConstraint(f"status IN ({_values(OrderStatus)})", name="status_known"),
        CheckConstraint(f"payment_method IN ({_values(PaymentMethod)})", name="payment_method_known"),
        CheckConstraint(f"delivery_kind IN ({_values(DeliveryKind)})", name="delivery_kind_known"),
        CheckConstraint("total >= 0", name="total_not_negative"),
        CheckConstraint("delivery_fee >= 0 AND delivery_fee <= total", name="delivery_fee_within_total"),
        CheckConstraint("held_capacity >= 0", name="held_capacity_not_negative"),
        # The vendor's board: a day's orders; the unpaid-order job: pending payments by due time.
        Index("ix_vendor_order_vendor_day", "vendor_id", "delivery_day"),
        Index("ix_vendor_order_status_due", "status", "payment_due_at"),
        Index("ix_vendor_order_buyer_created", "buyer_id", "created_at"),
        Index("ix_vendor_order_organisation_created", "organisation_id", "created_at"),
    )

    id: int = id_field()
    checkout_id: int = Field(foreign_key="checkout.id", index=True)
    vendor_id: int = Field(foreign_key="vendor.id")
    zone_id: int = Field(foreign_key="zone.id", index=True)
    buyer_id: int = Field(foreign_key="user.id")
    # Canteen orders belong to the organisation: every staff member sees and follows them.
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    status: str = Field(sa_column=Column(String(20), nullable=False))
    payment_method: str = Field(sa_column=Column(String(16), nullable=False))
    delivery_day: date  # local date (WIB)
    delivery_slot: time  # local time (WIB)
    deliver_at: datetime  # the same moment in UTC
    delivery_kind: str = Field(sa_column=Column(String(16), nullable=False))
    delivery_point_id: int | None = Field(default=None, foreign_key="delivery_point.id")
    delivery_address: str = Field(default="", max_length=300)
    # A canteen's receiving contact as its settings had them when the order was placed.
    receiving_contact: str = Field(default="", max_length=120)
    receiving_phone: str = Field(default="", max_length=16)
    notes: str = Field(default="", max_length=500)
    # The canteen's purchase-order number, for its own books: shown on the order, the invoice and the exports.
    po_number: str = Field(default="", max_length=40)
    # What the buyer pays: the lines, and the vendor's delivery fee (part of the total, shown as its own line).
    total: int
    delivery_fee: int = 0
    # Units of the vendor's daily capacity this order holds (made-to-order lines), given back on decline/cancel.
    held_capacity: int = 0
    standing_order_id: int | None = Field(default=None, foreign_key="standing_order.id", index=True)
    # A card order not paid by then is cancelled by a job and its holds released.
    payment_due_at: datetime | None = None
    status_reason: str = Field(default="", max_length=500)
    # Cash on delivery: when the vendor marked the money received, and who did.
    cash_received_at: datetime | None = None
    cash_received_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()

    @property
    def number(self) -> str:
        """What people read out on the phone: PK-000123."""
        return f"PK-{self.id:06d}"

    @property
    def goods_total(self) -> int:
        """What the lines add up to, the delivery fee left out."""
        return self.total - self.delivery_fee


class OrderLine(SQLModel, table=True):
    """A product ordered, with its name and price as they were when the order was placed."""

    __tablename__ = "order_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price > 0", name="unit_price_positive"),
        CheckConstraint("line_total = quantity * unit_price", name="line_total_matches"),
    )

    id: int = id_field()
    order_id: int = Field(foreign_key="vendor_order.id", index=True, ondelete="CASCADE")
    product_id: int = Field(foreign_key="product.id", index=True)
    product_name: str = Field(max_length=120)
    unit: str = Field(max_length=8)
    fulfilment: str = Field(max_length=16)
    quantity: int
    unit_price: int
    line_total: int


class OrderEvent(SQLModel, table=True):
    """One step of an order's history: who moved it from which status to which, when and why."""

    __tablename__ = "order_event"

    id: int = id_field()
    order_id: int = Field(foreign_key="vendor_order.id", index=True, ondelete="CASCADE")
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str = Field(max_length=20)
    # None when the system acted (an unpaid order expiring, a standing order being placed).
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    actor_role: str = Field(max_length=16)
    reason: str = Field(default="", max_length=500)
    at: datetime = created_at_field()


class StandingOrder(SQLModel, table=True):
    """A canteen's weekly order (Monday to Friday, 200 box for 11:00), placed `days_ahead` days in advance."""

    __tablename__ = "standing_order"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("weekdays > 0 AND weekdays <= 127", name="weekdays_mask"),
        CheckConstraint("days_ahead >= 1 AND days_ahead <= 14", name="days_ahead_range"),
        CheckConstraint(
            f"delivery_kind IN ('{DeliveryKind.CANTEEN}', '{DeliveryKind.PICKUP}')", name="delivery_kind_known"
        ),
    )

    id: int = id_field()
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    created_by_id: int = Field(foreign_key="user.id")
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    product_id: int = Field(foreign_key="product.id")
    quantity: int
    weekdays: int  # Monday is bit 0, as vendors.models
    delivery_slot: time
    delivery_kind: str = Field(default=DeliveryKind.CANTEEN, sa_column=Column(String(16), nullable=False))
    notes: str = Field(default="", max_length=500)
    days_ahead: int = 7
    # No day before this one is placed (a request's accepted offer starts on a given day); None: from tomorrow.
    starts_on: date | None = None
    # The price per unit agreed (a request's accepted offer), in rupiah: a day that would cost more is not placed.
    # None: the product's price of the day, as any order.
    max_unit_price: int | None = None
    active: bool = True
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class StandingOrderRun(SQLModel, table=True):
    """What a standing order did for one delivery day: the order placed, or why it could not be held.

    The primary key makes the job safe to run again: a day is tried once."""

    __tablename__ = "standing_order_run"

    standing_order_id: int = Field(foreign_key="standing_order.id", primary_key=True, ondelete="CASCADE")
    delivery_day: date = Field(primary_key=True)
    order_id: int | None = Field(default=None, foreign_key="vendor_order.id")
    # Why the day could not be held: a message id and its parameters, translated when shown.
    message: str = Field(default="", max_length=200)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = created_at_field()


class Review(SQLModel, table=True):
    """The buyer's rating of a completed order, and the vendor's one answer."""

    __table_args__ = (CheckConstraint("rating >= 1 AND rating <= 5", name="rating_range"),)

    order_id: int = Field(foreign_key="vendor_order.id", primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    author_id: int = Field(foreign_key="user.id")
    rating: int
    comment: str = Field(default="", max_length=1000)
    created_at: datetime = created_at_field()
    reply: str | None = Field(default=None, max_length=1000)
    replied_at: datetime | None = None
