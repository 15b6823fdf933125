"""Tables of short or damaged deliveries: the buyer's report on a delivered order, its lines, and the credit note
that settles an invoice order's agreed difference. The report's states live in backend.orders.claims."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.db import created_at_field, id_field
from backend.errors import N_


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class ClaimState(StrEnum):
    OPEN = "open"  # the buyer reported; the vendor answers
    PROPOSED = "proposed"  # the vendor proposed other quantities; the buyer accepts or disputes
    DISPUTED = "disputed"  # the zone's manager sets the agreed quantities
    SETTLED = "settled"  # agreed: refunded, credited or the cash given back


CLAIM_STATE_LABELS = {
    ClaimState.OPEN: N_("Waiting for the vendor's answer"),
    ClaimState.PROPOSED: N_("The vendor proposed another quantity"),
    ClaimState.DISPUTED: N_("The market manager decides"),
    ClaimState.SETTLED: N_("Settled"),
}


class ClaimKind(StrEnum):
    SHORT = "short"  # fewer arrived than ordered (kurang)
    DAMAGED = "damaged"  # arrived unusable (rusak)


CLAIM_KIND_LABELS = {ClaimKind.SHORT: N_("Short"), ClaimKind.DAMAGED: N_("Damaged")}


class Settlement(StrEnum):
    NONE = "none"  # agreed at zero: nothing to give back
    CARD_REFUND = "card_refund"  # a partial refund of the card payment
    CREDIT_NOTE = "credit_note"  # the canteen's invoice owes that much less
    CASH_REFUND = "cash_refund"  # the vendor gives the cash back
    BANK_REFUND = "bank_refund"  # the platform transfers it back to the account a bank transfer came from


class DeliveryClaim(SQLModel, table=True):
    """A buyer's report that a delivered order arrived short or damaged; one per order. While it is not settled
    the order does not complete."""

    __tablename__ = "delivery_claim"
    __table_args__ = (
        CheckConstraint(f"state IN ({_values(ClaimState)})", name="state_known"),
        CheckConstraint(f"settlement IN ({_values(Settlement)})", name="settlement_known"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: int = id_field()
    order_id: int = Field(foreign_key="vendor_order.id", unique=True, ondelete="CASCADE")
    state: str = Field(sa_column=Column(String(16), nullable=False, index=True))
    reported_by_id: int = Field(foreign_key="user.id")
    # The vendor's reason for another quantity, then the manager's for their decision.
    answer_reason: str = Field(default="", max_length=500)
    dispute_reason: str = Field(default="", max_length=500)
    # The agreed difference in rupiah, and how it was given back; set when settled.
    amount: int = 0
    settlement: str = Field(default=Settlement.NONE, sa_column=Column(String(16), nullable=False))
    settled_at: datetime | None = None
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()

    @property
    def number(self) -> str:
        """The order's number, which people use for its report too (the audit log names it so)."""
        return f"PK-{self.order_id:06d}"


class DeliveryClaimLine(SQLModel, table=True):
    """One order line reported short or damaged: what the buyer claimed, what the vendor proposed, what was agreed.
    No quantity exceeds the line's, so no amount exceeds the line's value."""

    __tablename__ = "delivery_claim_line"
    __table_args__ = (
        UniqueConstraint("claim_id", "order_line_id", name="uq_delivery_claim_line_claim_line"),
        CheckConstraint(f"kind IN ({_values(ClaimKind)})", name="kind_known"),
        CheckConstraint("claimed_quantity > 0", name="claimed_positive"),
        CheckConstraint("proposed_quantity IS NULL OR proposed_quantity >= 0", name="proposed_not_negative"),
        CheckConstraint("agreed_quantity IS NULL OR agreed_quantity >= 0", name="agreed_not_negative"),
    )

    id: int = id_field()
    claim_id: int = Field(foreign_key="delivery_claim.id", index=True, ondelete="CASCADE")
    order_line_id: int = Field(foreign_key="order_line.id")
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    claimed_quantity: int
    proposed_quantity: int | None = None
    agreed_quantity: int | None = None
    note: str = Field(default="", max_length=300)
    # The buyer's photo of this line; private: served only to the order's parties (claims/…, never under /media/).
    photo_key: str | None = Field(default=None, max_length=200)


class CreditNote(SQLModel, table=True):
    """What an invoice no longer asks for: the agreed difference of a short or damaged delivery."""

    __tablename__ = "credit_note"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: int = id_field()
    number: str = Field(max_length=24, unique=True)  # CN-2026-000123 (the claim's id)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    order_id: int = Field(foreign_key="vendor_order.id", unique=True)
    amount: int
    created_at: datetime = created_at_field()
