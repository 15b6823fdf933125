"""JSON API for the whole ordering flow: the buyer's cart and checkout, orders and their status changes, reviews,
the vendor's board for a day, a canteen's standing orders.

The same services as the pages, so the same rules: every price is the server's, capacity and stock are held
atomically, a checkout is idempotent by its `Idempotency-Key`, and an order that is not the caller's answers 404.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from litestar import Controller, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import BEARER, UserRequest, requires_login, requires_role
from backend.accounts.models import Role, User
from backend.administration import service as administration
from backend.clock import utcnow, wib_today
from backend.config import Settings
from backend.db import DbSession
from backend.errors import NotFound
from backend.orders import cart as carts
from backend.orders import reviews, service, standing
from backend.orders.delivery import DELIVERY_SLOTS, buyer_place, zone_delivery_points
from backend.orders.models import THROUGH_GATEWAY, OrderStatus, PaymentMethod
from backend.orders.placement import MAX_KEY_LENGTH, place_checkout
from backend.orders.schemas import (
    HH_MM,
    SLOT_DESCRIPTION,
    BoardPublic,
    CartChangePublic,
    CartPublic,
    CartQuantityInput,
    CheckoutInput,
    CheckoutPublic,
    DeliveryPointPublic,
    DeliverySlotsPublic,
    OrderDetailPublic,
    OrderPagePublic,
    OrderSummaryPublic,
    ReorderPublic,
    ReplyInput,
    ReviewInput,
    ReviewPublic,
    StandingOrderCreate,
    StandingOrderPublic,
    TransitionInput,
    hh_mm,
    slot_time,
)
from backend.orders.states import change_status
from backend.vendors import service as vendors

BUYERS = requires_role(*carts.BUYER_ROLES)
VENDORS = requires_role(Role.VENDOR)

# Optional to the framework so that a missing key is refused like an empty one, as a problem naming the field
# (422 idempotency_key); the document still says it is required.
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=True,
        max_length=MAX_KEY_LENGTH,
        description="Any unique string per checkout (a UUID): sending the same request again with it answers with "
        "the checkout already placed instead of placing a second one",
    ),
]
Page = Annotated[int, QueryParameter(ge=1, le=10_000)]


async def _cart(session: AsyncSession, buyer: User, today: date) -> CartPublic:
    return CartPublic.of(await carts.view_cart(session=session, buyer=buyer, today=today))


class CartApi(Controller):
    """The buyer's cart and its checkout, with the places and times one can choose."""

    path = "/api/v1"
    guards = [BUYERS]
    security = BEARER

    @get(
        "/cart",
        tags=["cart"],
        summary="My cart, by vendor, with today's prices after bulk tiers; with a delivery, the warnings for it",
        description="Give `delivery_day` and `delivery_slot` to preview a checkout for that delivery: `warnings` then "
        "says, for canteen staff, when a colleague already has an open order with one of the cart's vendors for "
        "the same day and slot. Warnings do not stop the checkout.",
    )
    async def get_cart(
        self,
        request: UserRequest,
        db_session: DbSession,
        delivery_day: FromQuery[date | None] = None,
        delivery_slot: Annotated[str | None, QueryParameter(pattern=HH_MM, description=SLOT_DESCRIPTION)] = None,
    ) -> CartPublic:
        cart = await carts.view_cart(session=db_session, buyer=request.user, today=wib_today(utcnow()))
        warnings = []
        if delivery_day is not None and delivery_slot is not None:
            warnings = await carts.colleague_order_warnings(
                session=db_session, buyer=request.user, day=delivery_day, slot=slot_time(delivery_slot)
            )
        place = await buyer_place(session=db_session, buyer=request.user) if not cart.is_empty else None
        return CartPublic.of(cart, warnings, cart.charges(place))

    @put(
        "/cart/lines/{product_id:int}",
        tags=["cart"],
        summary="Set the quantity of a product in my cart (adds the product): answers the line and the new totals",
    )
    async def set_line(
        self, request: UserRequest, product_id: FromPath[int], data: JSONBody[CartQuantityInput], db_session: DbSession
    ) -> CartChangePublic:
        change = await carts.set_line(
            session=db_session,
            buyer=request.user,
            product_id=product_id,
            quantity=data.quantity,
            today=wib_today(utcnow()),
        )
        return CartChangePublic.of(change)

    @delete(
        "/cart/lines/{product_id:int}",
        tags=["cart"],
        summary="Take a product out of my cart: answers the new totals",
        status_code=200,
    )
    async def remove_line(
        self, request: UserRequest, product_id: FromPath[int], db_session: DbSession
    ) -> CartChangePublic:
        change = await carts.remove_line(
            session=db_session, buyer=request.user, product_id=product_id, today=wib_today(utcnow())
        )
        return CartChangePublic.of(change)

    @get(
        "/delivery-points",
        tags=["checkout"],
        summary="The gates and dormitories of my zone where orders can be handed over",
    )
    async def delivery_points(self, request: UserRequest, db_session: DbSession) -> list[DeliveryPointPublic]:
        points = await zone_delivery_points(session=db_session, zone_id=request.user.zone_id)
        return [DeliveryPointPublic.of(point) for point in points]

    @get(
        "/delivery-slots",
        tags=["checkout"],
        summary="The delivery times one can choose (local time, WIB); with `day`, those my cart allows that day",
        description="Without `day`, every slot of the marketplace. With `day`, only the slots the vendors and products "
        "in my cart allow on that day (their working days and hours, lead times, at least an hour from now): the "
        "rules a checkout is checked by.",
    )
    async def delivery_slots(
        self, request: UserRequest, db_session: DbSession, day: FromQuery[date | None] = None
    ) -> DeliverySlotsPublic:
        if day is None:
            return DeliverySlotsPublic(slots=[hh_mm(slot) for slot in DELIVERY_SLOTS])
        now = utcnow()
        cart = await carts.view_cart(session=db_session, buyer=request.user, today=wib_today(now))
        return DeliverySlotsPublic(day=day, slots=[hh_mm(slot) for slot in cart.offered_slots(day=day, now=now)])

    @post(
        "/checkouts",
        tags=["checkout"],
        status_code=201,
        summary="Check out my cart: one order per vendor, capacity and stock held at once, the cart emptied",
        description="Requires an `Idempotency-Key` header. The same key with the same body answers 200 with the "
        "checkout already placed (`replayed`: true), even while that one is still being placed; with "
        "another body, 409. The cart is checked out once: another key finding it just taken answers "
        "409 `cart_checked_out` with the `checkout_id` that took it and where the `orders` are. When "
        "something cannot be held, 409 with `shortages` naming each product, what was asked and what "
        'is left. A card or bank-transfer checkout\'s orders wait for payment: its `Link` header (rel="payment") '
        "is where to pay it (POST /api/v1/checkouts/{checkout_id}/payment for a card, GET "
        "/api/v1/checkouts/{checkout_id}/transfer for the bank account, amount and payment reference).",
        responses={
            200: ResponseSpec(
                data_container=CheckoutPublic, description="The checkout this Idempotency-Key already placed"
            )
        },
    )
    async def checkout(
        self,
        request: UserRequest,
        data: JSONBody[CheckoutInput],
        db_session: DbSession,
        settings: NamedDependency[Settings],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CheckoutPublic]:
        placement = await place_checkout(
            session=db_session,
            buyer=request.user,
            delivery=data.delivery(),
            payment_method=data.payment_method,
            idempotency_key=idempotency_key or "",
            payment_window=timedelta(minutes=settings.payment_window_minutes),
            cash_limit=settings.cash_on_delivery_limit,
            card_payments=bool(settings.stripe_secret_key),
            bank_transfers=await administration.bank_transfers_offered(
                session=db_session, configured=settings.platform_bank
            ),
            gateway_payments=settings.gateway_enabled,
            now=utcnow(),
        )
        headers = {}
        if placement.checkout.payment_method == PaymentMethod.CARD:  # the orders wait for the card payment
            headers["Link"] = f'</api/v1/checkouts/{placement.checkout.id}/payment>; rel="payment"'
        elif placement.checkout.payment_method == PaymentMethod.BANK_TRANSFER:  # where to transfer, and the reference
            headers["Link"] = f'</api/v1/checkouts/{placement.checkout.id}/transfer>; rel="payment"'
        elif placement.checkout.payment_method in THROUGH_GATEWAY:  # the QRIS code or the virtual account
            headers["Link"] = f'</api/v1/checkouts/{placement.checkout.id}/gateway-payment>; rel="payment"'
        return Response(CheckoutPublic.of(placement), status_code=200 if placement.replayed else 201, headers=headers)


class OrderApi(Controller):
    path = "/api/v1/orders"
    tags = ["orders"]
    security = BEARER

    @get(
        "",
        guards=[requires_role(*carts.BUYER_ROLES, Role.VENDOR)],
        summary="My orders, newest first (20 a page): a canteen's staff see the canteen's, a vendor their shop's",
    )
    async def list_orders(
        self, request: UserRequest, db_session: DbSession, status: FromQuery[OrderStatus | None] = None, page: Page = 1
    ) -> OrderPagePublic:
        vendor = (
            await vendors.require_vendor(session=db_session, user=request.user)
            if request.user.role == Role.VENDOR
            else None
        )
        found = await service.list_orders(
            session=db_session, actor=request.user, vendor=vendor, status=status, page=page
        )
        return OrderPagePublic(
            orders=[OrderSummaryPublic.of_summary(s) for s in found.orders], page=found.page, has_more=found.has_more
        )

    @get(
        "/{order_id:int}",
        guards=[requires_login],
        summary="One order: lines, delivery, status, its history, what I may do next, the review",
    )
    async def get_order(
        self, request: UserRequest, order_id: FromPath[int], db_session: DbSession
    ) -> OrderDetailPublic:
        return await _detail(db_session, request.user, order_id)

    @post(
        "/{order_id:int}/transitions",
        guards=[requires_login],
        status_code=200,
        summary="Move an order on: accept, decline (with a reason), ready, delivered, completed, cancel "
        "(with a reason)",
        description="409 when the order cannot go to that status (or changed meanwhile, or is marked delivered "
        "before its delivery day), with its `current_status`; 403 when it is the other side's move, 422 when a decline or cancellation "
        "has no reason.",
    )
    async def transition(
        self, request: UserRequest, order_id: FromPath[int], data: JSONBody[TransitionInput], db_session: DbSession
    ) -> OrderDetailPublic:
        now = utcnow()
        await change_status(
            session=db_session,
            order_id=order_id,
            target=data.status,
            actor=request.user,
            reason=data.reason,
            now=now,
            today=wib_today(now),
        )
        return await _detail(db_session, request.user, order_id)

    @post("/{order_id:int}/review", guards=[BUYERS], summary="Rate a completed order, 1 to 5, once")
    async def review(
        self, request: UserRequest, order_id: FromPath[int], data: JSONBody[ReviewInput], db_session: DbSession
    ) -> ReviewPublic:
        return ReviewPublic.of(
            await reviews.review_order(
                session=db_session,
                actor=request.user,
                order_id=order_id,
                rating=data.rating,
                comment=data.comment,
                now=utcnow(),
            )
        )

    @post(
        "/{order_id:int}/review/reply",
        guards=[VENDORS],
        status_code=200,
        summary="Answer the review of one of my shop's orders, once",
    )
    async def reply(
        self, request: UserRequest, order_id: FromPath[int], data: JSONBody[ReplyInput], db_session: DbSession
    ) -> ReviewPublic:
        return ReviewPublic.of(
            await reviews.reply_to_review(
                session=db_session, actor=request.user, order_id=order_id, reply=data.reply, now=utcnow()
            )
        )

    @post(
        "/{order_id:int}/reorder",
        guards=[BUYERS],
        status_code=200,
        summary="Put a past order's lines back in my cart; what is no longer on sale is left out and said so",
    )
    async def reorder(self, request: UserRequest, order_id: FromPath[int], db_session: DbSession) -> ReorderPublic:
        today = wib_today(utcnow())
        result = await service.reorder(session=db_session, actor=request.user, order_id=order_id, today=today)
        return ReorderPublic.of(result, await carts.view_cart(session=db_session, buyer=request.user, today=today))


async def _detail(session: AsyncSession, actor: User, order_id: int) -> OrderDetailPublic:
    return OrderDetailPublic.of_detail(
        await service.order_detail(session=session, actor=actor, order_id=order_id, today=wib_today(utcnow()))
    )


@get(
    "/api/v1/vendor/board",
    tags=["orders"],
    guards=[VENDORS],
    security=BEARER,
    summary="My shop's orders for a delivery day, by slot, with what to prepare per product",
)
async def vendor_board(
    request: UserRequest,
    db_session: DbSession,
    day: Annotated[
        date | None, QueryParameter(description="Local delivery day (WIB), YYYY-MM-DD; today when left out")
    ] = None,
) -> BoardPublic:
    vendor = await vendors.require_vendor(session=db_session, user=request.user)
    return BoardPublic.of(await service.vendor_board(session=db_session, vendor=vendor, day=day or wib_today(utcnow())))


class StandingOrderApi(Controller):
    path = "/api/v1/standing-orders"
    tags = ["standing orders"]
    guards = [requires_role(Role.CANTEEN_STAFF)]
    security = BEARER

    @get("", summary="My canteen's standing weekly orders, with the latest days placed or refused")
    async def list_standing(self, request: UserRequest, db_session: DbSession) -> list[StandingOrderPublic]:
        views = await standing.list_standing_orders(session=db_session, actor=request.user, today=wib_today(utcnow()))
        return [StandingOrderPublic.of(view) for view in views]

    @post("", summary="Set up a weekly order for my canteen, placed `days_ahead` days before each delivery")
    async def create_standing(
        self, request: UserRequest, data: JSONBody[StandingOrderCreate], db_session: DbSession
    ) -> StandingOrderPublic:
        today = wib_today(utcnow())
        created = await standing.create_standing_order(
            session=db_session, actor=request.user, data=data.to_input(), today=today
        )
        return await _standing(db_session, request.user, created.id, today)

    @post("/{standing_order_id:int}/pause", status_code=200, summary="Pause a standing order (placed orders stay)")
    async def pause(
        self, request: UserRequest, standing_order_id: FromPath[int], db_session: DbSession
    ) -> StandingOrderPublic:
        return await _set_active(db_session, request.user, standing_order_id, active=False)

    @post("/{standing_order_id:int}/resume", status_code=200, summary="Resume a paused standing order")
    async def resume(
        self, request: UserRequest, standing_order_id: FromPath[int], db_session: DbSession
    ) -> StandingOrderPublic:
        return await _set_active(db_session, request.user, standing_order_id, active=True)


async def _set_active(
    session: AsyncSession, actor: User, standing_order_id: int, *, active: bool
) -> StandingOrderPublic:
    """Pause or resume the standing order, answered with its new state."""
    now = utcnow()
    await standing.set_active(session=session, actor=actor, standing_order_id=standing_order_id, active=active, now=now)
    return await _standing(session, actor, standing_order_id, wib_today(now))


async def _standing(
    session: AsyncSession, actor: User, standing_order_id: int | None, today: date
) -> StandingOrderPublic:
    views = await standing.list_standing_orders(session=session, actor=actor, today=today)
    view = next((view for view in views if view.standing.id == standing_order_id), None)
    if view is None:
        raise NotFound(standing.MSG_NOT_FOUND)
    return StandingOrderPublic.of(view)


API_ROUTES: list[ControllerRouterHandler] = [CartApi, OrderApi, vendor_board, StandingOrderApi]
