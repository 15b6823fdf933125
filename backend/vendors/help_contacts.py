"""Where a zone's vendors get help on the way to their first sale: the PLUT-KUMKM, the training centres (BLK,
BBPVP), the Dinas Koperasi/UMKM, the halal centre and the halal process companions (PPH) near the zone.

The zone's managers keep the list (plain forms and the API, each change in the audit log); a vendor reads it on the
readiness page, next to the step each kind of office helps with (vendors.readiness). A contact's phone is a mobile
number in E.164, so the page can offer a WhatsApp chat; an office landline goes in the note.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import CheckConstraint, Column, String, case, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from backend.accounts.models import Role, User
from backend.db import created_at_field, id_field
from backend.errors import N_, FieldError, NotFound, ValidationFailed
from backend.moderation.audit import record
from backend.phone import InvalidPhoneNumber, normalize_phone


class ContactKind(StrEnum):
    PLUT = "plut"
    DINAS_UMKM = "dinas_umkm"
    DINAS_HEALTH = "dinas_health"
    BLK = "blk"
    BBPVP = "bbpvp"
    HALAL_CENTRE = "halal_centre"
    HALAL_COMPANION = "halal_companion"
    OTHER = "other"


CONTACT_KIND_LABELS = {
    ContactKind.PLUT: N_("PLUT-KUMKM (integrated business service centre)"),
    ContactKind.DINAS_UMKM: N_("Dinas Koperasi and UMKM"),
    ContactKind.DINAS_HEALTH: N_("Dinas Kesehatan (P-IRT)"),
    ContactKind.BLK: N_("BLK (job training centre)"),
    ContactKind.BBPVP: N_("BBPVP (vocational training centre)"),
    ContactKind.HALAL_CENTRE: N_("Halal centre"),
    ContactKind.HALAL_COMPANION: N_("Halal process companion (PPH)"),
    ContactKind.OTHER: N_("Other help"),
}

MSG_NAME = N_("Type the name of the office or the person.")
MSG_PHONE = N_("Type a mobile (WhatsApp) number, for example 0812-3456-7890; write an office landline in the note.")
MSG_KIND = N_("Choose what kind of help this is.")
MSG_NOT_FOUND = N_("This contact does not exist.")
MSG_MANAGERS_ONLY = N_("Only the zone's managers keep its help contacts.")

_KINDS = ", ".join(f"'{kind.value}'" for kind in ContactKind)


class HelpContactInput(BaseModel):
    """A help contact as a manager types it; the phone as typed (0812…, +62 812-…), stored in E.164."""

    field_messages: ClassVar[dict[str, str]] = {"name": MSG_NAME, "kind": MSG_KIND, "phone": MSG_PHONE}

    name: str = PydanticField(min_length=1, max_length=120, description="The office or the person")
    kind: ContactKind = PydanticField(description="What kind of help: plut, dinas_umkm, blk, bbpvp, …")
    phone: str | None = PydanticField(default=None, max_length=24, description="A mobile number for WhatsApp")
    address: str = PydanticField(default="", max_length=300)
    opening_hours: str = PydanticField(default="", max_length=120, description="e.g. Senin–Jumat 08.00–15.00")
    note: str = PydanticField(default="", max_length=500, description="What they help with, a landline, a name")


class HelpContact(SQLModel, table=True):
    """One place or person a zone's vendors can turn to; the zone's managers keep the list."""

    __tablename__ = "help_contact"
    __table_args__ = (CheckConstraint(f"kind IN ({_KINDS})", name="kind_known"),)

    id: int = id_field()
    zone_id: int = Field(foreign_key="zone.id", index=True)
    name: str = Field(max_length=120)
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    phone: str | None = Field(default=None, max_length=16)  # E.164, a mobile
    address: str = Field(default="", max_length=300)
    opening_hours: str = Field(default="", max_length=120)
    note: str = Field(default="", max_length=500)
    added_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


def kind_order() -> Any:
    """Contacts listed by kind in the order of CONTACT_KIND_LABELS, then by name."""
    return case({kind.value: index for index, kind in enumerate(ContactKind)}, value=col(HelpContact.kind))


async def zone_help_contacts(*, session: AsyncSession, zone_id: int) -> list[HelpContact]:
    """A zone's help contacts, by kind then name."""
    query = (
        select(HelpContact)
        .where(col(HelpContact.zone_id) == zone_id)
        .order_by(kind_order(), col(HelpContact.name), col(HelpContact.id))
    )
    return list((await session.execute(query)).scalars())


def _managed_zone(actor: User) -> int:
    if actor.role != Role.MANAGER or actor.zone_id is None:
        raise NotFound(MSG_MANAGERS_ONLY)
    return actor.zone_id


async def managed_help_contacts(*, session: AsyncSession, actor: User) -> list[HelpContact]:
    """The help contacts of the manager's own zone."""
    return await zone_help_contacts(session=session, zone_id=_managed_zone(actor))


async def get_help_contact(*, session: AsyncSession, actor: User, contact_id: int) -> HelpContact:
    """One contact of the manager's own zone; another zone's is not found, as if it did not exist."""
    contact = await session.get(HelpContact, contact_id)
    if contact is None or contact.zone_id != _managed_zone(actor):
        raise NotFound(MSG_NOT_FOUND)
    return contact


def _fields(data: HelpContactInput) -> dict[str, Any]:
    errors: list[FieldError] = []
    name = " ".join(data.name.split())
    if not name:
        errors.append(FieldError("name", MSG_NAME))
    phone = None
    if data.phone and data.phone.strip():
        try:
            phone = normalize_phone(data.phone)
        except InvalidPhoneNumber:
            errors.append(FieldError("phone", MSG_PHONE))
    if errors:
        raise ValidationFailed(errors)
    return {
        "name": name,
        "kind": data.kind.value,
        "phone": phone,
        "address": " ".join(data.address.split()),
        "opening_hours": " ".join(data.opening_hours.split()),
        "note": data.note.strip(),
    }


async def add_help_contact(*, session: AsyncSession, actor: User, data: HelpContactInput, now: datetime) -> HelpContact:
    """A manager adds a help contact to their zone; the audit log keeps it."""
    zone_id = _managed_zone(actor)
    fields = _fields(data)
    contact = HelpContact(zone_id=zone_id, added_by=actor.id, created_at=now, updated_at=now, **fields)
    session.add(contact)
    await session.flush()
    await record(session, actor, "help_contact.add", contact, zone_id, after=fields)
    return contact


async def update_help_contact(
    *, session: AsyncSession, actor: User, contact_id: int, data: HelpContactInput, now: datetime
) -> HelpContact:
    """A manager corrects one of their zone's help contacts; the audit log keeps what changed."""
    contact = await get_help_contact(session=session, actor=actor, contact_id=contact_id)
    fields = _fields(data)
    before = {name: getattr(contact, name) for name, value in fields.items() if getattr(contact, name) != value}
    if before:
        for name in before:
            setattr(contact, name, fields[name])
        contact.updated_at = now
        session.add(contact)
        await session.flush()
        after = {name: fields[name] for name in before}
        await record(session, actor, "help_contact.edit", contact, contact.zone_id, before=before, after=after)
    return contact


async def remove_help_contact(*, session: AsyncSession, actor: User, contact_id: int) -> None:
    """A manager removes one of their zone's help contacts; the audit log keeps what it was."""
    contact = await get_help_contact(session=session, actor=actor, contact_id=contact_id)
    before = {"name": contact.name, "kind": contact.kind, "phone": contact.phone}
    await session.delete(contact)
    await session.flush()
    await record(session, actor, "help_contact.remove", contact, contact.zone_id, before=before)
