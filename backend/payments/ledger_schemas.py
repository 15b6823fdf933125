"""Request and response shapes of the invoices, cash-on-delivery and ledger API. Money is whole rupiah; instants
are UTC (ISO 8601); invoice dates are local (WIB) days."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, Field

from backend.db import as_utc
from backend.i18n import gettext
from backend.orders.models import STATUS_LABELS, Order, OrderStatus
from backend.payments.invoices import (
    MAX_REFERENCE,
    MSG_REFERENCE,
    MSG_TERMS,
    STATE_LABELS,
    CanteenTerms,
    InvoiceDetail,
    InvoiceState,
    InvoiceSummary,
)
from backend.payments.ledger import MSG_AMOUNT, MSG_RATE, BalanceRow, VendorBalance
from backend.payments.models import Payout
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


def _number_text(value: Any) -> Any:
    """A page's choice sent as text ("30") for a field the API sends as a number."""
    return int(value) if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() else value


class PaidInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"payment_reference": MSG_REFERENCE}

    payment_reference: str = Field(
        min_length=3, max_length=MAX_REFERENCE, description="The bank transfer's reference, as on the statement"
    )


class InvoiceTermsInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"invoice_terms_days": MSG_TERMS}

    invoice_terms_days: Annotated[Literal[14, 30] | None, BeforeValidator(_number_text)] = Field(
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
    reference: str = Field(min_length=3, max_length=120, description="The bank transfer's reference")


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
    paid_at: datetime | None
    payment_reference: str
    url: str = Field(description="The printable invoice page")

    @classmethod
    def of(cls, summary: InvoiceSummary) -> InvoicePublic:
        invoice = summary.invoice
        return cls(
            id=invoice.id,
            number=invoice.number,
            organisation_id=invoice.organisation_id,
            organisation_name=summary.organisation_name,
            checkout_id=invoice.checkout_id,
            amount=invoice.amount,
            amount_due=summary.amount_due,
            state=summary.state,
            state_label=gettext(STATE_LABELS[summary.state]),
            issued_on=invoice.issued_on,
            due_on=invoice.due_on,
            npwp=invoice.npwp,
            paid_at=as_utc(invoice.paid_at),
            payment_reference=invoice.payment_reference,
            url=f"/invoices/{invoice.id}",
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


class InvoiceDetailPublic(InvoicePublic):
    orders: list[InvoiceOrderPublic]

    @classmethod
    def of_detail(cls, detail: InvoiceDetail) -> InvoiceDetailPublic:
        summary = InvoiceSummary(
            invoice=detail.invoice,
            organisation_name=detail.organisation.name,
            zone_id=detail.organisation.zone_id,
            amount_due=detail.amount_due,
            state=detail.state,
        )
        return cls(
            **InvoicePublic.of(summary).model_dump(),
            orders=[
                InvoiceOrderPublic(
                    order_id=item.order.id,
                    number=item.order.number,
                    vendor_name=item.vendor_name,
                    status=OrderStatus(item.order.status),
                    status_label=gettext(STATUS_LABELS[OrderStatus(item.order.status)]),
                    total=item.order.total,
                    counts=item.counts,
                    lines=[
                        InvoiceLinePublic(
                            product_name=line.product_name,
                            unit=line.unit,
                            quantity=line.quantity,
                            unit_price=line.unit_price,
                            line_total=line.line_total,
                        )
                        for line in item.lines
                    ],
                )
                for item in detail.orders
            ],
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
        return cls(
            organisation_id=organisation.id,
            name=organisation.name,
            zone_code=canteen.zone_code,
            invoice_terms_days=organisation.invoice_terms_days,
            npwp=organisation.npwp,
        )


class CashReceivedPublic(BaseModel):
    order_id: int
    number: str
    cash_received_at: datetime

    @classmethod
    def of(cls, order: Order) -> CashReceivedPublic:
        assert order.cash_received_at is not None  # shown once the cash is recorded
        return cls(order_id=order.id, number=order.number, cash_received_at=as_utc(order.cash_received_at))


class ZoneCommissionPublic(BaseModel):
    zone_id: int
    code: str
    name: str
    commission_bps: int


class PayoutPublic(BaseModel):
    id: int
    vendor_id: int
    amount: int
    reference: str
    created_at: datetime

    @classmethod
    def of(cls, payout: Payout) -> PayoutPublic:
        return cls(
            id=payout.id,
            vendor_id=payout.vendor_id,
            amount=payout.amount,
            reference=payout.reference,
            created_at=as_utc(payout.created_at),
        )


class CompletedOrderPublic(BaseModel):
    order_id: int
    number: str
    completed_at: datetime
    gross: int
    commission: int
    net: int


class VendorBalancePublic(BaseModel):
    vendor_id: int
    balance: int = Field(description="What the platform owes the vendor now")
    orders: list[CompletedOrderPublic] = Field(description="The latest completed orders, newest first")
    payouts: list[PayoutPublic] = Field(description="The latest payouts, newest first")

    @classmethod
    def of(cls, balance: VendorBalance) -> VendorBalancePublic:
        return cls(
            vendor_id=balance.vendor.id,
            balance=balance.balance,
            orders=[
                CompletedOrderPublic(
                    order_id=item.order_id,
                    number=item.number,
                    completed_at=as_utc(item.completed_at),
                    gross=item.gross,
                    commission=item.commission,
                    net=item.net,
                )
                for item in balance.orders
            ],
            payouts=[PayoutPublic.of(payout) for payout in balance.payouts],
        )


class BalanceRowPublic(BaseModel):
    vendor_id: int
    business_name: str
    zone_code: str
    balance: int
    paid_out: int

    @classmethod
    def of(cls, row: BalanceRow) -> BalanceRowPublic:
        return cls(
            vendor_id=row.vendor.id,
            business_name=row.vendor.business_name,
            zone_code=row.zone_code,
            balance=row.balance,
            paid_out=row.paid_out,
        )
