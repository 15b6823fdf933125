"""Applying for invoice terms: a canteen tells its zone's manager who it is for the invoices (company name, NPWP,
billing address), asks for 14 or 30 days and attaches the documents the manager asks for; the manager grants the
terms, asks for documents, or refuses with a reason, and the canteen's staff are told each time.

A canteen has one open application at a time (a partial unique index keeps it so under concurrent submissions).
Granting goes through `invoices.set_invoice_terms`, so the audit log and the canteen's terms change together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import anyio.to_thread
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Organisation, Role, User
from backend.db import matched_rows
from backend.errors import N_, Conflict, Forbidden, NotFound, ValidationFailed
from backend.media.images import ProcessedDocument
from backend.media.storage import Storage, content_key
from backend.moderation.audit import record
from backend.notifications.service import notify
from backend.payments.invoices import INVOICE_TERMS, may_manage, normalise_npwp, set_invoice_terms
from backend.payments.models import (
    OPEN_TERMS_APPLICATION,
    InvoiceTermsApplication,
    InvoiceTermsDocument,
    TermsApplicationStatus,
)
from backend.payments.terms_schemas import MSG_DAYS, TermsApplicationInput

MAX_DOCUMENTS = 10
CANTEEN_PAGE = "/canteen/invoice-terms"
MANAGER_PAGE = "/manager/invoice-terms"

MSG_NOT_FOUND = N_("We could not find this application.")
MSG_ALREADY_OPEN = N_("Your canteen already has an application waiting for the manager.")
MSG_ALREADY_GRANTED = N_("Your canteen already pays within %(days)s days.")
MSG_CLOSED = N_("This application was already decided.")
MSG_NOTE = N_("Say which documents you need (5 to 500 characters).")
MSG_REASON = N_("Give the canteen a reason (5 to 500 characters).")
MSG_TOO_MANY_DOCUMENTS = N_("An application can have at most %(count)s documents.")
MSG_NO_DOCUMENT = N_("Choose a photo or PDF of the document.")

NOTE_SUBMITTED = N_("%(canteen)s applied for invoice terms of %(days)s days.")
NOTE_DOCUMENTS_ADDED = N_("%(canteen)s sent the documents you asked for.")
NOTE_DOCUMENTS_REQUESTED = N_("The market manager asks for documents before deciding on invoice terms: %(note)s")
NOTE_GRANTED = N_("Invoice terms granted: your canteen may order on invoice and pay within %(days)s days.")
NOTE_REFUSED = N_("Invoice terms were refused: %(reason)s")


def _staff_canteen(actor: User) -> int:
    if actor.role != Role.CANTEEN_STAFF or actor.organisation_id is None:
        raise Forbidden()
    return actor.organisation_id


@dataclass(frozen=True)
class TermsApplicationView:
    """An application with its canteen and its documents, as the canteen and the manager see it."""

    application: InvoiceTermsApplication
    organisation: Organisation
    documents: list[InvoiceTermsDocument]

    @property
    def is_open(self) -> bool:
        return self.application.status in OPEN_TERMS_APPLICATION


async def _people(session: AsyncSession, *conditions: ColumnElement[bool]) -> set[int]:
    query = select(col(User.id)).where(col(User.is_active).is_(True), *conditions)
    return set((await session.execute(query)).scalars())


async def _tell_canteen(
    session: AsyncSession, organisation_id: int, message: str, now: datetime, **params: object
) -> None:
    staff = await _people(session, col(User.organisation_id) == organisation_id)
    await notify(session=session, user_ids=staff, message=message, params=params, url=CANTEEN_PAGE, now=now)


async def _tell_managers(session: AsyncSession, zone_id: int, message: str, now: datetime, **params: object) -> None:
    managers = await _people(session, col(User.role) == Role.MANAGER, col(User.zone_id) == zone_id)
    await notify(session=session, user_ids=managers, message=message, params=params, url=MANAGER_PAGE, now=now)


async def apply_for_terms(
    *, session: AsyncSession, actor: User, data: TermsApplicationInput, now: datetime
) -> TermsApplicationView:
    """A canteen's staff member applies for its invoice terms; the zone's managers are told."""
    organisation = await session.get(Organisation, _staff_canteen(actor))
    assert organisation is not None
    if data.requested_days not in INVOICE_TERMS:
        raise ValidationFailed.single("requested_days", MSG_DAYS)
    npwp = normalise_npwp(data.npwp)
    if organisation.invoice_terms_days == data.requested_days:
        raise Conflict(MSG_ALREADY_GRANTED, params={"days": data.requested_days})
    application = InvoiceTermsApplication(
        organisation_id=organisation.id,
        applicant_id=actor.id,
        company_name=data.company_name,
        npwp=npwp,
        billing_address=data.billing_address,
        requested_days=data.requested_days,
        status=TermsApplicationStatus.SUBMITTED,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(application)
            await session.flush()
    except IntegrityError:
        raise Conflict(MSG_ALREADY_OPEN) from None
    await _tell_managers(
        session, organisation.zone_id, NOTE_SUBMITTED, now, canteen=organisation.name, days=data.requested_days
    )
    return TermsApplicationView(application, organisation, documents=[])


async def _views(session: AsyncSession, applications: Sequence[InvoiceTermsApplication]) -> list[TermsApplicationView]:
    """The applications with their canteens and documents: two queries however many there are."""
    if not applications:
        return []
    ids = [application.id for application in applications]
    documents: dict[int, list[InvoiceTermsDocument]] = {application_id: [] for application_id in ids}
    query = select(InvoiceTermsDocument).where(col(InvoiceTermsDocument.application_id).in_(ids))
    for document in (await session.execute(query.order_by(col(InvoiceTermsDocument.id)))).scalars():
        documents[document.application_id].append(document)
    organisation_ids = {application.organisation_id for application in applications}
    organisations = {
        organisation.id: organisation
        for organisation in (
            await session.execute(select(Organisation).where(col(Organisation.id).in_(organisation_ids)))
        ).scalars()
    }
    return [
        TermsApplicationView(application, organisations[application.organisation_id], documents[application.id])
        for application in applications
    ]


async def latest_application(*, session: AsyncSession, actor: User) -> TermsApplicationView | None:
    """The staff member's canteen's latest application (open, or the last decision), or None."""
    query = (
        select(InvoiceTermsApplication)
        .where(col(InvoiceTermsApplication.organisation_id) == _staff_canteen(actor))
        .order_by(col(InvoiceTermsApplication.id).desc())
        .limit(1)
    )
    views = await _views(session, list((await session.execute(query)).scalars()))
    return views[0] if views else None


async def applications_to_decide(*, session: AsyncSession, actor: User) -> list[TermsApplicationView]:
    """Open applications of the manager's zone (every zone for an admin), the longest waiting first."""
    query = (
        select(InvoiceTermsApplication)
        .join(Organisation, col(Organisation.id) == col(InvoiceTermsApplication.organisation_id))
        .where(col(InvoiceTermsApplication.status).in_(OPEN_TERMS_APPLICATION))
        .order_by(col(InvoiceTermsApplication.updated_at), col(InvoiceTermsApplication.id))
        .limit(100)
    )
    if actor.role != Role.ADMIN:
        query = query.where(col(Organisation.zone_id) == actor.zone_id)
    return await _views(session, list((await session.execute(query)).scalars()))


async def _application(session: AsyncSession, actor: User, application_id: int) -> TermsApplicationView:
    """An application its canteen's staff or its zone's managers (and admins) may see; not found otherwise."""
    application = await session.get(InvoiceTermsApplication, application_id)
    if application is None:
        raise NotFound(MSG_NOT_FOUND)
    views = await _views(session, [application])
    view = views[0]
    mine = actor.role == Role.CANTEEN_STAFF and actor.organisation_id == application.organisation_id
    if not (mine or may_manage(actor, view.organisation.zone_id)):
        raise NotFound(MSG_NOT_FOUND)
    return view


async def add_document(
    *,
    session: AsyncSession,
    actor: User,
    application_id: int,
    title: str,
    document: ProcessedDocument | None,
    storage: Storage,
    now: datetime,
) -> TermsApplicationView:
    """A canteen attaches a document to its open application; when the manager had asked for documents, the
    application goes back to the manager, who is told."""
    _staff_canteen(actor)
    view = await _application(session, actor, application_id)
    if not view.is_open:
        raise Conflict(MSG_CLOSED)
    if document is None:
        raise ValidationFailed.single("document", MSG_NO_DOCUMENT)
    if len(view.documents) >= MAX_DOCUMENTS:
        raise ValidationFailed.single("document", MSG_TOO_MANY_DOCUMENTS, count=MAX_DOCUMENTS)
    key = content_key("invoice-terms", document.data, document.extension)
    await anyio.to_thread.run_sync(storage.save, key, document.data)
    attached = InvoiceTermsDocument(
        application_id=application_id,
        title=title or document.media_type,
        document_key=key,
        media_type=document.media_type,
        uploaded_by_id=actor.id,
        created_at=now,
    )
    session.add(attached)
    application = view.application
    if application.status == TermsApplicationStatus.DOCUMENTS_REQUESTED:
        application.status = TermsApplicationStatus.SUBMITTED
        await _tell_managers(
            session, view.organisation.zone_id, NOTE_DOCUMENTS_ADDED, now, canteen=view.organisation.name
        )
    application.updated_at = now
    session.add(application)
    await session.flush()
    view.documents.append(attached)
    return view


async def document_content(
    *, session: AsyncSession, actor: User, document_id: int, storage: Storage
) -> tuple[bytes, str]:
    """An attached document's bytes and media type, for its canteen's staff and its zone's managers only."""
    document = await session.get(InvoiceTermsDocument, document_id)
    if document is None:
        raise NotFound(MSG_NOT_FOUND)
    await _application(session, actor, document.application_id)
    return await anyio.to_thread.run_sync(storage.read, document.document_key), document.media_type


async def _decide(
    session: AsyncSession, actor: User, application_id: int, status: TermsApplicationStatus, note: str, now: datetime
) -> TermsApplicationView:
    """Move an open application to `status`, once: of two managers deciding at the same time, one wins."""
    view = await _application(session, actor, application_id)
    if actor.role not in (Role.MANAGER, Role.ADMIN):
        raise NotFound(MSG_NOT_FOUND)
    changed = await session.execute(
        update(InvoiceTermsApplication)
        .where(
            col(InvoiceTermsApplication.id) == application_id,
            col(InvoiceTermsApplication.status).in_(OPEN_TERMS_APPLICATION),
        )
        .values(status=status, manager_note=note, decided_by_id=actor.id, updated_at=now)
    )
    if matched_rows(changed) == 0:
        raise Conflict(MSG_CLOSED)
    await session.refresh(view.application)
    return view


def _note(text: str, field: str, message: str) -> str:
    text = " ".join((text or "").split())
    if not 5 <= len(text) <= 500:
        raise ValidationFailed.single(field, message)
    return text


async def grant_terms(
    *, session: AsyncSession, actor: User, application_id: int, days: int, now: datetime
) -> TermsApplicationView:
    """The manager grants 14 or 30 days (not necessarily what was asked): the canteen may order on invoice at once,
    its NPWP is the application's, and its staff are told."""
    if days not in INVOICE_TERMS:
        raise ValidationFailed.single("days", MSG_DAYS)
    view = await _decide(session, actor, application_id, TermsApplicationStatus.GRANTED, "", now)
    view.application.granted_days = days
    session.add(view.application)
    await set_invoice_terms(
        session=session,
        actor=actor,
        organisation_id=view.organisation.id,
        terms_days=days,
        npwp=view.application.npwp,
    )
    await _tell_canteen(session, view.organisation.id, NOTE_GRANTED, now, days=days)
    return view


async def request_documents(
    *, session: AsyncSession, actor: User, application_id: int, note: str, now: datetime
) -> TermsApplicationView:
    """The manager asks for documents before deciding; the canteen's staff read the note."""
    note = _note(note, "note", MSG_NOTE)
    view = await _decide(session, actor, application_id, TermsApplicationStatus.DOCUMENTS_REQUESTED, note, now)
    await _tell_canteen(session, view.organisation.id, NOTE_DOCUMENTS_REQUESTED, now, note=note)
    return view


async def refuse_terms(
    *, session: AsyncSession, actor: User, application_id: int, reason: str, now: datetime
) -> TermsApplicationView:
    """The manager refuses with a reason the canteen's staff read; the refusal goes to the audit log. The canteen
    may apply again later."""
    reason = _note(reason, "reason", MSG_REASON)
    view = await _decide(session, actor, application_id, TermsApplicationStatus.REFUSED, reason, now)
    application = view.application
    before = {"status": "submitted", "requested_days": application.requested_days}
    await record(
        session, actor, "invoice_terms.refuse", application, view.organisation.zone_id, reason=reason, before=before
    )
    await _tell_canteen(session, view.organisation.id, NOTE_REFUSED, now, reason=reason)
    return view
