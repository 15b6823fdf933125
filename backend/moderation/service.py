"""Manager decisions: the review queue, approve or reject listings, verify certificates, suspend
vendors, handle buyers' reports, and the daily certificate expiry job.

Managers act within their own zone; admins act everywhere. An object outside the actor's reach is
reported as not found. Every decision is written to the audit log in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Result, Select, and_, exists, func, literal, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Role, User
from backend.catalog.entries import refresh_entries
from backend.catalog.models import (
    CatalogueEntry,
    ListingStatus,
    Product,
    ProductCertificate,
    ProductPhoto,
    ProductRevision,
    ProductRevisionPhoto,
    RevisionStatus,
)
from backend.catalog.revisions import apply_revision
from backend.catalog.service import change_listing_status
from backend.certification.formats import CertificateKind
from backend.certification.models import Certificate, CertificateStatus
from backend.db import matched_rows, upsert_insert
from backend.errors import N_, Conflict, NotFound, ValidationFailed
from backend.i18n import gettext
from backend.moderation.audit import record
from backend.moderation.models import CertificateNotice, ListingReport, ReportKind
from backend.notifications.service import notify
from backend.orders.service import warn_buyers_of_suspension
from backend.training import service as training
from backend.vendors.models import Vendor, VendorStatus
from backend.vendors.reach import places_text, vendor_reach

MSG_LISTING_NOT_FOUND = N_("This listing does not exist.")
MSG_CERTIFICATE_NOT_FOUND = N_("This certificate does not exist.")
MSG_VENDOR_NOT_FOUND = N_("This vendor does not exist.")
MSG_REPORT_NOT_FOUND = N_("This report does not exist.")
MSG_REASON_REQUIRED = N_("Write the reason: the vendor reads it.")
MSG_REPORT_KIND = N_("Choose what is wrong.")
MSG_NOT_PENDING = N_("This listing is not waiting for review any more.")
MSG_NOT_UNVERIFIED = N_("This certificate was already decided.")
MSG_CHANGE_NOT_FOUND = N_("This change does not exist.")
MSG_CHANGE_DECIDED = N_("This change is not waiting for review any more.")
MSG_CHANGE_CHANGED = N_("The vendor changed this meanwhile: look at it again before deciding.")
WARNING_DAYS = (30, 7)


def may_moderate(actor: User, zone_id: int) -> bool:
    return actor.role == Role.ADMIN or (actor.role == Role.MANAGER and actor.zone_id == zone_id)


SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])


def _in_moderated_zone(query: SelectT, actor: User) -> SelectT:
    """Only the rows of vendors in the actor's zone, unless the actor is an admin (who moderates every zone)."""
    return query if actor.role == Role.ADMIN else query.where(col(Vendor.zone_id) == actor.zone_id)


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not 3 <= len(reason) <= 500:
        raise ValidationFailed.single("reason", MSG_REASON_REQUIRED)
    return reason


VendorOwnedT = TypeVar("VendorOwnedT", Product, Certificate)


async def _with_vendor(
    *, session: AsyncSession, actor: User, table: type[VendorOwnedT], row_id: int, missing: str
) -> tuple[VendorOwnedT, Vendor]:
    """A vendor's listing or certificate with its vendor, when the actor moderates the vendor's zone; not found
    (`missing` says what) otherwise."""
    row = (
        await session.execute(
            select(table, Vendor).join(Vendor, col(Vendor.id) == col(table.vendor_id)).where(col(table.id) == row_id)
        )
    ).first()
    if row is None or not may_moderate(actor, row[1].zone_id):
        raise NotFound(missing)
    return row[0], row[1]


async def _product_and_vendor(*, session: AsyncSession, actor: User, product_id: int) -> tuple[Product, Vendor]:
    return await _with_vendor(
        session=session, actor=actor, table=Product, row_id=product_id, missing=MSG_LISTING_NOT_FOUND
    )


@dataclass(frozen=True)
class Workload:
    listings_to_review: int
    certificates_to_verify: int
    open_reports: int
    changes_to_review: int = 0


async def workload(*, session: AsyncSession, actor: User) -> Workload:
    """How much waits for the actor's decision, in one query."""

    def in_zone(query: Any) -> Any:
        return query if actor.role == Role.ADMIN else query.where(col(Vendor.zone_id) == actor.zone_id)

    listings = in_zone(
        select(func.count(col(Product.id)))
        .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
        .where(col(Product.status) == ListingStatus.PENDING_REVIEW)
    ).scalar_subquery()
    changes = in_zone(
        select(func.count(col(ProductRevision.id)))
        .join(Product, col(Product.id) == col(ProductRevision.product_id))
        .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
        .where(col(ProductRevision.status) == RevisionStatus.PENDING)
    ).scalar_subquery()
    certificates = in_zone(
        select(func.count(col(Certificate.id)))
        .join(Vendor, col(Vendor.id) == col(Certificate.vendor_id))
        .where(col(Certificate.status) == CertificateStatus.UNVERIFIED)
    ).scalar_subquery()
    reports = in_zone(
        select(func.count(col(ListingReport.id)))
        .join(Product, col(Product.id) == col(ListingReport.product_id))
        .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
        .where(col(ListingReport.status) == "open")
    ).scalar_subquery()
    row = (await session.execute(select(listings, certificates, reports, changes))).one()
    return Workload(*row)


# --- the review queue ---------------------------------------------------------------------------------


@dataclass
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass
class QueueItem:
    product: Product
    vendor: Vendor
    photos: list[ProductPhoto]
    certificates: list[Certificate]
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def first_review(self) -> bool:
        return self.product.approved_snapshot is None


def _snapshot(product: Product, photos: list[ProductPhoto], certificate_ids: list[int]) -> dict[str, Any]:
    """What a manager approves: the fields whose later change needs another review."""
    return {
        "name": product.name,
        "category": product.category,
        "photos": [photo.detail_key for photo in photos],
        "certificate_ids": sorted(certificate_ids),
    }


def _changes(snapshot: dict[str, Any] | None, current: dict[str, Any]) -> list[FieldChange]:
    if snapshot is None:
        return []
    return [
        FieldChange(name, snapshot.get(name), value) for name, value in current.items() if snapshot.get(name) != value
    ]


async def review_queue(*, session: AsyncSession, actor: User, limit: int = 50) -> list[QueueItem]:
    """Listings waiting for review in the actor's zone, oldest first, with photos, certificates and what
    changed since the last approval. A fixed number of queries, whatever the queue's length."""
    query = (
        select(Product, Vendor)
        .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
        .where(col(Product.status) == ListingStatus.PENDING_REVIEW)
        .order_by(col(Product.submitted_at), col(Product.id))
        .limit(limit)
    )
    query = _in_moderated_zone(query, actor)
    rows = (await session.execute(query)).all()
    ids = [product.id for product, _ in rows]
    photos: dict[int, list[ProductPhoto]] = {product_id: [] for product_id in ids}
    certificates: dict[int, list[Certificate]] = {product_id: [] for product_id in ids}
    if ids:
        for photo in (
            await session.execute(
                select(ProductPhoto).where(col(ProductPhoto.product_id).in_(ids)).order_by(col(ProductPhoto.position))
            )
        ).scalars():
            photos[photo.product_id].append(photo)
        for product_id, certificate in (
            await session.execute(
                select(col(ProductCertificate.product_id), Certificate)
                .join(Certificate, col(Certificate.id) == col(ProductCertificate.certificate_id))
                .where(col(ProductCertificate.product_id).in_(ids))
                .order_by(col(Certificate.kind))
            )
        ).all():
            certificates[product_id].append(certificate)
    items = []
    for product, vendor in rows:
        current = _snapshot(product, photos[product.id], [c.id for c in certificates[product.id]])
        items.append(
            QueueItem(
                product,
                vendor,
                photos[product.id],
                certificates[product.id],
                _changes(product.approved_snapshot, current),
            )
        )
    return items


# What the vendor is told of each decision (their inbox and a push); a reason is the manager's own words.
NOTE_LISTING_APPROVED = N_("%(product)s was approved and is on sale to buyers within your delivery radius.")
NOTE_LISTING_REJECTED = N_("%(product)s was not approved: %(reason)s")
NOTE_CERTIFICATE_VERIFIED = N_("Your certificate %(number)s was verified: its badge shows on your products.")
NOTE_CERTIFICATE_REJECTED = N_("Your certificate %(number)s was refused: %(reason)s")
NOTE_SUSPENDED = N_("Your shop was suspended: %(reason)s Buyers cannot see your products until it is reinstated.")
NOTE_REINSTATED = N_("Your shop was reinstated: buyers can see your live products again.")


async def _tell_vendor(
    session: AsyncSession, vendor: Vendor, message: str, url: str, now: datetime, **params: object
) -> None:
    await notify(session=session, user_ids={vendor.user_id}, message=message, params=params, url=url, now=now)


async def approve_listing(*, session: AsyncSession, actor: User, product_id: int, now: datetime) -> Product:
    """Approve a listing. Buyers see it once its vendor is active and its certificates count."""
    product, vendor = await _product_and_vendor(session=session, actor=actor, product_id=product_id)
    if product.status != ListingStatus.PENDING_REVIEW:
        raise Conflict(MSG_NOT_PENDING)
    photos = list(
        (
            await session.execute(
                select(ProductPhoto)
                .where(col(ProductPhoto.product_id) == product.id)
                .order_by(col(ProductPhoto.position))
            )
        ).scalars()
    )
    certificate_ids = list(
        (
            await session.execute(
                select(col(ProductCertificate.certificate_id)).where(col(ProductCertificate.product_id) == product.id)
            )
        ).scalars()
    )
    before = product.approved_snapshot
    change_listing_status(product, ListingStatus.LIVE, now=now)
    product.approved_snapshot = _snapshot(product, photos, certificate_ids)
    session.add(product)
    await refresh_entries(session, product_ids=[product.id])
    await record(
        session, actor, "listing.approve", product, vendor.zone_id, before=before, after=product.approved_snapshot
    )
    await _tell_vendor(
        session, vendor, NOTE_LISTING_APPROVED, f"/vendor/products/{product.id}", now, product=product.name
    )
    return product


MSG_NOW_ON_SALE = N_("%(product)s is now on sale to %(places)s.")
MSG_REACHES_NOBODY = N_(
    "%(product)s is approved, but no buyer sees it: its vendor's delivery radius reaches none of the zone's "
    "canteens, gates or dormitories. The vendor is shown how to fix it."
)
MSG_WAITS_FOR_CERTIFICATES = N_("%(product)s is approved: buyers see it once its certificates are verified.")


@dataclass(frozen=True)
class ApprovalOutcome:
    """What buyers see of a listing just approved: whether it is in the catalogue, and which of the zone's
    delivery places its vendor reaches."""

    product: str
    on_sale: bool
    canteens: int
    gates: int
    dormitories: int

    @property
    def reaches_any(self) -> bool:
        return self.canteens + self.gates + self.dormitories > 0

    def message(self) -> str:
        if not self.on_sale:
            return gettext(MSG_WAITS_FOR_CERTIFICATES, product=self.product)
        if not self.reaches_any:
            return gettext(MSG_REACHES_NOBODY, product=self.product)
        return gettext(
            MSG_NOW_ON_SALE, product=self.product, places=places_text(self.canteens, self.gates, self.dormitories)
        )


async def approval_outcome(*, session: AsyncSession, product: Product) -> ApprovalOutcome:
    """What buyers see of `product` now (after `approve_listing`), for the manager's message: two queries."""
    vendor = await session.get_one(Vendor, product.vendor_id)
    on_sale = (await session.execute(select(exists().where(col(CatalogueEntry.product_id) == product.id)))).scalar_one()
    reach = await vendor_reach(session=session, vendor=vendor)
    return ApprovalOutcome(product.name, bool(on_sale), reach.canteens, reach.gates, reach.dormitories)


async def next_listing_to_review(*, session: AsyncSession, actor: User) -> int | None:
    """The listing the queue shows first now: where the manager goes on after a decision."""
    query = (
        select(col(Product.id))
        .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
        .where(col(Product.status) == ListingStatus.PENDING_REVIEW)
        .order_by(col(Product.submitted_at), col(Product.id))
        .limit(1)
    )
    return (await session.execute(_in_moderated_zone(query, actor))).scalar_one_or_none()


async def next_certificate_to_verify(*, session: AsyncSession, actor: User) -> int | None:
    """The certificate the list shows first now: where the manager goes on after a decision."""
    query = (
        select(col(Certificate.id))
        .join(Vendor, col(Vendor.id) == col(Certificate.vendor_id))
        .where(col(Certificate.status) == CertificateStatus.UNVERIFIED)
        .order_by(col(Certificate.updated_at), col(Certificate.id))
        .limit(1)
    )
    return (await session.execute(_in_moderated_zone(query, actor))).scalar_one_or_none()


async def reject_listing(*, session: AsyncSession, actor: User, product_id: int, reason: str, now: datetime) -> Product:
    """Reject a listing with a reason the vendor reads; the vendor can fix it and submit again."""
    reason = _reason(reason)
    product, vendor = await _product_and_vendor(session=session, actor=actor, product_id=product_id)
    if product.status != ListingStatus.PENDING_REVIEW:
        raise Conflict(MSG_NOT_PENDING)
    change_listing_status(product, ListingStatus.REJECTED, reason=reason, now=now)
    session.add(product)
    await refresh_entries(session, product_ids=[product.id])
    before, after = {"status": ListingStatus.PENDING_REVIEW.value}, {"status": product.status}
    await record(session, actor, "listing.reject", product, vendor.zone_id, reason=reason, before=before, after=after)
    url = f"/vendor/products/{product.id}"
    await _tell_vendor(session, vendor, NOTE_LISTING_REJECTED, url, now, product=product.name, reason=reason)
    return product


# --- changes to live listings (pending revisions) -----------------------------------------------------

NOTE_CHANGE_APPROVED = N_("Your change to %(product)s was approved: buyers now see it.")
NOTE_CHANGE_REJECTED = N_("Your change to %(product)s was not approved: %(reason)s It stays on sale as it was.")


@dataclass(frozen=True)
class PhotoFile:
    thumb_key: str
    detail_key: str


@dataclass
class RevisionChange:
    """One reviewed field, before (on sale now) and after (proposed): text for name and description, a category
    code, a list of Certificate rows, or a list of PhotoFile."""

    field: str
    before: Any
    after: Any


@dataclass
class RevisionItem:
    revision: ProductRevision
    product: Product
    vendor: Vendor
    changes: list[RevisionChange]


async def revisions_to_review(*, session: AsyncSession, actor: User, limit: int = 50) -> list[RevisionItem]:
    """Changes to approved listings waiting for review in the actor's zone, oldest first, each field that changed
    as before and after (photos and certificates as what they are, not counts). Four queries, whatever the
    number of changes."""
    query = (
        select(ProductRevision, Product, Vendor)
        .join(Product, col(Product.id) == col(ProductRevision.product_id))
        .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
        .where(col(ProductRevision.status) == RevisionStatus.PENDING)
        .order_by(col(ProductRevision.submitted_at), col(ProductRevision.id))
        .limit(limit)
    )
    rows = (await session.execute(_in_moderated_zone(query, actor))).all()
    if not rows:
        return []
    product_ids = [product.id for _, product, _ in rows]
    revision_ids = [revision.id for revision, _, _ in rows]
    # The approved photos and the proposed ones in one statement: ("p", product id) or ("r", revision id).
    photo_rows: Result[Any] = await session.execute(
        union_all(
            select(
                literal("p").label("owner"),
                col(ProductPhoto.product_id).label("owner_id"),
                col(ProductPhoto.position),
                col(ProductPhoto.thumb_key),
                col(ProductPhoto.detail_key),
            ).where(col(ProductPhoto.product_id).in_(product_ids)),
            select(
                literal("r"),
                col(ProductRevisionPhoto.revision_id),
                col(ProductRevisionPhoto.position),
                col(ProductRevisionPhoto.thumb_key),
                col(ProductRevisionPhoto.detail_key),
            ).where(col(ProductRevisionPhoto.revision_id).in_(revision_ids)),
        )
    )
    photos: dict[tuple[str, int], list[tuple[int, PhotoFile]]] = {}
    for row in photo_rows:
        photos.setdefault((row.owner, row.owner_id), []).append(
            (row.position, PhotoFile(row.thumb_key, row.detail_key))
        )
    # Every certificate of these vendors (a revision may name any of its vendor's own), with the products among
    # these that rely on it now.
    certificate_rows = await session.execute(
        select(Certificate, col(ProductCertificate.product_id))
        .outerjoin(
            ProductCertificate,
            and_(
                col(ProductCertificate.certificate_id) == col(Certificate.id),
                col(ProductCertificate.product_id).in_(product_ids),
            ),
        )
        .where(col(Certificate.vendor_id).in_({vendor.id for _, _, vendor in rows}))
        .order_by(col(Certificate.kind), col(Certificate.id))
    )
    certificates: dict[int, Certificate] = {}
    relied_on: dict[int, list[Certificate]] = {}
    for certificate, product_id in certificate_rows:
        certificates[certificate.id] = certificate
        if product_id is not None:
            relied_on.setdefault(product_id, []).append(certificate)

    def ordered(key: tuple[str, int]) -> list[PhotoFile]:
        return [photo for _, photo in sorted(photos.get(key, []), key=lambda pair: pair[0])]

    items = []
    for revision, product, vendor in rows:
        before_certificates = relied_on.get(product.id, [])
        after_certificates = [certificates[i] for i in sorted(revision.certificate_ids) if i in certificates]
        candidates = [
            RevisionChange("name", product.name, revision.name),
            RevisionChange("description", product.description, revision.description),
            RevisionChange("category", product.category, revision.category),
            RevisionChange("certificate_ids", before_certificates, after_certificates),
            RevisionChange("photos", ordered(("p", product.id)), ordered(("r", revision.id))),
        ]
        changes = [change for change in candidates if change.before != change.after]
        items.append(RevisionItem(revision, product, vendor, changes))
    return items


async def _revision_and_product(
    *, session: AsyncSession, actor: User, revision_id: int
) -> tuple[ProductRevision, Product, Vendor]:
    row = (
        await session.execute(
            select(ProductRevision, Product, Vendor)
            .join(Product, col(Product.id) == col(ProductRevision.product_id))
            .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
            .where(col(ProductRevision.id) == revision_id)
        )
    ).first()
    if row is None or not may_moderate(actor, row[2].zone_id):
        raise NotFound(MSG_CHANGE_NOT_FOUND)
    return row[0], row[1], row[2]


async def _decide_revision(
    *,
    session: AsyncSession,
    actor: User,
    revision: ProductRevision,
    status: RevisionStatus,
    reason: str,
    seen: datetime | None,
    now: datetime,
) -> None:
    """Decide a pending revision once: a conditional UPDATE, so a second decision (another manager, the vendor
    withdrawing at the same moment) finds nothing pending and is refused. With `seen` (the revision's updated_at
    the manager looked at), a revision the vendor changed since is refused too."""
    conditions = [col(ProductRevision.id) == revision.id, col(ProductRevision.status) == RevisionStatus.PENDING]
    if seen is not None:
        conditions.append(col(ProductRevision.updated_at) == seen)
    decided = await session.execute(
        update(ProductRevision)
        .where(*conditions)
        .values(status=status, reason=reason, decided_at=now, decided_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if matched_rows(decided) != 1:
        await session.refresh(revision)
        raise Conflict(MSG_CHANGE_DECIDED if revision.status != RevisionStatus.PENDING else MSG_CHANGE_CHANGED)
    await session.refresh(revision)


async def _reviewed_state(session: AsyncSession, product: Product) -> dict[str, Any]:
    photos = list(
        (
            await session.execute(
                select(col(ProductPhoto.detail_key))
                .where(col(ProductPhoto.product_id) == product.id)
                .order_by(col(ProductPhoto.position))
            )
        ).scalars()
    )
    certificate_ids = list(
        (
            await session.execute(
                select(col(ProductCertificate.certificate_id)).where(col(ProductCertificate.product_id) == product.id)
            )
        ).scalars()
    )
    return {
        "name": product.name,
        "description": product.description,
        "category": product.category,
        "photos": photos,
        "certificate_ids": sorted(certificate_ids),
    }


async def approve_revision(
    *, session: AsyncSession, actor: User, revision_id: int, now: datetime, seen: datetime | None = None
) -> Product:
    """Approve a change to a live (or paused) listing: its name, description, category, certificates and photos
    become the product's, and buyers see them at once. The listing was on sale throughout. `seen`: the change's
    updated_at as the manager saw it; refused if the vendor changed it since."""
    revision, product, vendor = await _revision_and_product(session=session, actor=actor, revision_id=revision_id)
    # The product's row first, as the vendor's changes to the revision take it: a change the vendor is saving
    # goes entirely before or entirely after this decision.
    await session.execute(update(Product).where(col(Product.id) == product.id).values(updated_at=now))
    await _decide_revision(
        session=session,
        actor=actor,
        revision=revision,
        status=RevisionStatus.APPROVED,
        reason="",
        seen=seen,
        now=now,
    )
    await session.refresh(product)
    before = await _reviewed_state(session, product)
    await apply_revision(session=session, product=product, revision=revision, now=now)
    after = await _reviewed_state(session, product)
    product.approved_snapshot = {name: after[name] for name in ("name", "category", "photos", "certificate_ids")}
    session.add(product)
    await refresh_entries(session, product_ids=[product.id])
    await record(session, actor, "revision.approve", product, vendor.zone_id, before=before, after=after)
    url = f"/vendor/products/{product.id}"
    await _tell_vendor(session, vendor, NOTE_CHANGE_APPROVED, url, now, product=product.name)
    return product


async def reject_revision(
    *, session: AsyncSession, actor: User, revision_id: int, reason: str, now: datetime
) -> ProductRevision:
    """Reject a change with a reason the vendor reads; the listing stays on sale as it was approved."""
    reason = _reason(reason)
    revision, product, vendor = await _revision_and_product(session=session, actor=actor, revision_id=revision_id)
    await _decide_revision(
        session=session,
        actor=actor,
        revision=revision,
        status=RevisionStatus.REJECTED,
        reason=reason,
        seen=None,
        now=now,
    )
    proposed = {"name": revision.name, "category": revision.category, "certificate_ids": revision.certificate_ids}
    await record(
        session,
        actor,
        "revision.reject",
        product,
        vendor.zone_id,
        reason=reason,
        before={"status": RevisionStatus.PENDING.value},
        after={"status": RevisionStatus.REJECTED.value, **proposed},
    )
    url = f"/vendor/products/{product.id}"
    await _tell_vendor(session, vendor, NOTE_CHANGE_REJECTED, url, now, product=product.name, reason=reason)
    return revision


# --- certificates ------------------------------------------------------------------------------------


async def certificates_to_verify(
    *, session: AsyncSession, actor: User, limit: int = 100
) -> list[tuple[Certificate, Vendor]]:
    query = (
        select(Certificate, Vendor)
        .join(Vendor, col(Vendor.id) == col(Certificate.vendor_id))
        .where(col(Certificate.status) == CertificateStatus.UNVERIFIED)
        .order_by(col(Certificate.updated_at), col(Certificate.id))
        .limit(limit)
    )
    query = _in_moderated_zone(query, actor)
    return [(certificate, vendor) for certificate, vendor in (await session.execute(query)).all()]


async def certificate_for_manager(
    *, session: AsyncSession, actor: User, certificate_id: int
) -> tuple[Certificate, Vendor]:
    return await _with_vendor(
        session=session, actor=actor, table=Certificate, row_id=certificate_id, missing=MSG_CERTIFICATE_NOT_FOUND
    )


def _certificate_state(certificate: Certificate) -> dict[str, Any]:
    return {
        "status": certificate.status,
        "number": certificate.number,
        "kind": certificate.kind,
        "expires_on": certificate.expires_on.isoformat() if certificate.expires_on else None,
    }


async def verify_certificate(*, session: AsyncSession, actor: User, certificate_id: int, now: datetime) -> Certificate:
    """The manager compared the document with the typed number: the certificate now counts."""
    certificate = await _decide_certificate(
        session=session,
        actor=actor,
        certificate_id=certificate_id,
        status=CertificateStatus.VERIFIED,
        reason="",
        now=now,
    )
    if certificate.kind == CertificateKind.NIB:  # a training list that knew the business only by its NIB
        vendor = await session.get_one(Vendor, certificate.vendor_id)
        await training.link_vendor_by_nib(session=session, vendor=vendor, nib_text=certificate.number)
    return certificate


async def reject_certificate(
    *, session: AsyncSession, actor: User, certificate_id: int, reason: str, now: datetime
) -> Certificate:
    """The document does not match or cannot be read; the vendor reads the reason and uploads again."""
    return await _decide_certificate(
        session=session,
        actor=actor,
        certificate_id=certificate_id,
        status=CertificateStatus.REJECTED,
        reason=_reason(reason),
        now=now,
    )


async def _decide_certificate(
    *, session: AsyncSession, actor: User, certificate_id: int, status: CertificateStatus, reason: str, now: datetime
) -> Certificate:
    certificate, vendor = await certificate_for_manager(session=session, actor=actor, certificate_id=certificate_id)
    if certificate.status != CertificateStatus.UNVERIFIED:
        raise Conflict(MSG_NOT_UNVERIFIED)
    before = _certificate_state(certificate)
    certificate.status, certificate.status_reason = status, reason
    certificate.verified_by_id, certificate.verified_at = actor.id, now
    session.add(certificate)
    await refresh_entries(session, vendor_id=vendor.id)
    action = "certificate.verify" if status == CertificateStatus.VERIFIED else "certificate.reject"
    after = _certificate_state(certificate)
    await record(session, actor, action, certificate, vendor.zone_id, reason=reason, before=before, after=after)
    note = NOTE_CERTIFICATE_VERIFIED if status == CertificateStatus.VERIFIED else NOTE_CERTIFICATE_REJECTED
    url = f"/vendor/certificates/{certificate.id}"
    await _tell_vendor(session, vendor, note, url, now, number=certificate.number, reason=reason)
    return certificate


# --- vendors -------------------------------------------------------------------------------------------


async def vendors_of_zone(*, session: AsyncSession, actor: User) -> list[Vendor]:
    query = select(Vendor).order_by(col(Vendor.business_name), col(Vendor.id))
    query = _in_moderated_zone(query, actor)
    return list((await session.execute(query)).scalars())


async def _vendor(*, session: AsyncSession, actor: User, vendor_id: int) -> Vendor:
    vendor = await session.get(Vendor, vendor_id)
    if vendor is None or not may_moderate(actor, vendor.zone_id):
        raise NotFound(MSG_VENDOR_NOT_FOUND)
    return vendor


async def suspend_vendor(*, session: AsyncSession, actor: User, vendor_id: int, reason: str, now: datetime) -> Vendor:
    """Suspend a vendor: their listings vanish from the catalogue at once (the buyer-visibility rule)."""
    return await _set_vendor_status(
        session=session,
        actor=actor,
        vendor_id=vendor_id,
        reason=_reason(reason),
        status=VendorStatus.SUSPENDED,
        now=now,
    )


async def reinstate_vendor(*, session: AsyncSession, actor: User, vendor_id: int, reason: str, now: datetime) -> Vendor:
    return await _set_vendor_status(
        session=session, actor=actor, vendor_id=vendor_id, reason=_reason(reason), status=VendorStatus.ACTIVE, now=now
    )


async def _set_vendor_status(
    *, session: AsyncSession, actor: User, vendor_id: int, reason: str, status: VendorStatus, now: datetime
) -> Vendor:
    vendor = await session.get(Vendor, vendor_id)
    if vendor is None or not may_moderate(actor, vendor.zone_id):
        raise NotFound(MSG_VENDOR_NOT_FOUND)
    if vendor.status == status:
        raise Conflict(
            N_("This vendor is already suspended.")
            if status == VendorStatus.SUSPENDED
            else N_("This vendor is already active.")
        )
    before = {"status": vendor.status}
    vendor.status = status
    # The vendor reads why they are suspended; a reinstatement's reason stays in the audit log.
    vendor.status_reason = reason if status == VendorStatus.SUSPENDED else ""
    vendor.updated_at = now
    session.add(vendor)
    await refresh_entries(session, vendor_id=vendor.id)
    action = "vendor.suspend" if status == VendorStatus.SUSPENDED else "vendor.reinstate"
    if status == VendorStatus.SUSPENDED:
        await warn_buyers_of_suspension(session=session, vendor=vendor, now=now)
    await record(
        session, actor, action, vendor, vendor.zone_id, reason=reason, before=before, after={"status": status.value}
    )
    if status == VendorStatus.SUSPENDED:
        await _tell_vendor(session, vendor, NOTE_SUSPENDED, "/vendor", now, reason=reason)
    else:
        await _tell_vendor(session, vendor, NOTE_REINSTATED, "/vendor", now)
    return vendor


# --- buyers' reports -----------------------------------------------------------------------------------


async def reportable_listing(*, session: AsyncSession, product_id: int) -> Product:
    """A listing buyers have seen approved (live, or paused since); any other is not found."""
    product = await session.get(Product, product_id)
    if product is None or product.status not in (ListingStatus.LIVE, ListingStatus.PAUSED):
        raise NotFound(MSG_LISTING_NOT_FOUND)
    return product


async def report_listing(
    *, session: AsyncSession, reporter: User, product_id: int, kind: str, details: str
) -> ListingReport:
    """A buyer reports a live listing (wrong photo, not halal, bad quality); it lands in the manager's queue."""
    if reporter.role not in (Role.CANTEEN_STAFF, Role.WORKER):
        raise NotFound(MSG_LISTING_NOT_FOUND)
    try:
        report_kind = ReportKind(kind)
    except ValueError:
        raise ValidationFailed.single("kind", MSG_REPORT_KIND) from None
    details = " ".join(details.split())
    if report_kind == ReportKind.OTHER and len(details) < 5:
        raise ValidationFailed.single("details", N_("Tell the market manager what is wrong."))
    if len(details) > 500:
        raise ValidationFailed.single("details", N_("Keep it under 500 characters."))
    product = await reportable_listing(session=session, product_id=product_id)
    report = ListingReport(product_id=product.id, reporter_id=reporter.id, kind=report_kind, details=details)
    session.add(report)
    await session.flush()
    return report


async def open_reports(*, session: AsyncSession, actor: User) -> list[tuple[ListingReport, Product, Vendor]]:
    query = (
        select(ListingReport, Product, Vendor)
        .join(Product, col(Product.id) == col(ListingReport.product_id))
        .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
        .where(col(ListingReport.status) == "open")
        .order_by(col(ListingReport.created_at), col(ListingReport.id))
    )
    query = _in_moderated_zone(query, actor)
    return [(report, product, vendor) for report, product, vendor in (await session.execute(query)).all()]


async def resolve_report(
    *, session: AsyncSession, actor: User, report_id: int, resolution: str, now: datetime
) -> ListingReport:
    resolution = _reason(resolution)
    row = (
        await session.execute(
            select(ListingReport, Vendor)
            .join(Product, col(Product.id) == col(ListingReport.product_id))
            .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
            .where(col(ListingReport.id) == report_id)
        )
    ).first()
    if row is None or not may_moderate(actor, row[1].zone_id):
        raise NotFound(MSG_REPORT_NOT_FOUND)
    report, vendor = row
    if report.status != "open":
        raise Conflict(N_("This report was already resolved."))
    report.status, report.resolution = "resolved", resolution
    report.resolved_by_id, report.resolved_at = actor.id, now
    session.add(report)
    before = {"status": "open", "kind": report.kind, "product_id": report.product_id}
    after = {"status": "resolved"}
    await record(
        session, actor, "report.resolve", report, vendor.zone_id, reason=resolution, before=before, after=after
    )
    return report


# --- the daily expiry job -------------------------------------------------------------------------------


@dataclass
class ExpiryRun:
    run_on: date
    warned_30: int = 0
    warned_7: int = 0
    expired: int = 0
    listings_hidden: int = 0


async def run_certificate_expiry(*, session: AsyncSession, today: date) -> ExpiryRun:
    """Warn vendors 30 and 7 days before a certificate expires; from the day after expiry, record that
    the listings relying on it are hidden (buyer visibility already excludes them).

    Idempotent: each notice is unique per certificate, kind and expiry date, so a second run on the
    same day (or a rerun after a crash) adds nothing.
    """
    result = ExpiryRun(run_on=today)
    candidates = (
        await session.execute(
            select(Certificate, Vendor)
            .join(Vendor, col(Vendor.id) == col(Certificate.vendor_id))
            .where(
                col(Certificate.status) == CertificateStatus.VERIFIED,
                col(Certificate.expires_on).is_not(None),
                col(Certificate.expires_on) <= today + timedelta(days=max(WARNING_DAYS)),
            )
        )
    ).all()
    if not candidates:
        return result
    done = set(
        (
            await session.execute(
                select(
                    col(CertificateNotice.certificate_id),
                    col(CertificateNotice.kind),
                    col(CertificateNotice.expires_on),
                ).where(col(CertificateNotice.certificate_id).in_([c.id for c, _ in candidates]))
            )
        ).all()
    )
    for certificate, vendor in candidates:
        expires_on = certificate.expires_on
        assert expires_on is not None
        if expires_on < today:
            kind = "expired"
        elif expires_on <= today + timedelta(days=7):
            kind = "warn_7"
        else:
            kind = "warn_30"
        if (certificate.id, kind, expires_on) in done:
            continue
        if not await _insert_notice(session=session, certificate=certificate, kind=kind, today=today):
            continue  # another worker ran the job at the same moment
        if kind == "expired":
            result.expired += 1
            hidden = list(
                (
                    await session.execute(
                        select(Product)
                        .join(ProductCertificate, col(ProductCertificate.product_id) == col(Product.id))
                        .where(
                            col(ProductCertificate.certificate_id) == certificate.id,
                            col(Product.status) == ListingStatus.LIVE,
                        )
                    )
                ).scalars()
            )
            for product in hidden:
                why = f"certificate {certificate.id} expired on {expires_on.isoformat()}"
                await record(session, None, "listing.hidden_expired_certificate", product, vendor.zone_id, reason=why)
            result.listings_hidden += len(hidden)
        elif kind == "warn_7":
            result.warned_7 += 1
        else:
            result.warned_30 += 1
    return result


async def _insert_notice(*, session: AsyncSession, certificate: Certificate, kind: str, today: date) -> bool:
    # created_at is left to the column's default: when the notice was written, which no rule reads (`today`
    # may be a past day an operator runs the job for again).
    values = {
        "certificate_id": certificate.id,
        "vendor_id": certificate.vendor_id,
        "kind": kind,
        "expires_on": certificate.expires_on,
        "run_on": today,
    }
    insert = upsert_insert(session)
    statement = (
        insert(CertificateNotice)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["certificate_id", "kind", "expires_on"])
    )
    return matched_rows(await session.execute(statement)) == 1


async def expiry_notices_for_vendor(*, session: AsyncSession, vendor: Vendor) -> list[CertificateNotice]:
    query = (
        select(CertificateNotice)
        .where(col(CertificateNotice.vendor_id) == vendor.id)
        .order_by(col(CertificateNotice.created_at).desc())
        .limit(20)
    )
    return list((await session.execute(query)).scalars())
