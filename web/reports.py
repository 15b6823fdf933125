"""Report pages: the vendor's sales, the canteen's spend, the zone's dashboard for managers (and admins), each
with a small SVG chart and CSV downloads. The figures come from backend.reports.service; a handler reads the date
range from ?from=&to= (YYYY-MM-DD), calls one service function and renders it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from functools import partial
from typing import Any, TypeVar

from litestar import Response, get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest
from backend.accounts.models import Role
from backend.clock import format_date, utcnow, wib_today
from backend.db import DbSession
from backend.errors import N_, ValidationFailed
from backend.i18n import get_locale, gettext
from backend.money import format_rupiah
from backend.reports import exports, funnel, service
from backend.reports.charts import Bar, Step, bar_chart, funnel_chart
from backend.vendors import service as vendors
from web.forms import field_errors, query_date, whole_number
from web.responses import page
from web.roles import CANTEEN_STAFF, MANAGERS, PROFILE_FIRST, VENDORS

ReportT = TypeVar("ReportT")


def _range(request: UserRequest) -> tuple[date | None, date | None]:
    """?from=&to=; either missing or unreadable means the report's default range."""
    start, end = query_date(request.query_params.get("from")), query_date(request.query_params.get("to"))
    return (start, end) if start and end else (None, None)


def _csv(file: exports.CsvFile) -> Response[bytes]:
    return Response(file.content, media_type=exports.MEDIA_TYPE, headers=file.headers)


def _worth(value: int, orders: int) -> str:
    """What a bar says when pointed at, after its date: "Rp 2.750.000, 2 orders"."""
    return gettext("%(value)s, %(orders)s orders", value=format_rupiah(value), orders=orders)


def _query(report: Any) -> str:
    return f"from={report.start.isoformat()}&to={report.end.isoformat()}"


async def _report(
    request: UserRequest, build: Callable[..., Awaitable[ReportT]], *, strict: bool = False
) -> tuple[ReportT, dict[str, str]]:
    """The report `build(start=, end=)` makes for the asked range. A page shows a range the service refuses as the
    default one with the reason; a CSV download (`strict`) is refused itself."""
    start, end = _range(request)
    try:
        return await build(start=start, end=end), {}
    except ValidationFailed as refused:
        if strict:
            raise
        return await build(start=None, end=None), field_errors(refused)


def _report_page(
    template: str, report: Any, errors: dict[str, str], *, chart: Any, query: str = "", **named: Any
) -> Template:
    """A report's page with its chart and the query its CSV links repeat; 400 with the reason where the asked range
    was refused (the report then shows its default range)."""
    return page(
        template, status_code=400 if errors else 200, errors=errors, chart=chart, query=query + _query(report), **named
    )


# --- the vendor's sales ----------------------------------------------------------------------------------


async def _vendor_sales(
    request: UserRequest, db_session: AsyncSession, strict: bool = False
) -> tuple[service.VendorSales, dict[str, str]]:
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    return await _report(
        request,
        partial(service.vendor_sales, session=db_session, vendor=vendor, today=wib_today(utcnow())),
        strict=strict,
    )


def sales_chart(sales: service.VendorSales) -> Any:
    locale = get_locale()
    best = max(sales.days, key=lambda d: d.value)
    summary = gettext(
        "Sales per day from %(start)s to %(end)s: %(value)s in %(orders)s orders in all; "
        "the best day was %(day)s with %(best)s.",
        start=format_date(sales.start, locale),
        end=format_date(sales.end, locale),
        value=format_rupiah(sales.value),
        orders=sales.orders,
        day=format_date(best.day, locale),
        best=format_rupiah(best.value),
    )
    return bar_chart(
        [
            Bar(f"{d.day.day}/{d.day.month}", d.value, f"{format_date(d.day, locale)}: {_worth(d.value, d.orders)}")
            for d in sales.days
        ],
        summary=summary,
        top_label=format_rupiah(best.value),
    )


@get("/vendor/reports", guards=VENDORS, exception_handlers=PROFILE_FIRST, name="vendor_reports")
async def vendor_reports(request: UserRequest, db_session: DbSession) -> Template:
    """Sales per day (a chart, and a table) and per product over a date range, with CSV downloads (four
    queries)."""
    sales, errors = await _vendor_sales(request, db_session)
    return _report_page("reports/vendor.html", sales, errors, chart=sales_chart(sales), sales=sales)


@get("/vendor/reports/sales-by-day.csv", guards=VENDORS, exception_handlers=PROFILE_FIRST)
async def vendor_sales_by_day_csv(request: UserRequest, db_session: DbSession) -> Response[bytes]:
    sales, _ = await _vendor_sales(request, db_session, strict=True)
    return _csv(exports.sales_by_day(sales))


@get("/vendor/reports/sales-by-product.csv", guards=VENDORS, exception_handlers=PROFILE_FIRST)
async def vendor_sales_by_product_csv(request: UserRequest, db_session: DbSession) -> Response[bytes]:
    sales, _ = await _vendor_sales(request, db_session, strict=True)
    return _csv(exports.sales_by_product(sales))


@get("/vendor/reports/orders.csv", guards=VENDORS, exception_handlers=PROFILE_FIRST)
async def vendor_orders_csv(request: UserRequest, db_session: DbSession) -> Response[bytes]:
    """Each order of the range with its buyer and PO number, for the vendor's books."""
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    orders, _ = await _report(
        request,
        partial(service.vendor_orders, session=db_session, vendor=vendor, today=wib_today(utcnow())),
        strict=True,
    )
    return _csv(exports.vendor_orders(orders))


# --- the canteen's spend ---------------------------------------------------------------------------------


async def _canteen_spend(
    request: UserRequest, db_session: AsyncSession, strict: bool = False
) -> tuple[service.CanteenSpend, dict[str, str]]:
    return await _report(
        request,
        partial(service.canteen_spend, session=db_session, actor=request.user, today=wib_today(utcnow())),
        strict=strict,
    )


def spend_chart(spend: service.CanteenSpend) -> Any:
    largest = max(spend.months, key=lambda m: m.value)
    summary = gettext(
        "Spend per month from %(start)s to %(end)s: %(value)s in %(orders)s orders in all; "
        "the biggest month was %(month)s with %(best)s.",
        start=spend.months[0].key,
        end=spend.months[-1].key,
        value=format_rupiah(spend.value),
        orders=spend.orders,
        month=largest.key,
        best=format_rupiah(largest.value),
    )
    return bar_chart(
        [Bar(f"{m.month:%m/%y}", m.value, f"{m.key}: {_worth(m.value, m.orders)}") for m in spend.months],
        summary=summary,
        top_label=format_rupiah(largest.value),
    )


@get("/canteen/reports", guards=CANTEEN_STAFF, name="canteen_reports")
async def canteen_reports(request: UserRequest, db_session: DbSession) -> Template:
    """The canteen's spend per month (a chart) and per vendor, with a CSV download (three queries)."""
    spend, errors = await _canteen_spend(request, db_session)
    return _report_page("reports/canteen.html", spend, errors, chart=spend_chart(spend), spend=spend)


@get("/canteen/reports/spend.csv", guards=CANTEEN_STAFF)
async def canteen_spend_csv(request: UserRequest, db_session: DbSession) -> Response[bytes]:
    spend, _ = await _canteen_spend(request, db_session, strict=True)
    return _csv(exports.canteen_spend(spend))


@get("/canteen/reports/orders.csv", guards=CANTEEN_STAFF)
async def canteen_orders_csv(request: UserRequest, db_session: DbSession) -> Response[bytes]:
    """Each order of the range with its PO number, for the canteen's books."""
    orders, _ = await _report(
        request,
        partial(service.canteen_orders, session=db_session, actor=request.user, today=wib_today(utcnow())),
        strict=True,
    )
    return _csv(exports.canteen_orders(orders))


# --- the zone's dashboard --------------------------------------------------------------------------------


async def _dashboard(
    request: UserRequest, db_session: AsyncSession, strict: bool = False
) -> tuple[service.ZoneDashboard, dict[str, str]]:
    return await _report(
        request,
        partial(
            service.zone_dashboard,
            session=db_session,
            actor=request.user,
            zone_id=whole_number(request.query_params.get("zone")),
            today=wib_today(utcnow()),
        ),
        strict=strict,
    )


def weeks_chart(dashboard: service.ZoneDashboard) -> Any:
    largest = max(dashboard.weeks, key=lambda w: w.value)
    summary = gettext(
        "Value sold by the zone's vendors per week from %(start)s to %(end)s: %(value)s in "
        "%(orders)s orders in all; the biggest week was %(week)s with %(best)s.",
        start=dashboard.weeks[0].iso_week,
        end=dashboard.weeks[-1].iso_week,
        value=format_rupiah(dashboard.value),
        orders=dashboard.orders,
        week=largest.iso_week,
        best=format_rupiah(largest.value),
    )
    return bar_chart(
        [
            Bar(f"W{w.week_start.isocalendar()[1]}", w.value, f"{w.iso_week}: {_worth(w.value, w.orders)}")
            for w in dashboard.weeks
        ],
        summary=summary,
        top_label=format_rupiah(largest.value),
    )


@get("/manager/dashboard", guards=MANAGERS, name="zone_dashboard")
async def zone_dashboard(request: UserRequest, db_session: DbSession) -> Template:
    """The manager's zone at a glance (an admin picks any zone with ?zone=ID): vendors, listings, orders and
    value per week, the local share, with a CSV of the weeks (four queries)."""
    dashboard, errors = await _dashboard(request, db_session)
    zone_query = f"zone={dashboard.zone_id}&" if request.user.role == Role.ADMIN else ""
    return _report_page(
        "reports/dashboard.html", dashboard, errors, chart=weeks_chart(dashboard), query=zone_query, d=dashboard
    )


@get("/manager/dashboard/weeks.csv", guards=MANAGERS)
async def zone_weeks_csv(request: UserRequest, db_session: DbSession) -> Response[bytes]:
    dashboard, _ = await _dashboard(request, db_session, strict=True)
    return _csv(exports.zone_weeks(dashboard))


# --- the district funnel ---------------------------------------------------------------------------------

STEP_NAMES = {
    funnel.FunnelStep.REGISTERED: N_("In the register"),
    funnel.FunnelStep.INVITED: N_("Invited"),
    funnel.FunnelStep.SIGNED_UP: N_("Signed up"),
    funnel.FunnelStep.CERTIFIED: N_("Certified"),
    funnel.FunnelStep.LISTED: N_("First listing live"),
    funnel.FunnelStep.FIRST_SALE: N_("First sale"),
    funnel.FunnelStep.REPEAT_BUYER: N_("A buyer came back"),
}
FUNNEL_VIEWS = ("kecamatan", "category")


def _month(text: str | None) -> date | None:
    """A month from the query string: ?from=2026-09 (what a month field sends) or a day of it."""
    text = (text or "").strip()
    return query_date(f"{text}-01" if len(text) == 7 else text)


async def _funnel(
    request: UserRequest, db_session: AsyncSession, strict: bool = False
) -> tuple[funnel.ZoneFunnel, dict[str, str]]:
    build = partial(
        funnel.zone_funnel,
        session=db_session,
        actor=request.user,
        zone_id=whole_number(request.query_params.get("zone")),
        today=wib_today(utcnow()),
    )
    start, end = _month(request.query_params.get("from")), _month(request.query_params.get("to"))
    try:
        return await build(start=start, end=end), {}
    except ValidationFailed as refused:
        if strict:
            raise
        return await build(start=None, end=None), field_errors(refused)


def funnel_figure(report: funnel.ZoneFunnel) -> Any:
    steps = [Step(gettext(STEP_NAMES[step]), report.counts[step]) for step in funnel.STEPS]
    return funnel_chart(
        steps,
        title=gettext(
            "District funnel from %(start)s to %(end)s", start=report.months[0].key, end=report.months[-1].key
        ),
        description="; ".join(f"{step.label}: {step.value}" for step in steps),
    )


@get("/manager/funnel", guards=MANAGERS, name="zone_funnel")
async def zone_funnel(request: UserRequest, db_session: DbSession) -> Template:
    """How far the register's UMKM have come, step by step, by kecamatan or by category (?by=) and per month, with
    the canteen spend's local share, a chart and CSV downloads (four queries)."""
    report, errors = await _funnel(request, db_session)
    view = request.query_params.get("by")
    view = view if view in FUNNEL_VIEWS else FUNNEL_VIEWS[0]
    zone_query = f"zone={report.zone_id}&" if request.user.role == Role.ADMIN else ""
    query = f"{zone_query}from={report.start:%Y-%m}&to={report.end:%Y-%m}"
    return page(
        "reports/funnel.html",
        status_code=400 if errors else 200,
        errors=errors,
        f=report,
        chart=funnel_figure(report),
        view=view,
        groups=report.by_kecamatan if view == "kecamatan" else report.by_category,
        step_names=STEP_NAMES,
        query=query,
    )


@get("/manager/funnel.csv", guards=MANAGERS)
async def zone_funnel_csv(request: UserRequest, db_session: DbSession) -> Response[bytes]:
    report, _ = await _funnel(request, db_session, strict=True)
    return _csv(exports.funnel_cells(report))


@get("/manager/funnel/months.csv", guards=MANAGERS)
async def zone_funnel_months_csv(request: UserRequest, db_session: DbSession) -> Response[bytes]:
    report, _ = await _funnel(request, db_session, strict=True)
    return _csv(exports.funnel_months(report))


PAGE_ROUTES = [
    zone_funnel,
    zone_funnel_csv,
    zone_funnel_months_csv,
    vendor_reports,
    vendor_sales_by_day_csv,
    vendor_sales_by_product_csv,
    canteen_reports,
    canteen_spend_csv,
    canteen_orders_csv,
    vendor_orders_csv,
    zone_dashboard,
    zone_weeks_csv,
]
