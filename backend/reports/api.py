"""JSON API for the reports: the same figures as the pages. Dates are YYYY-MM-DD (?from=&to=, both or neither;
the default is the report's usual period), values integer rupiah."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter
from litestar.types import ControllerRouterHandler

from backend.accounts.auth import BEARER, UserRequest, requires_role
from backend.accounts.models import Role
from backend.clock import utcnow, wib_today
from backend.db import DbSession
from backend.problems import problem_response
from backend.reports import service
from backend.reports.funnel import ZoneFunnel, zone_funnel
from backend.vendors import service as vendors

From = Annotated[date | None, QueryParameter(name="from", description="First delivery day (YYYY-MM-DD)")]
To = Annotated[date | None, QueryParameter(name="to", description="Last delivery day (YYYY-MM-DD)")]


class ReportApi(Controller):
    """Each report is for one role: its guard is on its route."""

    path = "/api/v1/reports"
    tags = ["reports"]
    security = BEARER

    @get(
        "/vendor-sales",
        guards=[requires_role(Role.VENDOR)],
        summary="My shop's sales per delivery day and per product (default: the last 30 days)",
    )
    async def vendor_sales(
        self, request: UserRequest, db_session: DbSession, start: From = None, end: To = None
    ) -> service.VendorSales:
        vendor = await vendors.require_vendor(session=db_session, user=request.user)
        return await service.vendor_sales(
            session=db_session, vendor=vendor, start=start, end=end, today=wib_today(utcnow())
        )

    @get(
        "/canteen-spend",
        guards=[requires_role(Role.CANTEEN_STAFF)],
        summary="My canteen's spend per vendor and month (default: the last 12 months)",
    )
    async def canteen_spend(
        self, request: UserRequest, db_session: DbSession, start: From = None, end: To = None
    ) -> service.CanteenSpend:
        return await service.canteen_spend(
            session=db_session, actor=request.user, start=start, end=end, today=wib_today(utcnow())
        )

    @get(
        "/zone-dashboard",
        guards=[requires_role(Role.MANAGER, Role.ADMIN)],
        summary="My zone's vendors, listings, orders and value per ISO week and local share (default: 12 weeks)",
        description="An admin picks the zone with `zone` (default: the first by code); a manager's own zone only "
        "(another zone answers 404).",
        responses={404: problem_response(404, "No such zone, or another zone than the manager's own")},
    )
    async def zone_dashboard(
        self,
        request: UserRequest,
        db_session: DbSession,
        zone: Annotated[int | None, QueryParameter(ge=1)] = None,
        start: From = None,
        end: To = None,
    ) -> service.ZoneDashboard:
        return await service.zone_dashboard(
            session=db_session, actor=request.user, zone_id=zone, start=start, end=end, today=wib_today(utcnow())
        )

    @get(
        "/funnel",
        guards=[requires_role(Role.MANAGER, Role.ADMIN)],
        summary="My zone's district funnel: register rows to repeat buyers per month, kecamatan and category",
        description="The UMKM of the imported register counted in the month (WIB) they first reached each step "
        "(registered, invited, signed_up, certified, listed, first_sale, repeat_buyer), over the months of "
        "`from` to `to` (default: the last six), with the share of the zone's canteen spend that went to UMKM "
        "of the zone's regency. An admin picks the zone with `zone`; a manager's own zone only (another zone "
        "answers 404).",
        responses={404: problem_response(404, "No such zone, or another zone than the manager's own")},
    )
    async def funnel(
        self,
        request: UserRequest,
        db_session: DbSession,
        zone: Annotated[int | None, QueryParameter(ge=1)] = None,
        start: Annotated[date | None, QueryParameter(name="from", description="A day of the first month")] = None,
        end: Annotated[date | None, QueryParameter(name="to", description="A day of the last month")] = None,
    ) -> ZoneFunnel:
        return await zone_funnel(
            session=db_session, actor=request.user, zone_id=zone, start=start, end=end, today=wib_today(utcnow())
        )


API_ROUTES: list[ControllerRouterHandler] = [ReportApi]
