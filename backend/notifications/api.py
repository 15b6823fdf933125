"""JSON API for the signed-in user's inbox and Web Push subscriptions.

Every route acts on the caller's own notifications and subscriptions only.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from backend.accounts.auth import UserRequest, requires_login
from backend.clock import utcnow
from backend.config import Settings
from backend.db import DbSession
from backend.notifications import push
from backend.notifications import service as notifications
from backend.notifications.schemas import (
    InboxPagePublic,
    InboxReadInput,
    InboxReadResult,
    PushEndpointInput,
    PushKeyPublic,
    PushSubscriptionInput,
    PushSubscriptionPublic,
)
from backend.problems import problem_response


class InboxApi(Controller):
    path = "/api/v1"
    tags = ["notifications"]
    guards = [requires_login]
    security = [{"BearerToken": []}]

    @get("/inbox", summary="My notifications, newest first (20 a page), in my language")
    async def inbox(
        self,
        request: UserRequest,
        db_session: DbSession,
        page: Annotated[int, QueryParameter(ge=1, le=notifications.LAST_INBOX_PAGE)] = 1,
    ) -> InboxPagePublic:
        inbox = await notifications.list_inbox(session=db_session, user=request.user, page=page)
        unread = await notifications.unread_count(session=db_session, user_id=request.user.id)
        return InboxPagePublic.of(inbox, unread_count=unread)

    @post("/inbox/read", summary="Mark some of my notifications, or all, as read", status_code=200)
    async def mark_read(
        self, request: UserRequest, data: JSONBody[InboxReadInput], db_session: DbSession
    ) -> InboxReadResult:
        marked = await notifications.mark_read(
            session=db_session, user=request.user, notification_ids=data.ids, all_unread=data.all, now=utcnow()
        )
        unread = await notifications.unread_count(session=db_session, user_id=request.user.id)
        return InboxReadResult(marked=marked, unread_count=unread)

    @get(
        "/push/key",
        summary="The VAPID public key to subscribe a browser with (404 when push is off)",
        responses={404: problem_response(404, "Web Push is not set up on this server")},
    )
    async def push_key(self, settings: NamedDependency[Settings]) -> PushKeyPublic:
        return PushKeyPublic(public_key=push.public_key(settings))

    @post(
        "/push/subscriptions",
        summary="Receive my notifications as Web Push in this browser (the body is PushSubscription.toJSON())",
    )
    async def subscribe(
        self,
        request: UserRequest,
        data: JSONBody[PushSubscriptionInput],
        db_session: DbSession,
        settings: NamedDependency[Settings],
    ) -> PushSubscriptionPublic:
        subscription = await push.subscribe(
            session=db_session,
            settings=settings,
            user=request.user,
            endpoint=data.endpoint,
            p256dh=data.keys.p256dh,
            auth=data.keys.auth,
        )
        return PushSubscriptionPublic.of(subscription)

    @delete("/push/subscriptions", summary="Stop Web Push to this browser", status_code=204)
    async def unsubscribe(self, request: UserRequest, data: JSONBody[PushEndpointInput], db_session: DbSession) -> None:
        await push.unsubscribe(session=db_session, user=request.user, endpoint=data.endpoint)


API_ROUTES: list[ControllerRouterHandler] = [InboxApi]
