"""Payments' tables: card payments through Stripe and their webhook events, refunds, canteen invoices, and the
commission ledger with vendors' payouts. Amounts are integer rupiah (Stripe's hundredths only at its edge)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from backend.db import created_at_field, id_field


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class PaymentStatus(StrEnum):
    PENDING = "pending"  # a PaymentIntent exists (or is being created); the buyer has not paid yet
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the last attempt failed; the buyer may try again while the orders wait
    CANCELED = "canceled"  # the orders expired unpaid


class Payment(SQLModel, table=True):
    """The payment of one card or bank-transfer checkout (all its vendors' orders together): a card's as a Stripe
    PaymentIntent, a bank transfer's by its reference, confirmed by a manager or an admin."""

    __table_args__ = (
        CheckConstraint(f"status IN ({_values(PaymentStatus)})", name="status_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: int = id_field()
    checkout_id: int = Field(foreign_key="checkout.id", unique=True)
    # Stripe's PaymentIntent id (pi_...); None until Stripe answered the creation.
    intent_id: str | None = Field(default=None, max_length=80, unique=True)
    # The hosted Checkout Session (cs_...) made for it, the latest when Stripe made a new one; None until then.
    # A session's payment is only believed for the session stored here.
    session_id: str | None = Field(default=None, max_length=255, unique=True)
    # A bank transfer's payment reference (PK-7F3K2Q), written in the transfer's description; None for a card.
    reference: str | None = Field(default=None, max_length=12, unique=True)
    # Who confirmed that a bank transfer arrived (a manager or an admin).
    confirmed_by_id: int | None = Field(default=None, foreign_key="user.id")
    amount: int  # rupiah
    # Through the payment gateway (QRIS, virtual account): the gateway's payment request (pr-...) made for it,
    # None until the gateway answered; the gateway's payment (py-...) that paid it; what the buyer pays with (the
    # QRIS string, or the bank and the virtual account number) and until when. The gateway knows the payment by
    # its `reference`.
    gateway_request_id: str | None = Field(default=None, max_length=80, unique=True)
    gateway_payment_id: str | None = Field(default=None, max_length=80, unique=True)
    qr_string: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    va_bank: str = Field(default="", max_length=20, sa_column_kwargs={"server_default": ""})
    va_number: str = Field(default="", max_length=40, sa_column_kwargs={"server_default": ""})
    expires_at: datetime | None = None
    status: str = Field(default=PaymentStatus.PENDING, sa_column=Column(String(16), nullable=False))
    last_error: str = Field(default="", max_length=300)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    succeeded_at: datetime | None = None


class StripeEvent(SQLModel, table=True):
    """A webhook event, stored by Stripe's id so a second delivery of it changes nothing."""

    __tablename__ = "stripe_event"

    id: str = Field(primary_key=True, max_length=80)
    type: str = Field(max_length=80)
    received_at: datetime = created_at_field()
    processed_at: datetime | None = None
    # Why it was not acted on: signed with our secret, but not about the payment we created (another amount,
    # currency, intent or session, or not paid after all when Stripe was asked). None for every other event.
    rejected_reason: str | None = Field(default=None, max_length=300)


class GatewayCallback(SQLModel, table=True):
    """A callback of the payment gateway, stored by the gateway's event and object ids, so a second delivery of it
    changes nothing."""

    __tablename__ = "gateway_callback"

    id: str = Field(primary_key=True, max_length=160)  # "payment.succeeded:py-..."
    event: str = Field(max_length=60)
    received_at: datetime = created_at_field()
    # Why it was not acted on: carrying our token, but not about a payment we asked for (another amount, currency
    # or reference, or not paid after all when the gateway was asked). None for every other callback.
    rejected_reason: str | None = Field(default=None, max_length=300)


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Refund(SQLModel, table=True):
    """Money given back for one vendor's order of a paid checkout: of a card payment, a partial refund sent to
    Stripe by the refund job; of a bank transfer (its payment has a reference), a transfer back to the buyer's
    account that the platform's staff make by hand and record (pending: owed; succeeded: sent, with the bank's
    reference). A bank refund is in the ledger: owed, then sent."""

    __table_args__ = (
        CheckConstraint(f"status IN ({_values(RefundStatus)})", name="status_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: int = id_field()
    order_id: int = Field(foreign_key="vendor_order.id", unique=True)
    payment_id: int = Field(foreign_key="payment.id", index=True)
    amount: int
    status: str = Field(default=RefundStatus.PENDING, sa_column=Column(String(16), nullable=False))
    stripe_refund_id: str | None = Field(default=None, max_length=80, unique=True)
    # A QRIS refund sent through the payment gateway: the gateway's refund id.
    gateway_refund_id: str | None = Field(default=None, max_length=80, unique=True)
    last_error: str = Field(default="", max_length=300)
    # A bank refund sent back by hand: the reference of the platform's transfer to the buyer, and who recorded it.
    sent_reference: str = Field(default="", max_length=120, sa_column_kwargs={"server_default": ""})
    sent_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class Invoice(SQLModel, table=True):
    """What a verified canteen owes for one checkout, due 14 or 30 days after it was placed."""

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: int = id_field()
    checkout_id: int = Field(foreign_key="checkout.id", unique=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    number: str = Field(max_length=24, unique=True)  # INV-2026-000123
    amount: int
    issued_on: date
    due_on: date
    npwp: str = Field(default="", max_length=30)  # the canteen's tax number when it gave one
    paid_at: datetime | None = None
    paid_recorded_by_id: int | None = Field(default=None, foreign_key="user.id")
    payment_reference: str = Field(default="", max_length=120)
    created_at: datetime = created_at_field()


class LedgerAccount(StrEnum):
    CLEARING = "clearing"  # money the platform holds or is owed for buyers' orders
    COMMISSION = "commission"  # the platform's earnings
    VENDOR = "vendor"  # what the platform owes a vendor (one account per vendor: vendor_id is set)
    REFUNDS = "refunds"  # what the platform owes buyers: bank transfers to send back (refund_id is set)


class LedgerEntry(SQLModel, table=True):
    """One line of the double-entry ledger. The entries of one `transaction_id` sum to zero: a completed order is
    clearing −gross, vendor +net, commission +commission; a payout is vendor −amount, clearing +amount; a bank
    refund owed is clearing −amount, refunds +amount, and once sent refunds −amount, clearing +amount; a payout the payment
    gateway failed is reversed, vendor +amount, clearing −amount."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        CheckConstraint(f"account IN ({_values(LedgerAccount)})", name="account_known"),
        CheckConstraint("(account = 'vendor') = (vendor_id IS NOT NULL)", name="vendor_account_has_vendor"),
        CheckConstraint("amount != 0", name="amount_not_zero"),
        # A completed order is entered once, whatever retries or concurrent jobs do.
        UniqueConstraint("order_id", "account", name="uq_ledger_entry_order_account"),
    )

    id: int = id_field()
    transaction_id: str = Field(max_length=40, index=True)  # "order-123", "payout-7"
    account: str = Field(sa_column=Column(String(16), nullable=False))
    vendor_id: int | None = Field(default=None, foreign_key="vendor.id", index=True)
    order_id: int | None = Field(default=None, foreign_key="vendor_order.id")
    payout_id: int | None = Field(default=None, foreign_key="payout.id")
    refund_id: int | None = Field(default=None, foreign_key="refund.id")
    amount: int  # rupiah, signed
    created_at: datetime = created_at_field()


class PayoutStatus(StrEnum):
    MANUAL = "manual"  # a bank transfer an admin made by hand and recorded
    # Through the payment gateway's payouts: recorded (the balance is spent) and waiting for the job to send it;
    # sent (the gateway accepted it); succeeded or failed (the gateway's callback said so; a failed one is
    # reversed in the ledger, so the balance comes back).
    PENDING = "pending"
    SENT = "sent"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Payout(SQLModel, table=True):
    """A bank transfer from the platform to a vendor, recorded by an admin: made by hand (manual), or sent
    through the payment gateway's payouts."""

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(f"status IN ({_values(PayoutStatus)})", name="status_known"),
    )

    id: int = id_field()
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    amount: int
    reference: str = Field(max_length=120)
    # Where the money went: the vendor's payout account as it was then ("" for payouts recorded before accounts).
    bank_name: str = Field(default="", max_length=60, sa_column_kwargs={"server_default": ""})
    account_number: str = Field(default="", max_length=20, sa_column_kwargs={"server_default": ""})
    account_holder: str = Field(default="", max_length=120, sa_column_kwargs={"server_default": ""})
    recorded_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = created_at_field()
    status: str = Field(
        default=PayoutStatus.MANUAL, sa_column=Column(String(16), nullable=False, server_default="manual")
    )
    # Through the gateway: the bank's channel code (ID_BCA), the gateway's payout id (disb-...) once it answered,
    # why the last sending did not go through or why the payout failed, and when it was last changed.
    channel_code: str = Field(default="", max_length=40, sa_column_kwargs={"server_default": ""})
    gateway_payout_id: str | None = Field(default=None, max_length=80, unique=True)
    last_error: str = Field(default="", max_length=300, sa_column_kwargs={"server_default": ""})
    updated_at: datetime | None = None


class TermsApplicationStatus(StrEnum):
    SUBMITTED = "submitted"  # waits for the zone's manager
    DOCUMENTS_REQUESTED = "documents_requested"  # the manager asked for documents (`manager_note` says which)
    GRANTED = "granted"
    REFUSED = "refused"  # `manager_note` is the reason the canteen reads


OPEN_TERMS_APPLICATION = (TermsApplicationStatus.SUBMITTED, TermsApplicationStatus.DOCUMENTS_REQUESTED)


class InvoiceTermsApplication(SQLModel, table=True):
    """A canteen asking its zone's manager for invoice terms: who it is for the invoices, and what it asks for.
    A canteen has at most one open application at a time."""

    __tablename__ = "invoice_terms_application"
    __table_args__ = (
        CheckConstraint(f"status IN ({_values(TermsApplicationStatus)})", name="status_known"),
        CheckConstraint("requested_days IN (14, 30)", name="requested_days_known"),
        CheckConstraint("granted_days IS NULL OR granted_days IN (14, 30)", name="granted_days_known"),
        Index(
            "uq_invoice_terms_application_open",
            "organisation_id",
            unique=True,
            sqlite_where=text("status IN ('submitted', 'documents_requested')"),
            postgresql_where=text("status IN ('submitted', 'documents_requested')"),
        ),
    )

    id: int = id_field()
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    applicant_id: int = Field(foreign_key="user.id")
    company_name: str = Field(max_length=160)
    npwp: str = Field(max_length=30)
    billing_address: str = Field(max_length=300)
    requested_days: int
    status: str = Field(sa_column=Column(String(24), nullable=False))
    manager_note: str = Field(default="", max_length=500)
    granted_days: int | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class InvoiceTermsDocument(SQLModel, table=True):
    """A document a canteen attached to its application (a deed, a tax card, ...): private, re-encoded like a
    certificate's."""

    __tablename__ = "invoice_terms_document"

    id: int = id_field()
    application_id: int = Field(foreign_key="invoice_terms_application.id", index=True)
    title: str = Field(max_length=120)
    document_key: str = Field(max_length=200)
    media_type: str = Field(max_length=40)
    uploaded_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = created_at_field()


class PayoutAccount(SQLModel, table=True):
    """The bank account a vendor is paid out to, recorded by the vendor (each change is in the audit log)."""

    __tablename__ = "payout_account"

    id: int = id_field()
    vendor_id: int = Field(foreign_key="vendor.id", unique=True)
    bank_name: str = Field(max_length=60)
    account_number: str = Field(max_length=20)
    account_holder: str = Field(max_length=120)
    updated_at: datetime = created_at_field()
