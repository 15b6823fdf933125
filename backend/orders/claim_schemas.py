"""Request and response shapes of the API for short or damaged deliveries. Money is whole rupiah, instants UTC."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, Field

from backend.i18n import gettext
from backend.orders.claim_models import CLAIM_STATE_LABELS, ClaimKind, ClaimState, DeliveryClaim, Settlement
from backend.orders.claims import (
    MAX_NOTE,
    MAX_REASON,
    MSG_KIND,
    MSG_NO_LINES,
    ClaimAction,
    ClaimLineView,
    ClaimView,
    ReportedLine,
    credit_note_number,
)
from backend.public import UtcDatetime


class ClaimLineInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"kind": MSG_KIND}

    order_line_id: int = Field(description="The order line (`lines[].id` of the order)")
    kind: ClaimKind = Field(description="short: fewer arrived; damaged: arrived unusable")
    quantity: int = Field(ge=0, description="How many of the line were short or damaged; 0 reports nothing")
    note: str = Field(default="", max_length=MAX_NOTE)

    def reported(self) -> ReportedLine:
        return ReportedLine(order_line_id=self.order_line_id, kind=self.kind, quantity=self.quantity, note=self.note)


class ClaimReportInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"lines": MSG_NO_LINES}

    lines: list[ClaimLineInput] = Field(min_length=1, max_length=100)


class ClaimQuantityInput(BaseModel):
    order_line_id: int
    quantity: int = Field(ge=0, description="From 0 to the ordered quantity")


class ClaimActionInput(BaseModel):
    action: ClaimAction = Field(
        description="accept or propose (the vendor), accept_proposal or dispute (the buyer), decide (the zone's "
        "manager): one of the report's `actions`"
    )
    quantities: list[ClaimQuantityInput] = Field(
        default_factory=list, max_length=100, description="For propose and decide: a quantity for each reported line"
    )
    reason: str = Field(default="", max_length=MAX_REASON, description="Required to propose, dispute and decide")

    def quantity_map(self) -> dict[int, int]:
        return {item.order_line_id: item.quantity for item in self.quantities}


class ClaimLinePublic(BaseModel):
    order_line_id: int
    product_name: str
    unit: str
    unit_price: int
    ordered_quantity: int
    kind: str
    claimed_quantity: int
    proposed_quantity: int | None
    agreed_quantity: int | None
    note: str
    photo_url: str | None = Field(description="The buyer's photo of this line, for the order's parties only")

    @classmethod
    def of(cls, item: ClaimLineView) -> ClaimLinePublic:
        line, ordered = item.line, item.order_line
        return cls(
            photo_url=f"/api/v1/orders/{ordered.order_id}/claim/lines/{ordered.id}/photo" if line.photo_key else None,
            order_line_id=ordered.id,
            product_name=ordered.product_name,
            unit=ordered.unit,
            unit_price=ordered.unit_price,
            ordered_quantity=ordered.quantity,
            kind=line.kind,
            claimed_quantity=line.claimed_quantity,
            proposed_quantity=line.proposed_quantity,
            agreed_quantity=line.agreed_quantity,
            note=line.note,
        )


class ClaimPublic(BaseModel):
    order_id: int
    state: ClaimState
    state_label: str
    side: str = Field(description="The reader's side: buyer, vendor or manager")
    actions: list[ClaimAction] = Field(description="What the reader may do now (POST …/claim/actions)")
    answer_reason: str = Field(description="The vendor's reason for a proposal, then the manager's for a decision")
    dispute_reason: str
    amount: int = Field(description="The agreed difference in rupiah, given back when settled")
    settlement: Settlement = Field(
        description="card_refund, bank_refund (sent back by the platform), credit_note, cash_refund, or none"
    )
    credit_note_number: str | None
    reported_at: UtcDatetime
    settled_at: UtcDatetime | None
    lines: list[ClaimLinePublic]

    @classmethod
    def of(cls, view: ClaimView) -> ClaimPublic:
        claim = view.claim
        settled_at: datetime | None = claim.settled_at
        return cls(
            order_id=view.order.id,
            state=ClaimState(claim.state),
            state_label=gettext(CLAIM_STATE_LABELS[ClaimState(claim.state)]),
            side=view.side.value,
            actions=view.actions,
            answer_reason=claim.answer_reason,
            dispute_reason=claim.dispute_reason,
            amount=claim.amount,
            settlement=Settlement(claim.settlement),
            credit_note_number=credit_note_number(settled_at.year, claim.id)
            if settled_at is not None and claim.settlement == Settlement.CREDIT_NOTE
            else None,
            reported_at=claim.created_at,
            settled_at=settled_at,
            lines=[ClaimLinePublic.of(item) for item in view.lines],
        )


class DisputedClaimPublic(BaseModel):
    order_id: int
    order_number: str
    dispute_reason: str
    disputed_at: UtcDatetime


class ClaimBriefPublic(BaseModel):
    """Where the order's report stands, as the order itself shows it (GET …/claim for the whole report)."""

    state: ClaimState
    amount: int
    settlement: Settlement

    @classmethod
    def of(cls, claim: DeliveryClaim) -> ClaimBriefPublic:
        return cls(state=ClaimState(claim.state), amount=claim.amount, settlement=Settlement(claim.settlement))
