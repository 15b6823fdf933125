"""Telling people what happened: a line in their inbox, a Web Push to each browser they subscribed, and for some
news a WhatsApp message to a vendor's linked number (backend.whatsapp.outbox).

`notify` writes both in the caller's transaction (two statements whatever the number of recipients), so a
notification exists exactly when the change it reports was committed. Pushes are sent later by a job.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, literal, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import User
from backend.clock import format_date
from backend.db import in_ids, matched_rows, run_after_commit, table_of
from backend.i18n import get_locale, gettext
from backend.notifications.models import Notification, PushMessage, PushSubscription
from backend.orders.models import STATUS_LABELS, OrderStatus
from backend.whatsapp import outbox as whatsapp_outbox
from backend.whatsapp.models import WhatsAppLink


@dataclass(frozen=True)
class Note:
    """One notification for one user: a message id, its %(name)s parameters, where it leads."""

    user_id: int
    message: str
    params: dict[str, Any] = field(default_factory=dict)
    url: str = ""
    order_id: int | None = None


async def notify(
    *,
    session: AsyncSession,
    user_ids: set[int],
    message: str,
    now: datetime,
    params: dict[str, Any] | None = None,
    url: str = "",
    order_id: int | None = None,
) -> None:
    """Put `message` (a message id; its %(name)s parameters in `params`) in each user's inbox and queue a push
    for each of their subscribed browsers, due at once."""
    await notify_each(
        session=session,
        now=now,
        notes=[Note(user_id, message, params or {}, url, order_id) for user_id in sorted(user_ids)],
    )


async def notify_each(*, session: AsyncSession, notes: list[Note], now: datetime) -> None:
    """Several notifications at once, in two statements however many there are; dated `now`, with their pushes
    due from `now`."""
    if not notes:
        return
    rows = [
        {
            "user_id": note.user_id,
            "order_id": note.order_id,
            "message": note.message,
            "params": note.params,
            "url": note.url,
            "created_at": now,
        }
        for note in notes
    ]
    # Each new line comes back with its user's linked WhatsApp number, if any: no statement more for the many
    # notifications of people who have none.
    # (Spelt out: in RETURNING, SQLAlchemy writes column names without their tables, which the correlation needs.)
    linked_phone = (
        select(literal_column("whatsapp_link.phone"))
        .select_from(table_of(WhatsAppLink))
        .where(literal_column("whatsapp_link.user_id") == literal_column("notification.user_id"))
        .scalar_subquery()
    )
    returned = (
        await session.execute(
            insert(Notification).returning(col(Notification.id), col(Notification.user_id), linked_phone), rows
        )
    ).all()
    created = [notification_id for notification_id, _user_id, _phone in returned]
    moment = literal(now, table_of(PushMessage).c.next_attempt_at.type)
    pushes = await session.execute(
        insert(PushMessage).from_select(
            ["subscription_id", "notification_id", "next_attempt_at", "created_at"],
            select(col(PushSubscription.id), col(Notification.id), moment, moment)
            .join(Notification, col(Notification.user_id) == col(PushSubscription.user_id))
            .where(in_ids(session, col(Notification.id), created)),
        )
    )
    if matched_rows(pushes):  # somebody has a phone subscribed: send at once rather than at the next sweep
        run_after_commit(session, "send_pushes")
    # New orders, order changes and moderation decisions also go to a vendor's linked WhatsApp number.
    await whatsapp_outbox.record_for_notes(
        session=session, notes=notes, phones={user_id: phone for _id, user_id, phone in returned if phone}, now=now
    )


def notification_text(notification: Notification) -> str:
    """The notification in the reader's language; an order status parameter is shown by its label."""
    params = dict(notification.params)
    if "status" in params:
        params["status"] = gettext(STATUS_LABELS[OrderStatus(params["status"])])
    if "day" in params:
        params["day"] = format_date(date.fromisoformat(params["day"]), get_locale())
    return gettext(notification.message, **params)


INBOX_PAGE_SIZE = 20
LAST_INBOX_PAGE = 10_000  # deeper pages are refused (API) or clamped (page)


@dataclass(frozen=True)
class InboxPage:
    """One page of a user's inbox, newest first."""

    items: list[Notification]
    page: int
    has_more: bool


async def unread_count(*, session: AsyncSession, user_id: int) -> int:
    """How many of the user's notifications are not read yet."""
    count = await session.scalar(
        select(func.count(col(Notification.id))).where(
            col(Notification.user_id) == user_id, col(Notification.read_at).is_(None)
        )
    )
    return count or 0


async def list_inbox(*, session: AsyncSession, user: User, page: int = 1) -> InboxPage:
    """The user's own notifications, newest first, INBOX_PAGE_SIZE a page (pages count from 1)."""
    page = max(page, 1)
    rows = (
        (
            await session.execute(
                select(Notification)
                .where(col(Notification.user_id) == user.id)
                .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
                .offset((page - 1) * INBOX_PAGE_SIZE)
                .limit(INBOX_PAGE_SIZE + 1)  # one more tells whether a next page exists
            )
        )
        .scalars()
        .all()
    )
    return InboxPage(items=list(rows[:INBOX_PAGE_SIZE]), page=page, has_more=len(rows) > INBOX_PAGE_SIZE)


async def mark_read(
    *,
    session: AsyncSession,
    user: User,
    notification_ids: Collection[int] = (),
    all_unread: bool = False,
    now: datetime,
) -> int:
    """Mark the given notifications, or with `all_unread` every unread one, as read; returns how many changed.

    Only the user's own notifications are touched: another user's ids are ignored, not reported."""
    if not all_unread and not notification_ids:
        return 0
    statement = (
        update(Notification)
        .where(col(Notification.user_id) == user.id, col(Notification.read_at).is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    if not all_unread:
        statement = statement.where(col(Notification.id).in_(set(notification_ids)))
    result = await session.execute(statement)
    return matched_rows(result)
