"""The landing page and each role's home page."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import requires_role
from backend.accounts.models import Organisation, Role, User, Zone
from backend.catalog import service as catalog
from backend.certification import service as certification
from backend.clock import wib_today
from backend.moderation import service as moderation
from backend.vendors import service as vendors
from web.forms import page, see_other
from web.vendors import certificate_kind_labels

HOME_PATHS = {
    Role.VENDOR: "/vendor",
    Role.CANTEEN_STAFF: "/canteen",
    Role.WORKER: "/worker",
    Role.MANAGER: "/manager",
    Role.ADMIN: "/admin",
}


def home_path_for(user: User) -> str:
    return HOME_PATHS[Role(user.role)]


@get("/", name="landing")
async def landing(request: Request[Any, Any, Any]) -> Template | Redirect:
    user = request.scope.get("user")
    if user is not None:
        return see_other(home_path_for(user))
    return page("home/landing.html")


@get("/vendor", guards=[requires_role(Role.VENDOR)])
async def vendor_home(request: Request[User, Any, Any], db_session: NamedDependency[AsyncSession]) -> Template:
    """The shop at a glance, in a fixed number of queries: profile, zone, listings per status, certificates."""
    zone = await db_session.get(Zone, request.user.zone_id) if request.user.zone_id else None
    notice = request.query_params.get("notice")
    vendor = await vendors.vendor_for_user(session=db_session, user=request.user)
    if vendor is None:
        return page("home/vendor.html", zone=zone, vendor=None, notice=notice)
    listings = await catalog.count_listings_by_status(session=db_session, vendor=vendor)
    today = wib_today()
    certificates = await certification.list_certificates(session=db_session, vendor=vendor)
    attention = [(c, reason) for c in certificates if (reason := certification.needs_attention(c, today))]
    return page("home/vendor.html", zone=zone, vendor=vendor, notice=notice, listings=listings,
                certificate_count=len(certificates), attention=attention, **certificate_kind_labels())


@get("/canteen", guards=[requires_role(Role.CANTEEN_STAFF)])
async def canteen_home(request: Request[User, Any, Any], db_session: NamedDependency[AsyncSession]) -> Template:
    rows = await db_session.execute(
        select(Organisation, User)
        .join(User, User.organisation_id == Organisation.id)
        .where(Organisation.id == request.user.organisation_id)
        .order_by(User.full_name)
    )
    members = rows.all()
    organisation = members[0][0] if members else None
    return page("home/canteen.html", organisation=organisation, colleagues=[user for _, user in members])


@get("/worker", guards=[requires_role(Role.WORKER)])
async def worker_home(request: Request[User, Any, Any], db_session: NamedDependency[AsyncSession]) -> Template:
    zone = await db_session.get(Zone, request.user.zone_id) if request.user.zone_id else None
    return page("home/worker.html", zone=zone)


@get("/manager", guards=[requires_role(Role.MANAGER)])
async def manager_home(request: Request[User, Any, Any], db_session: NamedDependency[AsyncSession]) -> Template:
    zone = await db_session.get(Zone, request.user.zone_id)
    counts = dict(
        (await db_session.execute(
            select(User.role, func.count(User.id)).where(User.zone_id == request.user.zone_id).group_by(User.role)
        )).all()
    )
    waiting = await moderation.workload(session=db_session, actor=request.user)
    return page("home/manager.html", zone=zone, counts=counts, waiting=waiting)


@get("/admin", guards=[requires_role(Role.ADMIN)])
async def admin_home(db_session: NamedDependency[AsyncSession]) -> Template:
    rows = await db_session.execute(
        select(Zone, func.count(User.id)).outerjoin(User, User.zone_id == Zone.id).group_by(Zone.id).order_by(Zone.name)
    )
    return page("home/admin.html", zones=rows.all())


PAGE_ROUTES = [landing, vendor_home, canteen_home, worker_home, manager_home, admin_home]
