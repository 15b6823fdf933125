"""Reviews: after completion the buyer rates the order 1 to 5 with a comment; the vendor may answer once.

The vendor's rating (count and sum on the vendor row, read by the catalogue) moves in the same transaction as
the review, by an increment, so concurrent reviews never lose one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import User
from backend.catalog.entries import refresh_entries
from backend.catalog.storefront import MSG_NO_VENDOR
from backend.db import matched_rows, upsert_insert
from backend.errors import N_, Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from backend.notifications.service import notify
from backend.orders.models import OrderStatus, Review
from backend.orders.states import MSG_SUSPENDED, Side, load_for_change
from backend.vendors.models import Vendor, VendorStatus

MAX_TEXT = 1000
MSG_NOT_COMPLETED = N_("You can rate an order once it is completed.")
MSG_RATING = N_("Choose from 1 to 5 stars.")
MSG_ALREADY_REVIEWED = N_("This order has been rated already.")
MSG_BUYER_ONLY = N_("Only the buyer rates an order.")
MSG_VENDOR_ONLY = N_("Only the vendor answers a review.")
MSG_NO_REVIEW = N_("There is no review to answer yet.")
MSG_ALREADY_ANSWERED = N_("You have answered this review already.")
MSG_REPLY_EMPTY = N_("Write your answer.")
MSG_NEW_REVIEW = N_("Order %(number)s was rated %(rating)s of 5")
MSG_REPLIED = N_("The vendor answered your review of order %(number)s")


@dataclass
class PublicReview:
    rating: int
    comment: str
    created_at: datetime
    reply: str | None
    # Only the author's first name: enough to trust, not enough to track.
    author: str


async def review_order(
    *, session: AsyncSession, actor: User, order_id: int, rating: int, now: datetime, comment: str = ""
) -> Review:
    order, vendor_user_id, side = await load_for_change(session=session, order_id=order_id, actor=actor)
    if side != Side.BUYER:
        raise Forbidden(MSG_BUYER_ONLY)
    if order.status != OrderStatus.COMPLETED:
        raise Conflict(MSG_NOT_COMPLETED)
    errors = [] if 1 <= rating <= 5 else [FieldError("rating", MSG_RATING)]
    if errors:
        raise ValidationFailed(errors)
    insert = upsert_insert(session)
    created = await session.execute(
        insert(Review)
        .values(
            order_id=order.id,
            vendor_id=order.vendor_id,
            author_id=actor.id,
            rating=rating,
            comment=comment.strip()[:MAX_TEXT],
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["order_id"])
        .returning(col(Review.order_id))
    )
    if created.scalar_one_or_none() is None:
        raise Conflict(MSG_ALREADY_REVIEWED)
    await session.execute(
        update(Vendor)
        .where(col(Vendor.id) == order.vendor_id)
        .values(rating_count=col(Vendor.rating_count) + 1, rating_sum=col(Vendor.rating_sum) + rating)
    )
    await refresh_entries(session, vendor_id=order.vendor_id)  # the rating is on the cards and sorts them
    await notify(
        session=session,
        user_ids={vendor_user_id},
        message=MSG_NEW_REVIEW,
        order_id=order.id,
        params={"number": order.number, "rating": rating},
        url=f"/vendor/orders/{order.id}",
        now=now,
    )
    return (await session.execute(select(Review).where(col(Review.order_id) == order.id))).scalar_one()


async def reply_to_review(*, session: AsyncSession, actor: User, order_id: int, reply: str, now: datetime) -> Review:
    order, _, side = await load_for_change(session=session, order_id=order_id, actor=actor)
    if side != Side.VENDOR:
        raise Forbidden(MSG_VENDOR_ONLY)
    vendor_status = (
        await session.execute(select(col(Vendor.status)).where(col(Vendor.id) == order.vendor_id))
    ).scalar_one()
    if vendor_status != VendorStatus.ACTIVE:
        raise Forbidden(MSG_SUSPENDED)
    reply = reply.strip()[:MAX_TEXT]
    if not reply:
        raise ValidationFailed.single("reply", MSG_REPLY_EMPTY)
    answered = await session.execute(
        update(Review)
        .where(col(Review.order_id) == order_id, col(Review.reply).is_(None))
        .values(reply=reply, replied_at=now)
        .execution_options(synchronize_session=False)
    )
    if matched_rows(answered) != 1:
        exists = (await session.execute(select(col(Review.order_id)).where(col(Review.order_id) == order_id))).first()
        raise Conflict(MSG_ALREADY_ANSWERED if exists else MSG_NO_REVIEW)
    await notify(
        session=session,
        user_ids={order.buyer_id},
        message=MSG_REPLIED,
        order_id=order.id,
        params={"number": order.number},
        url=f"/orders/{order.id}",
        now=now,
    )
    return (await session.execute(select(Review).where(col(Review.order_id) == order_id))).scalar_one()


async def vendor_reviews(
    *, session: AsyncSession, vendor_id: int, limit: int = 20
) -> tuple[Vendor, list[PublicReview]]:
    """An active vendor and their latest reviews, as shown to buyers (two queries)."""
    vendor = await session.get(Vendor, vendor_id)
    if vendor is None or vendor.status != VendorStatus.ACTIVE:
        raise NotFound(MSG_NO_VENDOR)
    rows = await session.execute(
        select(Review, col(User.full_name))
        .join(User, col(User.id) == col(Review.author_id))
        .where(col(Review.vendor_id) == vendor_id)
        .order_by(col(Review.created_at).desc())
        .limit(limit)
    )
    return vendor, [
        PublicReview(
            rating=review.rating,
            comment=review.comment,
            created_at=review.created_at,
            reply=review.reply,
            author=(name.split() or [""])[0],
        )
        for review, name in rows
    ]
