"""Requests from buyers, as pages: a canteen (or a worker, for a group of workers at a gate or dormitory) posts what
it needs and compares the offers; a vendor sees the
requests that fit it and offers; a manager hides an abusive request. The same services as the JSON API.

Every form is a plain POST answered by a 303; a refusal shows the page again with the message and a 4xx (the
change undone by `undone_if_refused`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest
from backend.accounts.models import Role
from backend.clock import utcnow, wib_today
from backend.config import Settings
from backend.db import DbSession, undone_if_refused
from backend.errors import Conflict, DomainError, ValidationFailed
from backend.orders.delivery import DELIVERY_SLOTS
from backend.requests import demand, service
from backend.requests.models import REQUIRABLE_CERTIFICATES, OfferStatus
from backend.requests.schemas import HideInput, OfferForm, RequestForm, SeenOfferInput
from backend.vendors.dependencies import CURRENT_VENDOR, CurrentVendor
from backend.vendors.models import Vendor
from web.forms import field_errors, form_values, read_form
from web.responses import page, see_other
from web.roles import BUYERS, CANTEEN_STAFF, MANAGERS, PROFILE_FIRST, VENDORS, WORKERS


def _slots() -> list[tuple[str, str]]:
    return [(f"{slot:%H:%M}", f"{slot:%H.%M}") for slot in DELIVERY_SLOTS]


# --- canteens, and workers for their group ------------------------------------------------------------


def _base(request: UserRequest) -> str:
    """Where the buyer's request pages live: a worker's at /worker/requests, a canteen's at /canteen/requests."""
    return "/worker/requests" if request.user.role == Role.WORKER else "/canteen/requests"


async def _canteen_list(
    request: UserRequest,
    db_session: AsyncSession,
    today: date,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    """The canteen's requests (a worker's own) and the form for a new one (one query with the login's; a worker's
    form reads the zone's gates and dormitories too). A group of workers asks for less: "20 porsi"."""
    summaries = await service.list_canteen_requests(session=db_session, actor=request.user)
    points = await service.delivery_points(session=db_session, actor=request.user)
    worker = request.user.role == Role.WORKER
    form: dict[str, Any] = {
        "category": "catering",
        "unit": "porsi" if worker else "box",
        "weekdays": ["1", "2", "3", "4", "5"],
        "slot": "",
        "required_certificates": [],
        "start_date": (today + timedelta(days=7)).isoformat(),
        "delivery_point_id": str(points[0].id) if len(points) == 1 else "",
    }
    form.update(values or {})
    return page(
        "requests/canteen_list.html",
        status_code=status_code,
        summaries=summaries,
        form=form,
        errors=errors or {},
        slots=_slots(),
        certificates=REQUIRABLE_CERTIFICATES,
        today=today,
        max_open_days=service.MAX_OPEN_DAYS,
        default_open_days=service.DEFAULT_OPEN_DAYS,
        base=_base(request),
        worker=worker,
        points=[(str(point.id), point.name) for point in points],
    )


@get("/canteen/requests", guards=CANTEEN_STAFF, name="canteen_requests")
async def canteen_requests_page(request: UserRequest, db_session: DbSession) -> Template:
    return await _canteen_list(request, db_session, wib_today(utcnow()))


@get("/worker/requests", guards=WORKERS, name="worker_requests")
async def worker_requests_page(request: UserRequest, db_session: DbSession) -> Template:
    """The worker's own requests for their group, and the form for a new one (three queries with the login's)."""
    return await _canteen_list(request, db_session, wib_today(utcnow()))


@post(["/canteen/requests", "/worker/requests"], guards=BUYERS)
async def post_request(request: UserRequest, db_session: DbSession) -> Template | Redirect:
    """Post what the canteen (the worker's group, at a gate or dormitory) needs: the caterers who fit are told."""
    values = await form_values(request, lists=("weekdays", "required_certificates"))
    now = utcnow()
    today = wib_today(now)
    try:
        data = read_form(RequestForm, values)
        async with undone_if_refused(db_session):
            posted = await service.post_request(
                session=db_session, actor=request.user, data=data.to_input(), today=today, now=now
            )
    except ValidationFailed as refused:
        return await _canteen_list(
            request, db_session, today, values=values, errors=field_errors(refused), status_code=400
        )
    return see_other(f"{_base(request)}/{posted.id}", notice="posted")


async def _canteen_detail(
    request: UserRequest,
    db_session: AsyncSession,
    request_id: int,
    today: date,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    view = await service.canteen_request(session=db_session, actor=request.user, request_id=request_id, today=today)
    return page(
        "requests/canteen_detail.html",
        status_code=status_code,
        view=view,
        errors=errors or {},
        notice=request.query_params.get("notice"),
        today=today,
        base=_base(request),
        worker=request.user.role == Role.WORKER,
    )


@get("/canteen/requests/{request_id:int}", guards=CANTEEN_STAFF)
async def canteen_request_page(request: UserRequest, request_id: FromPath[int], db_session: DbSession) -> Template:
    """One request and its offers to compare (three queries with the login's)."""
    return await _canteen_detail(request, db_session, request_id, wib_today(utcnow()))


@get("/worker/requests/{request_id:int}", guards=WORKERS)
async def worker_request_page(request: UserRequest, request_id: FromPath[int], db_session: DbSession) -> Template:
    """One of the worker's own requests and its offers to compare (another's is not found)."""
    return await _canteen_detail(request, db_session, request_id, wib_today(utcnow()))


@post("/worker/requests/{request_id:int}/offers/{offer_id:int}/accept", guards=WORKERS)
async def accept_worker_offer(
    request: UserRequest,
    request_id: FromPath[int],
    offer_id: FromPath[int],
    db_session: DbSession,
    settings: NamedDependency[Settings],
) -> Template | Redirect:
    """Accept one offer for the group: the product goes into the worker's cart at the request's quantity, and the
    worker is sent to the cart with the first delivery day, the time and the gate or dormitory chosen, to pay as
    usual. A cart rule that refuses it (the cash limit, the minimum order) says so here, and nothing changes."""
    now = utcnow()
    today = wib_today(now)
    try:
        seen = read_form(SeenOfferInput, await form_values(request)).seen()
        async with undone_if_refused(db_session):
            pick = await service.accept_worker_offer(
                session=db_session,
                actor=request.user,
                request_id=request_id,
                offer_id=offer_id,
                today=today,
                now=now,
                cash_limit=settings.cash_on_delivery_limit,
                seen=seen,
            )
    except (Conflict, ValidationFailed) as refused:
        status = 409 if isinstance(refused, Conflict) else 400
        return await _canteen_detail(
            request, db_session, request_id, today, errors={"_form": _message(refused)}, status_code=status
        )
    return see_other(
        "/cart",
        delivery_day=pick.delivery_day.isoformat(),
        delivery_slot=f"{pick.delivery_slot:%H:%M}",
        delivery_place=str(pick.delivery_point_id),
        added=str(pick.product_id),
    )


@post("/canteen/requests/{request_id:int}/offers/{offer_id:int}/accept", guards=CANTEEN_STAFF)
async def accept_offer(
    request: UserRequest, request_id: FromPath[int], offer_id: FromPath[int], db_session: DbSession
) -> Template | Redirect:
    """Accept one offer: it becomes a standing order (once only; a decided request answers 409)."""
    now = utcnow()
    today = wib_today(now)
    try:
        seen = read_form(SeenOfferInput, await form_values(request)).seen()
        async with undone_if_refused(db_session):
            await service.accept_offer(
                session=db_session,
                actor=request.user,
                request_id=request_id,
                offer_id=offer_id,
                today=today,
                now=now,
                seen=seen,
            )
    except (Conflict, ValidationFailed) as refused:
        status = 409 if isinstance(refused, Conflict) else 400
        return await _canteen_detail(
            request, db_session, request_id, today, errors={"_form": _message(refused)}, status_code=status
        )
    return see_other(f"/canteen/requests/{request_id}", notice="accepted")


@post(["/canteen/requests/{request_id:int}/close", "/worker/requests/{request_id:int}/close"], guards=BUYERS)
async def close_request(request: UserRequest, request_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    """Close the request without choosing an offer."""
    now = utcnow()
    try:
        async with undone_if_refused(db_session):
            await service.close_request(session=db_session, actor=request.user, request_id=request_id, now=now)
    except Conflict as refused:
        return await _canteen_detail(
            request, db_session, request_id, wib_today(now), errors={"_form": _message(refused)}, status_code=409
        )
    return see_other(f"{_base(request)}/{request_id}", notice="closed")


def _message(refused: DomainError) -> str:
    return " ".join(field_errors(refused).values())


# --- vendors ------------------------------------------------------------------------------------------


@get(
    "/vendor/requests",
    guards=VENDORS,
    dependencies=CURRENT_VENDOR,
    exception_handlers=PROFILE_FIRST,
    name="vendor_requests",
)
async def vendor_requests_page(vendor: CurrentVendor, db_session: DbSession) -> Template:
    """The open requests that fit the vendor (two queries with the login's)."""
    views = await service.fitting_requests(session=db_session, vendor=vendor, today=wib_today(utcnow()))
    return page("requests/vendor_list.html", views=views, vendor=vendor)


async def _vendor_detail(
    request: UserRequest,
    db_session: AsyncSession,
    vendor: Vendor,
    request_id: int,
    today: date,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    view = await service.vendor_request(session=db_session, vendor=vendor, request_id=request_id, today=today)
    products = await service.offerable_products(session=db_session, vendor=vendor, category=view.request.category)
    offer = view.own_offer
    form: dict[str, Any] = {
        "product": str(offer.product_id) if offer else (str(products[0].id) if products else "new"),
        "start_date": (offer.start_date if offer else view.request.start_date).isoformat(),
        "notes": offer.notes if offer else "",
        "new_product_name": view.request.title,
    }
    form.update(values or {})
    return page(
        "requests/vendor_detail.html",
        status_code=status_code,
        view=view,
        products=products,
        form=form,
        errors=errors or {},
        notice=request.query_params.get("notice"),
        can_offer=view.request.status == "open"
        and view.request.expires_on >= today
        and (offer is None or offer.status in (OfferStatus.OPEN, OfferStatus.WITHDRAWN)),
    )


@get(
    "/vendor/requests/{request_id:int}",
    guards=VENDORS,
    dependencies=CURRENT_VENDOR,
    exception_handlers=PROFILE_FIRST,
)
async def vendor_request_page(
    request: UserRequest, vendor: CurrentVendor, request_id: FromPath[int], db_session: DbSession
) -> Template:
    """A request that fits the vendor, with the offer form (404 for one that does not fit)."""
    return await _vendor_detail(request, db_session, vendor, request_id, wib_today(utcnow()))


@post(
    "/vendor/requests/{request_id:int}/offer",
    guards=VENDORS,
    dependencies=CURRENT_VENDOR,
    exception_handlers=PROFILE_FIRST,
)
async def make_offer(
    request: UserRequest, vendor: CurrentVendor, request_id: FromPath[int], db_session: DbSession
) -> Template | Redirect:
    values = await form_values(request)
    now = utcnow()
    today = wib_today(now)
    try:
        data = read_form(OfferForm, values)
        async with undone_if_refused(db_session):
            await service.make_offer(
                session=db_session, vendor=vendor, request_id=request_id, data=data.to_input(), today=today, now=now
            )
    except (ValidationFailed, Conflict) as refused:
        return await _vendor_detail(
            request,
            db_session,
            vendor,
            request_id,
            today,
            values=values,
            errors=_offer_errors(refused),
            status_code=409 if isinstance(refused, Conflict) else 400,
        )
    return see_other(f"/vendor/requests/{request_id}", notice="offered")


@post(
    "/vendor/requests/{request_id:int}/withdraw",
    guards=VENDORS,
    dependencies=CURRENT_VENDOR,
    exception_handlers=PROFILE_FIRST,
)
async def withdraw_offer(
    request: UserRequest, vendor: CurrentVendor, request_id: FromPath[int], db_session: DbSession
) -> Template | Redirect:
    now = utcnow()
    today = wib_today(now)
    try:
        async with undone_if_refused(db_session):
            await service.withdraw_offer(session=db_session, vendor=vendor, request_id=request_id, today=today, now=now)
    except Conflict as refused:
        return await _vendor_detail(
            request, db_session, vendor, request_id, today, errors={"_form": _message(refused)}, status_code=409
        )
    return see_other(f"/vendor/requests/{request_id}", notice="withdrawn")


OFFER_FORM_FIELDS = {"product", "new_product_name", "new_product_price", "start_date", "notes"}


def _offer_errors(refused: DomainError) -> dict[str, str]:
    """The offer form's messages by field; one about the new product's other fields (its unit, stock) on top."""
    errors = field_errors(refused, rename={"product_id": "product"})
    elsewhere = [message for name, message in errors.items() if name not in OFFER_FORM_FIELDS]
    shown = {name: message for name, message in errors.items() if name in OFFER_FORM_FIELDS}
    return {**shown, "_form": " ".join(elsewhere)} if elsewhere else shown


# --- managers -----------------------------------------------------------------------------------------


async def _manager_list(
    request: UserRequest,
    db_session: AsyncSession,
    *,
    refused_id: int | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    rows = await service.zone_requests(session=db_session, actor=request.user, today=wib_today(utcnow()))
    return page(
        "requests/manager_list.html",
        status_code=status_code,
        rows=rows,
        refused_id=refused_id,
        errors=errors or {},
        form=values or {},
        notice=request.query_params.get("notice"),
    )


@get("/manager/requests", guards=MANAGERS, name="manager_requests")
async def manager_requests_page(request: UserRequest, db_session: DbSession) -> Template:
    """The zone's open requests, each with a form to hide it (one query with the login's)."""
    return await _manager_list(request, db_session)


@post("/manager/requests/{request_id:int}/hide", guards=MANAGERS)
async def hide_request(request: UserRequest, request_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    values = await form_values(request)
    try:
        data = read_form(HideInput, values)
        async with undone_if_refused(db_session):
            await service.hide_request(
                session=db_session, actor=request.user, request_id=request_id, reason=data.reason, now=utcnow()
            )
    except (ValidationFailed, Conflict) as refused:
        return await _manager_list(
            request,
            db_session,
            refused_id=request_id,
            errors=field_errors(refused),
            values=values,
            status_code=409 if isinstance(refused, Conflict) else 400,
        )
    return see_other("/manager/requests", notice="hidden")


PAGE_ROUTES = [
    canteen_requests_page,
    worker_requests_page,
    post_request,
    canteen_request_page,
    worker_request_page,
    accept_offer,
    accept_worker_offer,
    close_request,
    vendor_requests_page,
    vendor_request_page,
    make_offer,
    withdraw_offer,
    manager_requests_page,
    hide_request,
]


# --- what the zone wants ("dicari") -------------------------------------------------------------------


@get("/vendor/wanted", guards=VENDORS, dependencies=CURRENT_VENDOR, exception_handlers=PROFILE_FIRST)
async def vendor_wanted_page(vendor: CurrentVendor, db_session: DbSession) -> Template:
    """The zone's "dicari" list, each entry a start for a new draft product (four queries with the login's)."""
    wanted = await demand.wanted_list(session=db_session, zone_id=vendor.zone_id, today=wib_today(utcnow()))
    return page("requests/wanted.html", wanted=wanted, for_vendor=True)


@get("/manager/wanted", guards=MANAGERS)
async def manager_wanted_page(request: UserRequest, db_session: DbSession) -> Template:
    """The zone's "dicari" list, for leading vendors to what sells (four queries with the login's)."""
    wanted = await demand.wanted_list(session=db_session, zone_id=request.user.zone_id, today=wib_today(utcnow()))
    return page("requests/wanted.html", wanted=wanted, for_vendor=False)


PAGE_ROUTES += [vendor_wanted_page, manager_wanted_page]
