"""JSON API of orders by WhatsApp: the Cloud API's webhook (Meta calls it), and a vendor's linked number."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler
from pydantic import BaseModel, Field

from backend.accounts.auth import UserRequest
from backend.accounts.code_senders import CodeSender
from backend.accounts.verification import CodePolicy
from backend.clock import utcnow
from backend.config import Settings
from backend.db import DbSession, keep_when_refused
from backend.errors import ValidationFailed
from backend.guards import VENDORS
from backend.problems import problem_response
from backend.whatsapp import inbound, linking
from backend.whatsapp.models import WhatsAppLink

# Meta's deliveries are small; a batch of messages fits well inside this.
WEBHOOK_BODY_LIMIT = 256 * 1024


class WebhookReceipt(BaseModel):
    received: int = Field(description="Messages stored for the first time (a delivery sent again stores none)")


@get(
    "/api/v1/whatsapp/webhook",
    tags=["whatsapp"],
    security=[],
    media_type="text/plain",
    summary="Meta's check of the webhook: echoes hub.challenge when hub.verify_token is ours",
    responses={404: problem_response(404, "Not our token, or orders by WhatsApp are off")},
)
async def verify_webhook(
    settings: NamedDependency[Settings],
    mode: Annotated[str | None, QueryParameter(name="hub.mode")] = None,
    token: Annotated[str | None, QueryParameter(name="hub.verify_token")] = None,
    challenge: Annotated[str | None, QueryParameter(name="hub.challenge")] = None,
) -> str:
    return inbound.verify_subscription(settings=settings, mode=mode, token=token, challenge=challenge)


@post(
    "/api/v1/whatsapp/webhook",
    status_code=200,
    tags=["whatsapp"],
    security=[],
    request_max_body_size=WEBHOOK_BODY_LIMIT,
    summary="The Cloud API's webhook (Meta calls it; signed with the app's secret)",
    description="Verified with `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the app's secret): 401 "
    "when it is missing or wrong, and nothing changes. Each message is stored once by its id and answered at "
    "once; what it asks is done by a background job, so a delivery sent again changes nothing.",
    responses={401: problem_response(401, "The signature is missing or wrong: nothing changed")},
)
async def receive_webhook(
    request: Request[Any, Any, Any], db_session: DbSession, settings: NamedDependency[Settings]
) -> WebhookReceipt:
    payload = await request.body()
    try:
        event = json.loads(payload)
    except ValueError:
        event = None  # still verified first: a forged body of any shape is refused as forged
    received = await inbound.receive_delivery(
        session=db_session,
        settings=settings,
        payload=payload,
        signature=request.headers.get("x-hub-signature-256"),
        event=event,
        now=utcnow(),
    )
    return WebhookReceipt(received=received)


class WhatsAppLinkPublic(BaseModel):
    phone: str | None = Field(description="The linked number (E.164); null while none is linked")
    linked_at: datetime | None
    code_sent_to: str | None = Field(description="The number waiting for its code to be entered, if any")

    @classmethod
    def of(cls, link: WhatsAppLink | None) -> WhatsAppLinkPublic:
        if link is None:
            return cls(phone=None, linked_at=None, code_sent_to=None)
        return cls(phone=link.phone, linked_at=link.linked_at, code_sent_to=link.pending_phone)


class LinkCodeInput(BaseModel):
    phone: str = Field(max_length=40, description="The WhatsApp number to link, as typed (0812..., +62 812-...)")


class LinkConfirmInput(BaseModel):
    code: str = Field(max_length=20)


def code_sender(request: Request[Any, Any, Any]) -> CodeSender:
    sender: CodeSender = request.app.state["code_sender"]
    return sender


def link_policy(settings: Settings) -> CodePolicy:
    return CodePolicy(secret_key=settings.secret_key)


WHATSAPP_OFF = problem_response(404, "Orders by WhatsApp are off on this server")


class WhatsAppLinkApi(Controller):
    path = "/api/v1/vendor/whatsapp"
    tags = ["whatsapp"]
    guards = [VENDORS]
    security = [{"BearerToken": []}]

    @get("", summary="My number linked for orders by WhatsApp", responses={404: WHATSAPP_OFF})
    async def show(
        self, request: UserRequest, db_session: DbSession, settings: NamedDependency[Settings]
    ) -> WhatsAppLinkPublic:
        linking.check_allowed(settings, request.user)
        return WhatsAppLinkPublic.of(await linking.link_of(session=db_session, user=request.user))

    @post(
        "/code",
        status_code=202,
        summary="Send a one-time code to a number, to link it (once a minute)",
        responses={404: WHATSAPP_OFF},
    )
    async def send_code(
        self,
        request: UserRequest,
        data: JSONBody[LinkCodeInput],
        db_session: DbSession,
        settings: NamedDependency[Settings],
    ) -> WhatsAppLinkPublic:
        link = await linking.send_link_code(
            session=db_session,
            settings=settings,
            user=request.user,
            phone=data.phone,
            policy=link_policy(settings),
            sender=code_sender(request),
            now=utcnow(),
        )
        return WhatsAppLinkPublic.of(link)

    @post("/confirm", status_code=200, summary="Enter the code: the number is linked", responses={404: WHATSAPP_OFF})
    async def confirm(
        self,
        request: UserRequest,
        data: JSONBody[LinkConfirmInput],
        db_session: DbSession,
        settings: NamedDependency[Settings],
    ) -> WhatsAppLinkPublic:
        try:
            link = await linking.confirm_link(
                session=db_session,
                settings=settings,
                user=request.user,
                code=data.code,
                policy=link_policy(settings),
                now=utcnow(),
            )
        except ValidationFailed:
            keep_when_refused(request.scope)  # a wrong code counts against it
            raise
        return WhatsAppLinkPublic.of(link)

    @delete("", status_code=204, summary="Unlink my number: no more WhatsApp messages, answers from it do nothing")
    async def unlink(self, request: UserRequest, db_session: DbSession) -> None:
        await linking.unlink(session=db_session, user=request.user, now=utcnow())


API_ROUTES: list[ControllerRouterHandler] = [verify_webhook, receive_webhook, WhatsAppLinkApi]
