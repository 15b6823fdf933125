"""Requests from buyers, as pages: a canteen posts what it needs and compares the offers; a vendor sees the
requests that fit it and offers; a manager hides an abusive request. The same services as the JSON API.

Every form is a plain POST answered by a 303; a refusal shows the page again with the message and a 4xx (the
change undone by `undone_if_refused`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from litestar import get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest
from backend.clock import utcnow, wib_today
from backend.db import DbSession, undone_if_refused
from backend.errors import Conflict, DomainError, ValidationFailed
from backend.orders.delivery import DELIVERY_SLOTS
from backend.requests import demand, service
from backend.requests.models import REQUIRABLE_CERTIFICATES, OfferStatus
from backend.requests.schemas import HideInput, OfferForm, RequestForm
from backend.vendors.dependencies import CURRENT_VENDOR, CurrentVendor
from backend.vendors.models import Vendor
from web.forms import field_errors, form_values, read_form
from web.responses import page, see_other
from web.roles import CANTEEN_STAFF, MANAGERS, PROFILE_FIRST, VENDORS


def _slots() -> list[tuple[str, str]]:
    return [(f"{slot:%H:%M}", f"{slot:%H.%M}") for slot in DELIVERY_SLOTS]


# --- canteens -----------------------------------------------------------------------------------------


async def _canteen_list(
    request: UserRequest,
    db_session: AsyncSession,
    today: date,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    """The canteen's requests and the form for a new one (one query with the login's)."""
    summaries = await service.list_canteen_requests(session=db_session, actor=request.user)
    form: dict[str, Any] = {
        "category": "catering",
        "unit": "box",
        "weekdays": ["1", "2", "3", "4", "5"],
        "slot": "",
        "required_certificates": [],
        "start_date": (today + timedelta(days=7)).isoformat(),
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
    )


@get("/canteen/requests", guards=CANTEEN_STAFF, name="canteen_requests")
async def canteen_requests_page(request: UserRequest, db_session: DbSession) -> Template:
    return await _canteen_list(request, db_session, wib_today(utcnow()))


@post("/canteen/requests", guards=CANTEEN_STAFF)
async def post_request(request: UserRequest, db_session: DbSession) -> Template | Redirect:
    """Post what the canteen needs: the caterers who fit are told."""
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
    return see_other(f"/canteen/requests/{posted.id}", notice="posted")


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
    )


@get("/canteen/requests/{request_id:int}", guards=CANTEEN_STAFF)
async def canteen_request_page(request: UserRequest, request_id: FromPath[int], db_session: DbSession) -> Template:
    """One request and its offers to compare (three queries with the login's)."""
    return await _canteen_detail(request, db_session, request_id, wib_today(utcnow()))


@post("/canteen/requests/{request_id:int}/offers/{offer_id:int}/accept", guards=CANTEEN_STAFF)
async def accept_offer(
    request: UserRequest, request_id: FromPath[int], offer_id: FromPath[int], db_session: DbSession
) -> Template | Redirect:
    """Accept one offer: it becomes a standing order (once only; a decided request answers 409)."""
    now = utcnow()
    today = wib_today(now)
    try:
        async with undone_if_refused(db_session):
            await service.accept_offer(
                session=db_session, actor=request.user, request_id=request_id, offer_id=offer_id, today=today, now=now
            )
    except (Conflict, ValidationFailed) as refused:
        status = 409 if isinstance(refused, Conflict) else 400
        return await _canteen_detail(
            request, db_session, request_id, today, errors={"_form": _message(refused)}, status_code=status
        )
    return see_other(f"/canteen/requests/{request_id}", notice="accepted")


@post("/canteen/requests/{request_id:int}/close", guards=CANTEEN_STAFF)
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
    return see_other(f"/canteen/requests/{request_id}", notice="closed")


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
    post_request,
    canteen_request_page,
    accept_offer,
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
