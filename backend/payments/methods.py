"""Which ways to pay a checkout offers: one decision for the checkout page, the API and the placement itself.

Who buys, how much, and what the platform has set up decide it:
- invoice: a canteen whose zone's manager granted it invoice terms;
- cash on delivery: workers (each vendor's order under the cash limit, checked when it is priced);
- bank transfer: anyone, once the platform's bank account is set;
- card: anyone, once card payments are set up (Stripe);
- QRIS: anyone, once the payment gateway is set up (Xendit), for an amount a QRIS code may carry;
- virtual account: canteens, once the payment gateway is set up, from the gateway's smallest transfer on.
Everything after the choice is the same for every way: the orders of a way paid before placing wait in
pending_payment for their payment's success (payments.service for cards, payments.gateway for QRIS and virtual
accounts, payments.transfers for bank transfers), and the ledger does not care how a completed order was paid.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.accounts.models import Role
from backend.errors import N_
from backend.money import format_rupiah
from backend.orders.models import PaymentMethod

# A QRIS payment carries at most Rp 10.000.000 (Bank Indonesia's limit per transaction).
QRIS_MAX_AMOUNT = 10_000_000
# Xendit's smallest virtual-account payment.
VIRTUAL_ACCOUNT_MIN_AMOUNT = 10_000

MSG_QRIS_TOO_MUCH = N_("QRIS takes at most %(limit)s in one payment. Choose another way to pay.")
MSG_VA_TOO_LITTLE = N_("A virtual account takes at least %(limit)s. Choose another way to pay.")
MSG_GATEWAY_UNAVAILABLE = N_("QRIS and virtual accounts are not available yet. Choose another way to pay.")
MSG_VA_CANTEENS = N_("Virtual accounts are for canteens.")


@dataclass(frozen=True)
class Offer:
    """What the platform has set up, and who buys."""

    role: Role | str
    invoice_terms: bool = False  # a canteen with invoice terms
    card: bool = False
    bank_transfer: bool = False
    gateway: bool = False


def offered(offer: Offer, amount: int | None = None) -> list[PaymentMethod]:
    """The ways to pay, in the order the checkout lists them; with `amount`, only those that can carry it."""
    canteen = offer.role == Role.CANTEEN_STAFF
    methods: list[PaymentMethod] = []
    if canteen and offer.invoice_terms:
        methods.append(PaymentMethod.INVOICE)
    if not canteen:
        methods.append(PaymentMethod.CASH)
    if offer.gateway:
        methods.append(PaymentMethod.QRIS)
        if canteen:
            methods.append(PaymentMethod.VIRTUAL_ACCOUNT)
    if offer.bank_transfer:
        methods.append(PaymentMethod.BANK_TRANSFER)
    if offer.card:
        methods.append(PaymentMethod.CARD)
    if amount is None:
        return methods
    return [method for method in methods if amount_problem(method, amount) is None]


def amount_problem(method: PaymentMethod | str, amount: int) -> tuple[str, dict[str, str]] | None:
    """Why `method` cannot carry `amount` rupiah (a message id and its parameters), None when it can."""
    if method == PaymentMethod.QRIS and amount > QRIS_MAX_AMOUNT:
        return MSG_QRIS_TOO_MUCH, {"limit": format_rupiah(QRIS_MAX_AMOUNT)}
    if method == PaymentMethod.VIRTUAL_ACCOUNT and amount < VIRTUAL_ACCOUNT_MIN_AMOUNT:
        return MSG_VA_TOO_LITTLE, {"limit": format_rupiah(VIRTUAL_ACCOUNT_MIN_AMOUNT)}
    return None
