"""The buyer's cart, kept on the server: products from any number of vendors, priced by the server; and what the
buyer may choose when checking it out.

Quantities are checked against the minimum order when they are put in; prices follow the bulk tiers and are
computed again, from the database, every time the cart is shown and when it is checked out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import ScalarSelect, String, case, cast, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Organisation, Role, User
from backend.catalog.models import PriceTier, Product
from backend.catalog.service import buyer_visible, first_photo_key
from backend.db import upsert_insert
from backend.errors import N_, Forbidden, NotFound, ValidationFailed
from backend.money import unit_price_for
from backend.orders.delivery import (
    DeliveryPlace,
    canteen_place,
    canteen_with_zone,
    default_delivery_day,
    delivery_charge,
    offered_slots,
    zone_delivery_points,
)
from backend.orders.models import OPEN_STATUSES, CartLine, DeliveryPoint, Order, PaymentMethod
from backend.payments.methods import Offer, offered
from backend.vendors.models import Vendor

BUYER_ROLES = (Role.CANTEEN_STAFF, Role.WORKER)
MAX_LINE_QUANTITY = 100_000
MAX_CART_LINES = 60

MSG_BUYERS_ONLY = N_("Only canteen staff and workers can order.")
MSG_NOT_ON_SALE = N_("%(product)s is no longer on sale.")
MSG_NO_PRODUCT = N_("This product is not on sale.")
MSG_MIN_ORDER = N_("The minimum order of %(product)s is %(minimum)s.")
MSG_MAX_QUANTITY = N_("Order at most 100.000 at once.")
MSG_QUANTITY = N_("Type the quantity as a whole number.")
MSG_CART_FULL = N_("Your cart is full: check out or remove something first.")


@dataclass
class CartItem:
    product_id: int
    name: str
    unit: str
    fulfilment: str
    quantity: int
    min_order_qty: int
    base_price: int
    unit_price: int
    on_sale: bool
    thumb_key: str | None = None
    # The bulk tier that sets unit_price ("Rp 13.000 from 200"): its minimum quantity, None at the base price.
    tier_from: int | None = None
    # The product as read with the cart (its lead time decides which delivery slots are offered).
    product: Product | None = field(default=None, repr=False)

    @property
    def line_total(self) -> int:
        return self.quantity * self.unit_price


@dataclass
class CartVendor:
    vendor_id: int
    vendor_name: str
    items: list[CartItem] = field(default_factory=list)
    # The vendor as read with the cart (its days and hours decide which delivery slots are offered).
    vendor: Vendor | None = field(default=None, repr=False)

    @property
    def subtotal(self) -> int:
        return sum(item.line_total for item in self.items if item.on_sale)


@dataclass
class VendorCharge:
    """What a vendor's part of the cart pays besides its goods, as the checkout will charge it."""

    fee: int | None  # None: beyond the vendor's distance bands, or not known until the place is chosen
    by_distance: bool  # the vendor charges by distance band
    minimum: int  # the vendor's minimum order value (0: none)
    missing: int  # what the goods lack to reach it


def vendor_charge(vendor: Vendor, goods_total: int, place: DeliveryPlace | None) -> VendorCharge:
    """The fee to `place` by the rule placement applies (None before a worker chooses where), and the minimum."""
    if place is not None:
        fee = delivery_charge(vendor, place)
    else:
        fee = None if vendor.delivery_fee_bands else vendor.delivery_fee
    return VendorCharge(
        fee=fee,
        by_distance=bool(vendor.delivery_fee_bands),
        minimum=vendor.min_order_value,
        missing=max(vendor.min_order_value - goods_total, 0),
    )


@dataclass
class Cart:
    vendors: list[CartVendor]

    @property
    def total(self) -> int:
        return sum(vendor.subtotal for vendor in self.vendors)

    @property
    def line_count(self) -> int:
        return sum(len(vendor.items) for vendor in self.vendors)

    @property
    def is_empty(self) -> bool:
        return not self.vendors

    def charges(self, place: DeliveryPlace | None) -> dict[int, VendorCharge]:
        """Each vendor's delivery fee to `place` and minimum order, by vendor id."""
        return {
            group.vendor_id: vendor_charge(group.vendor, group.subtotal, place)
            for group in self.vendors
            if group.vendor is not None
        }

    def first_delivery_day(self, *, now: datetime, within_days: int = 14) -> date:
        """The first day from tomorrow on with a delivery slot offered for this cart (tomorrow when there is none
        within `within_days`): what the checkout proposes, so that a catering ordered after its cut-off does not
        open on a day with nothing to choose."""
        tomorrow = default_delivery_day(now)
        for offset in range(within_days):
            day = tomorrow + timedelta(days=offset)
            if self.offered_slots(day=day, now=now):
                return day
        return tomorrow

    def offered_slots(self, *, day: date, now: datetime) -> list[time]:
        """The delivery slots of `day` a checkout of this cart may choose (orders.delivery.offered_slots)."""
        return offered_slots(
            day=day,
            vendors=[group.vendor for group in self.vendors if group.vendor is not None],
            products=[item.product for group in self.vendors for item in group.items if item.product is not None],
            now=now,
        )


@dataclass
class LineInCart:
    """What a cart line holds once a product is put in: the product and the quantity now in the cart, and the
    line as the cart shows it (priced after the bulk tiers)."""

    product: Product
    quantity: int
    item: CartItem


@dataclass
class CartChange:
    """What a change of one line leaves, at today's prices: the line as it is now (None once taken out), the
    subtotal of its vendor's lines, and the cart's number of lines and total."""

    item: CartItem | None
    vendor_id: int | None  # None only when the product does not exist
    vendor_subtotal: int
    line_count: int
    total: int
    # A vendor of the cart charges delivery or has a minimum order: the cart's figures are more than its lines.
    charges: bool = False


def can_buy(user: User | None) -> bool:
    """Canteen staff and workers buy; vendors, managers and admins do not."""
    return user is not None and user.role in BUYER_ROLES


def ensure_buyer(user: User) -> None:
    if not can_buy(user):
        raise Forbidden(MSG_BUYERS_ONLY)


def tiers_text() -> ScalarSelect[str | None]:
    """A product's bulk tiers as one text, "50:14000,200:13000" (SQL, correlated with Product; null without
    tiers), so the statement that reads products brings their tiers along instead of a query of its own."""
    return _TIERS_TEXT


# Built once: they hold no value of their own, and building them again for every cart change cost more than
# running them.
_TIERS_TEXT = (
    select(
        func.aggregate_strings(
            cast(col(PriceTier.min_quantity), String) + ":" + cast(col(PriceTier.unit_price), String), ","
        )
    )
    .where(col(PriceTier.product_id) == col(Product.id))
    .scalar_subquery()
)
# The unit price of a cart line's quantity, as `unit_price_for` has it: the deepest tier reached, else null.
_TIER_PRICE = (
    select(col(PriceTier.unit_price))
    .where(col(PriceTier.product_id) == col(Product.id), col(PriceTier.min_quantity) <= col(CartLine.quantity))
    .order_by(col(PriceTier.min_quantity).desc())
    .limit(1)
    .scalar_subquery()
)


def read_tiers(text: str | None) -> list[tuple[int, int]]:
    """The (minimum quantity, unit price) pairs of a `tiers_text()`."""
    if not text:
        return []
    pairs = (tier.split(":") for tier in text.split(","))
    return sorted((int(minimum), int(price)) for minimum, price in pairs)


def tier_from(tiers: list[tuple[int, int]], quantity: int) -> int | None:
    """The minimum quantity of the tier that sets the price of `quantity` (None at the base price)."""
    return max((minimum for minimum, _ in tiers if quantity >= minimum), default=None)


def check_quantity(product: Product, quantity: int) -> None:
    if quantity < product.min_order_qty:
        raise ValidationFailed.single("quantity", MSG_MIN_ORDER, product=product.name, minimum=product.min_order_qty)
    if quantity > MAX_LINE_QUANTITY:
        raise ValidationFailed.single("quantity", MSG_MAX_QUANTITY)


async def set_quantity(
    *, session: AsyncSession, buyer: User, product_id: int, quantity: int, today: date, add: bool = False
) -> LineInCart:
    """Put a product in the cart with this quantity (or add it to what is there, with `add`). Only products
    buyers may see `today`, at least their minimum order. Two statements."""
    ensure_buyer(buyer)
    product, in_cart, lines, tiers, thumb_key = (
        await session.execute(
            select(
                Product,
                select(col(CartLine.quantity))
                .where(col(CartLine.user_id) == buyer.id, col(CartLine.product_id) == col(Product.id))
                .scalar_subquery(),
                select(func.count()).select_from(CartLine).where(col(CartLine.user_id) == buyer.id).scalar_subquery(),
                tiers_text(),
                first_photo_key(),
            )
            .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
            .where(col(Product.id) == product_id, buyer_visible(today))
        )
    ).one_or_none() or (None, None, 0, None, None)
    if product is None:
        raise NotFound(MSG_NO_PRODUCT)
    if in_cart is None and lines >= MAX_CART_LINES:
        raise ValidationFailed.single("quantity", MSG_CART_FULL)
    if add and in_cart:
        quantity += in_cart
    check_quantity(product, quantity)
    insert = upsert_insert(session)
    statement = insert(CartLine).values(user_id=buyer.id, product_id=product_id, quantity=quantity)
    await session.execute(
        statement.on_conflict_do_update(index_elements=["user_id", "product_id"], set_={"quantity": quantity})
    )
    item = _item(product, quantity, read_tiers(tiers), on_sale=True, thumb_key=thumb_key)
    return LineInCart(product=product, quantity=quantity, item=item)


async def set_line(*, session: AsyncSession, buyer: User, product_id: int, quantity: int, today: date) -> CartChange:
    """Set a product's quantity in the cart (as `set_quantity`), answered with that line and the cart's new
    totals: three statements, whatever the cart holds."""
    line = await set_quantity(session=session, buyer=buyer, product_id=product_id, quantity=quantity, today=today)
    return await _after_change(session=session, buyer=buyer, product_id=product_id, item=line.item, today=today)


async def change_quantity(
    *, session: AsyncSession, buyer: User, product_id: int, quantity: int, today: date
) -> CartChange:
    """A new quantity for a product in the cart (as `set_line`); 0 takes it out."""
    if quantity == 0:
        return await remove_line(session=session, buyer=buyer, product_id=product_id, today=today)
    return await set_line(session=session, buyer=buyer, product_id=product_id, quantity=quantity, today=today)


async def remove_line(*, session: AsyncSession, buyer: User, product_id: int, today: date) -> CartChange:
    """Take a product out of the cart (nothing happens when it is not there), answered with the cart's new
    totals: two statements."""
    await session.execute(
        delete(CartLine).where(col(CartLine.user_id) == buyer.id, col(CartLine.product_id) == product_id)
    )
    return await _after_change(session=session, buyer=buyer, product_id=product_id, item=None, today=today)


async def _after_change(
    *, session: AsyncSession, buyer: User, product_id: int, item: CartItem | None, today: date
) -> CartChange:
    """The cart's number of lines and total, and the subtotal of the changed product's vendor, in one statement
    that prices every line in SQL as `unit_price_for` does (the deepest tier its quantity reaches)."""
    # Its own product row, not the lines' (no correlation).
    changed_vendor = (
        select(col(Product.vendor_id)).where(col(Product.id) == product_id).correlate(None).scalar_subquery()
    )
    # A product taken off sale stays in the cart but counts for nothing, as in view_cart.
    counted = case(
        (buyer_visible(today), col(CartLine.quantity) * func.coalesce(_TIER_PRICE, col(Product.price))), else_=0
    )
    in_vendor = case((col(Product.vendor_id) == changed_vendor, counted), else_=0)
    # An empty list of bands is stored as the JSON text "[]".
    charging = case(
        (
            (col(Vendor.delivery_fee) + col(Vendor.min_order_value) > 0)
            | (cast(col(Vendor.delivery_fee_bands), String) != "[]"),
            1,
        ),
        else_=0,
    )
    line_count, total, vendor_subtotal, vendor_id, charges = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(counted), 0),
                func.coalesce(func.sum(in_vendor), 0),
                changed_vendor,
                func.coalesce(func.max(charging), 0),
            )
            .select_from(CartLine)
            .join(Product, col(Product.id) == col(CartLine.product_id))
            .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
            .where(col(CartLine.user_id) == buyer.id)
        )
    ).one()
    return CartChange(
        item=item,
        vendor_id=vendor_id,
        vendor_subtotal=vendor_subtotal,
        line_count=line_count,
        total=total,
        charges=bool(charges),
    )


def _item(
    product: Product, quantity: int, tiers: list[tuple[int, int]], *, on_sale: bool, thumb_key: str | None
) -> CartItem:
    return CartItem(
        product_id=product.id,
        name=product.name,
        unit=product.unit,
        fulfilment=product.fulfilment,
        quantity=quantity,
        min_order_qty=product.min_order_qty,
        base_price=product.price,
        unit_price=unit_price_for(product.price, tiers, quantity),
        on_sale=on_sale,
        thumb_key=thumb_key,
        tier_from=tier_from(tiers, quantity),
        product=product,
    )


async def take_all(*, session: AsyncSession, buyer: User) -> list[CartLine]:
    """Empty the buyer's cart and return what was in it, in one statement. A checkout consumes the cart this way
    before anything else: a second checkout of the same cart at the same moment (another tab, a tap sent again)
    waits on these rows until the first one ends, then finds the cart empty (or whole again, if the first one
    was refused and rolled back)."""
    rows = await session.execute(
        delete(CartLine)
        .where(col(CartLine.user_id) == buyer.id)
        .returning(col(CartLine.product_id), col(CartLine.quantity), col(CartLine.added_at))
    )
    return [
        CartLine(user_id=buyer.id, product_id=product_id, quantity=quantity, added_at=added_at)
        for product_id, quantity, added_at in rows
    ]


async def put_back(*, session: AsyncSession, lines: list[CartLine]) -> None:
    """Return lines taken by `take_all` to the cart, as they were."""
    if lines:
        await session.execute(insert(CartLine), [line.model_dump() for line in lines])


async def view_cart(*, session: AsyncSession, buyer: User, today: date) -> Cart:
    """The cart grouped by vendor with today's prices (one query, the tiers read along). A product taken off
    sale stays listed, marked, and counts for nothing."""
    rows = (
        await session.execute(
            select(
                col(CartLine.quantity),
                Product,
                Vendor,
                case((buyer_visible(today), True), else_=False),
                first_photo_key(),
                tiers_text(),
            )
            .join(Product, col(Product.id) == col(CartLine.product_id))
            .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
            .where(col(CartLine.user_id) == buyer.id)
            .order_by(col(Vendor.business_name), col(Vendor.id), col(CartLine.added_at), col(Product.id))
        )
    ).all()
    vendors: dict[int, CartVendor] = {}
    for quantity, product, vendor, on_sale, thumb_key, tiers in rows:
        group = vendors.setdefault(
            vendor.id, CartVendor(vendor_id=vendor.id, vendor_name=vendor.business_name, vendor=vendor)
        )
        group.items.append(_item(product, quantity, read_tiers(tiers), on_sale=bool(on_sale), thumb_key=thumb_key))
    return Cart(vendors=list(vendors.values()))


@dataclass
class CheckoutChoices:
    """Where a buyer may have the cart delivered (besides pickup, open to all) and how they may pay."""

    canteen: Organisation | None  # canteen staff: delivered to their canteen's address
    points: list[DeliveryPoint]  # a worker: the zone's open gates and dormitories
    payment_methods: list[PaymentMethod]
    place: DeliveryPlace | None = None  # the canteen's, where its orders go; None until a worker chooses


async def checkout_choices(
    *, session: AsyncSession, buyer: User, card_payments: bool, bank_transfers: bool, gateway_payments: bool = False
) -> CheckoutChoices:
    """A canteen's staff have orders brought to the canteen; a worker collects at a gate or dormitory; anyone may
    pick up. How they may pay is payments.methods' decision, from who they are and what is set up: card
    (`card_payments`), bank transfer to the platform (`bank_transfers`), QRIS and virtual accounts through the
    payment gateway (`gateway_payments`). One query."""
    canteen, place, points = None, None, []
    if buyer.role == Role.CANTEEN_STAFF:
        row = (await session.execute(canteen_with_zone(buyer))).one_or_none() if buyer.organisation_id else None
        if row is not None:
            canteen, place = row[0], canteen_place(*row)
    else:
        points = await zone_delivery_points(session=session, zone_id=buyer.zone_id)
    methods = offered(
        Offer(
            role=buyer.role,
            invoice_terms=canteen is not None and bool(canteen.invoice_terms_days),
            card=card_payments,
            bank_transfer=bank_transfers,
            gateway=gateway_payments,
        )
    )
    return CheckoutChoices(canteen=canteen, points=points, payment_methods=methods, place=place)


MSG_COLLEAGUE_ORDER = N_(
    "%(name)s of your canteen already has order %(number)s with %(vendor)s for this delivery. Check with them "
    "before ordering again; you can still place this order."
)


@dataclass
class CheckoutWarning:
    """Something a buyer should know before placing, that does not stop the order: a message id and its
    parameters, translated where it is shown."""

    code: str
    message: str
    params: dict[str, str]
    vendor_id: int
    order_id: int


async def colleague_order_warnings(
    *, session: AsyncSession, buyer: User, day: date, slot: time
) -> list[CheckoutWarning]:
    """For canteen staff: each order another member of the same canteen already has, still open, with a vendor of
    the buyer's cart for the same delivery day and slot (one query; none for anyone else)."""
    if buyer.role != Role.CANTEEN_STAFF or buyer.organisation_id is None:
        return []
    vendor_ids = (
        select(col(Product.vendor_id))
        .join(CartLine, col(CartLine.product_id) == col(Product.id))
        .where(col(CartLine.user_id) == buyer.id)
    )
    rows = await session.execute(
        select(Order, col(User.full_name), col(Vendor.business_name))
        .join(User, col(User.id) == col(Order.buyer_id))
        .join(Vendor, col(Vendor.id) == col(Order.vendor_id))
        .where(
            col(Order.organisation_id) == buyer.organisation_id,
            col(Order.buyer_id) != buyer.id,
            col(Order.vendor_id).in_(vendor_ids),
            col(Order.delivery_day) == day,
            col(Order.delivery_slot) == slot,
            col(Order.status).in_(OPEN_STATUSES),
        )
        .order_by(col(Order.id))
    )
    return [
        CheckoutWarning(
            code="colleague_order",
            message=MSG_COLLEAGUE_ORDER,
            params={"name": name, "number": order.number, "vendor": vendor_name},
            vendor_id=order.vendor_id,
            order_id=order.id,
        )
        for order, name, vendor_name in rows
    ]
