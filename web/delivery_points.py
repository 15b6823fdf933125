"""The market manager's delivery points: the zone's gates and dormitories where workers' orders are handed over.

A manager adds one (typed or from the phone's location, standing at the gate), closes it to new orders and opens
it again; orders already placed keep theirs. The rules are in orders.delivery.
"""

from __future__ import annotations

from litestar import get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest, requires_role
from backend.accounts.models import Role
from backend.db import DbSession, undone_if_refused
from backend.errors import ValidationFailed
from backend.orders import delivery
from backend.orders.models import PointKind
from backend.orders.schemas import DeliveryPointInput
from backend.security_headers import LOCATION
from web.forms import FIRST_OPENED, FormState, form_values, read_form
from web.responses import page, see_other

MANAGER_ONLY = [requires_role(Role.MANAGER)]


async def _points_page(request: UserRequest, db_session: AsyncSession, state: FormState = FIRST_OPENED) -> Template:
    """The zone's points, open ones first, and the form to add one."""
    points = await delivery.managed_delivery_points(session=db_session, actor=request.user)
    return page(
        "delivery_points/index.html",
        points=points,
        notice=request.query_params.get("notice"),
        **state.context(blank={"kind": PointKind.GATE.value}),
    )


@get("/manager/delivery-points", guards=MANAGER_ONLY, opt=LOCATION)
async def delivery_points_page(request: UserRequest, db_session: DbSession) -> Template:
    return await _points_page(request, db_session)


@post("/manager/delivery-points", guards=MANAGER_ONLY, opt=LOCATION)
async def add_delivery_point(request: UserRequest, db_session: DbSession) -> Template | Redirect:
    form = await form_values(request)
    try:
        point = read_form(DeliveryPointInput, form)
        async with undone_if_refused(db_session):
            await delivery.add_delivery_point(session=db_session, actor=request.user, **point.model_dump())
    except ValidationFailed as refused:
        return await _points_page(request, db_session, FormState.refused(form, refused))
    return see_other("/manager/delivery-points", notice="added")


@post("/manager/delivery-points/{point_id:int}/{action:str}", guards=MANAGER_ONLY, opt=LOCATION)
async def open_or_close_delivery_point(
    request: UserRequest, point_id: FromPath[int], action: FromPath[str], db_session: DbSession
) -> Template | Redirect:
    """Close a point to new orders, or open it again; another zone's point is not found."""
    if action not in ("open", "close"):
        return await _points_page(request, db_session, FormState(status_code=404))
    await delivery.set_delivery_point_active(
        session=db_session, actor=request.user, point_id=point_id, active=action == "open"
    )
    return see_other("/manager/delivery-points", notice="opened" if action == "open" else "closed")


PAGE_ROUTES = [delivery_points_page, add_delivery_point, open_or_close_delivery_point]
