"""Invoice-terms application pages: the canteen's (apply, attach the documents the manager asks for, read the
decision) and the manager's queue (grant 14 or 30 days, ask for documents, refuse with a reason).

Plain forms answered by a 303; a refusal comes back on the same page with its message. The rules live in
backend.payments.terms, which the JSON API calls too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest, requires_role
from backend.accounts.models import Organisation, Role
from backend.clock import utcnow
from backend.db import DbSession, undone_if_refused
from backend.errors import DomainError, NotFound
from backend.media.routes import private_document_response
from backend.media.storage import Storage
from backend.media.uploads import UPLOAD_BODY_LIMIT, document_from_upload
from backend.moderation.schemas import ReasonInput
from backend.payments import terms
from backend.payments.invoices import INVOICE_TERMS
from backend.payments.terms_schemas import GrantInput, NoteInput, TermsApplicationInput
from web.forms import FIRST_OPENED, FormState, RowRefusal, form_values, read_form, row_forms
from web.responses import page, see_other
from web.roles import CANTEEN_STAFF, MANAGERS

READERS = [requires_role(Role.CANTEEN_STAFF, Role.MANAGER, Role.ADMIN)]
CANTEEN_PAGE = terms.CANTEEN_PAGE
MANAGER_PAGE = terms.MANAGER_PAGE
# A manager's decisions on an application, by the name in the form's URL: what the form carries, and the rule.
DECISIONS: dict[str, tuple[type[BaseModel], Callable[..., Awaitable[terms.TermsApplicationView]]]] = {
    "grant": (GrantInput, terms.grant_terms),
    "request-documents": (NoteInput, terms.request_documents),
    "refuse": (ReasonInput, terms.refuse_terms),
}


# --- the canteen -------------------------------------------------------------------------------------------


async def _canteen_page(request: UserRequest, db_session: AsyncSession, state: FormState = FIRST_OPENED) -> Template:
    latest = await terms.latest_application(session=db_session, actor=request.user)
    # Read with the application when there is one (the session's identity map answers without a query).
    organisation = await db_session.get(Organisation, request.user.organisation_id)
    return page(
        "invoices/terms_application.html",
        organisation=organisation,
        latest=latest,
        terms=INVOICE_TERMS,
        notice=request.query_params.get("notice"),
        **state.context(),
    )


@get(CANTEEN_PAGE, guards=CANTEEN_STAFF, name="canteen_invoice_terms")
async def canteen_terms_page(request: UserRequest, db_session: DbSession) -> Template:
    """The canteen's terms now, its latest application and what to do next (three queries)."""
    return await _canteen_page(request, db_session)


@post(CANTEEN_PAGE, guards=CANTEEN_STAFF)
async def apply_for_terms(request: UserRequest, db_session: DbSession) -> Template | Redirect:
    values = await form_values(request)
    try:
        data = read_form(TermsApplicationInput, values)
        async with undone_if_refused(db_session):
            await terms.apply_for_terms(session=db_session, actor=request.user, data=data, now=utcnow())
    except DomainError as refused:
        return await _canteen_page(request, db_session, FormState.refused(values, refused, status_code=422))
    return see_other(CANTEEN_PAGE, notice="applied")


@post(
    CANTEEN_PAGE + "/{application_id:int}/documents",
    guards=CANTEEN_STAFF,
    request_max_body_size=UPLOAD_BODY_LIMIT,
)
async def add_document(
    request: UserRequest, application_id: FromPath[int], db_session: DbSession, storage: NamedDependency[Storage]
) -> Template | Redirect:
    values = await form_values(request)
    upload = values.pop("document", None)
    try:
        raw = await upload.read() if upload is not None and not isinstance(upload, str) else b""
        document = await document_from_upload(raw) if raw else None
        async with undone_if_refused(db_session):
            await terms.add_document(
                session=db_session,
                actor=request.user,
                application_id=application_id,
                title=str(values.get("title", ""))[:120],
                document=document,
                storage=storage,
                now=utcnow(),
            )
    except DomainError as refused:
        return await _canteen_page(request, db_session, FormState.refused(values, refused, status_code=422))
    return see_other(CANTEEN_PAGE, notice="document_added")


@get("/invoice-terms/documents/{document_id:int}", guards=READERS)
async def terms_document(
    request: UserRequest, document_id: FromPath[int], db_session: DbSession, storage: NamedDependency[Storage]
) -> Response[bytes]:
    """An attached document, for its canteen's staff and its zone's managers: never cached, never run as a page."""
    data, media_type = await terms.document_content(
        session=db_session, actor=request.user, document_id=document_id, storage=storage
    )
    return private_document_response(data, media_type)


# --- the manager -------------------------------------------------------------------------------------------


async def _manager_page(request: UserRequest, db_session: AsyncSession, refusal: RowRefusal | None = None) -> Template:
    applications = await terms.applications_to_decide(session=db_session, actor=request.user)
    return page(
        "invoices/terms_applications.html",
        applications=applications,
        terms=INVOICE_TERMS,
        notice=request.query_params.get("notice"),
        **row_forms(refusal),
    )


@get(MANAGER_PAGE, guards=MANAGERS, name="manager_invoice_terms")
async def manager_terms_page(request: UserRequest, db_session: DbSession) -> Template:
    """Open applications, the longest waiting first, with their documents (three queries)."""
    return await _manager_page(request, db_session)


@post(MANAGER_PAGE + "/{application_id:int}/{decision:str}", guards=MANAGERS)
async def decide(
    request: UserRequest, application_id: FromPath[int], decision: FromPath[str], db_session: DbSession
) -> Template | Redirect:
    """Grant, ask for documents or refuse: each with its own form on the application's card."""
    values = await form_values(request)
    try:
        if decision not in DECISIONS:
            raise NotFound()
        model, rule = DECISIONS[decision]
        choice = read_form(model, values).model_dump()
        async with undone_if_refused(db_session):
            await rule(session=db_session, actor=request.user, application_id=application_id, now=utcnow(), **choice)
    except DomainError as refused:
        status = 404 if refused.status_code == 404 else 400
        refusal = RowRefusal(application_id, refused, {**values, "decision": decision}, status_code=status)
        return await _manager_page(request, db_session, refusal)
    return see_other(MANAGER_PAGE, notice=decision)


PAGE_ROUTES = [canteen_terms_page, apply_for_terms, add_document, terms_document, manager_terms_page, decide]
