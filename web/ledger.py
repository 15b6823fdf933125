"""Money pages: the vendor's balance, the admin's commission rates and vendors' balances with
payouts. The rules live in backend.payments (ledger, cash); a handler parses the form, calls one service function
and picks a response."""

from __future__ import annotations

import re

from litestar import get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest
from backend.clock import utcnow
from backend.db import DbSession
from backend.errors import FieldError, ValidationFailed
from backend.money import parse_rupiah
from backend.payments import ledger
from backend.vendors import service as vendors
from web.forms import field_errors, form_values
from web.responses import page, see_other
from web.roles import ADMINS, PROFILE_FIRST, VENDORS

# "5", "2,5", "2.75" (per cent, at most two decimals)
PERCENT = re.compile(r"^(\d{1,2})(?:[.,](\d{1,2}))?$")


# --- the vendor: balance ------------------------------------------------------------------------------


@get("/vendor/balance", guards=VENDORS, exception_handlers=PROFILE_FIRST, name="vendor_balance")
async def balance_page(request: UserRequest, db_session: DbSession) -> Template:
    """What the platform owes the shop, the completed orders behind it (gross, commission, net) and the payouts
    (four queries)."""
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    balance = await ledger.vendor_balance(session=db_session, vendor=vendor)
    return page("ledger/balance.html", balance=balance)


# --- the admin: commission rates ----------------------------------------------------------------------


def percent_to_bps(text: str) -> int:
    """A commission as typed, in per cent ("5", "2,5", "2.75"), as basis points (500, 250, 275)."""
    match = PERCENT.match((text or "").strip().removesuffix("%").strip())
    if match is None:
        raise ValidationFailed.single("commission", ledger.MSG_RATE)
    whole, fraction = match.group(1), (match.group(2) or "").ljust(2, "0")
    return int(whole) * 100 + int(fraction)


def bps_to_percent(bps: int) -> str:
    """500 → "5", 250 → "2,5", 275 → "2,75" (as a person types it back)."""
    whole, rest = divmod(bps, 100)
    return str(whole) if not rest else f"{whole},{rest:02d}".rstrip("0")


async def _commission_page(request: UserRequest, db_session: AsyncSession, *, status_code: int = 200,
                           errors: dict[int, dict[str, str]] | None = None,
                           forms: dict[int, dict[str, str]] | None = None) -> Template:
    zones = await ledger.zones_with_rates(session=db_session)
    return page("ledger/commission.html", status_code=status_code, zones=zones, errors=errors or {},
                forms={zone.id: {"commission": bps_to_percent(zone.commission_bps)} for zone in zones} | (forms or {}),
                notice=request.query_params.get("notice"), percent=bps_to_percent)


@get("/admin/commission", guards=ADMINS, name="admin_commission")
async def commission_page(request: UserRequest, db_session: DbSession) -> Template:
    """Each zone's commission rate with a form to change it (two queries)."""
    return await _commission_page(request, db_session)


@post("/admin/zones/{zone_id:int}/commission", guards=ADMINS)
async def set_commission(request: UserRequest, zone_id: FromPath[int],
                         db_session: DbSession) -> Template | Redirect:
    values = await form_values(request)
    try:
        await ledger.set_commission_rate(session=db_session, actor=request.user, zone_id=zone_id,
                                         commission_bps=percent_to_bps(values.get("commission", "")))
    except ValidationFailed as refused:
        await db_session.rollback()
        return await _commission_page(request, db_session, status_code=400, errors={zone_id: field_errors(refused)},
                                      forms={zone_id: values})
    return see_other("/admin/commission", notice="saved")


# --- the admin: vendors' balances and payouts ---------------------------------------------------------


async def _balances_page(request: UserRequest, db_session: AsyncSession, *, status_code: int = 200,
                         errors: dict[int, dict[str, str]] | None = None,
                         forms: dict[int, dict[str, str]] | None = None) -> Template:
    rows = await ledger.vendor_balances(session=db_session, actor=request.user)
    return page("ledger/balances.html", status_code=status_code, rows=rows, errors=errors or {}, forms=forms or {},
                notice=request.query_params.get("notice"))


@get("/admin/balances", guards=ADMINS, name="admin_balances")
async def balances_page(request: UserRequest, db_session: DbSession) -> Template:
    """What the platform owes each vendor, with a payout form for each (two queries)."""
    return await _balances_page(request, db_session)


@post("/admin/vendors/{vendor_id:int}/payouts", guards=ADMINS)
async def record_payout(request: UserRequest, vendor_id: FromPath[int],
                        db_session: DbSession) -> Template | Redirect:
    values = await form_values(request)
    try:
        try:
            amount = parse_rupiah(values.get("amount", ""))
        except ValueError:
            raise ValidationFailed([FieldError("amount", ledger.MSG_AMOUNT)]) from None
        await ledger.record_payout(session=db_session, actor=request.user, vendor_id=vendor_id, amount=amount,
                                   reference=values.get("reference", ""), now=utcnow())
    except ValidationFailed as refused:
        await db_session.rollback()
        return await _balances_page(request, db_session, status_code=400, errors={vendor_id: field_errors(refused)},
                                    forms={vendor_id: values})
    return see_other("/admin/balances", notice="paid_out")


PAGE_ROUTES = [balance_page, commission_page, set_commission, balances_page, record_payout]
