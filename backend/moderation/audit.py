"""The audit log: every manager, admin and system action, recorded once and never edited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Role, User
from backend.clock import WIB
from backend.moderation.models import AuditEntry

SYSTEM_ROLE = "system"


class AuditSubject(Protocol):
    """A table row an action is about: the entry names it by its table and id."""

    __tablename__: ClassVar[Any]

    @property
    def id(self) -> int | None: ...


LABEL_ATTRIBUTES = ("business_name", "name", "full_name", "company_name", "number", "words", "filename", "title")


def subject_label(subject: object) -> str:
    """What people call the subject: a product's or a canteen's name, a vendor's business name, an invoice's or a
    certificate's number."""
    for attribute in LABEL_ATTRIBUTES:
        value = getattr(subject, attribute, None)
        if isinstance(value, str) and value:
            return value[:160]
    return ""


async def record(
    session: AsyncSession,
    actor: User | None,
    action: str,
    subject: AuditSubject,
    zone_id: int | None,
    *,
    reason: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry about `subject`; `actor` None means a scheduled job acted."""
    assert subject.id is not None
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_role=actor.role if actor else SYSTEM_ROLE,
        zone_id=zone_id,
        action=action,
        subject_type=str(subject.__tablename__),
        subject_id=subject.id,
        subject_label=subject_label(subject),
        reason=reason[:500],
        before=before,
        after=after,
    )
    session.add(entry)
    await session.flush()
    return entry


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    subject_type: str | None = None
    actor_id: int | None = None
    since: date | None = None  # WIB dates, inclusive
    until: date | None = None
    limit: int = 100
    before_id: int | None = None  # paging: entries older than this one


async def list_entries(
    *, session: AsyncSession, actor: User, filters: AuditFilter
) -> list[tuple[AuditEntry, str | None]]:
    """Entries newest first, with the actor's name; a manager sees their own zone only, an admin everything."""
    query = select(AuditEntry, col(User.full_name)).outerjoin(User, col(User.id) == col(AuditEntry.actor_id))
    if actor.role != Role.ADMIN:
        query = query.where(col(AuditEntry.zone_id) == actor.zone_id)
    if filters.action:
        query = query.where(col(AuditEntry.action) == filters.action)
    if filters.subject_type:
        query = query.where(col(AuditEntry.subject_type) == filters.subject_type)
    if filters.actor_id:
        query = query.where(col(AuditEntry.actor_id) == filters.actor_id)
    if filters.since:
        query = query.where(col(AuditEntry.at) >= _start_of_wib_day(filters.since))
    if filters.until:
        query = query.where(col(AuditEntry.at) < _start_of_wib_day(filters.until + timedelta(days=1)))
    if filters.before_id:
        query = query.where(col(AuditEntry.id) < filters.before_id)
    query = query.order_by(col(AuditEntry.id).desc()).limit(min(max(filters.limit, 1), 500))
    return [(entry, name) for entry, name in (await session.execute(query)).all()]


def _start_of_wib_day(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=WIB)
