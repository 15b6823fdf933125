"""Product rules: prices and tiers, capacity or stock, photos, certificates, and the listing states.

Listing states: draft → pending_review → live | rejected; live ⇄ paused. A change to the name, description,
category, photos or certificates of a live (or paused) listing never takes it off sale: it waits as a pending
revision (catalog.revisions) for a manager, while buyers keep seeing the approved version. Price, tiers, stock and
the other fields apply at once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from itertools import pairwise
from typing import Any

import anyio.to_thread
from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    String,
    and_,
    cast,
    delete,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from backend.access import ensure_access
from backend.accounts.models import User
from backend.catalog import revisions, searchtext
from backend.catalog.entries import refresh_entries
from backend.catalog.models import (
    MAX_PHOTOS,
    Fulfilment,
    ListingAction,
    ListingStatus,
    PriceTier,
    Product,
    ProductCertificate,
    ProductPhoto,
    ProductRevision,
    ProductRevisionPhoto,
    RevisionStatus,
)
from backend.catalog.schemas import ProductInput, ProductView
from backend.certification.models import Certificate, CertificateStatus
from backend.db import matched_rows
from backend.errors import N_, Conflict, FieldError, NotFound, ValidationFailed
from backend.media.images import ProcessedPhoto
from backend.media.storage import Storage, content_key
from backend.moderation.audit import record
from backend.vendors.models import Vendor, VendorStatus
from backend.vendors.service import ensure_active

MSG_NOT_FOUND = N_("This product does not exist.")
MSG_ILLEGAL_TRANSITION = N_("A listing that is %(current)s cannot become %(target)s.")
MSG_TOO_MANY_PHOTOS = N_("A product can have at most %(max)s photos.")
MSG_KEEP_ONE_PHOTO = N_("A listing on sale keeps at least one photo: add the new photo first, then remove this one.")
MSG_NO_PENDING_CHANGE = N_("This product has no change waiting for review.")
MSG_PHOTOS_CHANGED = N_(
    "The photos of this product changed since this page was opened: a change was sent for review or decided. "
    "Look at them again, then remove the one you meant."
)
MSG_UNKNOWN_PHOTO_SET = N_('Say whose photos these are: "product" or the id of the pending change.')
# Which photos a photo id was read from: the product's own (`PRODUCT_PHOTOS`), or a pending revision's, by its id.
PRODUCT_PHOTOS = "product"
PhotoSet = int | str


def photo_set(value: str) -> PhotoSet:
    """The set named by a form's or query's `photos_of`: "product", or a revision id."""
    if value == PRODUCT_PHOTOS:
        return PRODUCT_PHOTOS
    if value.isascii() and value.isdigit() and len(value) < 12:
        return int(value)
    raise ValidationFailed.single("photos_of", MSG_UNKNOWN_PHOTO_SET)


def _ensure_photos_unchanged(photos_of: PhotoSet | None, current: PhotoSet) -> None:
    """Photo ids are only meaningful within the set they were read from: the approved photos and a revision's
    copies of them have ids of their own, so an id from a page loaded before a change opened (or was decided) could
    name another photo. Refused, to be looked at again; None (an API client that does not say) takes the id in
    the set being edited now."""
    if photos_of is not None and photos_of != current:
        raise Conflict(MSG_PHOTOS_CHANGED)


# The one table of allowed listing transitions.
TRANSITIONS: dict[ListingStatus, frozenset[ListingStatus]] = {
    ListingStatus.DRAFT: frozenset({ListingStatus.PENDING_REVIEW}),
    ListingStatus.PENDING_REVIEW: frozenset({ListingStatus.LIVE, ListingStatus.REJECTED}),
    ListingStatus.LIVE: frozenset({ListingStatus.PAUSED, ListingStatus.PENDING_REVIEW}),
    ListingStatus.PAUSED: frozenset({ListingStatus.LIVE, ListingStatus.PENDING_REVIEW}),
    ListingStatus.REJECTED: frozenset({ListingStatus.PENDING_REVIEW}),
}
# Statuses in which buyers may already have seen the listing as approved.
APPROVED_STATUSES = frozenset({ListingStatus.LIVE, ListingStatus.PAUSED})
# The vendor's moves from each status: submit a draft or a rejected listing, pause a live one, resume a paused one.
VENDOR_ACTIONS: dict[ListingStatus, tuple[ListingAction, ...]] = {
    ListingStatus.DRAFT: (ListingAction.SUBMIT,),
    ListingStatus.PENDING_REVIEW: (),
    ListingStatus.LIVE: (ListingAction.PAUSE,),
    ListingStatus.PAUSED: (ListingAction.RESUME,),
    ListingStatus.REJECTED: (ListingAction.SUBMIT,),
}


def change_listing_status(product: Product, target: ListingStatus, *, now: datetime, reason: str = "") -> None:
    current = ListingStatus(product.status)
    if target not in TRANSITIONS[current]:
        raise Conflict(MSG_ILLEGAL_TRANSITION, params={"current": current.value, "target": target.value})
    product.status = target
    product.status_reason = reason
    product.updated_at = now
    if target == ListingStatus.PENDING_REVIEW:
        product.submitted_at = now
    if target in (ListingStatus.LIVE, ListingStatus.REJECTED) and current == ListingStatus.PENDING_REVIEW:
        product.reviewed_at = now


async def _check_rules(*, session: AsyncSession, vendor: Vendor, data: ProductInput) -> list[FieldError]:
    errors: list[FieldError] = []
    if data.fulfilment == Fulfilment.READY_STOCK and data.stock is None:
        errors.append(FieldError("stock", N_("Ready goods need a stock count.")))
    if data.fulfilment == Fulfilment.MADE_TO_ORDER and not vendor.daily_capacity:
        errors.append(
            FieldError(
                "fulfilment",
                N_("Made-to-order products use your daily capacity: set it in your business profile first."),
            )
        )
    if data.lead_time_hours is not None and data.order_cutoff is not None:
        errors.append(
            FieldError("lead_time_hours", N_("Choose either a lead time in hours or an order-before time, not both."))
        )
    tiers = data.tiers
    quantities = [tier.min_quantity for tier in tiers]
    prices = [tier.unit_price for tier in tiers]
    descending = all(
        later_q > earlier_q and later_p < earlier_p
        for (earlier_q, earlier_p), (later_q, later_p) in pairwise(zip(quantities, prices, strict=True))
    )
    if tiers and (not descending or prices[0] >= data.price):
        errors.append(
            FieldError(
                "tiers",
                N_(
                    "Each bulk tier needs a larger quantity and a lower price than the one before, "
                    "all below the normal price."
                ),
            )
        )
    if data.certificate_ids:
        owned = set(
            (
                await session.execute(
                    select(col(Certificate.id)).where(
                        col(Certificate.vendor_id) == vendor.id, col(Certificate.id).in_(data.certificate_ids)
                    )
                )
            ).scalars()
        )
        if owned != set(data.certificate_ids):
            errors.append(FieldError("certificate_ids", N_("Choose only your own certificates.")))
    return errors


async def create_product(*, session: AsyncSession, vendor: Vendor, data: ProductInput) -> Product:
    """A new product starts as a draft; the vendor submits it for review when it is ready."""
    ensure_active(vendor)
    errors = await _check_rules(session=session, vendor=vendor, data=data)
    if errors:
        raise ValidationFailed(errors)
    product = Product(vendor_id=vendor.id, **_product_fields(data))
    _set_search_words(product, vendor)
    session.add(product)
    await session.flush()
    _replace_tiers(session, product, data)
    for certificate_id in sorted(set(data.certificate_ids)):
        session.add(ProductCertificate(product_id=product.id, certificate_id=certificate_id))
    await session.flush()
    return product


MSG_STOCK_SOLD = N_("More was ordered while you edited: the stock cannot go that low. Look at it again.")


def _product_fields(data: ProductInput) -> dict[str, Any]:
    fields = data.model_dump(exclude={"tiers", "certificate_ids", "stock_seen"})
    if data.fulfilment == Fulfilment.MADE_TO_ORDER:
        fields["stock"] = None
    return fields


def _set_search_words(product: Product, vendor: Vendor) -> None:
    """What the catalogue's full-text index matches (the vendor's name is refreshed by vendors.save_profile)."""
    product.search_name = searchtext.fitted(product.name, 200)
    product.search_vendor = searchtext.fitted(vendor.business_name, 200)
    product.search_body = searchtext.product_body(product.description, product.category)


def _replace_tiers(session: AsyncSession, product: Product, data: ProductInput) -> None:
    for tier in data.tiers:
        session.add(PriceTier(product_id=product.id, min_quantity=tier.min_quantity, unit_price=tier.unit_price))


async def update_product(
    *, session: AsyncSession, vendor: Vendor, product_id: int, data: ProductInput, now: datetime
) -> Product:
    """Change a product. On an approved (live or paused) listing, the reviewed fields (name, description, category,
    certificates) go into its pending revision, opened when they first differ from the approved version, and the
    listing stays on sale as approved; everything else (price, tiers, stock, unit, lead time) applies at once."""
    ensure_active(vendor)
    product = await _own_product(session=session, vendor=vendor, product_id=product_id)
    errors = await _check_rules(session=session, vendor=vendor, data=data)
    if errors:
        raise ValidationFailed(errors)
    approved = product.status in APPROVED_STATUSES
    if approved:
        # One change to the listing's revision at a time (another tab, a photo upload, a manager's decision).
        product = await _lock_product(session=session, product=product, now=now)
        approved = product.status in APPROVED_STATUSES
    old_certificates = set((await _certificate_ids(session=session, product_ids=[product.id]))[product.id])
    fields = _product_fields(data)
    if approved:
        await _propose(session=session, product=product, fields=fields, data=data, old=old_certificates, now=now)
        for name in revisions.PROPOSED_FIELDS:
            del fields[name]
    stock_change = None
    if (
        product.fulfilment == Fulfilment.READY_STOCK
        and data.fulfilment == Fulfilment.READY_STOCK
        and data.stock is not None
        and data.stock_seen is not None
    ):
        # Orders take stock while the vendor edits: apply the vendor's change to what is left now.
        stock_change = data.stock - data.stock_seen
        del fields["stock"]
    for name, value in fields.items():
        setattr(product, name, value)
    _set_search_words(product, vendor)
    product.updated_at = now
    await session.execute(delete(PriceTier).where(col(PriceTier.product_id) == product.id))
    _replace_tiers(session, product, data)
    if not approved and old_certificates != set(data.certificate_ids):
        await session.execute(delete(ProductCertificate).where(col(ProductCertificate.product_id) == product.id))
        for certificate_id in sorted(set(data.certificate_ids)):
            session.add(ProductCertificate(product_id=product.id, certificate_id=certificate_id))
    session.add(product)
    await session.flush()
    if stock_change:
        changed = await session.execute(
            update(Product)
            .where(col(Product.id) == product.id, col(Product.stock) + stock_change >= 0)
            .values(stock=col(Product.stock) + stock_change)
            .returning(col(Product.stock))
        )
        left = changed.scalar_one_or_none()
        if left is None:
            raise ValidationFailed.single("stock", MSG_STOCK_SOLD)
        set_committed_value(product, "stock", left)
    await refresh_entries(session, product_ids=[product.id])
    return product


async def _propose(
    *,
    session: AsyncSession,
    product: Product,
    fields: dict[str, Any],
    data: ProductInput,
    old: set[int],
    now: datetime,
) -> None:
    """The reviewed fields of a change to an approved listing, into its pending revision (opened if they differ)."""
    revision = await revisions.pending_revision(session=session, product_id=product.id)
    differs = old != set(data.certificate_ids) or any(
        fields[name] != getattr(product, name) for name in revisions.PROPOSED_FIELDS
    )
    if revision is None and not differs:
        return
    if revision is None:
        revision = await revisions.open_revision(session=session, product=product, certificate_ids=sorted(old), now=now)
    if revisions.propose(revision, fields=fields, certificate_ids=data.certificate_ids, now=now):
        session.add(revision)


async def _revision_to_edit(*, session: AsyncSession, product: Product, now: datetime) -> ProductRevision:
    revision = await revisions.pending_revision(session=session, product_id=product.id)
    if revision is None:
        certificate_ids = (await _certificate_ids(session=session, product_ids=[product.id]))[product.id]
        revision = await revisions.open_revision(
            session=session, product=product, certificate_ids=certificate_ids, now=now
        )
    return revision


async def add_photo(
    *, session: AsyncSession, vendor: Vendor, product_id: int, photo: ProcessedPhoto, storage: Storage, now: datetime
) -> ProductPhoto | ProductRevisionPhoto:
    """Store a re-encoded photo after the others (up to five a product). On an approved listing the photo is
    added to its pending revision: buyers see it once a manager approves the change. Uploads arriving together are
    taken one after another, so the sixth is refused."""
    ensure_active(vendor)
    product = await _lock_for_photo_change(session=session, vendor=vendor, product_id=product_id, now=now)
    revision = None
    if product.status in APPROVED_STATUSES:
        revision = await _revision_to_edit(session=session, product=product, now=now)
        counted = select(func.count(col(ProductRevisionPhoto.id))).where(
            col(ProductRevisionPhoto.revision_id) == revision.id
        )
    else:
        counted = select(func.count(col(ProductPhoto.id))).where(col(ProductPhoto.product_id) == product.id)
    count = (await session.execute(counted)).scalar_one()
    if count >= MAX_PHOTOS:
        raise ValidationFailed.single("photo", MSG_TOO_MANY_PHOTOS, max=MAX_PHOTOS)
    thumb_key = content_key("products", photo.thumbnail.data, "webp")
    detail_key = content_key("products", photo.detail.data, "webp")
    await anyio.to_thread.run_sync(storage.save, thumb_key, photo.thumbnail.data)
    await anyio.to_thread.run_sync(storage.save, detail_key, photo.detail.data)
    # Positions have no gaps (remove_photo closes them), so the next free one is the count.
    width, height = photo.detail.width, photo.detail.height
    if revision is not None:
        proposed = ProductRevisionPhoto(
            revision_id=revision.id,
            position=count,
            thumb_key=thumb_key,
            detail_key=detail_key,
            width=width,
            height=height,
        )
        revision.updated_at = now
        session.add_all([proposed, revision])
        await session.flush()
        return proposed
    record = ProductPhoto(
        product_id=product.id, position=count, thumb_key=thumb_key, detail_key=detail_key, width=width, height=height
    )
    session.add(record)
    product.updated_at = now
    session.add(product)
    await refresh_entries(session, product_ids=[product.id])
    return record


async def remove_photo(
    *,
    session: AsyncSession,
    vendor: Vendor,
    product_id: int,
    photo_id: int,
    now: datetime,
    photos_of: PhotoSet | None = None,
) -> None:
    """Remove a photo; the ones after it move up a place, so the first photo is always at position 0. On an
    approved listing the photo is removed from its pending revision (`photo_id` is then one of the revision's
    photos, or an approved photo when no change is pending yet). `photos_of` says which of the two the id was read
    from; when that is no longer the set being edited, nothing is removed (Conflict)."""
    ensure_active(vendor)
    product = await _lock_for_photo_change(session=session, vendor=vendor, product_id=product_id, now=now)
    if product.status in APPROVED_STATUSES:
        await _remove_proposed_photo(session=session, product=product, photo_id=photo_id, now=now, photos_of=photos_of)
        return
    _ensure_photos_unchanged(photos_of, PRODUCT_PHOTOS)
    photo = await session.get(ProductPhoto, photo_id)
    if photo is None or photo.product_id != product.id:
        raise NotFound(N_("This photo does not exist."))
    # The stored files stay: keys are content hashes and another photo may share them.
    await session.delete(photo)
    await session.flush()
    later = (
        (
            await session.execute(
                select(ProductPhoto)
                .where(col(ProductPhoto.product_id) == product.id, col(ProductPhoto.position) > photo.position)
                .order_by(col(ProductPhoto.position))
            )
        )
        .scalars()
        .all()
    )
    for moved in later:
        # One at a time, into the place just freed: each position stays unique at every step.
        moved.position -= 1
        await session.flush()
    product.updated_at = now
    session.add(product)
    await refresh_entries(session, product_ids=[product.id])


async def _remove_proposed_photo(
    *, session: AsyncSession, product: Product, photo_id: int, now: datetime, photos_of: PhotoSet | None
) -> None:
    revision = await revisions.pending_revision(session=session, product_id=product.id)
    _ensure_photos_unchanged(photos_of, revision.id if revision is not None else PRODUCT_PHOTOS)
    if revision is None:
        approved_photo = await session.get(ProductPhoto, photo_id)
        if approved_photo is None or approved_photo.product_id != product.id:
            raise NotFound(N_("This photo does not exist."))
        revision = await revisions.open_revision(
            session=session,
            product=product,
            certificate_ids=(await _certificate_ids(session=session, product_ids=[product.id]))[product.id],
            now=now,
        )
        photos = (await revisions.revision_photos(session=session, revision_ids=[revision.id]))[revision.id]
        removed = next(photo for photo in photos if photo.position == approved_photo.position)
    else:
        photos = (await revisions.revision_photos(session=session, revision_ids=[revision.id]))[revision.id]
        found = next((photo for photo in photos if photo.id == photo_id), None)
        if found is None:
            raise NotFound(N_("This photo does not exist."))
        removed = found
    if len(photos) <= 1:
        raise ValidationFailed.single("photo", MSG_KEEP_ONE_PHOTO)
    await session.delete(removed)
    await session.flush()
    for moved in photos:
        if moved.position > removed.position:
            # One at a time, into the place just freed: each position stays unique at every step.
            moved.position -= 1
            await session.flush()
    revision.updated_at = now
    session.add(revision)


async def withdraw_revision(*, session: AsyncSession, vendor: Vendor, product_id: int, now: datetime) -> Product:
    """The vendor drops the change waiting for review; the approved version stays on sale as it is. A change a
    manager has decided meanwhile cannot be withdrawn."""
    product = await _own_product(session=session, vendor=vendor, product_id=product_id)
    revision = await revisions.pending_revision(session=session, product_id=product.id)
    if revision is None:
        raise Conflict(MSG_NO_PENDING_CHANGE)
    withdrawn = await session.execute(
        update(ProductRevision)
        .where(col(ProductRevision.id) == revision.id, col(ProductRevision.status) == RevisionStatus.PENDING)
        .values(status=RevisionStatus.WITHDRAWN, decided_at=now)
    )
    if matched_rows(withdrawn) != 1:
        raise Conflict(MSG_NO_PENDING_CHANGE)
    user = await session.get_one(User, vendor.user_id)
    await record(
        session,
        user,
        "revision.withdraw",
        product,
        vendor.zone_id,
        before={"revision": revision.id, "status": RevisionStatus.PENDING.value},
        after={"revision": revision.id, "status": RevisionStatus.WITHDRAWN.value},
    )
    return product


async def _lock_product(*, session: AsyncSession, product: Product, now: datetime) -> Product:
    """Write to the product first, so changes to it and its revision happen one after another until the
    transaction ends (the row lock on PostgreSQL, the one write lock on SQLite); read again under the lock."""
    await session.execute(update(Product).where(col(Product.id) == product.id).values(updated_at=now))
    await session.refresh(product)
    return product


async def _lock_for_photo_change(*, session: AsyncSession, vendor: Vendor, product_id: int, now: datetime) -> Product:
    """The vendor's product, written to first so that changes to its photos happen one after another until the
    transaction ends: the write takes the product's row lock on PostgreSQL, and SQLite's one write lock. Counting
    the photos after it sees every photo an earlier upload added; the unique position and the CHECK on it
    (position < 5) stand behind this."""
    product = await _own_product(session=session, vendor=vendor, product_id=product_id)
    # Read again under the lock: a manager's decision that went first may have changed the listing.
    return await _lock_product(session=session, product=product, now=now)


async def submit_for_review(*, session: AsyncSession, vendor: Vendor, product_id: int, now: datetime) -> Product:
    """Ask a market manager to review a draft or rejected listing; it needs a complete profile and a photo."""
    ensure_active(vendor)
    product = await _own_product(session=session, vendor=vendor, product_id=product_id)
    photos = (
        await session.execute(
            select(func.count(col(ProductPhoto.id))).where(col(ProductPhoto.product_id) == product.id)
        )
    ).scalar_one()
    errors = []
    if photos == 0:
        errors.append(FieldError("photo", N_("Add at least one photo before submitting.")))
    if vendor.latitude is None:
        errors.append(FieldError("_form", N_("Set your shop's location in the business profile before submitting.")))
    if errors:
        raise ValidationFailed(errors)
    change_listing_status(product, ListingStatus.PENDING_REVIEW, now=now)
    session.add(product)
    await refresh_entries(session, product_ids=[product.id])
    return product


async def pause_listing(*, session: AsyncSession, vendor: Vendor, product_id: int, now: datetime) -> Product:
    return await _vendor_transition(
        session=session, vendor=vendor, product_id=product_id, target=ListingStatus.PAUSED, now=now
    )


async def resume_listing(*, session: AsyncSession, vendor: Vendor, product_id: int, now: datetime) -> Product:
    ensure_active(vendor)
    return await _vendor_transition(
        session=session, vendor=vendor, product_id=product_id, target=ListingStatus.LIVE, now=now
    )


async def _vendor_transition(
    *, session: AsyncSession, vendor: Vendor, product_id: int, target: ListingStatus, now: datetime
) -> Product:
    product = await _own_product(session=session, vendor=vendor, product_id=product_id)
    change_listing_status(product, target, now=now)
    session.add(product)
    await refresh_entries(session, product_ids=[product.id])
    return product


async def _own_product(*, session: AsyncSession, vendor: Vendor, product_id: int) -> Product:
    product = await session.get(Product, product_id)
    ensure_access(product, vendor, MSG_NOT_FOUND)
    assert product is not None
    return product


async def _certificate_ids(*, session: AsyncSession, product_ids: list[int]) -> dict[int, list[int]]:
    rows = await session.execute(
        select(col(ProductCertificate.product_id), col(ProductCertificate.certificate_id))
        .where(col(ProductCertificate.product_id).in_(product_ids))
        .order_by(col(ProductCertificate.certificate_id))
    )
    by_product: dict[int, list[int]] = defaultdict(list)
    for product_id, certificate_id in rows:
        by_product[product_id].append(certificate_id)
    return by_product


async def _views(
    *,
    session: AsyncSession,
    products: list[Product],
    certificate_ids: dict[int, list[int]] | None = None,
    tiers: dict[int, list[PriceTier]] | None = None,
    shown: dict[int, ProductRevision | None] | None = None,
) -> list[ProductView]:
    """Tiers, photos (the approved ones and a pending revision's, together), certificates and the revision the
    vendor reads about (pending, or the latest rejected) for many products in at most four queries, whatever their
    number: one when the products' certificate ids, tiers and revisions to show came with them."""
    ids = [product.id for product in products]
    if not ids:
        return []
    if tiers is None:
        tiers = defaultdict(list)
        for tier in (
            await session.execute(
                select(PriceTier).where(col(PriceTier.product_id).in_(ids)).order_by(col(PriceTier.min_quantity))
            )
        ).scalars():
            tiers[tier.product_id].append(tier)
    if shown is None:
        shown = dict(await revisions.revisions_to_show(session=session, product_ids=ids))
    pending = {
        product_id: revision
        for product_id, revision in shown.items()
        if revision is not None and revision.status == RevisionStatus.PENDING
    }
    revision_of = {revision.id: product_id for product_id, revision in pending.items()}
    photos, proposed = await _photos(session=session, product_ids=ids, revision_of=revision_of)
    certificates = (
        certificate_ids if certificate_ids is not None else await _certificate_ids(session=session, product_ids=ids)
    )
    views = []
    for product in products:
        view = _view(product, tiers[product.id], photos[product.id], certificates.get(product.id, []))
        view.revision = pending.get(product.id)
        view.revision_photos = proposed[product.id]
        rejected = shown.get(product.id)
        view.rejected_revision = rejected if rejected is not None and rejected is not view.revision else None
        views.append(view)
    return views


async def _photos(
    *, session: AsyncSession, product_ids: list[int], revision_of: dict[int, int]
) -> tuple[dict[int, list[ProductPhoto]], dict[int, list[ProductRevisionPhoto]]]:
    """The products' approved photos and their pending revisions' proposed photos (`revision_of`: revision id to
    product id), each by product id and in order, in one query (read-only copies when revisions are pending)."""
    approved: dict[int, list[ProductPhoto]] = defaultdict(list)
    proposed: dict[int, list[ProductRevisionPhoto]] = defaultdict(list)
    if not revision_of:
        for photo in (
            await session.execute(
                select(ProductPhoto)
                .where(col(ProductPhoto.product_id).in_(product_ids))
                .order_by(col(ProductPhoto.position))
            )
        ).scalars():
            approved[photo.product_id].append(photo)
        return approved, proposed
    shared = ("id", "position", "thumb_key", "detail_key", "width", "height", "created_at")
    rows = await session.execute(
        union_all(
            select(
                col(ProductPhoto.product_id).label("owner"),
                literal(False).label("proposed"),
                *(getattr(ProductPhoto, name) for name in shared),
            ).where(col(ProductPhoto.product_id).in_(product_ids)),
            select(
                col(ProductRevisionPhoto.revision_id).label("owner"),
                literal(True).label("proposed"),
                *(getattr(ProductRevisionPhoto, name) for name in shared),
            ).where(col(ProductRevisionPhoto.revision_id).in_(list(revision_of))),
        )
    )
    for row in sorted(rows.mappings(), key=lambda row: row["position"]):
        fields = {name: row[name] for name in shared}
        if row["proposed"]:
            revision_id = row["owner"]
            proposed[revision_of[revision_id]].append(ProductRevisionPhoto(revision_id=revision_id, **fields))
        else:
            approved[row["owner"]].append(ProductPhoto(product_id=row["owner"], **fields))
    return approved, proposed


def _view(
    product: Product, tiers: list[PriceTier], photos: list[ProductPhoto], certificate_ids: list[int]
) -> ProductView:
    status = ListingStatus(product.status)
    return ProductView(
        product=product,
        tiers=tiers,
        photos=photos,
        certificate_ids=certificate_ids,
        actions=list(VENDOR_ACTIONS[status]),
        changes_are_reviewed=status in APPROVED_STATUSES,
    )


def _certificate_ids_text() -> ScalarSelect[str | None]:
    """The ids of the certificates a product relies on as one text, "3,7" (SQL, correlated with Product; null
    without any), so the statement that reads products brings them along."""
    return (
        select(func.aggregate_strings(cast(col(ProductCertificate.certificate_id), String), ","))
        .where(col(ProductCertificate.product_id) == col(Product.id))
        .scalar_subquery()
    )


def _tiers_text() -> ScalarSelect[str | None]:
    """A product's bulk tiers as one text, "50:14000,200:13000" (SQL, correlated with Product; null without)."""
    return (
        select(
            func.aggregate_strings(
                cast(col(PriceTier.min_quantity), String) + ":" + cast(col(PriceTier.unit_price), String), ","
            )
        )
        .where(col(PriceTier.product_id) == col(Product.id))
        .scalar_subquery()
    )


def _tiers(product_id: int, text: str | None) -> list[PriceTier]:
    """The tiers `_tiers_text` wrote, smallest quantity first (read-only copies: a change goes through
    `update_product`)."""
    pairs = sorted(tuple(int(part) for part in tier.split(":")) for tier in text.split(",")) if text else []
    return [PriceTier(product_id=product_id, min_quantity=quantity, unit_price=price) for quantity, price in pairs]


def _revision_to_show() -> ColumnElement[bool]:
    """The product's latest revision when it is pending or rejected (see revisions.revisions_to_show), as the
    condition of an outer join on Product: at most one row a product."""
    latest = (
        select(func.max(col(ProductRevision.id)))
        .where(col(ProductRevision.product_id) == col(Product.id))
        .correlate(Product)
        .scalar_subquery()
    )
    return and_(
        col(ProductRevision.product_id) == col(Product.id),
        col(ProductRevision.id) == latest,
        col(ProductRevision.status).in_([RevisionStatus.PENDING, RevisionStatus.REJECTED]),
    )


def _ids(text: str | None) -> list[int]:
    return sorted(int(number) for number in text.split(",")) if text else []


async def list_products(*, session: AsyncSession, vendor: Vendor) -> list[ProductView]:
    """The vendor's products, newest change first, in three queries: the products bring their certificate ids and
    tiers, then their photos, then any pending revisions with theirs."""
    rows = (
        await session.execute(
            select(Product, _certificate_ids_text(), _tiers_text(), ProductRevision)
            .outerjoin(ProductRevision, _revision_to_show())
            .where(col(Product.vendor_id) == vendor.id)
            .order_by(col(Product.updated_at).desc(), col(Product.id).desc())
        )
    ).all()
    return await _views(
        session=session,
        products=[product for product, *_ in rows],
        certificate_ids={product.id: _ids(certificates) for product, certificates, *_ in rows},
        tiers={product.id: _tiers(product.id, tiers) for product, _, tiers, _ in rows},
        shown={product.id: revision for product, *_, revision in rows},
    )


async def count_listings_by_status(*, session: AsyncSession, vendor: Vendor) -> dict[str, int]:
    rows = await session.execute(
        select(col(Product.status), func.count(col(Product.id)))
        .where(col(Product.vendor_id) == vendor.id)
        .group_by(col(Product.status))
    )
    return dict(rows.all())


async def get_product(*, session: AsyncSession, vendor: Vendor, product_id: int) -> ProductView:
    """One of the vendor's own products with its tiers, photos, certificate ids and pending revision, in three
    queries; another vendor's (or no) product is not found."""
    row = (
        await session.execute(
            select(Product, _certificate_ids_text(), _tiers_text(), ProductRevision)
            .outerjoin(ProductRevision, _revision_to_show())
            .where(col(Product.id) == product_id)
        )
    ).one_or_none()
    product = row[0] if row is not None else None
    ensure_access(product, vendor, MSG_NOT_FOUND)
    assert row is not None and product is not None
    views = await _views(
        session=session,
        products=[product],
        certificate_ids={product.id: _ids(row[1])},
        tiers={product.id: _tiers(product.id, row[2])},
        shown={product.id: row[3]},
    )
    return views[0]


def first_photo_key() -> ScalarSelect[str]:
    """The thumbnail key of a product's first photo, as SQL (correlated with Product); null without photos."""
    return (
        select(col(ProductPhoto.thumb_key))
        .where(col(ProductPhoto.product_id) == col(Product.id))
        .order_by(col(ProductPhoto.position), col(ProductPhoto.id))
        .limit(1)
        .scalar_subquery()
    )


def buyer_visible(today: date) -> ColumnElement[bool]:
    """The rule for what buyers see, as SQL (the query must join Vendor on Product.vendor_id):
    approved (live), the vendor active, and every certificate the listing relies on verified and
    unexpired today. A certificate stops counting the day after its expiry date."""
    # An uncorrelated set, built once per query: a per-product NOT EXISTS costs a lookup for each of tens of
    # thousands of candidate products (bench/catalogue_search.py).
    relying_on_a_failing_certificate = (
        select(col(ProductCertificate.product_id))
        .join(Certificate, col(Certificate.id) == col(ProductCertificate.certificate_id))
        .where(
            or_(
                col(Certificate.status) != CertificateStatus.VERIFIED,
                and_(col(Certificate.expires_on).is_not(None), col(Certificate.expires_on) < today),
            )
        )
    )
    return and_(
        col(Product.status) == ListingStatus.LIVE,
        col(Vendor.status) == VendorStatus.ACTIVE,
        col(Product.id).not_in(relying_on_a_failing_certificate),
    )


async def visible_product_ids(*, session: AsyncSession, today: date, product_ids: list[int] | None = None) -> set[int]:
    query = select(col(Product.id)).join(Vendor, col(Vendor.id) == col(Product.vendor_id)).where(buyer_visible(today))
    if product_ids is not None:
        query = query.where(col(Product.id).in_(product_ids))
    return set((await session.execute(query)).scalars())
