"""Placing orders: a checkout becomes one order per vendor, with capacity and stock held in the same transaction.

One path for the cart's checkout (pages and API) and for standing orders, in five steps:
1. Idempotency: a key per buyer, so a double tap or a retried request finds the checkout it already made. Then
   the cart is taken, emptied in the same statement: a second checkout of the same cart at the same moment,
   whatever its key, waits there for the first and finds the cart gone; it answers with the first checkout
   when it has the same key, and says the cart was just checked out when not.
2. Validation: the lines are read with their products and vendors and checked: on sale, minimum order, the
   lead time against the slot, the vendor's working days, hours and delivery radius, the payment method.
3. Pricing: one order per vendor, each line at the tier price its quantity reaches, the vendor's delivery fee to
   the place (flat or by distance band) added as its own amount; an order under its vendor's minimum order value is
   refused; cash has a limit.
4. Persistence: the checkout, its orders, lines and first history entries are written; an invoice checkout
   gets its invoice, a bank-transfer checkout its payment reference, the vendors are told.
5. Holds: everything is held at once, one conditional write for all vendors' capacity that day, one for all
   ready goods' stock (capacity.py says in which order their rows are locked). If anything is short, the error
   names each item and what is left, and the caller rolls the whole transaction back, so nothing is held.
The number of statements does not grow with the number of lines or vendors (tests/orders count them).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, exists, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Role, User
from backend.catalog.models import Fulfilment, Product
from backend.catalog.service import buyer_visible
from backend.clock import wib_today
from backend.db import in_ids, upsert_insert
from backend.errors import (
    N_,
    CartCheckedOut,
    Conflict,
    FieldError,
    InsufficientCapacity,
    NotFound,
    Shortage,
    ValidationFailed,
)
from backend.metrics import record_order_placed
from backend.money import unit_price_for
from backend.notifications.service import Note, notify_each
from backend.orders import capacity
from backend.orders import cart as carts
from backend.orders.delivery import (
    DeliveryChoice,
    DeliveryPlace,
    check_time,
    delivery_charge,
    lead_time_problem,
    minimum_problem,
    resolve_place,
    vendor_problems,
)
from backend.orders.models import (
    PAID_BEFORE_PLACING,
    THROUGH_GATEWAY,
    CapacityDay,
    CartLine,
    Checkout,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PaymentMethod,
)
from backend.payments import invoices, methods, transfers
from backend.payments.cash import DEFAULT_CASH_LIMIT, cash_limit_problems
from backend.validation import MSG_TOO_LONG
from backend.vendors.models import Vendor

MSG_CARD_UNAVAILABLE = N_("Card payment is not available yet. Choose another way to pay.")
MSG_TRANSFER_UNAVAILABLE = N_("Bank transfer is not available yet. Choose another way to pay.")
DEFAULT_PAYMENT_WINDOW = timedelta(minutes=30)
# A checkout finding the cart empty this soon after another checkout of the buyer took it is the same cart
# sent twice (a second tab, a tap sent again with a new key): it says so, and where the orders are.
JUST_CHECKED_OUT = timedelta(minutes=10)
MAX_KEY_LENGTH = 100
MAX_NOTES = 500
MAX_PO_NUMBER = 40

MSG_CART_EMPTY = N_("Your cart is empty.")
MSG_KEY = N_("The request needs an idempotency key of 1 to 100 characters.")
MSG_KEY_REUSED = N_("This order was already sent with other details. Reload the page and try again.")
MSG_INVOICE_CANTEENS = N_("Invoice payment is for canteens.")
MSG_CASH_WORKERS = N_("Cash on delivery is for workers.")
MSG_PAYMENT = N_("Choose how you pay.")
MSG_NEW_ORDER = N_("New order %(number)s for %(day)s at %(slot)s WIB")


@dataclass
class Placement:
    checkout: Checkout
    orders: list[Order]
    # True when the idempotency key had been used already: nothing new was created.
    replayed: bool = False


@dataclass
class _Line:
    product: Product
    vendor: Vendor
    on_sale: bool
    quantity: int
    tiers: list[tuple[int, int]]  # (minimum quantity, unit price)
    unit_price: int = 0  # set by the pricing, from the tiers


async def place_checkout(
    *,
    session: AsyncSession,
    buyer: User,
    delivery: DeliveryChoice,
    payment_method: PaymentMethod,
    idempotency_key: str,
    now: datetime,
    payment_window: timedelta = DEFAULT_PAYMENT_WINDOW,
    cash_limit: int = DEFAULT_CASH_LIMIT,
    card_payments: bool = True,
    bank_transfers: bool = True,
    gateway_payments: bool = False,
) -> Placement:
    """Turn the buyer's cart into one order per vendor (see the module's docstring); the cart is emptied. Card is
    refused while card payments are not set up (`card_payments`), bank transfer while the platform's bank
    account is not (`bank_transfers`), QRIS and virtual accounts while the payment gateway is not
    (`gateway_payments`)."""
    if payment_method == PaymentMethod.CARD and not card_payments:
        raise ValidationFailed.single("payment_method", MSG_CARD_UNAVAILABLE)
    if payment_method == PaymentMethod.BANK_TRANSFER and not bank_transfers:
        raise ValidationFailed.single("payment_method", MSG_TRANSFER_UNAVAILABLE)
    if payment_method in THROUGH_GATEWAY and not gateway_payments:
        raise ValidationFailed.single("payment_method", methods.MSG_GATEWAY_UNAVAILABLE)
    return await place_orders(
        session=session,
        buyer=buyer,
        delivery=delivery,
        payment_method=payment_method,
        idempotency_key=idempotency_key,
        lines=None,
        now=now,
        payment_window=payment_window,
        placed_by=buyer,
        cash_limit=cash_limit,
    )


async def place_orders(
    *,
    session: AsyncSession,
    buyer: User,
    delivery: DeliveryChoice,
    payment_method: PaymentMethod,
    idempotency_key: str,
    lines: dict[int, int] | None,
    now: datetime,
    payment_window: timedelta = DEFAULT_PAYMENT_WINDOW,
    placed_by: User | None = None,
    standing_order_id: int | None = None,
    cash_limit: int = DEFAULT_CASH_LIMIT,
) -> Placement:
    """Place `lines` (product id → quantity), or the buyer's cart when `lines` is None.

    `placed_by` is who acted (None: the system, for a standing order). Invoice checkouts need a canteen with
    invoice terms and get their invoice here; cash is refused for a vendor's order above `cash_limit` rupiah.
    Raises ValidationFailed for rules that are broken, InsufficientCapacity when something cannot be held; the
    caller then rolls back."""
    carts.ensure_buyer(buyer)
    key, delivery = _checked_key(idempotency_key), _tidied(delivery)
    fingerprint = _fingerprint(delivery, payment_method, lines)
    earlier = await _earlier_placement(session=session, buyer=buyer, key=key, fingerprint=fingerprint)
    if earlier is not None:
        return earlier
    taken: list[CartLine] = []
    if lines is None:
        taken = await carts.take_all(session=session, buyer=buyer)
        if not taken:  # perhaps taken by a concurrent checkout that committed meanwhile
            earlier = await _placement_that_took_the_cart(
                session=session, buyer=buyer, key=key, fingerprint=fingerprint, now=now
            )
            if earlier is not None:
                return earlier
        lines = {line.product_id: line.quantity for line in taken}

    ordered, place = await _validated_lines(
        session=session, buyer=buyer, delivery=delivery, payment_method=payment_method, lines=lines, now=now
    )
    orders = await _priced_orders(
        session=session,
        buyer=buyer,
        ordered=ordered,
        delivery=delivery,
        place=place,
        payment_method=payment_method,
        payment_window=payment_window,
        standing_order_id=standing_order_id,
        now=now,
    )
    if payment_method == PaymentMethod.CASH:
        _check_cash_limit(orders=orders, ordered=ordered, limit=cash_limit)
    if problem := methods.amount_problem(payment_method, sum(order.total for order in orders)):
        raise ValidationFailed.single("payment_method", problem[0], **problem[1])

    checkout = await _write_orders(
        session=session,
        buyer=buyer,
        key=key,
        fingerprint=fingerprint,
        payment_method=payment_method,
        orders=orders,
        ordered=ordered,
        placed_by=placed_by,
        now=now,
    )
    if checkout is None:  # the same key was committed meanwhile by a concurrent request: answer with it
        earlier = await _earlier_placement(session=session, buyer=buyer, key=key, fingerprint=fingerprint)
        assert earlier is not None  # our insert met that request's checkout
        # What we took is what the buyer put in the cart since that checkout: it stays there.
        await carts.put_back(session=session, lines=taken)
        return earlier
    await _follow_up(session=session, buyer=buyer, checkout=checkout, orders=orders, ordered=ordered, now=now)
    # Last, so the rows of the vendors' capacity and the products' stock stay locked only until the commit that
    # follows: concurrent checkouts of the same vendors wait on each other for as short a time as possible.
    await _hold(session=session, orders=orders, ordered=ordered, day=delivery.day)
    record_order_placed(payment_method.value, len(orders))
    return Placement(checkout=checkout, orders=orders)


def new_order_note(order: Order, vendor_user_id: int) -> Note:
    """What the vendor reads when an order reaches them (placed, or paid)."""
    return Note(
        user_id=vendor_user_id,
        message=MSG_NEW_ORDER,
        order_id=order.id,
        url=f"/vendor/orders/{order.id}",
        params={"number": order.number, "day": order.delivery_day.isoformat(), "slot": f"{order.delivery_slot:%H.%M}"},
    )


# --- 1. idempotency ---------------------------------------------------------------------------------------


def _checked_key(idempotency_key: str) -> str:
    key = idempotency_key.strip()
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationFailed.single("idempotency_key", MSG_KEY)
    return key


def _tidied(delivery: DeliveryChoice) -> DeliveryChoice:
    return DeliveryChoice(
        day=delivery.day,
        slot=delivery.slot,
        kind=delivery.kind,
        point_id=delivery.point_id,
        notes=delivery.notes.strip()[:MAX_NOTES],
        po_number=delivery.po_number.strip(),
    )


async def _earlier_placement(*, session: AsyncSession, buyer: User, key: str, fingerprint: str) -> Placement | None:
    """What the buyer already placed with this key (a double tap, a retried request), if anything; the same key
    with other details is a conflict."""
    existing = (
        await session.execute(
            select(Checkout).where(col(Checkout.buyer_id) == buyer.id, col(Checkout.idempotency_key) == key)
        )
    ).scalar_one_or_none()
    if existing is None:
        return None
    return await _replay(session=session, checkout=existing, fingerprint=fingerprint)


async def _placement_that_took_the_cart(
    *, session: AsyncSession, buyer: User, key: str, fingerprint: str, now: datetime
) -> Placement | None:
    """For a checkout that found the cart empty: the checkout this key placed meanwhile (the same request sent
    twice at once, answered alike), or CartCheckedOut when another checkout of the buyer took the cart just
    now; None when the cart was simply empty. Standing orders place no cart, so they do not count."""
    from_standing_order = exists().where(
        col(Order.checkout_id) == col(Checkout.id), col(Order.standing_order_id).is_not(None)
    )
    found = (
        await session.execute(
            select(Checkout)
            .where(
                col(Checkout.buyer_id) == buyer.id,
                or_(
                    col(Checkout.idempotency_key) == key,
                    and_(col(Checkout.created_at) >= now - JUST_CHECKED_OUT, ~from_standing_order),
                ),
            )
            .order_by(
                (col(Checkout.idempotency_key) == key).desc(), col(Checkout.created_at).desc(), col(Checkout.id).desc()
            )
            .limit(1)
        )
    ).scalar_one_or_none()
    if found is None:
        return None
    if found.idempotency_key == key:
        return await _replay(session=session, checkout=found, fingerprint=fingerprint)
    assert found.id is not None
    raise CartCheckedOut(found.id)


async def _replay(*, session: AsyncSession, checkout: Checkout, fingerprint: str) -> Placement:
    if checkout.fingerprint != fingerprint:
        raise Conflict(MSG_KEY_REUSED)
    orders = list(
        (
            await session.execute(select(Order).where(col(Order.checkout_id) == checkout.id).order_by(col(Order.id)))
        ).scalars()
    )
    return Placement(checkout=checkout, orders=orders, replayed=True)


def _fingerprint(delivery: DeliveryChoice, payment_method: PaymentMethod, lines: dict[int, int] | None) -> str:
    """What identifies the request behind a key: the delivery, the payment and, when given, the lines (a cart
    checkout's lines are the cart, emptied by the first success)."""
    content = {
        "day": delivery.day.isoformat(),
        "slot": delivery.slot.isoformat(),
        "kind": delivery.kind.value,
        "point": delivery.point_id,
        "notes": delivery.notes,
        "po_number": delivery.po_number,
        "payment": payment_method.value,
        "lines": sorted(lines.items()) if lines is not None else "cart",
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


# --- 2. validation ----------------------------------------------------------------------------------------


async def _validated_lines(
    *,
    session: AsyncSession,
    buyer: User,
    delivery: DeliveryChoice,
    payment_method: PaymentMethod,
    lines: dict[int, int],
    now: datetime,
) -> tuple[list[_Line], DeliveryPlace]:
    """The lines ordered (by vendor) and where they go, once every rule holds; otherwise ValidationFailed naming
    every broken rule at once: the delivery time, the payment for the buyer's role, each line on sale, at its
    minimum and within its lead time, each vendor's days, hours and delivery radius."""
    time_errors = check_time(delivery, now)
    errors = list(time_errors)
    if len(delivery.po_number) > MAX_PO_NUMBER:
        errors.append(FieldError("po_number", MSG_TOO_LONG, {"limit": MAX_PO_NUMBER}))
    if payment_method == PaymentMethod.INVOICE and buyer.role != Role.CANTEEN_STAFF:
        errors.append(FieldError("payment_method", MSG_INVOICE_CANTEENS))
    if payment_method == PaymentMethod.CASH and buyer.role != Role.WORKER:
        errors.append(FieldError("payment_method", MSG_CASH_WORKERS))
    if payment_method == PaymentMethod.VIRTUAL_ACCOUNT and buyer.role != Role.CANTEEN_STAFF:
        errors.append(FieldError("payment_method", methods.MSG_VA_CANTEENS))
    ordered = await _read_lines(session=session, lines=lines, now=now)
    if len(ordered) < len(lines):
        raise NotFound(carts.MSG_NO_PRODUCT)
    if not ordered:
        raise ValidationFailed([*errors, FieldError("cart", MSG_CART_EMPTY)])
    try:
        place = await resolve_place(session=session, buyer=buyer, choice=delivery)
    except ValidationFailed as refused:
        raise ValidationFailed([*errors, *refused.errors]) from None
    for line in ordered:
        # A lead time means nothing for a day that cannot be (and year 1 would overflow).
        if problem := _line_problem(line, delivery, now, check_lead_time=not time_errors):
            errors.append(problem)
    for vendor in _vendors(ordered).values():
        errors.extend(vendor_problems(vendor, delivery, place))
    if errors:
        raise ValidationFailed(errors)
    return ordered, place


async def _read_lines(*, session: AsyncSession, lines: dict[int, int], now: datetime) -> list[_Line]:
    """The products ordered with their vendors, whether buyers may still see them and their bulk tiers, in one
    query whose text is the same for any number of lines."""
    on_sale = case((buyer_visible(wib_today(now)), True), else_=False)
    rows = (
        await session.execute(
            select(Product, Vendor, on_sale, carts.tiers_text())
            .where(in_ids(session, col(Product.id), lines))
            .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
            .order_by(col(Vendor.id), col(Product.id))
        )
    ).all()
    return [
        _Line(
            product=product,
            vendor=vendor,
            on_sale=bool(visible),
            quantity=lines[product.id],
            tiers=carts.read_tiers(tiers),
        )
        for product, vendor, visible, tiers in rows
    ]


def _line_problem(line: _Line, delivery: DeliveryChoice, now: datetime, *, check_lead_time: bool) -> FieldError | None:
    if not line.on_sale:
        return FieldError(f"line-{line.product.id}", carts.MSG_NOT_ON_SALE, {"product": line.product.name})
    if line.quantity < line.product.min_order_qty:
        return FieldError(
            f"line-{line.product.id}",
            carts.MSG_MIN_ORDER,
            {"product": line.product.name, "minimum": line.product.min_order_qty},
        )
    return lead_time_problem(line.product, delivery, now) if check_lead_time else None


def _vendors(ordered: list[_Line]) -> dict[int, Vendor]:
    """The vendors of the lines, by id, in the lines' order."""
    return {line.vendor.id: line.vendor for line in ordered}


# --- 3. pricing -------------------------------------------------------------------------------------------


async def _priced_orders(
    *,
    session: AsyncSession,
    buyer: User,
    ordered: list[_Line],
    delivery: DeliveryChoice,
    place: DeliveryPlace,
    payment_method: PaymentMethod,
    payment_window: timedelta,
    standing_order_id: int | None,
    now: datetime,
) -> list[Order]:
    """One order per vendor (not written yet), each line at the tier price its quantity reaches, plus the vendor's
    delivery fee to the place; refused (ValidationFailed) where an order's goods stay under its vendor's minimum
    order value. A card or bank transfer order waits for its payment until the payment window closes; the others
    are placed at once."""
    status = OrderStatus.PENDING_PAYMENT if payment_method in PAID_BEFORE_PLACING else OrderStatus.PLACED
    by_vendor: dict[int, list[_Line]] = defaultdict(list)
    for line in ordered:
        line.unit_price = unit_price_for(line.product.price, line.tiers, line.quantity)
        by_vendor[line.vendor.id].append(line)
    goods = {
        vendor_id: sum(line.quantity * line.unit_price for line in lines) for vendor_id, lines in by_vendor.items()
    }
    under_minimum = [
        problem
        for vendor_id, lines in by_vendor.items()
        if (problem := minimum_problem(lines[0].vendor, goods[vendor_id])) is not None
    ]
    if under_minimum:
        raise ValidationFailed(under_minimum)
    # Validation refused a place beyond a vendor's distance bands, so each fee is known here.
    fees = {vendor_id: delivery_charge(lines[0].vendor, place) or 0 for vendor_id, lines in by_vendor.items()}
    return [
        Order(  # type: ignore[call-arg]  # no checkout_id yet: _write_orders sets it once the checkout exists
            vendor_id=vendor_id,
            zone_id=vendor_lines[0].vendor.zone_id,
            buyer_id=buyer.id,
            organisation_id=buyer.organisation_id if buyer.role == Role.CANTEEN_STAFF else None,
            status=status,
            payment_method=payment_method,
            delivery_day=delivery.day,
            delivery_slot=delivery.slot,
            deliver_at=delivery.deliver_at(),
            delivery_kind=place.kind,
            delivery_point_id=place.point_id,
            delivery_address=place.address,
            receiving_contact=place.receiving_contact,
            receiving_phone=place.receiving_phone,
            notes=delivery.notes,
            po_number=delivery.po_number,
            total=goods[vendor_id] + fees[vendor_id],
            delivery_fee=fees[vendor_id],
            held_capacity=sum(
                line.quantity for line in vendor_lines if line.product.fulfilment == Fulfilment.MADE_TO_ORDER
            ),
            standing_order_id=standing_order_id,
            payment_due_at=now + payment_window if status == OrderStatus.PENDING_PAYMENT else None,
            created_at=now,
            updated_at=now,
        )
        for vendor_id, vendor_lines in by_vendor.items()
    ]


def _check_cash_limit(*, orders: list[Order], ordered: list[_Line], limit: int) -> None:
    """Cash on delivery is refused for a vendor's order above `limit` rupiah, next to that vendor."""
    vendor_names = {vendor_id: vendor.business_name for vendor_id, vendor in _vendors(ordered).items()}
    over = cash_limit_problems(orders=orders, vendor_names=vendor_names, limit=limit)
    if over:
        raise ValidationFailed(over)


# --- 4. persistence ---------------------------------------------------------------------------------------


async def _write_orders(
    *,
    session: AsyncSession,
    buyer: User,
    key: str,
    fingerprint: str,
    payment_method: PaymentMethod,
    orders: list[Order],
    ordered: list[_Line],
    placed_by: User | None,
    now: datetime,
) -> Checkout | None:
    """Write the checkout, its orders, their lines and first history entries (the orders get their ids). None,
    and nothing written, when a concurrent request has committed the same key first."""
    total = sum(order.total for order in orders)
    checkout_id = await _insert_checkout(
        session=session,
        buyer=buyer,
        key=key,
        fingerprint=fingerprint,
        payment_method=payment_method,
        total=total,
        now=now,
    )
    if checkout_id is None:
        return None
    # Core inserts: one multi-row statement each (the ORM would insert rows one by one on SQLite). Orders come
    # back keyed by vendor, one order per vendor in a checkout.
    for order in orders:
        order.checkout_id = checkout_id
    created = await session.execute(
        insert(Order).returning(col(Order.id), col(Order.vendor_id)),
        [order.model_dump(exclude={"id"}) for order in orders],
    )
    ids = {vendor_id: order_id for order_id, vendor_id in created}
    for order in orders:
        order.id = ids[order.vendor_id]
    await session.execute(
        insert(OrderLine),
        [
            {
                "order_id": order.id,
                "product_id": line.product.id,
                "product_name": line.product.name,
                "unit": line.product.unit,
                "fulfilment": line.product.fulfilment,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "line_total": line.quantity * line.unit_price,
            }
            for order in orders
            for line in ordered
            if line.vendor.id == order.vendor_id
        ],
    )
    await session.execute(
        insert(OrderEvent),
        [
            {
                "order_id": order.id,
                "from_status": None,
                "to_status": order.status,
                "actor_id": placed_by.id if placed_by else None,
                "actor_role": "buyer" if placed_by else "system",
                "reason": "",
                "at": now,
            }
            for order in orders
        ],
    )
    return Checkout(
        id=checkout_id,
        buyer_id=buyer.id,
        organisation_id=buyer.organisation_id,
        idempotency_key=key,
        fingerprint=fingerprint,
        payment_method=payment_method,
        total=total,
        created_at=now,
    )


async def _insert_checkout(
    *,
    session: AsyncSession,
    buyer: User,
    key: str,
    fingerprint: str,
    payment_method: PaymentMethod,
    total: int,
    now: datetime,
) -> int | None:
    """Insert the checkout unless the key exists; a concurrent request with the same key waits here until the
    first one finishes (PostgreSQL), then finds its checkout instead of placing a second one."""
    insert = upsert_insert(session)
    statement = (
        insert(Checkout)
        .values(
            buyer_id=buyer.id,
            organisation_id=buyer.organisation_id if buyer.role == Role.CANTEEN_STAFF else None,
            idempotency_key=key,
            fingerprint=fingerprint,
            payment_method=payment_method,
            total=total,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["buyer_id", "idempotency_key"])
        .returning(col(Checkout.id))
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def _follow_up(
    *, session: AsyncSession, buyer: User, checkout: Checkout, orders: list[Order], ordered: list[_Line], now: datetime
) -> None:
    """What placing entails besides the orders: the invoice of an invoice checkout, the payment (and its
    reference) a bank-transfer checkout waits for, the vendors of placed orders told (a card or bank transfer
    order's vendor is told once it is paid)."""
    if checkout.payment_method in (PaymentMethod.BANK_TRANSFER, *THROUGH_GATEWAY):
        # A gateway payment is known to the gateway by the same kind of reference.
        await transfers.open_transfer(session=session, checkout=checkout, now=now)
    if checkout.payment_method == PaymentMethod.INVOICE:  # refused (the caller rolls back) without terms
        await invoices.issue_invoice(
            session=session,
            checkout_id=checkout.id,
            organisation_id=buyer.organisation_id,
            amount=checkout.total,
            now=now,
        )
    vendors = _vendors(ordered)
    await notify_each(
        session=session,
        now=now,
        notes=[
            new_order_note(order, vendors[order.vendor_id].user_id)
            for order in orders
            if order.status == OrderStatus.PLACED
        ],
    )


# --- 5. holds ---------------------------------------------------------------------------------------------


async def _hold(*, session: AsyncSession, orders: list[Order], ordered: list[_Line], day: date) -> None:
    """Hold every vendor's capacity and every ready product's stock; name each shortage when one is short."""
    wanted_capacity = {order.vendor_id: order.held_capacity for order in orders if order.held_capacity}
    wanted_stock: dict[int, int] = defaultdict(int)
    for line in ordered:
        if line.product.fulfilment == Fulfilment.READY_STOCK:
            wanted_stock[line.product.id] += line.quantity
    short_vendors = await capacity.hold_capacities(session=session, day=day, wanted=wanted_capacity)
    short_products = await capacity.hold_stocks(session=session, wanted=dict(wanted_stock))
    if short_vendors or short_products:
        raise InsufficientCapacity(
            await _shortages(
                session=session,
                orders=orders,
                ordered=ordered,
                day=day,
                short_vendors=short_vendors,
                short_products=short_products,
            )
        )


async def _shortages(
    *,
    session: AsyncSession,
    orders: list[Order],
    ordered: list[_Line],
    day: date,
    short_vendors: set[int],
    short_products: set[int],
) -> list[Shortage]:
    """Each shortage with what is left. A vendor's made-to-order products share the day's capacity: one
    shortage names them together, with what they add up to, so the buyer knows how much to take off."""
    capacity_left: dict[int, int] = {}
    if short_vendors:
        capacity_left = dict(
            (
                await session.execute(
                    select(col(CapacityDay.vendor_id), col(CapacityDay.capacity) - col(CapacityDay.held)).where(
                        col(CapacityDay.day) == day, in_ids(session, col(CapacityDay.vendor_id), short_vendors)
                    )
                )
            ).all()
        )
    stock_left: dict[int, int | None] = {}
    if short_products:
        stock_left = dict(
            (
                await session.execute(
                    select(col(Product.id), col(Product.stock)).where(in_ids(session, col(Product.id), short_products))
                )
            ).all()
        )
    shortages = []
    for order in orders:
        if order.vendor_id in short_vendors:
            shared = [
                line
                for line in ordered
                if line.vendor.id == order.vendor_id and line.product.fulfilment == Fulfilment.MADE_TO_ORDER
            ]
            shortages.append(
                Shortage(
                    product_id=shared[0].product.id,
                    product_name=", ".join(line.product.name for line in shared),
                    requested=order.held_capacity,
                    available=max(capacity_left.get(order.vendor_id, 0), 0),
                )
            )
    for line in ordered:
        if line.product.id in short_products:
            shortages.append(
                Shortage(
                    product_id=line.product.id,
                    product_name=line.product.name,
                    requested=line.quantity,
                    available=max(stock_left.get(line.product.id) or 0, 0),
                )
            )
    return shortages
