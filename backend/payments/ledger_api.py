"""JSON API for invoices (canteens, managers), invoice terms (managers), cash received (vendors), the vendor's
balance, and the admin's commission rates and payouts. The same services as the pages, so the same rules; an
object that is not the caller's answers 404."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import BEARER, UserRequest
from backend.accounts.models import User, Zone
from backend.administration import service as administration
from backend.clock import utcnow, wib_today
from backend.config import Settings
from backend.db import DbSession
from backend.guards import ADMINS, INVOICE_READERS, MANAGERS, VENDORS
from backend.payments import invoices, ledger, payout_accounts
from backend.payments.cash import mark_cash_received
from backend.payments.invoices import InvoiceState
from backend.payments.ledger_schemas import (
    BalanceRowPublic,
    CanteenTermsPublic,
    CashReceivedPublic,
    CommissionInput,
    InvoiceDetailPublic,
    InvoicePagePublic,
    InvoicePublic,
    InvoiceTermsInput,
    PaidInput,
    PayoutAccountPublic,
    PayoutInput,
    PayoutPublic,
    VendorBalancePublic,
    ZoneCommissionPublic,
)
from backend.payments.payout_accounts import PayoutAccountInput
from backend.vendors.dependencies import CURRENT_VENDOR, CurrentVendor

Page = Annotated[int, QueryParameter(ge=1, le=10_000)]
# "state" is a name Litestar keeps for the application's state: the query parameter is mapped to `states`.
StatesQuery = Annotated[
    list[InvoiceState] | None,
    QueryParameter(name="state", description="open, overdue, paid or void; repeat it for several"),
]


class InvoiceApi(Controller):
    path = "/api/v1/invoices"
    tags = ["invoices"]
    guards = [INVOICE_READERS]
    security = BEARER

    @get(
        "",
        summary="Invoices: my canteen's (newest first), or my zone's for a manager, every zone's for an admin "
        "(the earliest due first)",
        description="`state` narrows the list (repeat it for several: open, overdue, paid, void).",
    )
    async def list_invoices(
        self, request: UserRequest, db_session: DbSession, states: StatesQuery = None, page: Page = 1
    ) -> InvoicePagePublic:
        found = await invoices.list_invoices(
            session=db_session, actor=request.user, today=wib_today(utcnow()), states=tuple(states or ()), page=page
        )
        return InvoicePagePublic(
            invoices=[InvoicePublic.of(summary) for summary in found.invoices], page=found.page, has_more=found.has_more
        )

    @get(
        "/{invoice_id:int}",
        summary="One invoice with each vendor's order and its lines, and what is still due",
    )
    async def get_invoice(
        self,
        request: UserRequest,
        invoice_id: FromPath[int],
        db_session: DbSession,
        settings: NamedDependency[Settings],
    ) -> InvoiceDetailPublic:
        return await _detail(db_session, settings, request.user, invoice_id, wib_today(utcnow()))

    @post(
        "/{invoice_id:int}/paid",
        guards=[MANAGERS],
        status_code=200,
        summary="Record that the canteen paid the invoice, with the transfer's reference (once)",
        description="409 when the invoice was already marked paid, or is void (every order cancelled).",
    )
    async def mark_paid(
        self,
        request: UserRequest,
        invoice_id: FromPath[int],
        data: JSONBody[PaidInput],
        db_session: DbSession,
        settings: NamedDependency[Settings],
    ) -> InvoiceDetailPublic:
        now = utcnow()
        await invoices.mark_invoice_paid(
            session=db_session,
            actor=request.user,
            invoice_id=invoice_id,
            payment_reference=data.payment_reference,
            now=now,
        )
        return await _detail(db_session, settings, request.user, invoice_id, wib_today(now))


async def _detail(
    session: AsyncSession, settings: Settings, actor: User, invoice_id: int, today: date
) -> InvoiceDetailPublic:
    return InvoiceDetailPublic.of_detail(
        await invoices.invoice_detail(session=session, actor=actor, invoice_id=invoice_id, today=today),
        await administration.platform_bank(session=session, configured=settings.platform_bank),
    )


class CanteenTermsApi(Controller):
    path = "/api/v1/manager/canteens"
    tags = ["invoices"]
    guards = [MANAGERS]
    security = BEARER

    @get("", summary="The canteens of my zone (every zone for an admin) with their invoice terms and NPWP")
    async def list_canteens(self, request: UserRequest, db_session: DbSession) -> list[CanteenTermsPublic]:
        return [
            CanteenTermsPublic.of(canteen)
            for canteen in await invoices.canteens_for_terms(session=db_session, actor=request.user)
        ]

    @put(
        "/{organisation_id:int}/invoice-terms",
        summary="Grant, change or withdraw a canteen's invoice terms (14 or 30 days) and record its NPWP",
    )
    async def set_terms(
        self,
        request: UserRequest,
        organisation_id: FromPath[int],
        data: JSONBody[InvoiceTermsInput],
        db_session: DbSession,
    ) -> CanteenTermsPublic:
        organisation = await invoices.set_invoice_terms(
            session=db_session,
            actor=request.user,
            organisation_id=organisation_id,
            terms_days=data.invoice_terms_days,
            npwp=data.npwp,
        )
        zone = await db_session.get(Zone, organisation.zone_id)
        return CanteenTermsPublic.of(
            invoices.CanteenTerms(organisation=organisation, zone_code=zone.code if zone else "", staff=0)
        )


@post(
    "/api/v1/orders/{order_id:int}/cash-received",
    tags=["orders"],
    guards=[VENDORS],
    security=BEARER,
    status_code=200,
    summary="Record that the buyer paid cash for one of my delivered (or completed) cash orders, once",
    description="409 when it was already recorded, the order is not paid in cash, or not delivered yet.",
)
async def cash_received(request: UserRequest, order_id: FromPath[int], db_session: DbSession) -> CashReceivedPublic:
    return CashReceivedPublic.of(
        await mark_cash_received(session=db_session, actor=request.user, order_id=order_id, now=utcnow())
    )


class VendorLedgerApi(Controller):
    path = "/api/v1/vendor"
    tags = ["ledger"]
    guards = [VENDORS]
    security = BEARER
    dependencies = CURRENT_VENDOR

    @get(
        "/balance",
        summary="What the platform owes my shop, my latest completed orders (gross, commission, net) and payouts",
    )
    async def vendor_balance(self, db_session: DbSession, vendor: CurrentVendor) -> VendorBalancePublic:
        return VendorBalancePublic.of(await ledger.vendor_balance(session=db_session, vendor=vendor))

    @get("/payout-account", summary="The bank account my payouts go to (null until recorded)")
    async def get_payout_account(self, db_session: DbSession, vendor: CurrentVendor) -> PayoutAccountPublic | None:
        account = await payout_accounts.payout_account(session=db_session, vendor_id=vendor.id)
        return PayoutAccountPublic.of(account) if account else None

    @put("/payout-account", summary="Record or change the bank account my payouts go to (audit-logged)")
    async def put_payout_account(
        self, request: UserRequest, data: JSONBody[PayoutAccountInput], db_session: DbSession, vendor: CurrentVendor
    ) -> PayoutAccountPublic:
        account = await payout_accounts.save_payout_account(
            session=db_session, actor=request.user, vendor=vendor, data=data, now=utcnow()
        )
        return PayoutAccountPublic.of(account)


class LedgerAdminApi(Controller):
    path = "/api/v1/admin"
    tags = ["ledger"]
    guards = [ADMINS]
    security = BEARER

    @get("/zones", summary="Every zone with its commission rate (basis points)")
    async def zones(self, db_session: DbSession) -> list[ZoneCommissionPublic]:
        return [_zone(zone) for zone in await ledger.zones_with_rates(session=db_session)]

    @put(
        "/zones/{zone_id:int}/commission",
        summary="Set a zone's commission (0 to 5000 basis points); orders completed from now on use it",
    )
    async def set_commission(
        self, request: UserRequest, zone_id: FromPath[int], data: JSONBody[CommissionInput], db_session: DbSession
    ) -> ZoneCommissionPublic:
        return _zone(
            await ledger.set_commission_rate(
                session=db_session, actor=request.user, zone_id=zone_id, commission_bps=data.commission_bps
            )
        )

    @get("/balances", summary="Every vendor the ledger has entries for: what they are owed and were paid")
    async def balances(self, request: UserRequest, db_session: DbSession) -> list[BalanceRowPublic]:
        return [
            BalanceRowPublic.of(row) for row in await ledger.vendor_balances(session=db_session, actor=request.user)
        ]

    @post(
        "/vendors/{vendor_id:int}/payouts",
        summary="Record a payout to a vendor (at most what buyers have paid in for them)",
        description="Without the payment gateway, a bank transfer made by hand (status `manual`). With it, and a "
        "vendor's bank it pays out to, the payout is `pending` and sent through the gateway's payouts at once "
        "(once, whatever the retries); its status moves to `sent`, then `succeeded`, or `failed` with the reason "
        "in `last_error` (the vendor's balance then comes back). Read it in the vendor's balance or "
        "GET /api/v1/admin/payouts.",
    )
    async def payout(
        self,
        request: UserRequest,
        vendor_id: FromPath[int],
        data: JSONBody[PayoutInput],
        db_session: DbSession,
        settings: NamedDependency[Settings],
    ) -> PayoutPublic:
        return PayoutPublic.of(
            await ledger.record_payout(
                session=db_session,
                actor=request.user,
                vendor_id=vendor_id,
                amount=data.amount,
                reference=data.reference,
                now=utcnow(),
                settings=settings,
            )
        )

    @get("/payouts", summary="The latest payouts of every vendor, newest first, with their status")
    async def payouts(self, request: UserRequest, db_session: DbSession) -> list[PayoutPublic]:
        recent = await ledger.recent_payouts(session=db_session, actor=request.user)
        return sorted(
            (PayoutPublic.of(payout) for payouts in recent.values() for payout in payouts),
            key=lambda payout: payout.id,
            reverse=True,
        )


def _zone(zone: Zone) -> ZoneCommissionPublic:
    assert zone.id is not None
    return ZoneCommissionPublic(zone_id=zone.id, code=zone.code, name=zone.name, commission_bps=zone.commission_bps)


API_ROUTES: list[ControllerRouterHandler] = [
    InvoiceApi,
    CanteenTermsApi,
    cash_received,
    VendorLedgerApi,
    LedgerAdminApi,
]
