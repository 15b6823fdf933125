"""Money pages: the vendor's balance, the admin's commission rates and vendors' balances with
payouts. The rules live in backend.payments (ledger, cash); a handler parses the form, calls one service function
and picks a response."""

from __future__ import annotations

import secrets

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest
from backend.clock import utcnow
from backend.config import Settings
from backend.db import DbSession, undone_if_refused
from backend.errors import ValidationFailed
from backend.payments import ledger, payout_accounts
from backend.payments.ledger_schemas import CommissionPercentInput, PayoutInput, bps_to_percent
from backend.payments.models import PayoutStatus
from backend.payments.payout_accounts import PayoutAccountInput
from backend.vendors import service as vendors
from web.forms import FIRST_OPENED, FormState, RowRefusal, form_values, read_form, row_forms
from web.responses import page, see_other
from web.roles import ADMINS, PROFILE_FIRST, VENDORS

# --- the vendor: balance ------------------------------------------------------------------------------


@get("/vendor/balance", guards=VENDORS, exception_handlers=PROFILE_FIRST, name="vendor_balance")
async def balance_page(request: UserRequest, db_session: DbSession) -> Template:
    """What the platform owes the shop, the completed orders behind it (gross, commission, net) and the payouts
    (four queries)."""
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    balance = await ledger.vendor_balance(session=db_session, vendor=vendor)
    return page("ledger/balance.html", balance=balance, notice=request.query_params.get("notice"))


async def _account_page(request: UserRequest, db_session: AsyncSession, state: FormState = FIRST_OPENED) -> Template:
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    account = await payout_accounts.payout_account(session=db_session, vendor_id=vendor.id)
    stored = {name: getattr(account, name) for name in PayoutAccountInput.model_fields} if account else {}
    return page("ledger/payout_account.html", account=account, **state.context(blank=stored))


@get("/vendor/payout-account", guards=VENDORS, exception_handlers=PROFILE_FIRST, name="vendor_payout_account")
async def payout_account_page(request: UserRequest, db_session: DbSession) -> Template:
    """The bank account payouts go to, and the form to record or change it (three queries)."""
    return await _account_page(request, db_session)


@post("/vendor/payout-account", guards=VENDORS, exception_handlers=PROFILE_FIRST)
async def save_payout_account(request: UserRequest, db_session: DbSession) -> Template | Redirect:
    values = await form_values(request)
    try:
        data = read_form(PayoutAccountInput, values)
        vendor = await vendors.require_vendor(session=db_session, user=request.user)
        async with undone_if_refused(db_session):
            await payout_accounts.save_payout_account(
                session=db_session, actor=request.user, vendor=vendor, data=data, now=utcnow()
            )
    except ValidationFailed as refused:
        return await _account_page(request, db_session, FormState.refused(values, refused, status_code=422))
    return see_other("/vendor/balance", notice="account_saved")


# --- the admin: commission rates ----------------------------------------------------------------------


async def _commission_page(
    request: UserRequest, db_session: AsyncSession, *, refusal: RowRefusal | None = None
) -> Template:
    zones = await ledger.zones_with_rates(session=db_session)
    shown = row_forms(refusal)
    # Each zone's form shows its rate as a person types it, or what was typed in a refused one.
    shown["forms"] = {zone.id: {"commission": bps_to_percent(zone.commission_bps)} for zone in zones} | shown["forms"]
    return page(
        "ledger/commission.html",
        zones=zones,
        notice=request.query_params.get("notice"),
        percent=bps_to_percent,
        **shown,
    )


@get("/admin/commission", guards=ADMINS, name="admin_commission")
async def commission_page(request: UserRequest, db_session: DbSession) -> Template:
    """Each zone's commission rate with a form to change it (two queries)."""
    return await _commission_page(request, db_session)


@post("/admin/zones/{zone_id:int}/commission", guards=ADMINS)
async def set_commission(request: UserRequest, zone_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    values = await form_values(request)
    try:
        rate = read_form(CommissionPercentInput, values)
        async with undone_if_refused(db_session):
            await ledger.set_commission_rate(
                session=db_session, actor=request.user, zone_id=zone_id, commission_bps=rate.commission
            )
    except ValidationFailed as refused:
        return await _commission_page(request, db_session, refusal=RowRefusal(zone_id, refused, values))
    return see_other("/admin/commission", notice="saved")


# --- the admin: vendors' balances and payouts ---------------------------------------------------------


async def _balances_page(
    request: UserRequest, db_session: AsyncSession, settings: Settings, *, refusal: RowRefusal | None = None
) -> Template:
    rows = await ledger.vendor_balances(session=db_session, actor=request.user)
    payouts = await ledger.recent_payouts(session=db_session, actor=request.user)
    return page(
        "ledger/balances.html",
        rows=rows,
        payouts=payouts,
        # A payout sent through the payment gateway needs no bank reference typed: the form carries one of its
        # own, so a double submission is refused like a repeated bank reference.
        through_gateway={row.vendor.id for row in rows if ledger.through_gateway(settings, row.account)},
        gateway_reference=f"XENDIT-{secrets.token_hex(5).upper()}",
        notice=request.query_params.get("notice"),
        **row_forms(refusal),
    )


@get("/admin/balances", guards=ADMINS, name="admin_balances")
async def balances_page(request: UserRequest, db_session: DbSession, settings: NamedDependency[Settings]) -> Template:
    """What the platform owes each vendor, with a payout form for each and their latest payouts (three
    queries)."""
    return await _balances_page(request, db_session, settings)


@post("/admin/vendors/{vendor_id:int}/payouts", guards=ADMINS)
async def record_payout(
    request: UserRequest, vendor_id: FromPath[int], db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    values = await form_values(request)
    try:
        payout = read_form(PayoutInput, values)
        async with undone_if_refused(db_session):
            recorded = await ledger.record_payout(
                session=db_session,
                actor=request.user,
                vendor_id=vendor_id,
                amount=payout.amount,
                reference=payout.reference,
                now=utcnow(),
                settings=settings,
            )
    except ValidationFailed as refused:
        return await _balances_page(request, db_session, settings, refusal=RowRefusal(vendor_id, refused, values))
    return see_other("/admin/balances", notice="paid_out" if recorded.status == PayoutStatus.MANUAL else "payout_sent")


PAGE_ROUTES = [
    balance_page,
    payout_account_page,
    save_payout_account,
    commission_page,
    set_commission,
    balances_page,
    record_payout,
]
