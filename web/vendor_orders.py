"""The vendor's order pages, made for a phone in a busy kitchen: the day's board by delivery slot with what to
prepare, one-tap status buttons, every order in a list, one order with its history and review, the packing list.

The rules (who may move an order where, what a decline gives back) live in orders.states; a handler parses the
form, calls the service and picks a response. Buttons work as plain forms (303 back to the board); with htmx the
tapped order's card is replaced in place, and the slot's totals with it. "Cash received" records the cash of a
delivered order (the rule is backend.payments.cash).
"""

from __future__ import annotations

from datetime import date, timedelta

from litestar import get, post
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest
from backend.clock import utcnow, wib_today
from backend.db import DbSession, undone_if_refused
from backend.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from backend.orders import reviews, service
from backend.orders.models import OrderStatus
from backend.orders.schemas import ReplyInput
from backend.orders.service import BoardSlot, OrderDetail
from backend.orders.states import Side, allowed_targets
from backend.payments.cash import mark_cash_received
from backend.vendors import service as vendors
from backend.vendors.models import Vendor
from web.forms import field_errors, form_values, page_number, query_date, read_form
from web.orders import change_status_as_asked
from web.responses import page, page_or_fragment, see_other, varies_with_htmx, wants_fragment
from web.roles import PROFILE_FIRST, VENDORS

# A refused plain form comes back with the status that says why; htmx gets 200 (it swaps only 2xx answers).
REFUSAL_STATUS = {ValidationFailed: 400, Forbidden: 403, Conflict: 409}

# The list's status filters, in the order a vendor works through them.
LIST_FILTERS = [
    OrderStatus.PLACED,
    OrderStatus.ACCEPTED,
    OrderStatus.READY,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
    OrderStatus.DECLINED,
    OrderStatus.CANCELLED,
    OrderStatus.PENDING_PAYMENT,
]


def _refusal_status(exc: DomainError) -> int:
    return next((code for kind, code in REFUSAL_STATUS.items() if isinstance(exc, kind)), 409)


def _vendor_actions(targets: list[OrderStatus]) -> list[OrderStatus]:
    """The vendor's buttons of the steps open to them; a new order is declined rather than cancelled, so it shows
    one red button, not two."""
    if OrderStatus.DECLINED in targets:
        return [target for target in targets if target != OrderStatus.CANCELLED]
    return targets


# --- the board -------------------------------------------------------------------------------------------


async def _board_page(
    request: UserRequest,
    db_session: AsyncSession,
    *,
    vendor: Vendor,
    day: date | None,
    today: date,
    status_code: int = 200,
    errors: dict[int, dict[str, str]] | None = None,
    failed: dict[int, str] | None = None,
) -> Template:
    """The day's orders by slot (two queries), and in one query the count of new orders on any day, the day to
    show (`day`, else the next day with orders) and the capacity left that day."""
    facts = await service.board_facts(session=db_session, vendor=vendor, today=today, day=day)
    board = await service.vendor_board(session=db_session, vendor=vendor, day=facts.day)
    actions = {
        summary.order.id: _vendor_actions(allowed_targets(summary.order, Side.VENDOR, today=today))
        for slot in board.slots
        for summary in slot.orders
    }
    return page(
        "vendor_orders/board.html",
        status_code=status_code,
        board=board,
        day=facts.day,
        today=today,
        tomorrow=today + timedelta(days=1),
        waiting=facts.waiting,
        capacity_left=facts.capacity_left,
        daily_capacity=vendor.daily_capacity,
        actions=actions,
        errors=errors or {},
        failed=failed or {},
    )


@get("/vendor/orders", guards=VENDORS, exception_handlers=PROFILE_FIRST, name="vendor_order_board")
async def order_board(request: UserRequest, db_session: DbSession) -> Template:
    """A day's orders, grouped by delivery slot: the chosen day, else the next day that has orders."""
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    today = wib_today(utcnow())
    return await _board_page(
        request, db_session, vendor=vendor, today=today, day=query_date(request.query_params.get("day"))
    )


@post("/vendor/orders/{order_id:int}/status", guards=VENDORS, exception_handlers=PROFILE_FIRST)
async def change_order_status(
    request: HTMXRequest, order_id: FromPath[int], db_session: DbSession
) -> Template | Redirect:
    """Accept, decline (with a reason), mark ready or delivered, cancel (with a reason).

    `back` says where the button was: the board (default) or the order's own page."""
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    values = await form_values(request)
    back = "detail" if values.get("back") == "detail" else "board"
    now = utcnow()
    errors: dict[str, str] = {}
    status_code = 200
    try:
        await change_status_as_asked(
            session=db_session, actor=request.user, order_id=order_id, values=values, now=now, today=wib_today(now)
        )
    except NotFound:
        raise
    except DomainError as refused:
        errors, status_code = field_errors(refused), _refusal_status(refused)
    detail = await service.order_detail(
        session=db_session, actor=request.user, order_id=order_id, today=wib_today(utcnow()), as_side=Side.VENDOR
    )
    order = detail.order
    failed = values.get("target", "") if errors else ""
    if wants_fragment(request) and back == "board":  # the board's cards are swapped; the order's page reloads
        slot = next(
            (
                slot
                for slot in (
                    await service.vendor_board(session=db_session, vendor=vendor, day=order.delivery_day)
                ).slots
                if slot.slot == order.delivery_slot
            ),
            BoardSlot(delivery_day=order.delivery_day, slot=order.delivery_slot, orders=[], totals=[]),
        )
        return varies_with_htmx(
            page(
                "vendor_orders/_status_answer.html",
                summary=detail.summary,
                slot=slot,
                actions={order.id: _vendor_actions(detail.actions)},
                errors={order.id: errors},
                failed={order.id: failed},
            )
        )
    if back == "detail":
        if errors:
            return _detail_page(detail, status_code=status_code, errors=errors, failed=failed)
        return see_other(f"/vendor/orders/{order.id}")
    if errors:
        return await _board_page(
            request,
            db_session,
            vendor=vendor,
            day=order.delivery_day,
            today=wib_today(now),
            status_code=status_code,
            errors={order_id: errors},
            failed={order_id: failed},
        )
    return see_other(f"/vendor/orders?day={order.delivery_day.isoformat()}#order-{order.id}")


# --- all orders, one order, the review's answer -----------------------------------------------------------


@get("/vendor/orders/list", guards=VENDORS, exception_handlers=PROFILE_FIRST)
async def order_list(request: UserRequest, db_session: DbSession) -> Template:
    """Every order of the shop, newest first, by status, twenty a page."""
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    params = {name: request.query_params.get(name, "") for name in ("status", "page")}
    status = params["status"] if params["status"] in set(OrderStatus) else ""
    number = page_number(params["page"])
    orders = await service.list_orders(
        session=db_session,
        actor=request.user,
        vendor=vendor,
        status=OrderStatus(status) if status else None,
        page=number,
    )
    return page(
        "vendor_orders/list.html", orders=orders, status=status, params={"status": status}, statuses=LIST_FILTERS
    )


def _detail_page(
    detail: OrderDetail,
    *,
    status_code: int = 200,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    failed: str = "",
    review_errors: dict[str, str] | None = None,
) -> Template:
    return page(
        "vendor_orders/detail.html",
        status_code=status_code,
        detail=detail,
        summary=detail.summary,
        notice=notice,
        actions={detail.order.id: _vendor_actions(detail.actions)},
        errors={detail.order.id: errors or {}},
        failed={detail.order.id: failed},
        review_errors=review_errors or {},
    )


@get("/vendor/orders/{order_id:int}", guards=VENDORS, exception_handlers=PROFILE_FIRST)
async def order_page(request: UserRequest, order_id: FromPath[int], db_session: DbSession) -> Template:
    """One order: lines, delivery, the buyer's contact, its history, the buttons and the review."""
    await vendors.require_vendor(session=db_session, user=request.user)
    detail = await service.order_detail(
        session=db_session, actor=request.user, order_id=order_id, today=wib_today(utcnow()), as_side=Side.VENDOR
    )
    return _detail_page(detail, notice=request.query_params.get("notice"))


@post("/vendor/orders/{order_id:int}/reply", guards=VENDORS, exception_handlers=PROFILE_FIRST)
async def reply_to_review(request: UserRequest, order_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    """The vendor's one public answer to the buyer's review."""
    await vendors.require_vendor(session=db_session, user=request.user)
    try:
        data = read_form(ReplyInput, await form_values(request))
        async with undone_if_refused(db_session):
            await reviews.reply_to_review(
                session=db_session, actor=request.user, order_id=order_id, reply=data.reply, now=utcnow()
            )
    except NotFound:
        raise
    except DomainError as refused:
        detail = await service.order_detail(
            session=db_session, actor=request.user, order_id=order_id, today=wib_today(utcnow()), as_side=Side.VENDOR
        )
        return _detail_page(detail, status_code=_refusal_status(refused), review_errors=field_errors(refused))
    return see_other(f"/vendor/orders/{order_id}", notice="replied")


@post("/vendor/orders/{order_id:int}/cash-received", guards=VENDORS, exception_handlers=PROFILE_FIRST)
async def cash_received(request: HTMXRequest, order_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    """The buyer paid the cash of a delivered order: recorded once. With htmx the cash line of the card is
    replaced; a plain form goes back to the order (or the board) and a refusal shows on the order's page."""
    await vendors.require_vendor(session=db_session, user=request.user)
    values = await form_values(request)
    back = "board" if values.get("back") == "board" else "detail"
    error = ""
    try:
        async with undone_if_refused(db_session):
            order = await mark_cash_received(session=db_session, actor=request.user, order_id=order_id, now=utcnow())
    except Conflict as refused:
        error = field_errors(refused)["_form"]
    else:
        if not wants_fragment(request):
            return varies_with_htmx(
                see_other(f"/vendor/orders?day={order.delivery_day.isoformat()}#order-{order_id}")
                if back == "board"
                else see_other(f"/vendor/orders/{order_id}", notice="cash_received")
            )
    detail = await service.order_detail(
        session=db_session, actor=request.user, order_id=order_id, today=wib_today(utcnow()), as_side=Side.VENDOR
    )
    return page_or_fragment(
        request,
        _detail_page(detail, status_code=409, errors={"_form": error}),
        "vendor_orders/_cash.html",
        o=detail.order,
        back=back,
        use_htmx=True,
        cash_error=error,
    )


# --- the packing list ---------------------------------------------------------------------------------------


@get("/vendor/orders/packing", guards=VENDORS, exception_handlers=PROFILE_FIRST)
async def packing_list(request: UserRequest, db_session: DbSession) -> Template:
    """The day's orders to print and tick off: per slot, what to prepare, then each order and where it goes."""
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    day = query_date(request.query_params.get("day")) or wib_today(utcnow())
    board = await service.vendor_board(session=db_session, vendor=vendor, day=day)
    return page("vendor_orders/packing.html", board=board, day=day, vendor=vendor)


PAGE_ROUTES = [order_board, change_order_status, order_list, order_page, reply_to_review, cash_received, packing_list]
