"""JSON API for invoice-terms applications: a canteen's staff apply and attach documents, the zone's managers
(admins everywhere) grant, ask for documents or refuse. The same services as the pages; another canteen's or
another zone's application answers 404."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody
from litestar.types import ControllerRouterHandler

from backend.accounts.auth import BEARER, UserRequest
from backend.accounts.models import Organisation
from backend.clock import utcnow
from backend.db import DbSession
from backend.guards import CANTEEN_STAFF, MANAGERS
from backend.media.routes import private_document_response
from backend.media.storage import Storage
from backend.media.uploads import UPLOAD_BODY_LIMIT, document_from_upload
from backend.moderation.schemas import ReasonInput
from backend.payments import terms
from backend.payments.terms_schemas import (
    CanteenTermsStatePublic,
    GrantInput,
    NoteInput,
    TermsApplicationInput,
    TermsApplicationPublic,
)

MULTIPART = Body(media_type=RequestEncodingType.MULTI_PART)


@dataclass
class TermsDocumentUpload:
    title: str = ""
    document: UploadFile | None = None


async def _document_response(
    session: DbSession, request: UserRequest, document_id: int, storage: Storage
) -> Response[bytes]:
    data, media_type = await terms.document_content(
        session=session, actor=request.user, document_id=document_id, storage=storage
    )
    return private_document_response(data, media_type)


async def _decided(
    decide: Callable[..., Awaitable[terms.TermsApplicationView]],
    session: DbSession,
    request: UserRequest,
    application_id: int,
    **choice: object,
) -> TermsApplicationPublic:
    """A manager's decision on an application (grant, ask for documents, refuse) and the application after it."""
    view = await decide(session=session, actor=request.user, application_id=application_id, now=utcnow(), **choice)
    return TermsApplicationPublic.of(view)


class CanteenTermsApplicationApi(Controller):
    path = "/api/v1/canteen/invoice-terms"
    tags = ["invoices"]
    guards = [CANTEEN_STAFF]
    security = BEARER

    @get("", summary="My canteen's invoice terms and its latest application")
    async def state(self, request: UserRequest, db_session: DbSession) -> CanteenTermsStatePublic:
        latest = await terms.latest_application(session=db_session, actor=request.user)
        organisation = await db_session.get(Organisation, request.user.organisation_id)
        return CanteenTermsStatePublic(
            invoice_terms_days=organisation.invoice_terms_days if organisation else None,
            application=TermsApplicationPublic.of(latest) if latest else None,
        )

    @post("/applications", summary="Apply for invoice terms; the zone's managers are told")
    async def apply(
        self, request: UserRequest, data: JSONBody[TermsApplicationInput], db_session: DbSession
    ) -> TermsApplicationPublic:
        view = await terms.apply_for_terms(session=db_session, actor=request.user, data=data, now=utcnow())
        return TermsApplicationPublic.of(view)

    @post(
        "/applications/{application_id:int}/documents",
        summary="Attach a document (photo or PDF; re-encoded) to my canteen's open application",
        request_max_body_size=UPLOAD_BODY_LIMIT,
    )
    async def add_document(
        self,
        request: UserRequest,
        application_id: FromPath[int],
        data: Annotated[TermsDocumentUpload, MULTIPART],
        db_session: DbSession,
        storage: NamedDependency[Storage],
    ) -> TermsApplicationPublic:
        raw = await data.document.read() if data.document is not None else b""
        document = await document_from_upload(raw) if raw else None
        view = await terms.add_document(
            session=db_session,
            actor=request.user,
            application_id=application_id,
            title=data.title.strip()[:120],
            document=document,
            storage=storage,
            now=utcnow(),
        )
        return TermsApplicationPublic.of(view)

    @get(
        "/documents/{document_id:int}", summary="A document my canteen attached", media_type="application/octet-stream"
    )
    async def document(
        self, request: UserRequest, document_id: FromPath[int], db_session: DbSession, storage: NamedDependency[Storage]
    ) -> Response[bytes]:
        return await _document_response(db_session, request, document_id, storage)


class ManagerTermsApplicationApi(Controller):
    path = "/api/v1/manager/invoice-terms"
    tags = ["invoices"]
    guards = [MANAGERS]
    security = BEARER

    @get("/applications", summary="Open applications of my zone (every zone for an admin), the longest waiting first")
    async def open_applications(self, request: UserRequest, db_session: DbSession) -> list[TermsApplicationPublic]:
        return [
            TermsApplicationPublic.of(view)
            for view in await terms.applications_to_decide(session=db_session, actor=request.user)
        ]

    @post("/applications/{application_id:int}/grant", summary="Grant 14 or 30 days", status_code=200)
    async def grant(
        self, request: UserRequest, application_id: FromPath[int], data: JSONBody[GrantInput], db_session: DbSession
    ) -> TermsApplicationPublic:
        return await _decided(terms.grant_terms, db_session, request, application_id, days=data.days)

    @post(
        "/applications/{application_id:int}/request-documents",
        summary="Ask the canteen for documents before deciding",
        status_code=200,
    )
    async def request_documents(
        self, request: UserRequest, application_id: FromPath[int], data: JSONBody[NoteInput], db_session: DbSession
    ) -> TermsApplicationPublic:
        return await _decided(terms.request_documents, db_session, request, application_id, note=data.note)

    @post(
        "/applications/{application_id:int}/refuse", summary="Refuse with a reason the canteen reads", status_code=200
    )
    async def refuse(
        self, request: UserRequest, application_id: FromPath[int], data: JSONBody[ReasonInput], db_session: DbSession
    ) -> TermsApplicationPublic:
        return await _decided(terms.refuse_terms, db_session, request, application_id, reason=data.reason)

    @get(
        "/documents/{document_id:int}",
        summary="A document a canteen of my zone attached",
        media_type="application/octet-stream",
    )
    async def document(
        self, request: UserRequest, document_id: FromPath[int], db_session: DbSession, storage: NamedDependency[Storage]
    ) -> Response[bytes]:
        return await _document_response(db_session, request, document_id, storage)


API_ROUTES: list[ControllerRouterHandler] = [CanteenTermsApplicationApi, ManagerTermsApplicationApi]
