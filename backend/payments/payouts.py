"""Vendors' payouts sent through the payment gateway (Xendit's Payouts API, POST /v2/payouts), where it is set up.

An admin records a payout as today (ledger.record_payout: the same balance checks, under the same lock on the
vendor's row). When the gateway is set up and the vendor's bank is one it pays out to (`payout_channel`), the
payout is recorded *pending*: its ledger entries (vendor −amount, clearing +amount) are written at once, so the
balance cannot be paid out twice, and the sending is left to the job (`send_gateway_payouts`, started when the
admin's transaction commits and every minute after), so an outage of the gateway only delays it. The job sends
it with the idempotency key payout-<id>: sending again after a timeout whose answer was lost makes no second
payout. The gateway's answer makes it *sent*.

The gateway's payout callbacks (payout.succeeded, payout.failed; gateway.receive_callback verifies the token and
stores each callback once) are news, not proof: the payout is read back from the gateway and must be ours (our
reference, amount and currency). Succeeded: the payout stands. Failed (or cancelled, or reversed by the bank):
the payout is reversed in the ledger (transaction payout-failed-<id>: vendor +amount, clearing −amount), so the
balance comes back and can be paid out again, and the admin who recorded it is told in their inbox. Without the
gateway, payouts are bank transfers the admin makes by hand and records, as before (*manual*).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.config import Settings
from backend.db import is_postgres
from backend.errors import N_
from backend.money import format_rupiah
from backend.notifications.service import notify
from backend.payments.gateway_client import CURRENCY, GatewayCallFailed, XenditGateway, payout_reference
from backend.payments.models import LedgerAccount, LedgerEntry, Payout, PayoutStatus
from backend.payments.service import PaymentRejected
from backend.vendors.models import Vendor

logger = logging.getLogger("pasar_kawasan.payments")

MAX_ERROR = 300
MSG_PAYOUT_FAILED = N_(
    "The payout of %(amount)s to %(vendor)s did not go through (%(reason)s): the balance is back and can be paid "
    "out again."
)
# The gateway's payout statuses that leave the money with the platform: the payout is reversed in the ledger.
FAILED_AT_GATEWAY = ("FAILED", "CANCELLED", "REVERSED", "COMPLIANCE_REJECTED", "EXPIRED")
SETTLED = (PayoutStatus.SUCCEEDED, PayoutStatus.FAILED)
WITH_GATEWAY = (PayoutStatus.PENDING, PayoutStatus.SENT)


async def send_gateway_payouts(*, session: AsyncSession, settings: Settings, now: datetime, limit: int = 20) -> int:
    """The job: send the gateway each pending payout (recorded by an admin, or refused last time because the
    gateway was down or slow), with the idempotency key derived from the payout. Returns how many the gateway
    accepted. Several workers may run it: each takes payouts the others are not sending. A payout the gateway
    refuses as such (a 4xx: an account it cannot pay to) fails, and is reversed."""
    if not settings.gateway_enabled:
        return 0
    statement = select(Payout).where(col(Payout.status) == PayoutStatus.PENDING).order_by(col(Payout.id)).limit(limit)
    if is_postgres(session):
        statement = statement.with_for_update(skip_locked=True)
    due = (await session.execute(statement)).scalars().all()
    if not due:
        return 0
    gateway = XenditGateway(settings)
    sent = 0
    for payout in due:
        payout.updated_at = now
        try:
            answer = await gateway.create_payout(
                payout_id=payout.id,
                channel_code=payout.channel_code,
                account_number=payout.account_number,
                account_holder=payout.account_holder,
                amount=payout.amount,
                description=f"Pasar Kawasan {payout.reference}",
            )
        except GatewayCallFailed as failure:
            payout.last_error = failure.reason[:MAX_ERROR]
            if not failure.retryable:  # refused as such: asking again cannot help
                await reverse_failed_payout(session=session, payout=payout, reason=failure.reason, now=now)
            continue
        payout.gateway_payout_id = payout.gateway_payout_id or str(answer["id"])[:80]
        payout.last_error = ""
        await apply_gateway_payout(session=session, payout=payout, answer=answer, now=now)
        sent += 1
    return sent


async def apply_gateway_payout(*, session: AsyncSession, payout: Payout, answer: dict[str, Any], now: datetime) -> bool:
    """The gateway says how a payout stands (its answer, or the payout read back after a callback): accepted or
    on its way → sent; succeeded → succeeded; failed, cancelled or reversed → failed and reversed in the ledger.
    Returns whether anything changed. A failed payout stays failed (its balance was given back)."""
    status = str(answer.get("status") or "")
    if payout.status == PayoutStatus.FAILED or payout.status == PayoutStatus.MANUAL:
        if status == "SUCCEEDED" and payout.status == PayoutStatus.FAILED:
            logger.error("payout %s was reversed as failed, but the gateway now says it succeeded", payout.id)
        return False
    if status in FAILED_AT_GATEWAY:
        reason = str(answer.get("failure_code") or status)
        await reverse_failed_payout(session=session, payout=payout, reason=reason, now=now)
        return True
    if status == "SUCCEEDED":
        if payout.status == PayoutStatus.SUCCEEDED:
            return False
        payout.status, payout.last_error, payout.updated_at = PayoutStatus.SUCCEEDED, "", now
        return True
    if payout.status == PayoutStatus.PENDING:  # ACCEPTED, REQUESTED, ...: on its way
        payout.status, payout.updated_at = PayoutStatus.SENT, now
        return True
    return False


async def reverse_failed_payout(*, session: AsyncSession, payout: Payout, reason: str, now: datetime) -> None:
    """The payout failed: its ledger entries are reversed (the vendor's balance comes back), and the admin who
    recorded it is told."""
    payout.status, payout.last_error, payout.updated_at = PayoutStatus.FAILED, reason[:MAX_ERROR], now
    await session.execute(
        insert(LedgerEntry),
        [
            {
                "transaction_id": f"payout-failed-{payout.id}",
                "account": account,
                "vendor_id": vendor_id,
                "order_id": None,
                "payout_id": payout.id,
                "amount": amount,
                "created_at": now,
            }
            for account, vendor_id, amount in (
                (LedgerAccount.VENDOR, payout.vendor_id, payout.amount),
                (LedgerAccount.CLEARING, None, -payout.amount),
            )
        ],
    )
    vendor = await session.get(Vendor, payout.vendor_id)
    logger.error("payout %s to vendor %s failed at the gateway: %s", payout.id, payout.vendor_id, payout.last_error)
    await notify(
        session=session,
        user_ids={payout.recorded_by_id},
        message=MSG_PAYOUT_FAILED,
        params={
            "amount": format_rupiah(payout.amount),
            "vendor": vendor.business_name if vendor else "",
            "reason": payout.last_error,
        },
        url=f"/admin/balances#vendor-{payout.vendor_id}",
        now=now,
    )


PayoutCallbackOutcome = Literal["settled", "unchanged", "early"]


async def gateway_payout_changed(
    *, session: AsyncSession, settings: Settings, data: dict[str, Any], now: datetime
) -> PayoutCallbackOutcome:
    """A payout callback (payout.succeeded, payout.failed): find our payout by the gateway's id or our reference,
    read it back from the gateway, check it is ours, and settle it ("settled", or "unchanged" when it was
    already). "early" when the gateway says the payout is still on its way (a callback that says otherwise is not
    believed, and must not stand in for the real one later). PaymentRejected when it is not a payout of ours
    (nothing changes); GatewayCallFailed when the gateway cannot be asked (the callback comes again)."""
    gateway_id = str(data.get("id") or "")
    reference = str(data.get("reference_id") or "")
    query = select(Payout).where(
        or_(
            col(Payout.gateway_payout_id) == gateway_id,
            (col(Payout.id) == _payout_id(reference)) & col(Payout.gateway_payout_id).is_(None),
        ),
        col(Payout.status) != PayoutStatus.MANUAL,
    )
    if is_postgres(session):
        query = query.with_for_update()
    payout = (await session.execute(query.execution_options(populate_existing=True))).scalar_one_or_none()
    if payout is None:
        raise PaymentRejected(f"payout {gateway_id} names reference {reference!r}, no payout of ours")
    try:
        answer = await XenditGateway(settings).payout(gateway_id)
    except GatewayCallFailed as failure:
        if failure.missing:
            raise PaymentRejected(f"the gateway has no payout {gateway_id}") from failure
        raise
    name = f"payout {gateway_id}"
    if answer.get("reference_id") != payout_reference(payout.id):
        raise PaymentRejected(f"{name} is for reference {answer.get('reference_id')!r}, not payout {payout.id}")
    if answer.get("currency") != CURRENCY or int(answer.get("amount") or 0) != payout.amount:
        raise PaymentRejected(f"{name} is for {answer.get('amount')} {answer.get('currency')}, not {payout.amount}")
    payout.gateway_payout_id = payout.gateway_payout_id or gateway_id[:80]
    changed = await apply_gateway_payout(session=session, payout=payout, answer=answer, now=now)
    if str(answer.get("status") or "") not in (*FAILED_AT_GATEWAY, "SUCCEEDED"):
        return "early"
    return "settled" if changed else "unchanged"


def _payout_id(reference: str) -> int:
    """Our payout's id from the reference the gateway knows it by (payout-<id>); 0 (no payout) otherwise."""
    number = reference.removeprefix("payout-")
    return int(number) if reference.startswith("payout-") and number.isdigit() and len(number) < 18 else 0
