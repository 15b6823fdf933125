"""Requests from buyers and the vendors' offers: the rules the pages and the JSON API share.

A canteen posts what it needs; vendors whose products' categories include the request's and whose delivery radius
reaches the canteen see it while it is open (until its expiry date, `today` given by the caller) and answer with
one offer each: one of their products, at the price that product costs for the quantity asked, or a new draft
product made from the request (it goes through review like any listing). The canteen compares the offers and
accepts one, once: the acceptance is a conditional UPDATE of the request, and the offer becomes a standing order
through orders.standing, so its days are placed, priced and held like any other order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Organisation, Role, User, Zone
from backend.accounts.service import organisation_staff_ids
from backend.catalog import service as catalog
from backend.catalog.entries import distance_km
from backend.catalog.models import Category, Fulfilment, ListingStatus, PriceTier, Product, ProductCertificate, Unit
from backend.catalog.schemas import ProductInput, TierInput
from backend.certification.models import Certificate, CertificateStatus
from backend.db import great_circle_km, matched_rows, upsert_insert
from backend.errors import N_, Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from backend.moderation.audit import record
from backend.money import format_rupiah, unit_price_for
from backend.notifications.service import Note, notify, notify_each
from backend.orders import cart as carts
from backend.orders.delivery import DELIVERY_SLOTS, MSG_SLOT, DeliveryPlace, delivery_charge, zone_delivery_points
from backend.orders.models import DeliveryKind, DeliveryPoint, StandingOrder
from backend.orders.standing import StandingOrderInput, can_order_weekly, create_standing_order
from backend.payments.cash import DEFAULT_CASH_LIMIT, MSG_OVER_LIMIT
from backend.requests.models import REQUIRABLE_CERTIFICATES, BuyerRequest, OfferStatus, RequestOffer, RequestStatus
from backend.vendors.models import Vendor, VendorStatus, days_to_mask, mask_to_days
from backend.vendors.service import ensure_active

DEFAULT_OPEN_DAYS = 14  # a request stays open this long unless the canteen says otherwise
MAX_OPEN_DAYS = 60
MAX_START_DAYS = 90
MAX_QUANTITY = 100_000
MAX_PRICE = 100_000_000
LIST_LIMIT = 100

MSG_CANTEENS_ONLY = N_("Requests are posted by canteens.")
MSG_BUYERS_ONLY = N_("Requests are posted by canteens and by workers for their group.")
MSG_POINT = N_("Choose the gate or dormitory of your zone where the group receives.")
MSG_NOT_FOUND = N_("We could not find this request.")
MSG_OFFER_NOT_FOUND = N_("We could not find this offer.")
MSG_TITLE = N_("Say what you need in 3 to 120 characters, e.g. Nasi box sarapan.")
MSG_QUANTITY = N_("Type a quantity from 1 to 100.000.")
MSG_WEEKDAYS = N_("Choose at least one day of the week.")
MSG_PRICE = N_("Type the price per unit as a whole number of rupiah, or leave it empty.")
MSG_CERTIFICATES = N_("Choose certificates from the list.")
MSG_START = N_("Choose a start date from tomorrow and within 90 days.")
MSG_EXPIRES = N_("Choose an end date from today and within 60 days.")
MSG_NOT_OPEN = N_("This request is no longer open.")
MSG_ALREADY_DECIDED = N_("This request has already been decided: an offer was accepted or it was closed.")
MSG_OFFER_NOT_OPEN = N_("This offer can no longer be accepted: the vendor withdrew it or it was decided already.")
MSG_OFFER_ACCEPTED = N_("Your offer was accepted: it can no longer be changed.")
MSG_OFFER_JUST_MADE = N_(
    "You have just made an offer on this request (perhaps from another tab or phone): open the request to see it."
)
MSG_PRODUCT = N_("Choose one of your products in this category, or make a new one from the request.")
MSG_NEW_PRODUCT_PRICE = N_("Type the price per unit of the new product.")
MSG_VENDOR_DAYS = N_("You do not deliver on some of the days asked: change your operating days first.")
MSG_OFFER_START = N_("Start from the request's start date and within 90 days.")
MSG_PRODUCT_NOT_LIVE = N_(
    "%(product)s is not on sale yet (it waits for the manager's review): accept this offer once it is approved."
)
MSG_OFFER_CHANGED = N_(
    "%(vendor)s changed this offer since you opened it (now %(price)s a unit): look at it again before accepting."
)
MSG_PRICE_CHANGED = N_("%(vendor)s has raised the price of %(product)s since the offer: ask them to renew the offer.")
MSG_REASON = N_("Say why this request is hidden (at least 5 characters).")
MSG_MANAGERS_ONLY = N_("Only the zone's managers may hide a request.")
MSG_NEW_REQUEST = N_("A canteen is looking for %(title)s: %(quantity)s %(unit)s. Open the request to make an offer.")
MSG_NEW_OFFER = N_("%(vendor)s made an offer for your request %(title)s.")
MSG_ACCEPTED = N_("%(canteen)s accepted your offer for %(title)s: it is now a standing order.")
MSG_NOT_CHOSEN = N_("%(canteen)s chose another offer for %(title)s.")
MSG_CLOSED = N_("The canteen closed its request %(title)s without choosing an offer.")
MSG_NEW_WORKER_REQUEST = N_(
    "A group of workers at %(point)s is looking for %(title)s: %(quantity)s %(unit)s. Open the request to make an "
    "offer."
)
MSG_WORKERS_ACCEPTED = N_(
    "The workers at %(point)s accepted your offer for %(title)s: the first day's order comes from their cart."
)
MSG_WORKERS_NOT_CHOSEN = N_("The workers at %(point)s chose another offer for %(title)s.")
MSG_WORKERS_CLOSED = N_("The workers closed their request %(title)s without choosing an offer.")


@dataclass(frozen=True)
class RequestInput:
    title: str
    category: Category
    quantity: int
    unit: Unit
    weekdays: list[int]
    slot: time
    start_date: date
    expected_price: int | None = None
    required_certificates: list[str] = field(default_factory=list)
    expires_on: date | None = None  # default: DEFAULT_OPEN_DAYS from today
    notes: str = ""
    delivery_point_id: int | None = None  # a worker's request: the gate or dormitory where the group receives


@dataclass(frozen=True)
class OfferInput:
    """An existing product (`product_id`), or a new draft product made from the request (`new_product_price`,
    with `new_product_name` or the request's title and optional bulk tiers)."""

    start_date: date
    product_id: int | None = None
    new_product_name: str = ""
    new_product_price: int | None = None
    new_product_tiers: list[tuple[int, int]] = field(default_factory=list)
    notes: str = ""


@dataclass
class RequestSummary:
    request: BuyerRequest
    open_offers: int = 0


@dataclass
class OfferView:
    """An offer as the canteen compares it."""

    offer: RequestOffer
    vendor_name: str
    product_name: str
    product_live: bool
    rating_count: int
    rating_sum: int
    distance_km: float | None
    certificates: list[str]

    @property
    def rating(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 1) if self.rating_count else None


@dataclass
class CanteenRequestView:
    request: BuyerRequest
    offers: list[OfferView]
    point_name: str | None = None  # a worker's request: the gate or dormitory where the group receives


@dataclass
class VendorRequestView:
    """A request as a vendor who fits sees it: what is asked, and the vendor's own offer if any. A worker's
    request names the gate or dormitory (`point_name`), never the worker."""

    request: BuyerRequest
    canteen_name: str  # empty for a worker's request
    distance_km: float | None
    own_offer: RequestOffer | None = None
    point_name: str | None = None


@dataclass(frozen=True)
class CartPick:
    """What a worker's accepted offer put in the worker's cart, and the delivery the checkout is to propose: the
    request's first delivery day, slot and gate or dormitory."""

    request_id: int
    offer_id: int
    product_id: int
    quantity: int
    unit_price: int
    delivery_day: date
    delivery_slot: time
    delivery_point_id: int


# --- canteens -----------------------------------------------------------------------------------------


def _ensure_canteen(actor: User) -> int:
    if not can_order_weekly(actor) or actor.organisation_id is None:
        raise Forbidden(MSG_CANTEENS_ONLY)
    return actor.organisation_id


def _is_worker(actor: User) -> bool:
    return actor.role == Role.WORKER and actor.zone_id is not None


def _owned_by(actor: User) -> ColumnElement[bool]:
    """The requests the actor may see and decide: a canteen's staff, the canteen's; a worker, only their own."""
    if _is_worker(actor):
        return and_(col(BuyerRequest.created_by_id) == actor.id, col(BuyerRequest.organisation_id).is_(None))
    if not can_order_weekly(actor):
        raise Forbidden(MSG_BUYERS_ONLY)
    return col(BuyerRequest.organisation_id) == _ensure_canteen(actor)


def _owns(actor: User, request: BuyerRequest) -> bool:
    if _is_worker(actor):
        return request.created_by_id == actor.id and request.organisation_id is None
    return request.organisation_id == _ensure_canteen(actor)


def _check_request(data: RequestInput, today: date) -> tuple[list[FieldError], list[int], date]:
    errors: list[FieldError] = []
    if not 3 <= len(data.title.strip()) <= 120:
        errors.append(FieldError("title", MSG_TITLE))
    if not 1 <= data.quantity <= MAX_QUANTITY:
        errors.append(FieldError("quantity", MSG_QUANTITY))
    weekdays = sorted({day for day in data.weekdays if 1 <= day <= 7})
    if not weekdays:
        errors.append(FieldError("weekdays", MSG_WEEKDAYS))
    if data.slot not in DELIVERY_SLOTS:
        errors.append(FieldError("slot", MSG_SLOT))
    if data.expected_price is not None and not 0 < data.expected_price <= MAX_PRICE:
        errors.append(FieldError("expected_price", MSG_PRICE))
    if any(kind not in REQUIRABLE_CERTIFICATES for kind in data.required_certificates):
        errors.append(FieldError("required_certificates", MSG_CERTIFICATES))
    if not today < data.start_date <= today + timedelta(days=MAX_START_DAYS):
        errors.append(FieldError("start_date", MSG_START))
    expires_on = data.expires_on or today + timedelta(days=DEFAULT_OPEN_DAYS)
    if not today <= expires_on <= today + timedelta(days=MAX_OPEN_DAYS):
        errors.append(FieldError("expires_on", MSG_EXPIRES))
    return errors, weekdays, expires_on


async def post_request(
    *, session: AsyncSession, actor: User, data: RequestInput, today: date, now: datetime
) -> BuyerRequest:
    """Post what the actor's canteen needs, or what a worker's group needs at a gate or dormitory of the zone;
    every vendor it fits is told (inbox and Web Push)."""
    _owned_by(actor)
    if actor.zone_id is None:
        raise Forbidden(MSG_BUYERS_ONLY)
    errors, weekdays, expires_on = _check_request(data, today)
    point: DeliveryPoint | None = None
    if _is_worker(actor):
        point = await _zone_point(session, actor.zone_id, data.delivery_point_id)
        if point is None:
            errors.append(FieldError("delivery_point_id", MSG_POINT))
    if errors:
        raise ValidationFailed(errors)
    request = BuyerRequest(
        zone_id=actor.zone_id,
        organisation_id=None if point is not None else actor.organisation_id,
        delivery_point_id=point.id if point is not None else None,
        created_by_id=actor.id,
        title=" ".join(data.title.split()),
        category=data.category,
        quantity=data.quantity,
        unit=data.unit,
        weekdays=days_to_mask(weekdays),
        delivery_slot=data.slot,
        expected_price=data.expected_price,
        required_certificates=sorted(set(data.required_certificates)),
        start_date=data.start_date,
        expires_on=expires_on,
        notes=data.notes.strip()[:500],
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    await session.flush()
    vendor_users = await _fitting_vendor_users(session=session, request=request, point=point)
    params: dict[str, Any] = {"title": request.title, "quantity": request.quantity, "unit": request.unit}
    if point is not None:
        params["point"] = point.name
    await notify(
        session=session,
        user_ids=vendor_users,
        message=MSG_NEW_REQUEST if point is None else MSG_NEW_WORKER_REQUEST,
        params=params,
        url=f"/vendor/requests/{request.id}",
        now=now,
    )
    return request


async def _zone_point(session: AsyncSession, zone_id: int, point_id: int | None) -> DeliveryPoint | None:
    """An open gate or dormitory of the zone (None for any other)."""
    if point_id is None:
        return None
    return (
        await session.execute(
            select(DeliveryPoint).where(
                col(DeliveryPoint.id) == point_id,
                col(DeliveryPoint.zone_id) == zone_id,
                col(DeliveryPoint.active).is_(True),
            )
        )
    ).scalar_one_or_none()


async def delivery_points(*, session: AsyncSession, actor: User) -> list[DeliveryPoint]:
    """The gates and dormitories a worker's request may name (none for anyone else)."""
    if not _is_worker(actor):
        return []
    return await zone_delivery_points(session=session, zone_id=actor.zone_id)


async def list_canteen_requests(*, session: AsyncSession, actor: User) -> list[RequestSummary]:
    """The canteen's requests, newest first, with how many open offers each has (one query)."""
    owned = _owned_by(actor)
    open_offers = (
        select(func.count())
        .where(col(RequestOffer.request_id) == col(BuyerRequest.id), col(RequestOffer.status) == OfferStatus.OPEN)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(BuyerRequest, open_offers).where(owned).order_by(col(BuyerRequest.id).desc()).limit(LIST_LIMIT)
    )
    return [RequestSummary(request=row[0], open_offers=row[1]) for row in rows]


async def canteen_request(*, session: AsyncSession, actor: User, request_id: int, today: date) -> CanteenRequestView:
    """One of the canteen's requests with its offers to compare (price, rating, distance, certificates), cheapest
    first; NotFound for another canteen's, or another worker's (three queries)."""
    owned = _owned_by(actor)
    row = (
        await session.execute(
            _with_place(select(BuyerRequest, Organisation, Zone, DeliveryPoint)).where(
                col(BuyerRequest.id) == request_id, owned
            )
        )
    ).one_or_none()
    if row is None:
        raise NotFound(MSG_NOT_FOUND)
    request, organisation, zone = row[0], row[1], row[2]
    point: DeliveryPoint | None = row[3]  # outer-joined: only a workers' group's request names one
    latitude, longitude = _request_point(organisation, zone, point)
    live = catalog.buyer_visible(today)
    offers = (
        await session.execute(
            select(RequestOffer, Vendor, col(Product.name), case((live, True), else_=False))
            .join(Vendor, col(Vendor.id) == col(RequestOffer.vendor_id))
            .join(Product, col(Product.id) == col(RequestOffer.product_id))
            .where(col(RequestOffer.request_id) == request.id, col(RequestOffer.status) != OfferStatus.WITHDRAWN)
            .order_by(col(RequestOffer.unit_price), col(RequestOffer.id))
        )
    ).all()
    kinds = await _certificate_kinds(session, [offer.product_id for offer, *_ in offers], today)
    views = [
        OfferView(
            offer=offer,
            vendor_name=vendor.business_name,
            product_name=product_name,
            product_live=bool(live_now),
            rating_count=vendor.rating_count,
            rating_sum=vendor.rating_sum,
            distance_km=_rounded(great_circle_km(vendor.latitude, vendor.longitude, latitude, longitude)),
            certificates=kinds.get(offer.product_id, []),
        )
        for offer, vendor, product_name, live_now in offers
    ]
    return CanteenRequestView(request=request, offers=views, point_name=point.name if point is not None else None)


@dataclass
class _Decided:
    """A request just accepted with one of its offers, as they are now."""

    request: BuyerRequest
    offer: RequestOffer
    product: Product
    vendor: Vendor
    organisation: Organisation | None
    point: DeliveryPoint | None


@dataclass(frozen=True)
class SeenOffer:
    """An offer as the buyer saw it when choosing it (the page's hidden fields, the API's query): it is accepted
    only while it is still that, so a vendor's change made just before the tap is not agreed to unseen."""

    unit_price: int
    product_id: int


async def _decide(
    session: AsyncSession,
    *,
    actor: User,
    request_id: int,
    offer_id: int,
    today: date,
    now: datetime,
    seen: SeenOffer | None,
) -> _Decided:
    """Mark the actor's open request accepted with this open offer, once: a second accept, or an accept of a
    withdrawn offer, is a Conflict (409); an offered product not on sale, or dearer than offered, too, and an
    offer changed since the buyer saw it (`seen`)."""
    owned = _owned_by(actor)
    row = (
        await session.execute(
            select(BuyerRequest, RequestOffer, Product, Vendor, Organisation, DeliveryPoint)
            .join(RequestOffer, col(RequestOffer.request_id) == col(BuyerRequest.id))
            .join(Product, col(Product.id) == col(RequestOffer.product_id))
            .join(Vendor, col(Vendor.id) == col(RequestOffer.vendor_id))
            .outerjoin(Organisation, col(Organisation.id) == col(BuyerRequest.organisation_id))
            .outerjoin(DeliveryPoint, col(DeliveryPoint.id) == col(BuyerRequest.delivery_point_id))
            .where(col(BuyerRequest.id) == request_id, owned, col(RequestOffer.id) == offer_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(MSG_OFFER_NOT_FOUND)
    request, offer, product, vendor, organisation, point = row
    decided = await session.execute(
        update(BuyerRequest)
        .where(
            col(BuyerRequest.id) == request_id,
            col(BuyerRequest.status) == RequestStatus.OPEN,
            col(BuyerRequest.expires_on) >= today,
        )
        .values(status=RequestStatus.ACCEPTED, accepted_offer_id=offer_id, updated_at=now)
    )
    if matched_rows(decided) != 1:
        raise Conflict(MSG_ALREADY_DECIDED)
    taken = await session.execute(
        update(RequestOffer)
        .where(col(RequestOffer.id) == offer_id, col(RequestOffer.status) == OfferStatus.OPEN)
        .values(status=OfferStatus.ACCEPTED, updated_at=now)
    )
    if matched_rows(taken) != 1:
        raise Conflict(MSG_OFFER_NOT_OPEN)
    # The offer as it is now: the vendor may have changed it (product, price, start) while the request was read.
    await session.refresh(offer)
    if seen is not None and (offer.unit_price, offer.product_id) != (seen.unit_price, seen.product_id):
        raise Conflict(
            MSG_OFFER_CHANGED, params={"vendor": vendor.business_name, "price": format_rupiah(offer.unit_price)}
        )
    if offer.product_id != product.id:
        product = await session.get(Product, offer.product_id) or product
    if not await catalog.visible_product_ids(session=session, today=today, product_ids=[product.id]):
        raise Conflict(MSG_PRODUCT_NOT_LIVE, params={"product": product.name})
    if await _price_for(session, product, request.quantity) > offer.unit_price:
        raise Conflict(MSG_PRICE_CHANGED, params={"vendor": vendor.business_name, "product": product.name})
    return _Decided(request, offer, product, vendor, organisation, point)


async def _tell_vendors(session: AsyncSession, decided: _Decided, *, now: datetime) -> None:
    """The chosen vendor is told; the other open offers become "not chosen" and their vendors are told."""
    request, vendor = decided.request, decided.vendor
    others = (
        await session.execute(
            update(RequestOffer)
            .where(col(RequestOffer.request_id) == request.id, col(RequestOffer.status) == OfferStatus.OPEN)
            .values(status=OfferStatus.NOT_CHOSEN, updated_at=now)
            .returning(col(RequestOffer.vendor_id))
        )
    ).scalars()
    vendor_ids = {vendor.id, *others}
    users = dict(
        (await session.execute(select(col(Vendor.id), col(Vendor.user_id)).where(col(Vendor.id).in_(vendor_ids)))).all()
    )
    if decided.point is not None:
        accepted, not_chosen = MSG_WORKERS_ACCEPTED, MSG_WORKERS_NOT_CHOSEN
        params = {"point": decided.point.name, "title": request.title}
    else:
        accepted, not_chosen = MSG_ACCEPTED, MSG_NOT_CHOSEN
        params = {"canteen": decided.organisation.name if decided.organisation else "", "title": request.title}
    await notify_each(
        session=session,
        now=now,
        notes=[
            Note(
                users[vendor_id],
                accepted if vendor_id == vendor.id else not_chosen,
                params,
                f"/vendor/requests/{request.id}",
            )
            for vendor_id in sorted(vendor_ids)
        ],
    )


async def accept_offer(
    *,
    session: AsyncSession,
    actor: User,
    request_id: int,
    offer_id: int,
    today: date,
    now: datetime,
    seen: SeenOffer | None = None,
) -> StandingOrder:
    """Accept one offer of the canteen's open request: it becomes a standing order (days placed and held by the
    standing-order job from the offer's start date), the vendor is told, and the other offers are told they were
    not chosen. Once only: a second accept, or an accept of a withdrawn offer, is a Conflict (409). A worker's
    request is accepted with `accept_worker_offer`."""
    _ensure_canteen(actor)
    decided = await _decide(
        session, actor=actor, request_id=request_id, offer_id=offer_id, today=today, now=now, seen=seen
    )
    request, offer, product = decided.request, decided.offer, decided.product
    standing = await create_standing_order(
        session=session,
        actor=actor,
        data=StandingOrderInput(
            product_id=product.id,
            quantity=request.quantity,
            weekdays=mask_to_days(request.weekdays),
            slot=request.delivery_slot,
            delivery_kind=DeliveryKind.CANTEEN,
            notes=request.notes,
            starts_on=max(offer.start_date, request.start_date),
            # The offer's price holds for every day of the standing order, whatever the product costs later.
            max_unit_price=offer.unit_price,
        ),
        today=today,
    )
    await session.execute(
        update(RequestOffer).where(col(RequestOffer.id) == offer_id).values(standing_order_id=standing.id)
    )
    await _tell_vendors(session, decided, now=now)
    return standing


def first_delivery_day(request: BuyerRequest, offer: RequestOffer, today: date) -> date:
    """The first day from tomorrow, the request's start and the offer's on, that is one of the request's days."""
    start = max(offer.start_date, request.start_date, today + timedelta(days=1))
    return next(
        day
        for day in (start + timedelta(days=offset) for offset in range(7))
        if request.weekdays & (1 << (day.isoweekday() - 1))
    )


async def accept_worker_offer(
    *,
    session: AsyncSession,
    actor: User,
    request_id: int,
    offer_id: int,
    today: date,
    now: datetime,
    cash_limit: int = DEFAULT_CASH_LIMIT,
    seen: SeenOffer | None = None,
) -> CartPick:
    """Accept one offer of the worker's own open request. Workers have no standing orders: the offered product goes
    into the worker's cart at the request's quantity, for checkout as usual with the request's first delivery day,
    slot and gate or dormitory. Every cart rule holds (on sale, minimum order, a full cart, the cash-on-delivery
    limit for that vendor's order to the point): a refusal says which, and the caller undoes everything. The
    chosen vendor is told; the others are told they were not chosen."""
    if not _is_worker(actor):
        raise Forbidden(MSG_BUYERS_ONLY)
    decided = await _decide(
        session, actor=actor, request_id=request_id, offer_id=offer_id, today=today, now=now, seen=seen
    )
    request, offer, product, vendor, point = (
        decided.request,
        decided.offer,
        decided.product,
        decided.vendor,
        decided.point,
    )
    assert point is not None  # a worker's request names its point (a CHECK of the table)
    await carts.set_quantity(
        session=session, buyer=actor, product_id=product.id, quantity=request.quantity, today=today
    )
    cart = await carts.view_cart(session=session, buyer=actor, today=today)
    goods = sum(group.subtotal for group in cart.vendors if group.vendor_id == vendor.id)
    place = DeliveryPlace(DeliveryKind.ZONE_POINT, point.name, point.latitude, point.longitude, point.id)
    total = goods + (delivery_charge(vendor, place) or 0)
    if total > cash_limit:
        raise ValidationFailed(
            [
                FieldError(
                    f"vendor-{vendor.id}",
                    MSG_OVER_LIMIT,
                    {
                        "limit": format_rupiah(cash_limit),
                        "vendor": vendor.business_name,
                        "total": format_rupiah(total),
                    },
                )
            ]
        )
    await _tell_vendors(session, decided, now=now)
    return CartPick(
        request_id=request.id,
        offer_id=offer.id,
        product_id=product.id,
        quantity=request.quantity,
        unit_price=offer.unit_price,
        delivery_day=first_delivery_day(request, offer, today),
        delivery_slot=request.delivery_slot,
        delivery_point_id=point.id,
    )


async def close_request(*, session: AsyncSession, actor: User, request_id: int, now: datetime) -> BuyerRequest:
    """Take the canteen's open request back: vendors no longer see it, and those with an open offer are told it
    closed without a choice. NotFound for another canteen's (another worker's); Conflict once it is no longer
    open."""
    _owned_by(actor)
    request = await session.get(BuyerRequest, request_id)
    if request is None or not _owns(actor, request):
        raise NotFound(MSG_NOT_FOUND)
    closed = await session.execute(
        update(BuyerRequest)
        .where(col(BuyerRequest.id) == request_id, col(BuyerRequest.status) == RequestStatus.OPEN)
        .values(status=RequestStatus.CLOSED, updated_at=now)
    )
    if matched_rows(closed) != 1:
        raise Conflict(MSG_NOT_OPEN)
    vendor_ids = set(
        (
            await session.execute(
                update(RequestOffer)
                .where(col(RequestOffer.request_id) == request_id, col(RequestOffer.status) == OfferStatus.OPEN)
                .values(status=OfferStatus.NOT_CHOSEN, updated_at=now)
                .returning(col(RequestOffer.vendor_id))
            )
        ).scalars()
    )
    if vendor_ids:
        users = set(
            (await session.execute(select(col(Vendor.user_id)).where(col(Vendor.id).in_(vendor_ids)))).scalars()
        )
        await notify(
            session=session,
            user_ids=users,
            message=MSG_CLOSED if request.delivery_point_id is None else MSG_WORKERS_CLOSED,
            params={"title": request.title},
            url=f"/vendor/requests/{request_id}",
            now=now,
        )
    await session.refresh(request)
    return request


# --- vendors ------------------------------------------------------------------------------------------


def _request_point(organisation: Organisation | None, zone: Zone, point: DeliveryPoint | None) -> tuple[float, float]:
    """Where a request is delivered: a workers' group's gate or dormitory; a canteen's factory location, or the
    zone's when it has none (as its orders)."""
    if point is not None:
        return point.latitude, point.longitude
    if organisation is not None and organisation.latitude is not None and organisation.longitude is not None:
        return organisation.latitude, organisation.longitude
    return zone.latitude, zone.longitude


_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


def _with_place(query: _Query) -> _Query:
    """`query` (of BuyerRequest, Organisation, Zone, DeliveryPoint…) joined with where the request is delivered:
    the canteen's organisation or the workers' point, whichever it names, and its zone."""
    return (
        query.outerjoin(Organisation, col(Organisation.id) == col(BuyerRequest.organisation_id))
        .outerjoin(DeliveryPoint, col(DeliveryPoint.id) == col(BuyerRequest.delivery_point_id))
        .join(Zone, col(Zone.id) == col(BuyerRequest.zone_id))
    )


def _rounded(km: float | None) -> float | None:
    return round(km, 1) if km is not None else None


def _fits(vendor: Vendor, today: date) -> list[ColumnElement[bool]]:
    """The SQL conditions under which an open request fits `vendor` (the query is `_with_place`): same zone, open
    until today at least, a category the vendor sells (a product not rejected), and the place it is delivered
    to (the canteen, or the workers' gate or dormitory) within the vendor's delivery radius."""
    at_point = col(DeliveryPoint.id).is_not(None)
    located = and_(col(Organisation.latitude).is_not(None), col(Organisation.longitude).is_not(None))
    distance = distance_km(
        vendor.latitude,
        vendor.longitude,
        case((at_point, col(DeliveryPoint.latitude)), (located, col(Organisation.latitude)), else_=col(Zone.latitude)),
        case(
            (at_point, col(DeliveryPoint.longitude)),
            (located, col(Organisation.longitude)),
            else_=col(Zone.longitude),
        ),
    )
    categories = select(col(Product.category)).where(
        col(Product.vendor_id) == vendor.id, col(Product.status) != ListingStatus.REJECTED
    )
    return [
        col(BuyerRequest.zone_id) == vendor.zone_id,
        col(BuyerRequest.status) == RequestStatus.OPEN,
        col(BuyerRequest.expires_on) >= today,
        col(BuyerRequest.category).in_(categories),
        distance <= vendor.delivery_radius_km,
    ]


def _reaches_anyone(vendor: Vendor) -> bool:
    return vendor.status == VendorStatus.ACTIVE and vendor.latitude is not None and vendor.longitude is not None


async def fitting_requests(*, session: AsyncSession, vendor: Vendor, today: date) -> list[VendorRequestView]:
    """The open requests that fit the vendor, soonest start first, with the vendor's own offer (one query)."""
    if not _reaches_anyone(vendor):
        return []
    rows = await session.execute(
        _with_place(select(BuyerRequest, Organisation, Zone, DeliveryPoint, RequestOffer))
        .outerjoin(
            RequestOffer,
            and_(col(RequestOffer.request_id) == col(BuyerRequest.id), col(RequestOffer.vendor_id) == vendor.id),
        )
        .where(*_fits(vendor, today))
        .order_by(col(BuyerRequest.start_date), col(BuyerRequest.id))
        .limit(LIST_LIMIT)
    )
    return [_vendor_view(vendor, *row) for row in rows]


def _vendor_view(
    vendor: Vendor,
    request: BuyerRequest,
    organisation: Organisation | None,
    zone: Zone,
    point: DeliveryPoint | None,
    offer: RequestOffer | None,
) -> VendorRequestView:
    latitude, longitude = _request_point(organisation, zone, point)
    return VendorRequestView(
        request=request,
        canteen_name=organisation.name if organisation is not None else "",
        distance_km=_rounded(great_circle_km(vendor.latitude, vendor.longitude, latitude, longitude)),
        own_offer=offer,
        point_name=point.name if point is not None else None,
    )


async def vendor_request(*, session: AsyncSession, vendor: Vendor, request_id: int, today: date) -> VendorRequestView:
    """A request the vendor may answer, with its own offer; NotFound for one that does not fit the vendor (another
    zone or category, out of reach, expired, hidden) unless the vendor already offered on it (one query)."""
    row = None
    if _reaches_anyone(vendor):
        own = and_(col(RequestOffer.request_id) == col(BuyerRequest.id), col(RequestOffer.vendor_id) == vendor.id)
        row = (
            await session.execute(
                _with_place(select(BuyerRequest, Organisation, Zone, DeliveryPoint, RequestOffer))
                .outerjoin(RequestOffer, own)
                .where(
                    col(BuyerRequest.id) == request_id,
                    or_(and_(*_fits(vendor, today)), col(RequestOffer.id).is_not(None)),
                    col(BuyerRequest.status) != RequestStatus.HIDDEN,
                )
            )
        ).one_or_none()
    if row is None:
        raise NotFound(MSG_NOT_FOUND)
    return _vendor_view(vendor, *row)


async def offerable_products(*, session: AsyncSession, vendor: Vendor, category: str) -> list[Product]:
    """The vendor's products a request in `category` can be answered with (not rejected)."""
    return list(
        (
            await session.execute(
                select(Product)
                .where(
                    col(Product.vendor_id) == vendor.id,
                    col(Product.category) == category,
                    col(Product.status) != ListingStatus.REJECTED,
                )
                .order_by(col(Product.name))
            )
        ).scalars()
    )


async def make_offer(
    *, session: AsyncSession, vendor: Vendor, request_id: int, data: OfferInput, today: date, now: datetime
) -> RequestOffer:
    """Answer a fitting open request, or change the vendor's offer on it (open again after a withdrawal). The
    price is the product's for the quantity asked, tiers applied; a new product is made as a draft from the
    request, with the vendor's certificates of the kinds it requires, and goes through review as any listing.
    The canteen's staff are told."""
    ensure_active(vendor)
    await _hold_open(session, vendor=vendor, request_id=request_id)
    view = await vendor_request(session=session, vendor=vendor, request_id=request_id, today=today)
    request = view.request
    if request.status != RequestStatus.OPEN or request.expires_on < today:
        raise Conflict(MSG_NOT_OPEN)
    if view.own_offer is not None and view.own_offer.status not in (OfferStatus.OPEN, OfferStatus.WITHDRAWN):
        raise Conflict(MSG_OFFER_ACCEPTED)
    errors: list[FieldError] = []
    if request.weekdays & ~vendor.operating_days:
        errors.append(FieldError("start_date", MSG_VENDOR_DAYS))
    if not request.start_date <= data.start_date <= today + timedelta(days=MAX_START_DAYS):
        errors.append(FieldError("start_date", MSG_OFFER_START))
    product: Product | None = None
    if data.product_id is not None:
        product = await session.get(Product, data.product_id)
        if (
            product is None
            or product.vendor_id != vendor.id
            or product.category != request.category
            or product.status == ListingStatus.REJECTED
        ):
            errors.append(FieldError("product_id", MSG_PRODUCT))
    elif data.new_product_price is None:
        errors.append(FieldError("new_product_price", MSG_NEW_PRODUCT_PRICE))
    if errors:
        raise ValidationFailed(errors)
    if product is None:
        product = await _draft_from_request(session, vendor, request, data)
    unit_price = await _price_for(session, product, request.quantity)
    fields: dict[str, Any] = {
        "product_id": product.id,
        "unit_price": unit_price,
        "start_date": data.start_date,
        "notes": data.notes.strip()[:500],
        "status": OfferStatus.OPEN,
        "updated_at": now,
    }
    offer = view.own_offer
    if offer is None:
        # The same first offer sent from two tabs at once: one is saved, the other told so (not a server error).
        insert = upsert_insert(session)
        offer_id = (
            await session.execute(
                insert(RequestOffer)
                .values(request_id=request.id, vendor_id=vendor.id, created_at=now, **fields)
                .on_conflict_do_nothing(index_elements=["request_id", "vendor_id"])
                .returning(col(RequestOffer.id))
            )
        ).scalar_one_or_none()
        if offer_id is None:
            raise Conflict(MSG_OFFER_JUST_MADE)
        offer = await session.get(RequestOffer, offer_id)
        assert offer is not None
    else:
        changed = await session.execute(
            update(RequestOffer)
            .where(
                col(RequestOffer.id) == offer.id,
                col(RequestOffer.status).in_([OfferStatus.OPEN, OfferStatus.WITHDRAWN]),
            )
            .values(**fields)
        )
        if matched_rows(changed) != 1:
            raise Conflict(MSG_OFFER_ACCEPTED)
        await session.refresh(offer)
    if request.organisation_id is None:  # a worker's request: only the worker who posted it is told
        buyers, url = {request.created_by_id}, f"/worker/requests/{request.id}"
    else:
        buyers = set(await organisation_staff_ids(session=session, organisation_id=request.organisation_id))
        url = f"/canteen/requests/{request.id}"
    await notify(
        session=session,
        user_ids=buyers,
        message=MSG_NEW_OFFER,
        params={"vendor": vendor.business_name, "title": request.title},
        url=url,
        now=now,
    )
    return offer


async def _hold_open(session: AsyncSession, *, vendor: Vendor, request_id: int) -> None:
    """Lock the request against being decided while an offer is made (PostgreSQL: FOR SHARE, so vendors still
    offer side by side; the canteen's accept or close, an UPDATE of the row, waits for the offer's commit and then
    finds it among the open offers). A request of the vendor's zone already decided is a Conflict; one that does
    not exist or is hidden is left to vendor_request (NotFound)."""
    status = (
        await session.execute(
            select(col(BuyerRequest.status))
            .where(col(BuyerRequest.id) == request_id, col(BuyerRequest.zone_id) == vendor.zone_id)
            .with_for_update(read=True)
        )
    ).scalar_one_or_none()
    if status in (RequestStatus.ACCEPTED, RequestStatus.CLOSED):
        raise Conflict(MSG_NOT_OPEN)


async def withdraw_offer(
    *, session: AsyncSession, vendor: Vendor, request_id: int, today: date, now: datetime
) -> RequestOffer:
    """Take the vendor's open offer back (it can be made again while the request is open)."""
    view = await vendor_request(session=session, vendor=vendor, request_id=request_id, today=today)
    if view.own_offer is None:
        raise NotFound(MSG_OFFER_NOT_FOUND)
    withdrawn = await session.execute(
        update(RequestOffer)
        .where(col(RequestOffer.id) == view.own_offer.id, col(RequestOffer.status) == OfferStatus.OPEN)
        .values(status=OfferStatus.WITHDRAWN, updated_at=now)
    )
    if matched_rows(withdrawn) != 1:
        raise Conflict(MSG_OFFER_NOT_OPEN)
    await session.refresh(view.own_offer)
    return view.own_offer


async def _draft_from_request(
    session: AsyncSession, vendor: Vendor, request: BuyerRequest, data: OfferInput
) -> Product:
    assert data.new_product_price is not None
    certificate_ids = (
        (
            await session.execute(
                select(col(Certificate.id)).where(
                    col(Certificate.vendor_id) == vendor.id,
                    col(Certificate.kind).in_(request.required_certificates),
                    col(Certificate.status) != CertificateStatus.REJECTED,
                )
            )
        )
        .scalars()
        .all()
        if request.required_certificates
        else []
    )
    try:
        product_input = ProductInput(
            name=data.new_product_name.strip() or request.title,
            category=Category(request.category),
            unit=Unit(request.unit),
            price=data.new_product_price,
            tiers=[TierInput(min_quantity=low, unit_price=price) for low, price in data.new_product_tiers],
            # Made to order from the vendor's daily capacity; a vendor of ready goods sets the stock before review.
            fulfilment=Fulfilment.MADE_TO_ORDER if vendor.daily_capacity else Fulfilment.READY_STOCK,
            stock=None if vendor.daily_capacity else 0,
            certificate_ids=list(certificate_ids),
            description=request.notes,
        )
    except ValueError:
        raise ValidationFailed.single("new_product_price", MSG_NEW_PRODUCT_PRICE) from None
    return await catalog.create_product(session=session, vendor=vendor, data=product_input)


async def _price_for(session: AsyncSession, product: Product, quantity: int) -> int:
    tiers = (
        await session.execute(
            select(col(PriceTier.min_quantity), col(PriceTier.unit_price)).where(
                col(PriceTier.product_id) == product.id
            )
        )
    ).all()
    return unit_price_for(product.price, [(low, price) for low, price in tiers], quantity)


async def _certificate_kinds(session: AsyncSession, product_ids: list[int], today: date) -> dict[int, list[str]]:
    """The verified, unexpired certificate kinds each product relies on: its badges."""
    if not product_ids:
        return {}
    rows = await session.execute(
        select(col(ProductCertificate.product_id), col(Certificate.kind))
        .join(Certificate, col(Certificate.id) == col(ProductCertificate.certificate_id))
        .where(
            col(ProductCertificate.product_id).in_(product_ids),
            col(Certificate.status) == CertificateStatus.VERIFIED,
            or_(col(Certificate.expires_on).is_(None), col(Certificate.expires_on) >= today),
        )
    )
    kinds: dict[int, list[str]] = {}
    for product_id, kind in rows:
        kinds.setdefault(product_id, []).append(str(kind))
    return {product_id: sorted(set(found)) for product_id, found in kinds.items()}


async def _fitting_vendor_users(
    *, session: AsyncSession, request: BuyerRequest, point: DeliveryPoint | None
) -> set[int]:
    """The users of the active vendors a new request fits (one query, two for a canteen's)."""
    if point is not None:
        latitude, longitude = point.latitude, point.longitude
    else:
        organisation, zone = (
            await session.execute(
                select(Organisation, Zone)
                .join(Zone, col(Zone.id) == col(Organisation.zone_id))
                .where(col(Organisation.id) == request.organisation_id)
            )
        ).one()
        latitude, longitude = _request_point(organisation, zone, None)
    sells_category = (
        select(col(Product.id))
        .where(
            col(Product.vendor_id) == col(Vendor.id),
            col(Product.category) == request.category,
            col(Product.status) != ListingStatus.REJECTED,
        )
        .exists()
    )
    users = await session.execute(
        select(col(Vendor.user_id)).where(
            col(Vendor.zone_id) == request.zone_id,
            col(Vendor.status) == VendorStatus.ACTIVE,
            col(Vendor.latitude).is_not(None),
            col(Vendor.longitude).is_not(None),
            sells_category,
            distance_km(latitude, longitude, col(Vendor.latitude), col(Vendor.longitude))
            <= col(Vendor.delivery_radius_km),
        )
    )
    return set(users.scalars())


# --- managers -----------------------------------------------------------------------------------------


def _ensure_zone_manager(actor: User, zone_id: int) -> None:
    if actor.role == Role.ADMIN or (actor.role == Role.MANAGER and actor.zone_id == zone_id):
        return
    raise Forbidden(MSG_MANAGERS_ONLY)


async def zone_requests(*, session: AsyncSession, actor: User, today: date) -> list[tuple[BuyerRequest, str]]:
    """The open requests of the manager's zone (every zone for an admin), with the canteen's name, or the gate's
    or dormitory's for a workers' group (one query)."""
    if actor.role not in (Role.MANAGER, Role.ADMIN):
        raise Forbidden(MSG_MANAGERS_ONLY)
    query = (
        select(BuyerRequest, func.coalesce(col(Organisation.name), col(DeliveryPoint.name)))
        .outerjoin(Organisation, col(Organisation.id) == col(BuyerRequest.organisation_id))
        .outerjoin(DeliveryPoint, col(DeliveryPoint.id) == col(BuyerRequest.delivery_point_id))
        .where(col(BuyerRequest.status) == RequestStatus.OPEN, col(BuyerRequest.expires_on) >= today)
        .order_by(col(BuyerRequest.id).desc())
        .limit(LIST_LIMIT)
    )
    if actor.role == Role.MANAGER:
        query = query.where(col(BuyerRequest.zone_id) == actor.zone_id)
    return [(row[0], row[1]) for row in await session.execute(query)]


async def hide_request(
    *, session: AsyncSession, actor: User, request_id: int, reason: str, now: datetime
) -> BuyerRequest:
    """Hide an abusive open request from the vendors, with a reason kept in the audit log (managers of its zone)."""
    request = await session.get(BuyerRequest, request_id)
    if request is None or (actor.role == Role.MANAGER and request.zone_id != actor.zone_id):
        raise NotFound(MSG_NOT_FOUND)
    _ensure_zone_manager(actor, request.zone_id)
    reason = " ".join(reason.split())
    if len(reason) < 5:
        raise ValidationFailed.single("reason", MSG_REASON)
    hidden = await session.execute(
        update(BuyerRequest)
        .where(col(BuyerRequest.id) == request_id, col(BuyerRequest.status) == RequestStatus.OPEN)
        .values(status=RequestStatus.HIDDEN, updated_at=now)
    )
    if matched_rows(hidden) != 1:
        raise Conflict(MSG_NOT_OPEN)
    await session.refresh(request)
    await record(
        session,
        actor,
        "request.hide",
        request,
        request.zone_id,
        reason=reason,
        before={"status": RequestStatus.OPEN},
        after={"status": RequestStatus.HIDDEN},
    )
    return request
