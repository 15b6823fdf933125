"""The landing page and each role's home page."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts import service as accounts
from backend.accounts.auth import UserRequest, requires_role
from backend.accounts.models import Organisation, Role
from backend.accounts.schemas import CanteenSettingsInput, FactoryLocation
from backend.certification import service as certification
from backend.clock import utcnow, wib_today
from backend.db import DbSession, undone_if_refused
from backend.errors import ValidationFailed
from backend.moderation import service as moderation
from backend.phone import display_phone
from backend.requests import demand
from backend.security_headers import LOCATION
from backend.vendors import readiness
from backend.vendors.reach import vendor_with_reach
from web.forms import field_errors, form_values, read_form
from web.responses import page, see_other
from web.roles import ADMINS, CANTEEN_STAFF, VENDORS, home_path_for


@get("/", name="landing")
async def landing(request: Request[Any, Any, Any]) -> Template | Redirect:
    user = request.scope.get("user")
    if user is not None:
        return see_other(home_path_for(user))
    return page("home/landing.html")


@get("/vendor", guards=VENDORS)
async def vendor_home(request: UserRequest, db_session: DbSession) -> Template:
    """The shop at a glance, in a fixed number of queries: profile, zone with the new orders and the shop's
    readiness facts, listings per status, certificates, who the delivery radius reaches."""
    notice = request.query_params.get("notice")
    today = wib_today(utcnow())
    found = await vendor_with_reach(session=db_session, user=request.user)
    vendor, reach = found if found is not None else (None, None)
    zone, new_orders, shop = await readiness.zone_orders_and_facts(session=db_session, user=request.user, vendor=vendor)
    if vendor is None:
        checklist = readiness.assess(readiness.ReadinessFacts(None, None, [], shop), today=today)
        return page("home/vendor.html", zone=zone, vendor=None, notice=notice, readiness=checklist)
    # The listings by status and the top of the zone's "dicari" list in one query: the home keeps its five.
    demand_now = await demand.listings_and_wanted(session=db_session, vendor=vendor, today=today)
    certificates = await certification.list_certificates(session=db_session, vendor=vendor)
    attention = [(c, reason) for c in certificates if (reason := certification.needs_attention(c, today))]
    checklist = readiness.assess(readiness.ReadinessFacts(vendor, reach, certificates, shop), today=today)
    return page(
        "home/vendor.html",
        zone=zone,
        vendor=vendor,
        notice=notice,
        listings=demand_now.listings,
        wanted=demand_now,
        new_orders=new_orders,
        certificate_count=len(certificates),
        attention=attention,
        reach=reach,
        readiness=checklist,
    )


@get("/canteen", guards=CANTEEN_STAFF, opt=LOCATION)
async def canteen_home(request: UserRequest, db_session: DbSession) -> Template:
    return await _canteen_page(request, db_session, notice=request.query_params.get("notice"))


async def _canteen_page(
    request: UserRequest,
    db_session: AsyncSession,
    *,
    notice: str | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    """The canteen's home: the team and the factory location form (showing what was typed when it is refused)."""
    organisation, colleagues = await accounts.canteen_team(session=db_session, actor=request.user)
    if form is None:
        form = {
            name: value
            for name in ("latitude", "longitude")
            if (value := getattr(organisation, name, None)) is not None
        }
    return page(
        "home/canteen.html",
        status_code=status_code,
        organisation=organisation,
        colleagues=colleagues,
        form=form,
        errors=errors or {},
        notice=notice,
    )


@post("/canteen/location", guards=CANTEEN_STAFF, opt=LOCATION)
async def save_factory_location(request: UserRequest, db_session: DbSession) -> Template | Redirect:
    """Where the factory is: the catalogue measures distances from here for every staff member."""
    form = await form_values(request)
    try:
        location = read_form(FactoryLocation, form)
        async with undone_if_refused(db_session):
            await accounts.set_factory_location(
                session=db_session, actor=request.user, latitude=location.latitude, longitude=location.longitude
            )
    except ValidationFailed as refused:
        return await _canteen_page(request, db_session, form=form, errors=field_errors(refused), status_code=400)
    return see_other("/canteen", notice="location")


def _settings_form(organisation: Organisation) -> dict[str, str]:
    return {
        "delivery_address": organisation.address,
        "receiving_contact": organisation.receiving_contact,
        "receiving_phone": display_phone(organisation.receiving_phone) if organisation.receiving_phone else "",
        "delivery_notes": organisation.delivery_notes,
    }


@get("/canteen/settings", guards=CANTEEN_STAFF, name="canteen_settings")
async def canteen_settings_page(request: UserRequest, db_session: DbSession) -> Template:
    """Where the canteen's orders go, who receives them and the notes each checkout starts with."""
    organisation = await accounts.canteen_settings(session=db_session, actor=request.user)
    return page(
        "home/canteen_settings.html",
        form=_settings_form(organisation),
        errors={},
        notice=request.query_params.get("notice"),
    )


@post("/canteen/settings", guards=CANTEEN_STAFF)
async def save_canteen_settings(request: UserRequest, db_session: DbSession) -> Template | Redirect:
    form = await form_values(request)
    try:
        data = read_form(CanteenSettingsInput, form)
        async with undone_if_refused(db_session):
            await accounts.save_canteen_settings(session=db_session, actor=request.user, **data.model_dump())
    except ValidationFailed as refused:
        return page("home/canteen_settings.html", status_code=400, form=form, errors=field_errors(refused))
    return see_other("/canteen/settings", notice="saved")


@get("/worker", guards=[requires_role(Role.WORKER)])
async def worker_home(request: UserRequest, db_session: DbSession) -> Template:
    zone = await accounts.get_zone(session=db_session, zone_id=request.user.zone_id)
    return page("home/worker.html", zone=zone)


@get("/manager", guards=[requires_role(Role.MANAGER)])
async def manager_home(request: UserRequest, db_session: DbSession) -> Template:
    zone = await accounts.get_zone(session=db_session, zone_id=request.user.zone_id)
    counts = await accounts.people_by_role(session=db_session, zone_id=request.user.zone_id)
    waiting = await moderation.workload(session=db_session, actor=request.user)
    return page("home/manager.html", zone=zone, counts=counts, waiting=waiting)


@get("/admin", guards=ADMINS)
async def admin_home(db_session: DbSession) -> Template:
    return page("home/admin.html", zones=await accounts.zones_with_people(session=db_session))


PAGE_ROUTES = [
    landing,
    vendor_home,
    canteen_home,
    save_factory_location,
    canteen_settings_page,
    save_canteen_settings,
    worker_home,
    manager_home,
    admin_home,
]
