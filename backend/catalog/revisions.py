"""Pending revisions: a vendor's change to an approved listing's reviewed fields (name, description, category,
certificates, photos), kept beside the product while buyers keep seeing and buying the approved version.

A revision holds the reviewed fields as they would become and the photos as they would be (copies of the approved
photos, sharing their stored files, plus new uploads). A market manager approves it (`apply_revision` makes it the
product's) or rejects it; the vendor may withdraw it. Price, tiers, stock and the other fields are never held here:
they apply at once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.catalog import searchtext
from backend.catalog.models import (
    Product,
    ProductCertificate,
    ProductPhoto,
    ProductRevision,
    ProductRevisionPhoto,
    RevisionStatus,
)

PROPOSED_FIELDS = ("name", "description", "category")


async def pending_revisions(*, session: AsyncSession, product_ids: list[int]) -> dict[int, ProductRevision]:
    """The pending revision of each of these products that has one, by product id."""
    if not product_ids:
        return {}
    rows = await session.execute(
        select(ProductRevision).where(
            col(ProductRevision.product_id).in_(product_ids), col(ProductRevision.status) == RevisionStatus.PENDING
        )
    )
    return {revision.product_id: revision for revision in rows.scalars()}


async def revisions_to_show(*, session: AsyncSession, product_ids: list[int]) -> dict[int, ProductRevision]:
    """What the vendor reads about each product's changes, in one query: its latest revision when that is pending
    (the change waiting for review) or rejected (why, until the vendor sends another change), by product id."""
    if not product_ids:
        return {}
    latest = (
        select(func.max(col(ProductRevision.id)))
        .where(col(ProductRevision.product_id).in_(product_ids))
        .group_by(col(ProductRevision.product_id))
    )
    rows = await session.execute(
        select(ProductRevision).where(
            col(ProductRevision.id).in_(latest.scalar_subquery()),
            col(ProductRevision.status).in_([RevisionStatus.PENDING, RevisionStatus.REJECTED]),
        )
    )
    return {revision.product_id: revision for revision in rows.scalars()}


async def pending_revision(*, session: AsyncSession, product_id: int) -> ProductRevision | None:
    return (await pending_revisions(session=session, product_ids=[product_id])).get(product_id)


async def revision_photos(*, session: AsyncSession, revision_ids: list[int]) -> dict[int, list[ProductRevisionPhoto]]:
    """The proposed photos of each revision, in order."""
    photos: dict[int, list[ProductRevisionPhoto]] = defaultdict(list)
    if revision_ids:
        for photo in (
            await session.execute(
                select(ProductRevisionPhoto)
                .where(col(ProductRevisionPhoto.revision_id).in_(revision_ids))
                .order_by(col(ProductRevisionPhoto.position))
            )
        ).scalars():
            photos[photo.revision_id].append(photo)
    return photos


async def _product_photos(session: AsyncSession, product_id: int) -> list[ProductPhoto]:
    return list(
        (
            await session.execute(
                select(ProductPhoto)
                .where(col(ProductPhoto.product_id) == product_id)
                .order_by(col(ProductPhoto.position))
            )
        ).scalars()
    )


async def open_revision(
    *, session: AsyncSession, product: Product, certificate_ids: list[int], now: datetime
) -> ProductRevision:
    """A new pending revision that starts as the approved version: its fields, its certificates and copies of its
    photos. The caller holds the product's row lock (a second pending revision is refused by a unique index)."""
    revision = ProductRevision(
        product_id=product.id,
        name=product.name,
        description=product.description,
        category=product.category,
        certificate_ids=sorted(certificate_ids),
        submitted_at=now,
        updated_at=now,
    )
    session.add(revision)
    await session.flush()
    for photo in await _product_photos(session, product.id):
        session.add(
            ProductRevisionPhoto(
                revision_id=revision.id,
                position=photo.position,
                thumb_key=photo.thumb_key,
                detail_key=photo.detail_key,
                width=photo.width,
                height=photo.height,
                created_at=now,
            )
        )
    await session.flush()
    return revision


def propose(revision: ProductRevision, *, fields: dict[str, Any], certificate_ids: list[int], now: datetime) -> bool:
    """Put the vendor's reviewed fields into the pending revision; whether anything changed."""
    proposed = {name: fields[name] for name in PROPOSED_FIELDS}
    proposed["certificate_ids"] = sorted(set(certificate_ids))
    current = {name: getattr(revision, name) for name in proposed}
    if proposed == current:
        return False
    for name, value in proposed.items():
        setattr(revision, name, value)
    revision.updated_at = now
    return True


async def apply_revision(*, session: AsyncSession, product: Product, revision: ProductRevision, now: datetime) -> None:
    """Make an approved revision the product's: its fields, certificates and photos (the approved ones replaced,
    positions kept)."""
    for name in PROPOSED_FIELDS:
        setattr(product, name, getattr(revision, name))
    product.search_name = searchtext.fitted(product.name, 200)
    product.search_body = searchtext.product_body(product.description, product.category)
    product.reviewed_at = product.updated_at = now
    session.add(product)
    await session.execute(delete(ProductCertificate).where(col(ProductCertificate.product_id) == product.id))
    for certificate_id in sorted(set(revision.certificate_ids)):
        session.add(ProductCertificate(product_id=product.id, certificate_id=certificate_id))
    await session.execute(delete(ProductPhoto).where(col(ProductPhoto.product_id) == product.id))
    for photo in (await revision_photos(session=session, revision_ids=[revision.id]))[revision.id]:
        session.add(
            ProductPhoto(
                product_id=product.id,
                position=photo.position,
                thumb_key=photo.thumb_key,
                detail_key=photo.detail_key,
                width=photo.width,
                height=photo.height,
                created_at=now,
            )
        )
    await session.flush()
