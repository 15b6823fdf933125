"""JSON API of the readiness path: the vendor's checklist, and the zone's help contacts its managers keep.

The same service functions as the pages (vendors.readiness, vendors.help_contacts); a manager reads and changes
only their own zone's contacts (another zone's answer 404).
"""

from __future__ import annotations

from litestar import Controller, delete, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.types import ControllerRouterHandler
from pydantic import BaseModel

from backend.accounts.auth import BEARER, UserRequest, requires_role
from backend.accounts.models import Role
from backend.clock import utcnow, wib_today
from backend.db import DbSession
from backend.i18n import gettext
from backend.phone import whatsapp_link
from backend.public import public_from
from backend.vendors import help_contacts
from backend.vendors.help_contacts import CONTACT_KIND_LABELS, ContactKind, HelpContact, HelpContactInput
from backend.vendors.readiness import ReadinessView, Step, vendor_readiness


class HelpContactPublic(BaseModel):
    id: int
    name: str
    kind: str
    kind_label: str
    phone: str | None
    whatsapp_url: str | None
    address: str
    opening_hours: str
    note: str

    @classmethod
    def of(cls, contact: HelpContact) -> HelpContactPublic:
        return public_from(
            cls,
            contact,
            kind_label=gettext(CONTACT_KIND_LABELS[ContactKind(contact.kind)]),
            whatsapp_url=whatsapp_link(contact.phone) if contact.phone else None,
        )


class ReadinessStepPublic(BaseModel):
    """One step: done or not, what to do next (or what was achieved) in the reader's language, where to do it,
    and the ids of the zone's help contacts for it."""

    key: str
    title: str
    done: bool
    text: str
    link: str | None
    food_only: bool
    help_contact_ids: list[int]

    @classmethod
    def of(cls, step: Step, view: ReadinessView) -> ReadinessStepPublic:
        return cls(
            key=step.key.value,
            title=step.title,
            done=step.done,
            text=step.text,
            link=step.link,
            food_only=step.food_only,
            help_contact_ids=[contact.id for contact in view.contacts_for(step)],
        )


class ReadinessPublic(BaseModel):
    """What stands between the vendor and selling into the zone: `done` of `total` steps, the next one."""

    done: int
    total: int
    next_step: str | None
    steps: list[ReadinessStepPublic]
    help_contacts: list[HelpContactPublic]

    @classmethod
    def of(cls, view: ReadinessView) -> ReadinessPublic:
        readiness = view.readiness
        return cls(
            done=readiness.done_count,
            total=readiness.total,
            next_step=readiness.next_step.key.value if readiness.next_step else None,
            steps=[ReadinessStepPublic.of(step, view) for step in readiness.steps],
            help_contacts=[HelpContactPublic.of(contact) for contact in view.contacts],
        )


class VendorReadinessApi(Controller):
    path = "/api/v1/vendor"
    tags = ["vendor"]
    guards = [requires_role(Role.VENDOR)]
    security = BEARER

    @get("/readiness", summary="My readiness checklist: each step to selling into the zone, and who can help")
    async def readiness(self, request: UserRequest, db_session: DbSession) -> ReadinessPublic:
        view = await vendor_readiness(session=db_session, user=request.user, today=wib_today(utcnow()))
        return ReadinessPublic.of(view)


class HelpContactApi(Controller):
    path = "/api/v1/manager/help-contacts"
    tags = ["moderation"]
    guards = [requires_role(Role.MANAGER)]
    security = BEARER

    @get("/", summary="My zone's help contacts (PLUT-KUMKM, BLK, BBPVP, halal companions…)")
    async def list_contacts(self, request: UserRequest, db_session: DbSession) -> list[HelpContactPublic]:
        contacts = await help_contacts.managed_help_contacts(session=db_session, actor=request.user)
        return [HelpContactPublic.of(contact) for contact in contacts]

    @post("/", summary="Add a help contact to my zone; audit-logged")
    async def add_contact(
        self, request: UserRequest, data: JSONBody[HelpContactInput], db_session: DbSession
    ) -> HelpContactPublic:
        contact = await help_contacts.add_help_contact(session=db_session, actor=request.user, data=data, now=utcnow())
        return HelpContactPublic.of(contact)

    @get("/{contact_id:int}", summary="One of my zone's help contacts")
    async def get_contact(
        self, request: UserRequest, contact_id: FromPath[int], db_session: DbSession
    ) -> HelpContactPublic:
        contact = await help_contacts.get_help_contact(session=db_session, actor=request.user, contact_id=contact_id)
        return HelpContactPublic.of(contact)

    @put("/{contact_id:int}", summary="Correct one of my zone's help contacts; audit-logged")
    async def update_contact(
        self, request: UserRequest, contact_id: FromPath[int], data: JSONBody[HelpContactInput], db_session: DbSession
    ) -> HelpContactPublic:
        contact = await help_contacts.update_help_contact(
            session=db_session, actor=request.user, contact_id=contact_id, data=data, now=utcnow()
        )
        return HelpContactPublic.of(contact)

    @delete("/{contact_id:int}", summary="Remove one of my zone's help contacts; audit-logged", status_code=204)
    async def remove_contact(self, request: UserRequest, contact_id: FromPath[int], db_session: DbSession) -> None:
        await help_contacts.remove_help_contact(session=db_session, actor=request.user, contact_id=contact_id)


API_ROUTES: list[ControllerRouterHandler] = [VendorReadinessApi, HelpContactApi]
