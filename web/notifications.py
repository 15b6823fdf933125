"""The inbox page, and the two calls the inbox's script (static/js/push.js) makes to turn Web Push on or off.

The inbox works without JavaScript ("mark all as read" is a plain form; htmx swaps the list in place).
The push calls take the browser's PushSubscription as JSON and the CSRF token in the X-CSRFToken header.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest, requires_login
from backend.clock import utcnow
from backend.config import Settings
from backend.db import DbSession
from backend.errors import N_, DomainError
from backend.i18n import gettext
from backend.notifications import push
from backend.notifications import service as notifications
from backend.notifications.schemas import NotificationPublic, PushEndpointInput, PushSubscriptionInput
from backend.validation import validate_input
from web.forms import field_errors, page_number, safe_next
from web.responses import page_or_fragment, see_other, varies_with_htmx, wants_fragment

MSG_PUSH_ON = N_("Notifications are on for this phone.")
MSG_PUSH_OFF = N_("Notifications are off for this phone.")


async def _inbox(
    request: HTMXRequest, db_session: AsyncSession, settings: Settings, *, page_number: int = 1
) -> Template:
    """The inbox page, or for htmx the list alone."""
    inbox = await notifications.list_inbox(session=db_session, user=request.user, page=page_number)
    # Notifications link to pages of this site only.
    lines = [
        line.model_copy(update={"url": safe_next(line.url, default="")})
        for line in map(NotificationPublic.of, inbox.items)
    ]
    return page_or_fragment(
        request,
        "notifications/inbox.html",
        "notifications/_inbox.html",
        inbox=inbox,
        lines=lines,
        notice=request.query_params.get("notice"),
        unread=await notifications.unread_count(session=db_session, user_id=request.user.id),
        push_public_key=settings.vapid_public_key if settings.web_push_enabled else None,
    )


@get("/inbox", guards=[requires_login], name="inbox")
async def inbox_page(request: HTMXRequest, db_session: DbSession, settings: NamedDependency[Settings]) -> Template:
    number = min(page_number(request.query_params.get("page")), notifications.LAST_INBOX_PAGE)
    return await _inbox(request, db_session, settings, page_number=number)


@post("/inbox/read", guards=[requires_login])
async def mark_all_read(
    request: HTMXRequest, db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    await notifications.mark_read(session=db_session, user=request.user, all_unread=True, now=utcnow())
    if not wants_fragment(request):
        return varies_with_htmx(see_other("/inbox", notice="read"))
    return await _inbox(request, db_session, settings)


@post("/push/subscriptions", guards=[requires_login], status_code=201)
async def subscribe_this_browser(
    request: UserRequest, data: JSONBody[dict[str, Any]], db_session: DbSession, settings: NamedDependency[Settings]
) -> Response[dict[str, Any]]:
    try:
        subscription = validate_input(PushSubscriptionInput, data)
        await push.subscribe(
            session=db_session,
            settings=settings,
            user=request.user,
            endpoint=subscription.endpoint,
            p256dh=subscription.keys.p256dh,
            auth=subscription.keys.auth,
        )
    except DomainError as refused:
        return _refusal(refused)  # a 4xx answer: the request's transaction is rolled back
    return Response({"message": gettext(MSG_PUSH_ON)}, status_code=201)


@post("/push/unsubscribe", guards=[requires_login], status_code=200)
async def unsubscribe_this_browser(
    request: UserRequest, data: JSONBody[dict[str, Any]], db_session: DbSession
) -> Response[dict[str, Any]]:
    try:
        subscription = validate_input(PushEndpointInput, data)
    except DomainError as refused:
        return _refusal(refused)
    await push.unsubscribe(session=db_session, user=request.user, endpoint=subscription.endpoint)
    return Response({"message": gettext(MSG_PUSH_OFF)})


def _refusal(refused: DomainError) -> Response[dict[str, Any]]:
    """The script shows `message` to the person (the first field's problem when there is one)."""
    errors = field_errors(refused)
    message = next(iter(errors.values()), None) or gettext(refused.message, **refused.params)
    return Response({"message": message, "errors": errors}, status_code=refused.status_code)


PAGE_ROUTES = [inbox_page, mark_all_read, subscribe_this_browser, unsubscribe_this_browser]
