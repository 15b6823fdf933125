"""JSON API for requests from buyers: a canteen (or a worker, for a group of workers at a gate or dormitory) posts
what it needs and accepts one offer; vendors who fit see the request and offer; the zone's managers hide abusive requests. The same services as the pages, so the same rules:
a request outside a vendor's reach or category, or another canteen's, answers 404; an accept answers 409 when the
request was decided already or the offer withdrawn."""

from __future__ import annotations

from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.types import ControllerRouterHandler

from backend.accounts.auth import BEARER, UserRequest, requires_role
from backend.accounts.models import Role
from backend.clock import utcnow, wib_today
from backend.config import Settings
from backend.db import DbSession
from backend.problems import problem_response
from backend.requests import demand, service
from backend.requests.schemas import (
    AcceptedPublic,
    CanteenRequestPublic,
    CanteenRequestSummaryPublic,
    CartPickPublic,
    HideInput,
    OfferCreate,
    OfferPublic,
    RequestCreate,
    RequestPublic,
    SeenOfferInput,
    VendorRequestPublic,
    WantedPublic,
)
from backend.validation import validate_input
from backend.vendors.dependencies import CURRENT_VENDOR, CurrentVendor

# A vendor without a business profile yet is asked to fill it in first (409 profile_incomplete).
PROFILE_FIRST = {409: problem_response(409, "The business profile is not filled in yet")}


class CanteenRequestApi(Controller):
    """What my canteen needs (or, for a worker, what my group of workers needs), and the offers vendors made."""

    path = "/api/v1/requests"
    tags = ["requests"]
    guards = [requires_role(Role.CANTEEN_STAFF, Role.WORKER)]
    security = BEARER

    @get("", summary="My canteen's requests (a worker's own), newest first, with how many open offers each has")
    async def list_requests(self, request: UserRequest, db_session: DbSession) -> list[CanteenRequestSummaryPublic]:
        summaries = await service.list_canteen_requests(session=db_session, actor=request.user)
        return [CanteenRequestSummaryPublic.of_summary(summary) for summary in summaries]

    @post(
        "",
        status_code=201,
        summary="Post what my canteen needs: vendors whose category and delivery radius fit are told",
        description="A worker posts for a group of workers and names the gate or dormitory of the zone where the "
        "group receives (`delivery_point_id`): the vendors whose radius reaches that point are told.",
    )
    async def create_request(
        self, request: UserRequest, data: JSONBody[RequestCreate], db_session: DbSession
    ) -> RequestPublic:
        now = utcnow()
        created = await service.post_request(
            session=db_session, actor=request.user, data=data.to_input(), today=wib_today(now), now=now
        )
        return RequestPublic.of(created)

    @get("/{request_id:int}", summary="One of my canteen's requests with its offers to compare, cheapest first")
    async def get_request(
        self, request: UserRequest, request_id: FromPath[int], db_session: DbSession
    ) -> CanteenRequestPublic:
        view = await service.canteen_request(
            session=db_session, actor=request.user, request_id=request_id, today=wib_today(utcnow())
        )
        return CanteenRequestPublic.of_view(view)

    @post(
        "/{request_id:int}/offers/{offer_id:int}/accept",
        status_code=200,
        summary="Accept an offer: it becomes a standing order; the other offers are told they were not chosen",
        description="Once only: 409 when the request was decided already, expired, or the offer was withdrawn, or "
        "when the offered product is not on sale yet or its price went up since the offer. A worker's request "
        "puts the offered product in the worker's cart at the request's quantity instead (`cart`: check out as "
        "usual with its day, slot and point); a cart rule that refuses it (minimum order, the cash-on-delivery "
        "limit) answers 422 and changes nothing. With `unit_price` and `product_id` (the offer as the buyer saw "
        "it), 409 when the vendor has changed the offer since, so a change made just before the tap is not "
        "agreed to unseen.",
    )
    async def accept(
        self,
        request: UserRequest,
        request_id: FromPath[int],
        offer_id: FromPath[int],
        db_session: DbSession,
        settings: NamedDependency[Settings],
        unit_price: FromQuery[int | None] = None,
        product_id: FromQuery[int | None] = None,
    ) -> AcceptedPublic:
        seen = validate_input(SeenOfferInput, {"unit_price": unit_price, "product_id": product_id}).seen()
        now = utcnow()
        if request.user.role == Role.WORKER:
            pick = await service.accept_worker_offer(
                session=db_session,
                actor=request.user,
                request_id=request_id,
                offer_id=offer_id,
                today=wib_today(now),
                now=now,
                cash_limit=settings.cash_on_delivery_limit,
                seen=seen,
            )
            return AcceptedPublic(request_id=request_id, offer_id=offer_id, cart=CartPickPublic.of(pick))
        standing = await service.accept_offer(
            session=db_session,
            actor=request.user,
            request_id=request_id,
            offer_id=offer_id,
            today=wib_today(now),
            now=now,
            seen=seen,
        )
        return AcceptedPublic(request_id=request_id, offer_id=offer_id, standing_order_id=standing.id)

    @post(
        "/{request_id:int}/close",
        status_code=200,
        summary="Close my open request without choosing an offer (vendors with an offer are told)",
    )
    async def close(self, request: UserRequest, request_id: FromPath[int], db_session: DbSession) -> RequestPublic:
        closed = await service.close_request(
            session=db_session, actor=request.user, request_id=request_id, now=utcnow()
        )
        return RequestPublic.of(closed)


class VendorRequestApi(Controller):
    """Requests my products' categories and delivery radius fit, and my offers on them."""

    path = "/api/v1/vendor/requests"
    tags = ["requests"]
    guards = [requires_role(Role.VENDOR)]
    security = BEARER
    dependencies = CURRENT_VENDOR

    @get(
        "",
        summary="Open requests that fit me (category and delivery radius), soonest start first",
        responses=PROFILE_FIRST,
    )
    async def list_fitting(self, vendor: CurrentVendor, db_session: DbSession) -> list[VendorRequestPublic]:
        views = await service.fitting_requests(session=db_session, vendor=vendor, today=wib_today(utcnow()))
        return [VendorRequestPublic.of_view(view) for view in views]

    @get("/{request_id:int}", summary="A request that fits me, with my offer", responses=PROFILE_FIRST)
    async def get_fitting(
        self, vendor: CurrentVendor, request_id: FromPath[int], db_session: DbSession
    ) -> VendorRequestPublic:
        view = await service.vendor_request(
            session=db_session, vendor=vendor, request_id=request_id, today=wib_today(utcnow())
        )
        return VendorRequestPublic.of_view(view)

    @put(
        "/{request_id:int}/offer",
        summary="Make or change my offer: one of my products, or a new draft product made from the request",
        description="The price is the product's for the quantity asked, its bulk tiers applied. A new product is a "
        "draft: add a photo and submit it for review; the canteen can accept once it is approved.",
    )
    async def put_offer(
        self, vendor: CurrentVendor, request_id: FromPath[int], data: JSONBody[OfferCreate], db_session: DbSession
    ) -> OfferPublic:
        now = utcnow()
        offer = await service.make_offer(
            session=db_session,
            vendor=vendor,
            request_id=request_id,
            data=data.to_input(),
            today=wib_today(now),
            now=now,
        )
        return OfferPublic.of(offer)

    @delete("/{request_id:int}/offer", status_code=200, summary="Withdraw my offer (until the canteen accepts it)")
    async def withdraw(self, vendor: CurrentVendor, request_id: FromPath[int], db_session: DbSession) -> OfferPublic:
        now = utcnow()
        offer = await service.withdraw_offer(
            session=db_session, vendor=vendor, request_id=request_id, today=wib_today(now), now=now
        )
        return OfferPublic.of(offer)


class ManagerRequestApi(Controller):
    """The open requests of my zone, and hiding an abusive one."""

    path = "/api/v1/manager/requests"
    tags = ["requests"]
    guards = [requires_role(Role.MANAGER, Role.ADMIN)]
    security = BEARER

    @get("", summary="Open requests of my zone (every zone for an admin), newest first")
    async def list_zone(self, request: UserRequest, db_session: DbSession) -> list[RequestPublic]:
        rows = await service.zone_requests(session=db_session, actor=request.user, today=wib_today(utcnow()))
        return [RequestPublic.of(buyer_request) for buyer_request, _ in rows]

    @post("/{request_id:int}/hide", status_code=200, summary="Hide an abusive request, with a reason (audit-logged)")
    async def hide(
        self, request: UserRequest, request_id: FromPath[int], data: JSONBody[HideInput], db_session: DbSession
    ) -> RequestPublic:
        hidden = await service.hide_request(
            session=db_session, actor=request.user, request_id=request_id, reason=data.reason, now=utcnow()
        )
        return RequestPublic.of(hidden)


@get(
    "/api/v1/wanted",
    tags=["requests"],
    guards=[requires_role(Role.VENDOR, Role.MANAGER, Role.ADMIN)],
    security=BEARER,
    summary='What my zone wants this week (the "dicari" list): unmet searches, open requests, orders by category',
    description="Searches are counted by word (those that found fewer than 3 products), never by who searched. "
    "An admin has no zone: the lists are empty.",
)
async def get_wanted(request: UserRequest, db_session: DbSession) -> WantedPublic:
    wanted = await demand.wanted_list(session=db_session, zone_id=request.user.zone_id, today=wib_today(utcnow()))
    return WantedPublic.of(wanted)


API_ROUTES: list[ControllerRouterHandler] = [CanteenRequestApi, VendorRequestApi, ManagerRequestApi, get_wanted]
