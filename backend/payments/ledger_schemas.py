"""Request and response shapes of the invoices, cash-on-delivery and ledger API. Money is whole rupiah; instants
are UTC (ISO 8601); invoice dates are local (WIB) days."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, Field

from backend.config import PlatformBank
from backend.i18n import gettext
from backend.orders.models import STATUS_LABELS, Order, OrderStatus
from backend.payments.invoices import (
    MAX_REFERENCE,
    MSG_REFERENCE,
    MSG_TERMS,
    STATE_LABELS,
    CanteenTerms,
    InvoiceDetail,
    InvoiceOrder,
    InvoiceState,
    InvoiceSummary,
)
from backend.payments.ledger import MSG_AMOUNT, MSG_RATE, BalanceRow, VendorBalance
from backend.payments.transfer_schemas import PayToPublic
from backend.public import RowShape, UtcDatetime, public_from
from backend.validation import Rupiah

# --- input ---------------------------------------------------------------------------------------------


# "5", "2,5", "2.75" (per cent, at most two decimals)
PERCENT = re.compile(r"^(\d{1,2})(?:[.,](\d{1,2}))?$")


def percent_to_bps(text: str) -> int:
    """A commission as typed, in per cent ("5", "2,5", "2.75"), as basis points (500, 250, 275)."""
    match = PERCENT.match((text or "").strip().removesuffix("%").strip())
    if match is None:
        raise ValueError(MSG_RATE)
    whole, fraction = match.group(1), (match.group(2) or "").ljust(2, "0")
    return int(whole) * 100 + int(fraction)


def bps_to_percent(bps: int) -> str:
    """500 → "5", 250 → "2,5", 275 → "2,75" (as a person types it back)."""
    whole, rest = divmod(bps, 100)
    return str(whole) if not rest else f"{whole},{rest:02d}".rstrip("0")


def number_text(value: Any) -> Any:
    """A page's choice sent as text ("30") for a field the API sends as a number."""
    return int(value) if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() else value


class PaidInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"payment_reference": MSG_REFERENCE}

    payment_reference: str = Field(
        min_length=3, max_length=MAX_REFERENCE, description="The bank transfer's reference, as on the statement"
    )


class InvoiceTermsInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"invoice_terms_days": MSG_TERMS}

    invoice_terms_days: Annotated[Literal[14, 30] | None, BeforeValidator(number_text)] = Field(
        description="14 or 30 days to pay; null withdraws the terms (invoices already issued stay due)"
    )
    npwp: str = Field(default="", max_length=30, description="The canteen's tax number (15 or 16 digits), or empty")


class CommissionInput(BaseModel):
    commission_bps: int = Field(ge=0, le=5000, description="Basis points: 500 = 5 %; 0 to 50 %")


class CommissionPercentInput(BaseModel):
    """The admin's page types a zone's commission in per cent; `commission` is read as basis points."""

    field_messages: ClassVar[dict[str, str]] = {"commission": MSG_RATE}

    commission: Annotated[int, BeforeValidator(percent_to_bps)] = Field(ge=0, le=5000)


class PayoutInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"amount": MSG_AMOUNT}

    amount: Rupiah = Field(gt=0, description="Rupiah transferred; at most the vendor's balance")
    reference: str = Field(
        min_length=3,
        max_length=120,
        description="The bank transfer's reference; for a payout sent through the payment gateway, a reference of "
        "yours for it. Either way, a second payout with the same reference to the same vendor is refused.",
    )


PayoutState = Literal["manual", "pending", "sent", "succeeded", "failed"]


# --- output --------------------------------------------------------------------------------------------


class InvoicePublic(BaseModel):
    id: int
    number: str = Field(examples=["INV-2026-000123"])
    organisation_id: int
    organisation_name: str
    checkout_id: int
    amount: int = Field(description="The checkout's total when the invoice was issued")
    amount_due: int = Field(description="What is due: the orders not cancelled or declined since (0: void)")
    state: InvoiceState
    state_label: str
    issued_on: date
    due_on: date
    npwp: str
    paid_at: UtcDatetime | None
    payment_reference: str
    url: str = Field(description="The printable invoice page")

    @classmethod
    def of(cls, summary: InvoiceSummary) -> InvoicePublic:
        return public_from(
            cls,
            summary.invoice,
            organisation_name=summary.organisation_name,
            amount_due=summary.amount_due,
            state=summary.state,
            state_label=gettext(STATE_LABELS[summary.state]),
            url=f"/invoices/{summary.invoice.id}",
        )


class InvoiceLinePublic(BaseModel):
    product_name: str
    unit: str
    quantity: int
    unit_price: int
    line_total: int


class InvoiceOrderPublic(BaseModel):
    order_id: int
    number: str
    vendor_name: str
    status: OrderStatus
    status_label: str
    total: int
    counts: bool = Field(description="False when the order was cancelled or declined: not due")
    lines: list[InvoiceLinePublic]

    @classmethod
    def of(cls, item: InvoiceOrder) -> InvoiceOrderPublic:
        status = OrderStatus(item.order.status)
        return public_from(
            cls,
            item.order,
            order_id=item.order.id,
            vendor_name=item.vendor_name,
            status_label=gettext(STATUS_LABELS[status]),
            counts=item.counts,
            lines=[public_from(InvoiceLinePublic, line) for line in item.lines],
        )


class InvoiceDetailPublic(InvoicePublic):
    orders: list[InvoiceOrderPublic]
    pay_to: PayToPublic | None = Field(
        description="Where to transfer what is due, by `due_on`, with the invoice number as the payment reference; "
        "null once paid or void, or while the platform's bank account is not set"
    )

    @classmethod
    def of_detail(cls, detail: InvoiceDetail, bank: PlatformBank | None) -> InvoiceDetailPublic:
        summary = InvoiceSummary(
            invoice=detail.invoice,
            organisation_name=detail.organisation.name,
            zone_id=detail.organisation.zone_id,
            amount_due=detail.amount_due,
            state=detail.state,
        )
        return cls(
            **InvoicePublic.of(summary).model_dump(),
            orders=[InvoiceOrderPublic.of(item) for item in detail.orders],
            pay_to=PayToPublic.of(bank, amount=detail.amount_due, reference=detail.invoice.number)
            if bank is not None and detail.state in (InvoiceState.OPEN, InvoiceState.OVERDUE)
            else None,
        )


class InvoicePagePublic(BaseModel):
    invoices: list[InvoicePublic]
    page: int
    has_more: bool


class CanteenTermsPublic(BaseModel):
    organisation_id: int
    name: str
    zone_code: str
    invoice_terms_days: int | None
    npwp: str

    @classmethod
    def of(cls, canteen: CanteenTerms) -> CanteenTermsPublic:
        organisation = canteen.organisation
        return public_from(cls, organisation, organisation_id=organisation.id, zone_code=canteen.zone_code)


class CashReceivedPublic(BaseModel):
    order_id: int
    number: str
    cash_received_at: UtcDatetime

    @classmethod
    def of(cls, order: Order) -> CashReceivedPublic:
        assert order.cash_received_at is not None  # shown once the cash is recorded
        return public_from(cls, order, order_id=order.id)


class ZoneCommissionPublic(BaseModel):
    zone_id: int
    code: str
    name: str
    commission_bps: int


class PayoutPublic(RowShape):
    id: int
    vendor_id: int
    amount: int
    reference: str
    bank_name: str
    account_number: str
    account_holder: str
    created_at: UtcDatetime
    status: PayoutState = Field(
        description="manual: a bank transfer made by hand and recorded. Through the payment gateway: pending (to "
        "be sent), sent (the gateway accepted it), succeeded (the money arrived), failed (it did not: the balance "
        "came back, see last_error)"
    )
    last_error: str = Field(description="Why the payout failed, or why its last sending did not go through")


class PayoutAccountPublic(RowShape):
    bank_name: str
    account_number: str
    account_holder: str
    updated_at: UtcDatetime


class CompletedOrderPublic(BaseModel):
    order_id: int
    number: str
    completed_at: UtcDatetime
    gross: int
    commission: int
    net: int


class VendorBalancePublic(BaseModel):
    vendor_id: int
    balance: int = Field(description="What the platform owes the vendor now")
    awaiting_invoices: int = Field(description="The part of the balance canteens have not paid yet (open invoices)")
    payable: int = Field(description="What can be paid out now: the balance less what awaits invoices")
    account: PayoutAccountPublic | None = Field(description="Where payouts go; null until recorded")
    orders: list[CompletedOrderPublic] = Field(description="The latest completed orders, newest first")
    payouts: list[PayoutPublic] = Field(description="The latest payouts, newest first")

    @classmethod
    def of(cls, balance: VendorBalance) -> VendorBalancePublic:
        return public_from(
            cls,
            balance,
            vendor_id=balance.vendor.id,
            account=PayoutAccountPublic.of(balance.account) if balance.account else None,
            orders=[public_from(CompletedOrderPublic, item) for item in balance.orders],
            payouts=[PayoutPublic.of(payout) for payout in balance.payouts],
        )


class BalanceRowPublic(BaseModel):
    vendor_id: int
    business_name: str
    zone_code: str
    balance: int
    paid_out: int
    awaiting_invoices: int
    payable: int
    account: PayoutAccountPublic | None

    @classmethod
    def of(cls, row: BalanceRow) -> BalanceRowPublic:
        account = PayoutAccountPublic.of(row.account) if row.account else None
        return public_from(cls, row, vendor_id=row.vendor.id, business_name=row.vendor.business_name, account=account)
