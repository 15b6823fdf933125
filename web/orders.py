"""The buyer's ordering pages: add to cart, the cart and its checkout, the orders list and one order, and the
canteen's standing weekly orders.

Every form works as a plain POST answered by a 303; with htmx the same handlers answer with the fragment to
swap (the cart, the order, the product page's add-to-cart form). htmx swaps only 2xx answers, so a refusal
comes back to htmx as a 200 fragment carrying the message, and to a plain form as the whole page with 4xx.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest
from backend.accounts.models import Organisation, Role, User
from backend.administration import service as administration
from backend.catalog.storefront import product_for_buyer
from backend.clock import utcnow, wib_today
from backend.config import Settings
from backend.db import DbSession, undone_if_refused
from backend.errors import Conflict, DomainError, Forbidden, InsufficientCapacity, NotFound, ValidationFailed
from backend.i18n import gettext
from backend.orders import cart as carts
from backend.orders import service as orders
from backend.orders import standing
from backend.orders.cart import CheckoutChoices, checkout_choices
from backend.orders.delivery import DELIVERY_SLOTS, MAX_DAYS_AHEAD, canteen_address, default_delivery_day
from backend.orders.models import (
    DELIVERY_LABELS,
    PAID_BEFORE_PLACING,
    PAYMENT_LABELS,
    DeliveryKind,
    OrderStatus,
    PaymentMethod,
    PointKind,
)
from backend.orders.placement import place_checkout
from backend.orders.reviews import review_order
from backend.orders.schemas import (
    CartLineChangeInput,
    CartQuantityInput,
    CheckoutInput,
    ProductChoiceInput,
    ReviewInput,
    StandingOrderForm,
    TransitionInput,
)
from backend.orders.states import Side, change_status
from backend.payments.methods import amount_problem
from web.forms import field_errors, form_values, page_number, read_form, whole_number
from web.labels import POINT_KIND_LABELS
from web.responses import page, page_or_fragment, see_other, varies_with_htmx, wants_fragment
from web.roles import BUYERS, CANTEEN_STAFF
from web.signing import signature, signed

CHECKOUT_FIELDS = (
    "delivery_day",
    "delivery_slot",
    "delivery_place",
    "payment_method",
    "notes",
    "po_number",
    "idempotency_key",
)
# Fields of the checkout form a link to the cart may fill in beforehand.
PROPOSED_FIELDS = ("delivery_day", "delivery_slot", "delivery_place")
# Fields the buyer may empty on purpose (the canteen's usual notes taken out): what was sent stays, even empty.
FREE_TEXT_FIELDS = {"notes", "po_number"}
# Errors the checkout form shows next to a field; any other comes at the top of the form.
CHECKOUT_FIELD_ERRORS = {"delivery_day", "delivery_slot", "delivery_place", "payment_method", "notes", "po_number"}
# The input's and the placement's names for what the form asks as one choice, the delivery place.
PLACE_FIELDS = {
    "delivery_kind": "delivery_place",
    "delivery_point_id": "delivery_place",
    "delivery_point": "delivery_place",
}

FLASH_COOKIE = "pk_flash"
FLASH_PURPOSE = "order-again notice"
MAX_FLASH = 10


def _slot_options(slots: Iterable[time] = DELIVERY_SLOTS) -> list[tuple[str, str]]:
    return [(f"{slot:%H:%M}", f"{slot:%H.%M} WIB") for slot in slots]


def _chosen_day(form: Mapping[str, str], now: datetime) -> date:
    """The delivery day the checkout form asks for; tomorrow while what was typed is not a date."""
    try:
        return date.fromisoformat(form.get("delivery_day", ""))
    except ValueError:
        return default_delivery_day(now)


def _offered_slot_options(cart: carts.Cart, form: Mapping[str, str], now: datetime) -> list[tuple[str, str]]:
    """The slots of the chosen day the cart's vendors and products allow (the rules placement checks)."""
    return _slot_options(cart.offered_slots(day=_chosen_day(form, now), now=now))


async def _warnings(session: AsyncSession, user: User, form: Mapping[str, str], now: datetime) -> list[str]:
    """What the buyer should know before placing for the chosen day and slot (nothing until a slot is chosen)."""
    try:
        slot = time.fromisoformat(form.get("delivery_slot", ""))
    except ValueError:
        return []
    found = await carts.colleague_order_warnings(session=session, buyer=user, day=_chosen_day(form, now), slot=slot)
    return [gettext(warning.message, **warning.params) for warning in found]


def _warned_for(form: Mapping[str, str]) -> str:
    """The delivery a form's warnings were shown for (the form carries it back as `warned_for`)."""
    return f"{form.get('delivery_day', '')} {form.get('delivery_slot', '')}"


# --- add to cart (the product page) ---------------------------------------------------------------------


@post("/cart/lines", guards=BUYERS)
async def add_to_cart(request: HTMXRequest, db_session: DbSession) -> Template | Redirect:
    """Add a quantity of a product to what is in the cart; with htmx the form becomes "Added: 200 box"."""
    values = await form_values(request)
    try:
        product_id = read_form(ProductChoiceInput, values).product_id
    except ValidationFailed:
        raise NotFound(carts.MSG_NO_PRODUCT) from None
    now = utcnow()
    try:
        quantity = read_form(CartQuantityInput, values).quantity
        async with undone_if_refused(db_session):
            line = await carts.set_quantity(
                session=db_session,
                buyer=request.user,
                product_id=product_id,
                quantity=quantity,
                add=True,
                today=wib_today(now),
            )
    except (ValidationFailed, NotFound) as refused:
        return await _product_with_errors(request, db_session, product_id, values, field_errors(refused), now)
    return page_or_fragment(
        request,
        see_other("/cart", added=str(product_id)),
        "orders/_added.html",
        quantity=quantity,
        in_cart=line.quantity,
        unit=line.product.unit,
    )


async def _product_with_errors(
    request: HTMXRequest,
    db_session: AsyncSession,
    product_id: int,
    values: dict[str, str],
    errors: dict[str, str],
    now: datetime,
) -> Template:
    """The product page again with the add-to-cart form's error (htmx: the form alone)."""
    errors = {"quantity": errors.get("quantity") or next(iter(errors.values()), "")}
    day = default_delivery_day(now)
    try:
        item = await product_for_buyer(session=db_session, product_id=product_id, available_on=day, now=now)
    except NotFound as gone:
        if not wants_fragment(request):
            raise
        # htmx swaps only 2xx answers: the form is replaced by the reason, not left silently as it was.
        return varies_with_htmx(page("orders/_not_on_sale.html", message=gettext(gone.message, **gone.params)))
    return page_or_fragment(
        request,
        "catalogue/product.html",
        "orders/_add_form.html",
        status_code=400,
        item=item,
        product=item.product,
        day=day,
        errors={},
        cart_form=values,
        cart_errors=errors,
    )


# --- the cart and its checkout --------------------------------------------------------------------------


def _checkout_form(
    user: User,
    now: datetime,
    values: dict[str, str] | None = None,
    canteen: Organisation | None = None,
    cart: carts.Cart | None = None,
) -> dict[str, str]:
    """What the checkout form shows: what was typed, else the first day the cart can be delivered (from tomorrow
    on), the buyer's usual place and payment, the canteen's usual notes, and a fresh idempotency key (one per
    rendering of the form: a double tap or a resent form makes one order)."""
    day = cart.first_delivery_day(now=now) if cart is not None and not cart.is_empty else default_delivery_day(now)
    form = {
        "delivery_day": day.isoformat(),
        "delivery_slot": "",
        "delivery_place": DeliveryKind.CANTEEN.value if user.role == Role.CANTEEN_STAFF else "",
        "payment_method": (PaymentMethod.INVOICE if user.role == Role.CANTEEN_STAFF else PaymentMethod.CASH).value,
        "notes": canteen.delivery_notes if canteen is not None else "",
        "po_number": "",
        "idempotency_key": uuid.uuid4().hex,
    }
    for name in CHECKOUT_FIELDS:
        if values and (values.get(name) or (name in FREE_TEXT_FIELDS and name in values)):
            form[name] = values[name]
    return form


def _with_kind_and_point(values: dict[str, Any]) -> dict[str, Any]:
    """The form's one choice of place (a gate's or dormitory's id, "canteen" or "pickup") as the checkout input's
    kind and point; their problems come back under the form's field (PLACE_FIELDS)."""
    place = values.get("delivery_place", "")
    if place.isdigit():
        return {**values, "delivery_kind": DeliveryKind.ZONE_POINT.value, "delivery_point_id": place}
    return {**values, "delivery_kind": place}


def _place_options(choices: CheckoutChoices) -> list[tuple[str, str]]:
    """The canteen's own address or pickup; for a worker, the zone's gates and dormitories or pickup."""
    pickup = (DeliveryKind.PICKUP.value, gettext(DELIVERY_LABELS[DeliveryKind.PICKUP]))
    if choices.canteen is not None:
        address = canteen_address(choices.canteen)
        return [(DeliveryKind.CANTEEN.value, gettext("To our canteen: %(address)s", address=address)), pickup]
    return [
        (str(point.id), f"{point.name} ({gettext(POINT_KIND_LABELS[PointKind(point.kind)])})")
        for point in choices.points
    ] + [pickup]


async def _cart_response(
    request: HTMXRequest,
    db_session: AsyncSession,
    settings: Settings,
    now: datetime,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    notices: list[str] | None = None,
) -> Template:
    """The cart grouped by vendor with the checkout form under it (four queries with the login's)."""
    user = request.user
    today = wib_today(now)
    cart = await carts.view_cart(session=db_session, buyer=user, today=today)
    # An empty cart says so itself; its placement error would only repeat it.
    errors = {field: message for field, message in (errors or {}).items() if not (cart.is_empty and field == "cart")}
    added = request.query_params.get("added", "")
    added_item = next((item for group in cart.vendors for item in group.items if str(item.product_id) == added), None)
    choices = (
        await checkout_choices(
            session=db_session,
            buyer=user,
            card_payments=bool(settings.stripe_secret_key),
            bank_transfers=await administration.bank_transfers_offered(
                session=db_session, configured=settings.platform_bank
            ),
            gateway_payments=settings.gateway_enabled,
        )
        if not cart.is_empty
        else CheckoutChoices(canteen=None, points=[], payment_methods=[])
    )
    form = _checkout_form(user, now, values, choices.canteen, cart)
    charges = cart.charges(choices.place)
    to_pay = cart.total + sum(charge.fee or 0 for charge in charges.values())
    return page_or_fragment(
        request,
        "orders/cart.html",
        "orders/_cart.html",
        status_code=status_code,
        cart=cart,
        cart_count=cart.line_count,
        errors=errors,
        form=form,
        canteen=choices.canteen,
        general_errors=[
            message
            for field, message in errors.items()
            if field not in CHECKOUT_FIELD_ERRORS and not field.startswith(("line-", "vendor-"))
        ],
        places=_place_options(choices) if not cart.is_empty else [],
        slots=_offered_slot_options(cart, form, now),
        warnings=await _warnings(db_session, user, form, now),
        charges=charges,
        to_pay=to_pay,
        cash_limit=settings.cash_on_delivery_limit,
        today=today,
        # The ways the amount allows (QRIS carries at most so much, a virtual account at least so much).
        payments=[
            (method.value, gettext(PAYMENT_LABELS[method]))
            for method in choices.payment_methods
            if amount_problem(method, to_pay) is None
        ],
        last_day=today + timedelta(days=MAX_DAYS_AHEAD),
        added_item=added_item,
        reordered=request.query_params.get("notice") == "reordered",
        notices=notices or [],
    )


@get("/cart", guards=BUYERS, name="cart")
async def cart_page(request: HTMXRequest, db_session: DbSession, settings: NamedDependency[Settings]) -> Template:
    notices = _read_flash(request, settings)
    # A link may propose the delivery (an accepted request of a workers' group: its first day, time and gate).
    proposed = {name: request.query_params[name] for name in PROPOSED_FIELDS if request.query_params.get(name)}
    response = await _cart_response(request, db_session, settings, utcnow(), values=proposed, notices=notices)
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/cart")
    return response


@get("/cart/slots", guards=BUYERS)
async def cart_slots(request: HTMXRequest, db_session: DbSession) -> Template:
    """The checkout form's delivery times for the day it now asks for, and the warnings for the slot chosen (the
    date or the time was changed): three queries with the login's."""
    now = utcnow()
    cart = await carts.view_cart(session=db_session, buyer=request.user, today=wib_today(now))
    form = {name: request.query_params.get(name, "") for name in ("delivery_day", "delivery_slot")}
    return varies_with_htmx(
        page(
            "orders/_slots.html",
            slots=_offered_slot_options(cart, form, now),
            warnings=await _warnings(db_session, request.user, form, now),
            form=form,
            errors={},
        )
    )


async def _cart_changed(
    request: HTMXRequest,
    db_session: AsyncSession,
    settings: Settings,
    now: datetime,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> Template | Redirect:
    """After a change in the cart: htmx gets the cart again (the checkout form keeps what was typed, sent along
    with hx-include); a plain form goes back to the cart, or sees the refusal."""
    if not errors and not wants_fragment(request):
        return varies_with_htmx(see_other("/cart"))
    return await _cart_response(
        request, db_session, settings, now, values=values, errors=errors, status_code=400 if errors else 200
    )


@post("/cart/lines/{product_id:int}", guards=BUYERS)
async def change_quantity(
    request: HTMXRequest, product_id: FromPath[int], db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    """A new quantity for a line (0 takes it out). htmx gets only the line back, with its vendor's subtotal, the
    totals and the header's count out of band; a refusal or a line taken out changes more than the line, so
    htmx gets the whole cart instead, swapped in place of the cart (HX-Retarget)."""
    values = await form_values(request)
    now = utcnow()
    try:
        data = read_form(CartLineChangeInput, values)
        async with undone_if_refused(db_session):
            change = await carts.change_quantity(
                session=db_session,
                buyer=request.user,
                product_id=product_id,
                quantity=data.quantity,
                today=wib_today(now),
            )
    except (ValidationFailed, NotFound) as refused:
        return _whole_cart(
            await _cart_changed(
                request,
                db_session,
                settings,
                now,
                values,
                errors={f"line-{product_id}": " ".join(field_errors(refused).values())},
            )
        )
    # A vendor's delivery fee or minimum order makes the totals more than the lines: htmx gets the whole cart.
    if change.item is None or change.charges or not wants_fragment(request):
        return _whole_cart(await _cart_changed(request, db_session, settings, now, values))
    return varies_with_htmx(page("orders/_cart_line_changed.html", change=change, item=change.item, errors={}))


def _whole_cart(answer: Template | Redirect) -> Template | Redirect:
    """Have htmx swap the answer (the whole cart) in place of the cart, whatever the form's own target."""
    if isinstance(answer, Template):
        answer.headers.update({"HX-Retarget": "#cart", "HX-Reswap": "outerHTML"})
    return answer


@post("/cart/lines/{product_id:int}/remove", guards=BUYERS)
async def remove_line(
    request: HTMXRequest, product_id: FromPath[int], db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    now = utcnow()
    await carts.remove_line(session=db_session, buyer=request.user, product_id=product_id, today=wib_today(now))
    return await _cart_changed(request, db_session, settings, now, await form_values(request))


@post("/checkout", guards=BUYERS)
async def checkout(
    request: HTMXRequest, db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect | Response[Any]:
    """Place the cart: one order per vendor, then the orders list with the orders named. A refusal comes back
    on the cart, each message next to its line, vendor or field, with what was typed."""
    values = await form_values(request)
    now = utcnow()
    if values.get("warned_for") != _warned_for(values) and await _warnings(db_session, request.user, values, now):
        # A form that has not shown the warnings for this delivery (no JavaScript, or another slot since) shows them
        # first; sent again as it is, it places the order.
        return await _cart_response(request, db_session, settings, now, values=values)
    try:
        data = read_form(CheckoutInput, _with_kind_and_point(values))
        async with undone_if_refused(db_session):
            placement = await place_checkout(
                session=db_session,
                buyer=request.user,
                delivery=data.delivery(),
                payment_method=data.payment_method,
                idempotency_key=values.get("idempotency_key", ""),
                payment_window=timedelta(minutes=settings.payment_window_minutes),
                cash_limit=settings.cash_on_delivery_limit,
                card_payments=bool(settings.stripe_secret_key),
                bank_transfers=await administration.bank_transfers_offered(
                    session=db_session, configured=settings.platform_bank
                ),
                gateway_payments=settings.gateway_enabled,
                now=now,
            )
    except InsufficientCapacity as short:
        errors = {
            f"line-{shortage.product_id}": gettext(shortage.message, **shortage.params) for shortage in short.shortages
        }
        errors["_form"] = gettext(short.message, **short.params)
        status_code = 409
    except ValidationFailed as refused:
        errors, status_code = field_errors(refused, rename=PLACE_FIELDS), 400
    except Conflict as conflict:
        # The key was used for another order: the next try must be a new request.
        errors, status_code = field_errors(conflict), 409
        values = {**values, "idempotency_key": ""}
    else:
        if placement.checkout.payment_method in PAID_BEFORE_PLACING:  # the orders wait for their payment
            target = f"/checkouts/{placement.checkout.id}/pay"
            return ClientRedirect(target) if request.htmx else see_other(target)
        target = f"/orders?placed={placement.checkout.id}"
        if request.htmx:
            return ClientRedirect(target)  # a full page load, so the address bar shows the orders list
        return see_other("/orders", placed=str(placement.checkout.id))
    return await _cart_response(
        request, db_session, settings, now, values=values, errors=errors, status_code=status_code
    )


# --- "Order again" and its notice of what was left out ------------------------------------------------


def _flash(response: Redirect, settings: Settings, messages: list[str]) -> None:
    """Messages for the next page (the cart after "Order again"), in a short-lived signed cookie: they are
    shown once, and nobody can put words there with a crafted link."""
    payload = base64.urlsafe_b64encode(json.dumps([m[:200] for m in messages[:MAX_FLASH]]).encode()).decode()
    response.set_cookie(
        FLASH_COOKIE,
        f"{payload}.{signature(settings.secret_key, FLASH_PURPOSE, payload)}",
        path="/cart",
        max_age=300,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def _read_flash(request: Request[Any, Any, Any], settings: Settings) -> list[str]:
    payload, _, claimed = request.cookies.get(FLASH_COOKIE, "").rpartition(".")
    if not payload or not signed(settings.secret_key, FLASH_PURPOSE, payload, claimed):
        return []
    try:
        messages = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError:
        return []
    return [str(message) for message in messages][:MAX_FLASH] if isinstance(messages, list) else []


@post("/orders/{order_id:int}/reorder", guards=BUYERS)
async def order_again(
    request: UserRequest, order_id: FromPath[int], db_session: DbSession, settings: NamedDependency[Settings]
) -> Redirect:
    """The order's lines back in the cart at today's prices; what could not be added is said on the cart."""
    result = await orders.reorder(session=db_session, actor=request.user, order_id=order_id, today=wib_today(utcnow()))
    response = see_other("/cart", notice="reordered")
    if result.left_out:
        _flash(response, settings, [gettext(problem.message, **problem.params) for problem in result.left_out])
    return response


# --- orders ----------------------------------------------------------------------------------------------


@get("/orders", guards=BUYERS, name="buyer_orders")
async def orders_page(request: HTMXRequest, db_session: DbSession) -> Template:
    """The buyer's orders, or all of the canteen's for its staff, newest first (three queries)."""
    raw_status = request.query_params.get("status", "")
    status = OrderStatus(raw_status) if raw_status in OrderStatus.__members__.values() else None
    listing = await orders.list_orders(
        session=db_session, actor=request.user, status=status, page=page_number(request.query_params.get("page"))
    )
    placed = request.query_params.get("placed", "")
    placed_orders = [summary for summary in listing.orders if str(summary.order.checkout_id) == placed]
    return page(
        "orders/list.html",
        listing=listing,
        status=status,
        placed=placed.isdigit(),
        placed_orders=placed_orders,
        canteen=request.user.role == Role.CANTEEN_STAFF,
    )


def _timeline(detail: orders.OrderDetail) -> list[tuple[orders.TimelineEntry, str]]:
    """Each step with its reason as the reader reads it (the system's reasons are message ids)."""
    return [(entry, entry.reason_text) for entry in detail.timeline]


async def _order_response(
    request: HTMXRequest,
    db_session: AsyncSession,
    order_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
    notice: str | None = None,
) -> Template:
    """One order for its buyer (or a colleague of the same canteen): four queries with the login's."""
    detail = await orders.order_detail(
        session=db_session, actor=request.user, order_id=order_id, today=wib_today(utcnow()), as_side=Side.BUYER
    )
    return page_or_fragment(
        request,
        "orders/detail.html",
        "orders/_order.html",
        status_code=status_code,
        detail=detail,
        order=detail.order,
        summary=detail.summary,
        timeline=_timeline(detail),
        errors=errors or {},
        form=values or {},
        notice=notice,
        can_review=detail.can_review,
    )


@get("/orders/{order_id:int}", guards=BUYERS, name="buyer_order")
async def order_page(request: HTMXRequest, order_id: FromPath[int], db_session: DbSession) -> Template:
    return await _order_response(request, db_session, order_id, notice=request.query_params.get("notice"))


async def _order_changed(
    request: HTMXRequest,
    db_session: AsyncSession,
    order_id: int,
    notice: str,
    refused: DomainError | None,
    values: dict[str, str],
) -> Template | Redirect:
    if refused is None and not wants_fragment(request):
        return varies_with_htmx(see_other(f"/orders/{order_id}", notice=notice))
    if refused is None:
        return await _order_response(request, db_session, order_id, notice=notice)
    return await _order_response(
        request,
        db_session,
        order_id,
        errors=field_errors(refused),
        values=values,
        status_code=400 if isinstance(refused, ValidationFailed) else refused.status_code,
    )


async def change_status_as_asked(
    *, session: AsyncSession, actor: User, order_id: int, values: Mapping[str, Any], now: datetime, today: date
) -> None:
    """Move the order to the status its button asked for (the form's `target`, with a typed reason where one is
    needed), as the buyer's and the vendor's pages both ask it; a refusal is raised."""
    transition = read_form(TransitionInput, values, names={"target": "status"})
    async with undone_if_refused(session):
        await change_status(
            session=session,
            order_id=order_id,
            target=transition.status,
            actor=actor,
            reason=transition.reason,
            now=now,
            today=today,
        )


@post("/orders/{order_id:int}/status", guards=BUYERS)
async def change_order_status(
    request: HTMXRequest, order_id: FromPath[int], db_session: DbSession
) -> Template | Redirect:
    """Cancel (with a reason) or confirm receipt; the state machine decides what is allowed."""
    values = await form_values(request)
    refused: DomainError | None = None
    now = utcnow()
    try:
        await change_status_as_asked(
            session=db_session, actor=request.user, order_id=order_id, values=values, now=now, today=wib_today(now)
        )
    except (ValidationFailed, Conflict, Forbidden) as problem:
        refused = problem
    return await _order_changed(request, db_session, order_id, values.get("target", ""), refused, values)


@post("/orders/{order_id:int}/review", guards=BUYERS)
async def review(request: HTMXRequest, order_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    """1 to 5 stars and a comment, once the order is completed."""
    values = await form_values(request)
    refused: DomainError | None = None
    try:
        data = read_form(ReviewInput, values)
        async with undone_if_refused(db_session):
            await review_order(
                session=db_session,
                actor=request.user,
                order_id=order_id,
                rating=data.rating,
                comment=data.comment,
                now=utcnow(),
            )
    except (ValidationFailed, Conflict, Forbidden) as problem:
        refused = problem
    return await _order_changed(request, db_session, order_id, "reviewed", refused, values)


# --- standing orders (canteens) ------------------------------------------------------------------------


async def _standing_page(
    request: UserRequest,
    db_session: AsyncSession,
    today: date,
    *,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    """The canteen's standing orders and the form for a new one (at most five queries with the login's)."""
    views = await standing.list_standing_orders(session=db_session, actor=request.user, today=today)
    product_id = _chosen_product(values) if values else whole_number(request.query_params.get("product"))
    chosen = (
        await standing.product_to_repeat(session=db_session, product_id=product_id, today=today)
        if product_id is not None
        else None
    )
    form: dict[str, Any] = {
        "quantity": str(chosen[0].min_order_qty) if chosen else "",
        "weekdays": ["1", "2", "3", "4", "5"],
        "slot": "",
        "delivery_kind": "canteen",
        "days_ahead": "7",
        "notes": "",
    }
    form.update(values or {})
    return page(
        "orders/standing.html",
        status_code=status_code,
        views=[
            (view, [(run, gettext(run.message, **run.params) if run.message else "") for run in view.recent_runs])
            for view in views
        ],
        chosen=chosen,
        form=form,
        errors=errors or {},
        slots=_slot_options(),
        kinds=[(kind.value, gettext(DELIVERY_LABELS[kind])) for kind in (DeliveryKind.CANTEEN, DeliveryKind.PICKUP)],
        notice=request.query_params.get("notice"),
    )


@get("/canteen/standing-orders", guards=CANTEEN_STAFF, name="standing_orders")
async def standing_orders_page(request: UserRequest, db_session: DbSession) -> Template:
    return await _standing_page(request, db_session, wib_today(utcnow()))


def _chosen_product(values: dict[str, Any]) -> int | None:
    try:
        return read_form(ProductChoiceInput, values).product_id
    except ValidationFailed:
        return None


@post("/canteen/standing-orders", guards=CANTEEN_STAFF)
async def create_standing_order(request: UserRequest, db_session: DbSession) -> Template | Redirect:
    """Every chosen weekday, this quantity for this slot, placed `days ahead` days in advance."""
    values = await form_values(request, lists=("weekdays",))
    today = wib_today(utcnow())
    try:
        data = read_form(StandingOrderForm, values)
        async with undone_if_refused(db_session):
            await standing.create_standing_order(
                session=db_session, actor=request.user, data=data.to_input(), today=today
            )
    except (ValidationFailed, NotFound) as refused:
        return await _standing_page(
            request, db_session, today, status_code=400, values=values, errors=field_errors(refused)
        )
    return see_other("/canteen/standing-orders", notice="created")


async def _set_standing_active(
    request: UserRequest, db_session: AsyncSession, standing_id: int, active: bool
) -> Redirect:
    await standing.set_active(
        session=db_session, actor=request.user, standing_order_id=standing_id, active=active, now=utcnow()
    )
    return see_other("/canteen/standing-orders", notice="resumed" if active else "paused")


@post("/canteen/standing-orders/{standing_id:int}/pause", guards=CANTEEN_STAFF)
async def pause_standing_order(request: UserRequest, standing_id: FromPath[int], db_session: DbSession) -> Redirect:
    return await _set_standing_active(request, db_session, standing_id, active=False)


@post("/canteen/standing-orders/{standing_id:int}/resume", guards=CANTEEN_STAFF)
async def resume_standing_order(request: UserRequest, standing_id: FromPath[int], db_session: DbSession) -> Redirect:
    return await _set_standing_active(request, db_session, standing_id, active=True)


PAGE_ROUTES = [
    add_to_cart,
    cart_page,
    cart_slots,
    change_quantity,
    remove_line,
    checkout,
    order_again,
    orders_page,
    order_page,
    change_order_status,
    review,
    standing_orders_page,
    create_standing_order,
    pause_standing_order,
    resume_standing_order,
]
