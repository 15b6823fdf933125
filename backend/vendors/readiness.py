"""The readiness path: what stands between a vendor and selling into the zone, step by step, with the next step in
plain words and where to get help.

`assess` is the rule, a pure function over what is known of the shop (`ReadinessFacts`) and `today`; the vendor's
home shows its summary, the readiness page and `GET /api/v1/vendor/readiness` the whole checklist. The facts are
read in the queries those pages already make: the profile with its reach (vendors.reach), the certificates, and a
few scalar subqueries carried by the query that reads the zone (`shop_fact_columns`).

The steps, in the order a vendor usually takes them: a business profile with its location; an NIB; for processed
food a P-IRT or BPOM number and a halal certificate; a product whose photo passed review (a live listing); a
delivery radius that reaches the zone's buyers; a first sale (an order delivered or completed).

Whether the food steps apply: a vendor with products sells food when any product is in a food category; one
without products yet is judged by the category the district register gave the business, and without that the food
steps are shown (most of the district's UMKM sell food), marked as applying to food only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import User, Zone
from backend.catalog.models import Category, ListingStatus, Product
from backend.certification.formats import CertificateKind
from backend.certification.models import Certificate, CertificateStatus
from backend.certification.service import counts_on
from backend.errors import N_
from backend.i18n import gettext
from backend.moderation.models import VendorInvitation
from backend.orders.models import Order, OrderStatus
from backend.orders.service import new_orders_count
from backend.vendors.help_contacts import ContactKind, HelpContact, kind_order
from backend.vendors.models import Vendor
from backend.vendors.reach import REACH_COLUMNS, Reach, reach_from_row, vendor_reach_columns, vendor_with_reach

FOOD_CATEGORIES = frozenset({Category.CATERING, Category.SNACKS, Category.FROZEN, Category.DRINKS})
SOLD = (OrderStatus.DELIVERED, OrderStatus.COMPLETED)

OSS_URL = "https://oss.go.id"
HALAL_URL = "https://ptsp.halal.go.id"


class StepKey(StrEnum):
    PROFILE = "profile"
    NIB = "nib"
    FOOD_PERMIT = "food_permit"
    HALAL = "halal"
    PHOTO = "photo"
    REACH = "reach"
    FIRST_SALE = "first_sale"


STEP_TITLES = {
    StepKey.PROFILE: N_("Business profile with your location"),
    StepKey.NIB: N_("NIB (business identity number)"),
    StepKey.FOOD_PERMIT: N_("P-IRT or BPOM number for processed food"),
    StepKey.HALAL: N_("Halal certificate"),
    StepKey.PHOTO: N_("A product photo that passed review"),
    StepKey.REACH: N_("A delivery radius that reaches buyers"),
    StepKey.FIRST_SALE: N_("Your first sale"),
}

# Who helps with each step: the zone's help contacts of these kinds are shown beside it.
STEP_HELP: dict[StepKey, tuple[ContactKind, ...]] = {
    StepKey.PROFILE: (ContactKind.PLUT, ContactKind.DINAS_UMKM),
    StepKey.NIB: (ContactKind.PLUT, ContactKind.DINAS_UMKM),
    StepKey.FOOD_PERMIT: (ContactKind.DINAS_HEALTH, ContactKind.PLUT),
    StepKey.HALAL: (ContactKind.HALAL_COMPANION, ContactKind.HALAL_CENTRE),
    StepKey.PHOTO: (ContactKind.PLUT, ContactKind.BLK, ContactKind.BBPVP),
    StepKey.REACH: (),
    StepKey.FIRST_SALE: (ContactKind.PLUT, ContactKind.DINAS_UMKM),
}

MSG_PROFILE_MISSING = N_(
    "Fill in your business profile: the business name, your WhatsApp number, where you are and how far you deliver. "
    "It takes about five minutes."
)
MSG_PROFILE_NO_LOCATION = N_("Add your location to the profile: buyers find vendors by distance.")
MSG_PROFILE_DONE = N_("Your business profile and location are filled in.")

MSG_NIB_MISSING = N_(
    "Register your business on OSS (oss.go.id). It is free: you need your KTP number, an email address and your "
    "phone, and the NIB comes at once. Then add it here with a photo of the NIB page."
)
MSG_FOOD_PERMIT_MISSING = N_(
    "Home-made processed food needs a P-IRT number: apply on OSS (oss.go.id) once you have your NIB; the Dinas "
    "Kesehatan gives the food-safety counselling it asks for. Food made in a factory needs a BPOM MD or ML number. "
    "Then add the number here with a photo."
)
MSG_HALAL_MISSING = N_(
    "A small food business can get its halal certificate free through SEHATI (self-declare). Register at "
    "ptsp.halal.go.id with your NIB; a halal process companion (PPH) visits, checks your ingredients and how you "
    "cook, and helps you fill in the form; BPJPH then issues the certificate. Add it here with a photo."
)
MSG_CERTIFICATE_WAITING = N_("Added: it counts once the zone manager has checked it.")
MSG_CERTIFICATE_REJECTED = N_("The zone manager refused it: open it to see why, correct it and send it again.")
MSG_CERTIFICATE_EXPIRED = N_("It has expired: add the renewed certificate.")
MSG_CERTIFICATE_DONE = N_("Verified and valid.")

MSG_PHOTO_NO_PRODUCTS = N_("Add a product with a clear photo and send it for review.")
MSG_PHOTO_DRAFTS = N_("Send your product for review: a manager checks the photo and the description.")
MSG_PHOTO_WAITING = N_("Your product is waiting for the zone manager's review.")
MSG_PHOTO_REJECTED = N_("A listing was refused: open it to see why, improve the photo or the text and send it again.")
MSG_PHOTO_DONE = N_("Buyers can see %(count)s of your products.")

MSG_REACH_NO_PROFILE = N_("Fill in your business profile first: the delivery radius is part of it.")

MSG_SALE_MISSING = N_(
    "Your first sale is done once a buyer's order is delivered. Answer new orders quickly and keep your daily "
    "capacity up to date."
)
MSG_SALE_DONE = N_("You have delivered an order. Well done!")

MSG_FOOD_ONLY = N_("For processed food only: skip this step if you do not sell food.")


@dataclass(frozen=True)
class ShopFacts:
    """What the query reading the zone also counts: the vendor's listings by status, food listings, whether an
    order was delivered, and the category the district register gave the business."""

    products: int = 0
    live: int = 0
    pending_review: int = 0
    rejected: int = 0
    food_products: int = 0
    first_sale: bool = False
    register_category: str | None = None


@dataclass(frozen=True)
class ReadinessFacts:
    """Everything `assess` reads: the profile (None before it is filled in), who its radius reaches, the
    vendor's certificates and the shop's counts."""

    vendor: Vendor | None
    reach: Reach | None
    certificates: Sequence[Certificate]
    shop: ShopFacts


@dataclass(frozen=True)
class Step:
    key: StepKey
    done: bool
    # What the vendor reads under the step's title: the next thing to do, or what was achieved. A message id and
    # its parameters, translated when read.
    message: str
    params: dict[str, Any] = field(default_factory=dict)
    # Where to do it: a page of ours, or the government's site.
    link: str | None = None
    food_only: bool = False

    @property
    def title(self) -> str:
        return gettext(STEP_TITLES[self.key])

    @property
    def text(self) -> str:
        return gettext(self.message, **self.params)

    @property
    def help_kinds(self) -> tuple[ContactKind, ...]:
        return STEP_HELP[self.key]


@dataclass(frozen=True)
class Readiness:
    steps: list[Step]

    @property
    def done_count(self) -> int:
        return sum(step.done for step in self.steps)

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def next_step(self) -> Step | None:
        """The first step not done yet: the one to take now."""
        return next((step for step in self.steps if not step.done), None)

    @property
    def ready(self) -> bool:
        return self.next_step is None


def sells_food(shop: ShopFacts) -> tuple[bool, bool]:
    """Whether the food steps apply, and whether that is only assumed (no products and no register category)."""
    if shop.products:
        return shop.food_products > 0, False
    if shop.register_category:
        return shop.register_category in FOOD_CATEGORIES, False
    return True, True


def _certificate_step(
    key: StepKey, kinds: set[CertificateKind], missing: str, facts: ReadinessFacts, today: date, link: str
) -> Step:
    held = [c for c in facts.certificates if c.kind in kinds]
    if any(counts_on(c, today) for c in held):
        return Step(key, True, MSG_CERTIFICATE_DONE)
    if any(c.status == CertificateStatus.UNVERIFIED and (c.expires_on is None or c.expires_on >= today) for c in held):
        return Step(key, False, MSG_CERTIFICATE_WAITING, link="/vendor/certificates")
    if any(c.expires_on is not None and c.expires_on < today for c in held):
        return Step(key, False, MSG_CERTIFICATE_EXPIRED, link="/vendor/certificates")
    if held:
        return Step(key, False, MSG_CERTIFICATE_REJECTED, link="/vendor/certificates")
    return Step(key, False, missing, link=link)


def _photo_step(shop: ShopFacts) -> Step:
    if shop.live:
        return Step(StepKey.PHOTO, True, MSG_PHOTO_DONE, {"count": shop.live})
    if shop.pending_review:
        return Step(StepKey.PHOTO, False, MSG_PHOTO_WAITING, link="/vendor/products")
    if shop.rejected:
        return Step(StepKey.PHOTO, False, MSG_PHOTO_REJECTED, link="/vendor/products")
    if shop.products:
        return Step(StepKey.PHOTO, False, MSG_PHOTO_DRAFTS, link="/vendor/products")
    return Step(StepKey.PHOTO, False, MSG_PHOTO_NO_PRODUCTS, link="/vendor/products/new")


def assess(facts: ReadinessFacts, *, today: date) -> Readiness:
    """The vendor's checklist as of `today` (certificates count while verified and not expired)."""
    vendor, shop = facts.vendor, facts.shop
    if vendor is None:
        profile = Step(StepKey.PROFILE, False, MSG_PROFILE_MISSING, link="/vendor/profile")
    elif vendor.latitude is None or vendor.longitude is None:
        profile = Step(StepKey.PROFILE, False, MSG_PROFILE_NO_LOCATION, link="/vendor/profile")
    else:
        profile = Step(StepKey.PROFILE, True, MSG_PROFILE_DONE)
    steps = [profile, _certificate_step(StepKey.NIB, {CertificateKind.NIB}, MSG_NIB_MISSING, facts, today, OSS_URL)]
    food, assumed = sells_food(shop)
    if food:
        permit = _certificate_step(
            StepKey.FOOD_PERMIT,
            {CertificateKind.PIRT, CertificateKind.BPOM},
            MSG_FOOD_PERMIT_MISSING,
            facts,
            today,
            OSS_URL,
        )
        halal = _certificate_step(StepKey.HALAL, {CertificateKind.HALAL}, MSG_HALAL_MISSING, facts, today, HALAL_URL)
        steps += [
            Step(step.key, step.done, step.message, step.params, step.link, food_only=assumed)
            for step in (permit, halal)
        ]
    steps.append(_photo_step(shop))
    if vendor is None or facts.reach is None:
        steps.append(Step(StepKey.REACH, False, MSG_REACH_NO_PROFILE, link="/vendor/profile"))
    else:
        reach = facts.reach
        message, params = reach.summary_message()
        # The profile fixes a missing location or a short radius; a suspension or a zone without delivery places
        # is not the vendor's to fix there.
        fixable = reach.active and not reach.reaches_any and (not reach.located or reach.nearest_km is not None)
        steps.append(Step(StepKey.REACH, reach.reaches_any, message, params, "/vendor/profile" if fixable else None))
    if shop.first_sale:
        steps.append(Step(StepKey.FIRST_SALE, True, MSG_SALE_DONE))
    else:
        steps.append(Step(StepKey.FIRST_SALE, False, MSG_SALE_MISSING, link="/vendor/orders"))
    return Readiness(steps)


# --- reading the facts -------------------------------------------------------------------------------------------


def shop_fact_columns(user_id: Any, vendor_id: Any | None) -> list[Any]:
    """The shop's counts as scalar subqueries (in `ShopFacts`' order), for the query that reads the zone to carry;
    the ids are numbers, or a vendor row's columns (then they follow the outer query's vendor)."""
    register_category = (
        select(col(VendorInvitation.category))
        .where(col(VendorInvitation.claimed_by_id) == user_id)
        .order_by(col(VendorInvitation.id))
        .limit(1)
        .scalar_subquery()
    )
    if vendor_id is None:
        zero = literal(0)
        return [zero, zero, zero, zero, zero, literal(False), register_category]

    def products(*conditions: ColumnElement[bool]) -> Any:
        return (
            select(func.count())
            .select_from(Product)
            .where(col(Product.vendor_id) == vendor_id, *conditions)
            .scalar_subquery()
        )

    sold = exists().where(and_(col(Order.vendor_id) == vendor_id, col(Order.status).in_(SOLD)))
    return [
        products(),
        products(col(Product.status) == ListingStatus.LIVE),
        products(col(Product.status) == ListingStatus.PENDING_REVIEW),
        products(col(Product.status) == ListingStatus.REJECTED),
        products(col(Product.category).in_(FOOD_CATEGORIES)),
        sold,
        register_category,
    ]


def _shop_facts(values: Sequence[Any]) -> ShopFacts:
    products, live, pending, rejected, food, sold, category = values
    return ShopFacts(
        products=products or 0,
        live=live or 0,
        pending_review=pending or 0,
        rejected=rejected or 0,
        food_products=food or 0,
        first_sale=bool(sold),
        register_category=category,
    )


async def zone_orders_and_facts(
    *, session: AsyncSession, user: User, vendor: Vendor | None
) -> tuple[Zone | None, int, ShopFacts]:
    """The vendor's zone, the orders waiting for their answer and the shop's facts, in one query (the vendor's
    home)."""
    waiting = new_orders_count(vendor.id) if vendor is not None else literal(0)
    zone_id = vendor.zone_id if vendor is not None else user.zone_id
    row = (
        await session.execute(
            select(Zone, waiting, *shop_fact_columns(user.id, vendor.id if vendor else None)).where(
                col(Zone.id) == zone_id
            )
        )
    ).one_or_none()
    if row is None:
        return None, 0, ShopFacts()
    return row[0], row[1] or 0, _shop_facts(row[2:])


@dataclass(frozen=True)
class ReadinessView:
    """The readiness page: the checklist, the zone and its help contacts."""

    readiness: Readiness
    vendor: Vendor | None
    zone: Zone | None
    contacts: list[HelpContact]

    def contacts_for(self, step: Step) -> list[HelpContact]:
        """The zone's contacts that help with this step, in the order of the step's kinds."""
        return [contact for kind in step.help_kinds for contact in self.contacts if contact.kind == kind]


async def vendor_readiness(*, session: AsyncSession, user: User, today: date) -> ReadinessView:
    """The vendor's checklist with the zone's help contacts, in three queries: the profile with its reach, the
    zone with the shop's facts and the help contacts, the certificates (none before the profile exists)."""
    found = await vendor_with_reach(session=session, user=user)
    vendor, reach = found if found is not None else (None, None)
    zone_id = vendor.zone_id if vendor is not None else user.zone_id
    columns = shop_fact_columns(user.id, vendor.id if vendor else None)
    rows = (
        await session.execute(
            select(Zone, *columns, HelpContact)
            .outerjoin(HelpContact, col(HelpContact.zone_id) == col(Zone.id))
            .where(col(Zone.id) == zone_id)
            .order_by(kind_order(), col(HelpContact.name), col(HelpContact.id))
        )
    ).all()
    zone = rows[0][0] if rows else None
    shop = _shop_facts(rows[0][1 : 1 + len(columns)]) if rows else ShopFacts()
    contacts = [row[-1] for row in rows if row[-1] is not None]
    certificates: list[Certificate] = []
    if vendor is not None:
        certificates = list(
            (await session.execute(select(Certificate).where(col(Certificate.vendor_id) == vendor.id))).scalars()
        )
    readiness = assess(ReadinessFacts(vendor, reach, certificates, shop), today=today)
    return ReadinessView(readiness, vendor, zone, contacts)


async def readiness_of_vendors(
    *, session: AsyncSession, vendors: Sequence[Vendor], today: date
) -> list[tuple[Vendor, Readiness]]:
    """Each vendor with their checklist (the manager's list of the zone's vendors), in two queries whatever the
    number of vendors: their reach and shop facts, their certificates."""
    ids = [vendor.id for vendor in vendors]
    if not ids:
        return []
    columns = [*vendor_reach_columns(), *shop_fact_columns(col(Vendor.user_id), col(Vendor.id))]
    rows = {
        row[0]: tuple(row[1:])
        for row in await session.execute(select(col(Vendor.id), *columns).where(col(Vendor.id).in_(ids)))
    }
    certificates: dict[int, list[Certificate]] = {vendor_id: [] for vendor_id in ids}
    for certificate in (
        await session.execute(select(Certificate).where(col(Certificate.vendor_id).in_(ids)))
    ).scalars():
        certificates[certificate.vendor_id].append(certificate)
    checklists = []
    for vendor in vendors:
        values = rows[vendor.id]
        reach = reach_from_row(vendor, values[:REACH_COLUMNS])
        facts = ReadinessFacts(vendor, reach, certificates[vendor.id], _shop_facts(values[REACH_COLUMNS:]))
        checklists.append((vendor, assess(facts, today=today)))
    return checklists
