"""Request and response shapes of bank transfers to the platform (checkouts and invoices). Money is whole rupiah,
instants UTC."""

from __future__ import annotations

from typing import ClassVar, Literal, cast

from pydantic import BaseModel, Field

from backend.config import PlatformBank
from backend.payments.ledger import MSG_AMOUNT
from backend.payments.models import Refund
from backend.payments.service import CheckoutToPay
from backend.payments.transfers import (
    MSG_REFERENCE,
    MSG_SENT_REFERENCE,
    Confirmation,
    RefundToSend,
    TransferToConfirm,
)
from backend.public import UtcDatetime
from backend.validation import Rupiah

PaymentState = Literal["pending", "succeeded", "canceled"]


class PayToPublic(BaseModel):
    """Where and how to transfer: write `reference` in the transfer's description, and send exactly `amount`."""

    bank_name: str
    account_number: str
    account_holder: str
    amount: int = Field(description="Rupiah, exactly")
    reference: str = Field(examples=["PK-7F3K2Q"], description="For the transfer's description")

    @classmethod
    def of(cls, bank: PlatformBank, *, amount: int, reference: str) -> PayToPublic:
        return cls(
            bank_name=bank.name,
            account_number=bank.account_number,
            account_holder=bank.account_holder,
            amount=amount,
            reference=reference,
        )


class TransferPublic(BaseModel):
    checkout_id: int
    status: PaymentState = Field(
        description="pending until a manager confirms the money arrived (the orders are then placed); canceled: "
        "the orders were cancelled unpaid"
    )
    pay_to: PayToPublic
    pay_by: UtcDatetime | None = Field(description="Orders still unpaid then are cancelled")
    confirmed_at: UtcDatetime | None
    order_ids: list[int] = Field(description="The orders this payment is for, one per vendor")

    @classmethod
    def of(cls, to_pay: CheckoutToPay, bank: PlatformBank) -> TransferPublic:
        payment = to_pay.payment
        assert payment is not None and payment.reference is not None and to_pay.checkout.id is not None
        return cls(
            checkout_id=to_pay.checkout.id,
            status=cast(PaymentState, payment.status),
            pay_to=PayToPublic.of(bank, amount=payment.amount, reference=payment.reference),
            pay_by=to_pay.due_at,
            confirmed_at=payment.succeeded_at,
            order_ids=[order.id for order, _ in to_pay.orders],
        )


class TransferConfirmInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"reference": MSG_REFERENCE, "amount": MSG_AMOUNT}

    reference: str = Field(max_length=40, examples=["PK-7F3K2Q"], description="As written in the transfer")
    amount: Rupiah = Field(gt=0, description="Rupiah received, as on the bank statement")


class TransferToConfirmPublic(BaseModel):
    checkout_id: int
    reference: str
    amount: int
    buyer_name: str
    canteen_name: str | None
    pay_by: UtcDatetime | None

    @classmethod
    def of(cls, transfer: TransferToConfirm) -> TransferToConfirmPublic:
        return cls(
            checkout_id=transfer.payment.checkout_id,
            reference=transfer.reference,
            amount=transfer.payment.amount,
            buyer_name=transfer.buyer_name,
            canteen_name=transfer.canteen_name,
            pay_by=transfer.pay_by,
        )


class ConfirmationPublic(BaseModel):
    checkout_id: int
    reference: str
    amount: int
    status: PaymentState
    confirmed: bool = Field(description="False when it had been confirmed already: nothing changed")
    confirmed_at: UtcDatetime | None
    owed_back: int = Field(
        0, description="Rupiah this transfer brought in for orders cancelled meanwhile: GET /api/v1/transfers/refunds"
    )

    @classmethod
    def of(cls, confirmation: Confirmation) -> ConfirmationPublic:
        payment = confirmation.payment
        return cls(
            checkout_id=payment.checkout_id,
            reference=payment.reference or "",
            amount=payment.amount,
            status=cast(PaymentState, payment.status),
            confirmed=confirmation.confirmed,
            confirmed_at=payment.succeeded_at,
            owed_back=confirmation.owed_back,
        )


class RefundToSendPublic(BaseModel):
    refund_id: int
    order_id: int
    order_number: str
    amount: int
    transfer_reference: str = Field(description="The reference the buyer's transfer carried, to find their account")
    buyer_name: str
    canteen_name: str | None
    owed_since: UtcDatetime

    @classmethod
    def of(cls, item: RefundToSend) -> RefundToSendPublic:
        return cls(
            refund_id=item.refund.id,
            order_id=item.order_id,
            order_number=item.order_number,
            amount=item.refund.amount,
            transfer_reference=item.transfer_reference,
            buyer_name=item.buyer_name,
            canteen_name=item.canteen_name,
            owed_since=item.refund.created_at,
        )


class RefundSentInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"reference": MSG_SENT_REFERENCE}

    reference: str = Field(max_length=120, examples=["BCA 0312 7781"], description="Your transfer to the buyer")


class RefundSentPublic(BaseModel):
    refund_id: int
    order_id: int
    amount: int
    status: str
    reference: str
    sent_at: UtcDatetime

    @classmethod
    def of(cls, refund: Refund) -> RefundSentPublic:
        return cls(
            refund_id=refund.id,
            order_id=refund.order_id,
            amount=refund.amount,
            status=refund.status,
            reference=refund.sent_reference,
            sent_at=refund.updated_at,
        )
