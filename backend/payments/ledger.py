"""The commission ledger: what each completed order earned the platform and owes its vendor, what was paid out.

Double entry, integer rupiah; each transaction's entries sum to zero, so the whole ledger does:
    a completed order ("order-<id>"): clearing −gross, vendor +net, commission +commission, where the gross is the
                                      order's total less what a short or damaged delivery gave back
    a payout ("payout-<id>"):         vendor −amount, clearing +amount
    a payout the gateway failed ("payout-failed-<id>"): vendor +amount, clearing −amount (payments.payouts)
    a bank refund owed ("refund-<id>"): clearing −amount, refunds +amount (the platform owes the buyer the money
                                      their transfer brought in for an order cancelled or given back in part)
    the bank refund sent ("refund-sent-<id>"): refunds −amount, clearing +amount
The commission is the zone's rate (basis points) when the order completes, rounded half up to a whole rupiah; a
rate change applies to orders completed after it. A vendor's balance (what the platform owes them) is the sum of
their vendor entries; what can be paid out is the balance less the net of invoice orders whose invoice the canteen
has not paid yet, so a payout never spends money no buyer has paid in. A completion is entered once whatever retries or concurrent jobs do: UNIQUE(order_id,
account) and an insert that ignores a conflict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, ScalarSelect, Select, case, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlmodel import col

from backend.accounts.models import Role, User, Zone
from backend.config import Settings
from backend.db import run_after_commit, upsert_insert
from backend.errors import N_, FieldError, Forbidden, NotFound, ValidationFailed
from backend.moderation.audit import record
from backend.money import format_rupiah
from backend.orders.claim_models import ClaimState, DeliveryClaim
from backend.orders.models import Order, PaymentMethod
from backend.payments.models import Invoice, LedgerAccount, LedgerEntry, Payout, PayoutAccount, PayoutStatus
from backend.payments.payout_accounts import MSG_NO_ACCOUNT, payout_account, payout_channel
from backend.vendors.models import Vendor

BPS = 10_000  # basis points in a whole
MAX_COMMISSION_BPS = 5_000  # 50 %
MAX_REFERENCE = 120
RECENT = 50

MSG_RATE = N_("The commission must be between 0 and 50 %.")
MSG_ZONE_NOT_FOUND = N_("We could not find this zone.")
MSG_VENDOR_NOT_FOUND = N_("This vendor does not exist.")
MSG_AMOUNT = N_("Type the amount in whole rupiah, more than zero.")
MSG_OVER_BALANCE = N_("The payout cannot be more than what the vendor is owed: %(balance)s.")
MSG_OVER_PAYABLE = N_(
    "The payout cannot be more than what buyers have paid for: %(payable)s (%(awaiting)s waits for canteens to pay "
    "their invoices)."
)
MSG_SAME_REFERENCE = N_("A payout with this transfer reference is already recorded for this vendor.")
MSG_REFERENCE = N_("Type the bank transfer's reference (3 to 120 characters).")
MSG_ADMINS_ONLY = N_("Only the platform's administrators may do this.")


def commission_for(gross: int, commission_bps: int) -> int:
    """The platform's commission on `gross` rupiah at `commission_bps` basis points, rounded half up to a whole
    rupiah: Rp 10.010 at 5 % is Rp 500,50 → Rp 501; Rp 10.009 → Rp 500,45 → Rp 500."""
    return (gross * commission_bps + BPS // 2) // BPS


def settled_claim_amount(order_id: Mapped[int] | ColumnElement[int]) -> ScalarSelect[int]:
    """What was given back for a short or damaged delivery of the order (0 when nothing was), as a subquery."""
    return (
        select(func.coalesce(func.sum(col(DeliveryClaim.amount)), 0))
        .where(col(DeliveryClaim.order_id) == order_id, col(DeliveryClaim.state) == ClaimState.SETTLED)
        .scalar_subquery()
    )


async def record_completed_order(*, session: AsyncSession, order: Order, now: datetime) -> None:
    """Enter a completed order in the ledger, in the transaction that completes it (orders.states), at the
    zone's rate now. Paid through the platform (card, invoice): clearing −gross, vendor +net, commission
    +commission. Paid in cash to the vendor, who already holds the gross: vendor −commission, commission
    +commission (the vendor owes the platform its share). A second call changes nothing."""
    rate, given_back = (
        await session.execute(
            select(col(Zone.commission_bps), settled_claim_amount(col(Order.id)))
            .select_from(Order)
            .join(Zone, col(Zone.id) == col(Order.zone_id))
            .where(col(Order.id) == order.id)
        )
    ).one()
    gross = order.total - given_back
    commission = commission_for(gross, rate)
    if order.payment_method == PaymentMethod.CASH:
        entries = [(LedgerAccount.VENDOR, order.vendor_id, -commission), (LedgerAccount.COMMISSION, None, commission)]
    else:
        entries = [
            (LedgerAccount.CLEARING, None, -gross),
            (LedgerAccount.VENDOR, order.vendor_id, gross - commission),
            (LedgerAccount.COMMISSION, None, commission),
        ]
    rows = [
        {
            "transaction_id": f"order-{order.id}",
            "account": account,
            "vendor_id": vendor_id,
            "order_id": order.id,
            "payout_id": None,
            "amount": amount,
            "created_at": now,
        }
        for account, vendor_id, amount in entries
        if amount != 0
    ]  # a 0 % commission has no line
    if rows:
        await session.execute(
            upsert_insert(session)(LedgerEntry)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["order_id", "account"])
        )


async def enter_bank_refund(*, session: AsyncSession, refund_id: int, amount: int, sent: bool, now: datetime) -> None:
    """The ledger's lines of a bank refund: owed to the buyer (`sent` False) or sent back to them (`sent` True).
    The callers enter each once: when the refund is recorded, and when its sending is."""
    transaction, owed = (f"refund-sent-{refund_id}", -amount) if sent else (f"refund-{refund_id}", amount)
    await session.execute(
        insert(LedgerEntry),
        [
            {
                "transaction_id": transaction,
                "account": account,
                "vendor_id": None,
                "order_id": None,
                "payout_id": None,
                "refund_id": refund_id,
                "amount": signed,
                "created_at": now,
            }
            for account, signed in ((LedgerAccount.CLEARING, -owed), (LedgerAccount.REFUNDS, owed))
        ],
    )


# --- commission rate (admins) ---------------------------------------------------------------------------


def _ensure_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden(MSG_ADMINS_ONLY)


async def zones_with_rates(*, session: AsyncSession) -> list[Zone]:
    return list((await session.execute(select(Zone).order_by(col(Zone.code)))).scalars())


async def set_commission_rate(*, session: AsyncSession, actor: User, zone_id: int, commission_bps: int) -> Zone:
    """The admin sets a zone's commission (0 to 5000 basis points, 0 to 50 %); orders completed from now on
    use it, those already entered keep theirs."""
    _ensure_admin(actor)
    zone = await session.get(Zone, zone_id)
    if zone is None:
        raise NotFound(MSG_ZONE_NOT_FOUND)
    if not 0 <= commission_bps <= MAX_COMMISSION_BPS:
        raise ValidationFailed.single("commission", MSG_RATE)
    if zone.commission_bps == commission_bps:
        return zone
    before = {"commission_bps": zone.commission_bps}
    zone.commission_bps = commission_bps
    session.add(zone)
    await record(
        session, actor, "zone.commission", zone, zone.id, before=before, after={"commission_bps": commission_bps}
    )
    return zone


# --- balances and payouts ---------------------------------------------------------------------------------


def _awaiting_invoice(amount: ColumnElement[int] | Mapped[int]) -> ColumnElement[int]:
    """`amount` when its order is on an invoice the canteen has not paid yet (ledger entries outer-joined to their
    order and its invoice), else 0."""
    return case((col(Invoice.id).is_not(None) & col(Invoice.paid_at).is_(None), amount), else_=0)


def _vendor_balance(vendor_id: int) -> Select[int, int]:
    """The vendor's balance and the part of it that waits for canteens' invoices to be paid: one row."""
    amount = col(LedgerEntry.amount)
    return (
        select(func.coalesce(func.sum(amount), 0), func.coalesce(func.sum(_awaiting_invoice(amount)), 0))
        .select_from(LedgerEntry)
        .outerjoin(Order, col(Order.id) == col(LedgerEntry.order_id))
        .outerjoin(Invoice, col(Invoice.checkout_id) == col(Order.checkout_id))
        .where(col(LedgerEntry.account) == LedgerAccount.VENDOR, col(LedgerEntry.vendor_id) == vendor_id)
    )


def payable(balance: int, awaiting_invoices: int) -> int:
    """What may be paid out now: the balance less what canteens still owe on their invoices, never below 0."""
    return max(balance - awaiting_invoices, 0)


@dataclass
class CompletedOrder:
    order_id: int
    completed_at: datetime
    gross: int
    commission: int
    net: int

    @property
    def number(self) -> str:
        return f"PK-{self.order_id:06d}"


@dataclass
class VendorBalance:
    vendor: Vendor
    balance: int  # what the platform owes the vendor now
    awaiting_invoices: int = 0  # the part of it canteens have not paid yet (their invoices are open)
    account: PayoutAccount | None = None  # where payouts go; None until the vendor records it
    orders: list[CompletedOrder] = field(default_factory=list)  # the latest first
    payouts: list[Payout] = field(default_factory=list)  # the latest first

    @property
    def payable(self) -> int:
        return payable(self.balance, self.awaiting_invoices)


async def vendor_balance(*, session: AsyncSession, vendor: Vendor, recent: int = RECENT) -> VendorBalance:
    """The vendor's balance, their latest completed orders with gross, commission and net, and their latest
    payouts: two queries."""
    amount = col(LedgerEntry.amount)
    orders = (
        await session.execute(
            # The gross is the order's total less what a short or damaged delivery gave back: a cash order has no
            # clearing entry (the vendor took the money).
            select(
                col(Order.id),
                func.min(col(LedgerEntry.created_at)),
                col(Order.total) - settled_claim_amount(col(Order.id)),
                func.sum(case((col(LedgerEntry.account) == LedgerAccount.COMMISSION, amount), else_=0)),
                func.sum(case((col(LedgerEntry.account) == LedgerAccount.VENDOR, amount), else_=0)),
            )
            .join(Order, col(Order.id) == col(LedgerEntry.order_id))
            .where(col(Order.vendor_id) == vendor.id)
            .group_by(col(Order.id), col(Order.total))
            .order_by(func.min(col(LedgerEntry.created_at)).desc(), col(Order.id).desc())
            .limit(recent)
        )
    ).all()
    # The balance and the payout account ride along with the payouts: a one-row table left-joined to them answers
    # even without any.
    balance = _vendor_balance(vendor.id).subquery()
    rows = (
        await session.execute(
            select(balance.c[0], balance.c[1], PayoutAccount, Payout)
            .select_from(balance)
            .outerjoin(PayoutAccount, col(PayoutAccount.vendor_id) == vendor.id)
            .outerjoin(Payout, col(Payout.vendor_id) == vendor.id)
            .order_by(col(Payout.id).desc())
            .limit(recent)
        )
    ).all()
    return VendorBalance(
        vendor=vendor,
        balance=rows[0][0] if rows else 0,
        awaiting_invoices=rows[0][1] if rows else 0,
        account=rows[0][2] if rows else None,
        orders=[
            CompletedOrder(order_id=order_id, completed_at=at, gross=gross, commission=commission, net=net)
            for order_id, at, gross, commission, net in orders
        ],
        payouts=[payout for *_, payout in rows if payout is not None],
    )


@dataclass
class BalanceRow:
    vendor: Vendor
    zone_code: str
    balance: int
    paid_out: int
    awaiting_invoices: int = 0
    account: PayoutAccount | None = None

    @property
    def payable(self) -> int:
        return payable(self.balance, self.awaiting_invoices)


async def vendor_balances(*, session: AsyncSession, actor: User) -> list[BalanceRow]:
    """Every vendor the ledger has entries for, with what they are owed and what was paid out; one query
    (admins)."""
    _ensure_admin(actor)
    rows = (
        await session.execute(
            select(
                Vendor,
                PayoutAccount,
                col(Zone.code),
                func.sum(col(LedgerEntry.amount)),
                func.sum(case((col(LedgerEntry.payout_id).is_not(None), -col(LedgerEntry.amount)), else_=0)),
                func.sum(_awaiting_invoice(col(LedgerEntry.amount))),
            )
            .join(
                LedgerEntry,
                (col(LedgerEntry.vendor_id) == col(Vendor.id)) & (col(LedgerEntry.account) == LedgerAccount.VENDOR),
            )
            .join(Zone, col(Zone.id) == col(Vendor.zone_id))
            .outerjoin(Order, col(Order.id) == col(LedgerEntry.order_id))
            .outerjoin(Invoice, col(Invoice.checkout_id) == col(Order.checkout_id))
            .outerjoin(PayoutAccount, col(PayoutAccount.vendor_id) == col(Vendor.id))
            .group_by(col(Vendor.id), col(PayoutAccount.id), col(Zone.code))
            .order_by(col(Vendor.business_name), col(Vendor.id))
        )
    ).all()
    return [
        BalanceRow(
            vendor=vendor,
            zone_code=code,
            balance=balance,
            paid_out=paid_out,
            awaiting_invoices=awaiting,
            account=account,
        )
        for vendor, account, code, balance, paid_out, awaiting in rows
    ]


def through_gateway(settings: Settings | None, account: PayoutAccount | None) -> bool:
    """A payout to this account is sent through the payment gateway (set up, and paying out to its bank)."""
    return bool(settings and settings.gateway_enabled and account and payout_channel(account.bank_name))


async def record_payout(
    *,
    session: AsyncSession,
    actor: User,
    vendor_id: int,
    amount: int,
    reference: str,
    now: datetime,
    settings: Settings | None = None,
) -> Payout:
    """The admin records a payout to a vendor: at most what buyers have paid in for the vendor (the balance less
    open invoices' orders), and its entries vendor −amount, clearing +amount, in one transaction (audit-logged).
    Without the payment gateway (`settings`), it is a bank transfer the admin made by hand (manual). With it, and
    a vendor's bank it pays out to, the payout is pending: the gateway payouts job sends it once this transaction
    commits (payments.payouts), and a failure gives the balance back."""
    _ensure_admin(actor)
    # The vendor's row is locked while the balance is read, so two payouts at once cannot both spend it.
    vendor = (
        await session.execute(select(Vendor).where(col(Vendor.id) == vendor_id).with_for_update(key_share=True))
    ).scalar_one_or_none()
    if vendor is None:
        raise NotFound(MSG_VENDOR_NOT_FOUND)
    reference = " ".join((reference or "").split())
    errors: list[FieldError] = []
    if not 3 <= len(reference) <= MAX_REFERENCE:
        errors.append(FieldError("reference", MSG_REFERENCE))
    elif (
        await session.execute(
            select(col(Payout.id)).where(col(Payout.vendor_id) == vendor.id, col(Payout.reference) == reference)
        )
    ).first() is not None:
        # The same bank transfer sent twice (a double tap, a retried request) is recorded once.
        errors.append(FieldError("reference", MSG_SAME_REFERENCE))
    if amount <= 0:
        errors.append(FieldError("amount", MSG_AMOUNT))
    else:
        balance, awaiting = (await session.execute(_vendor_balance(vendor.id))).one()
        if amount > balance:
            errors.append(FieldError("amount", MSG_OVER_BALANCE, {"balance": format_rupiah(balance)}))
        elif amount > payable(balance, awaiting):
            limits = {"payable": format_rupiah(payable(balance, awaiting)), "awaiting": format_rupiah(awaiting)}
            errors.append(FieldError("amount", MSG_OVER_PAYABLE, limits))
    account = await payout_account(session=session, vendor_id=vendor.id)
    if account is None:
        errors.append(FieldError("_form", MSG_NO_ACCOUNT))
    if errors:
        raise ValidationFailed(errors)
    assert account is not None
    gateway = through_gateway(settings, account)
    payout = Payout(
        vendor_id=vendor.id,
        amount=amount,
        reference=reference,
        bank_name=account.bank_name,
        account_number=account.account_number,
        account_holder=account.account_holder,
        recorded_by_id=actor.id,
        created_at=now,
        status=PayoutStatus.PENDING if gateway else PayoutStatus.MANUAL,
        channel_code=payout_channel(account.bank_name) or "" if gateway else "",
        updated_at=now,
    )
    session.add(payout)
    await session.flush()
    await session.execute(
        insert(LedgerEntry),
        [
            {
                "transaction_id": f"payout-{payout.id}",
                "account": LedgerAccount.VENDOR,
                "vendor_id": vendor.id,
                "order_id": None,
                "payout_id": payout.id,
                "amount": -amount,
                "created_at": now,
            },
            {
                "transaction_id": f"payout-{payout.id}",
                "account": LedgerAccount.CLEARING,
                "vendor_id": None,
                "order_id": None,
                "payout_id": payout.id,
                "amount": amount,
                "created_at": now,
            },
        ],
    )
    after = {"payout_id": payout.id, "amount": amount, "reference": reference}
    await record(session, actor, "vendor.payout", vendor, vendor.zone_id, reason=reference, after=after)
    if gateway:
        run_after_commit(session, "send_payouts")
    return payout


async def recent_payouts(*, session: AsyncSession, actor: User, limit: int = RECENT * 4) -> dict[int, list[Payout]]:
    """The latest payouts of every vendor, newest first, by vendor (admins): one query."""
    _ensure_admin(actor)
    found: dict[int, list[Payout]] = {}
    for payout in (await session.execute(select(Payout).order_by(col(Payout.id).desc()).limit(limit))).scalars():
        found.setdefault(payout.vendor_id, []).append(payout)
    return found


# --- checks -----------------------------------------------------------------------------------------------


async def unbalanced_transactions(*, session: AsyncSession) -> list[tuple[str, int]]:
    """Transactions whose entries do not sum to zero (there should never be any), with their sums."""
    return [
        (transaction, total)
        for transaction, total in (
            await session.execute(
                select(col(LedgerEntry.transaction_id), func.sum(col(LedgerEntry.amount)))
                .group_by(col(LedgerEntry.transaction_id))
                .having(func.sum(col(LedgerEntry.amount)) != 0)
                .order_by(col(LedgerEntry.transaction_id))
            )
        ).all()
    ]
