"""The account page's section for orders by WhatsApp: a vendor links a number (a code is sent to it, then entered
here) or unlinks it. The same service functions as the JSON API (backend.whatsapp.api)."""

from __future__ import annotations

from litestar import post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from backend.accounts.auth import UserRequest
from backend.clock import utcnow
from backend.config import Settings
from backend.db import DbSession, keep_when_refused, undone_if_refused
from backend.errors import CodeNotSent, TooManyAttempts, ValidationFailed
from backend.guards import VENDORS
from backend.whatsapp import linking
from backend.whatsapp.api import code_sender, link_policy
from web.accounts import render_settings_page
from web.forms import field_errors, form_values
from web.responses import see_other


@post("/settings/whatsapp/code", guards=[VENDORS])
async def send_link_code(
    request: UserRequest, db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    values = await form_values(request)
    try:
        async with undone_if_refused(db_session):
            await linking.send_link_code(
                session=db_session,
                settings=settings,
                user=request.user,
                phone=str(values.get("phone", "")),
                policy=link_policy(settings),
                sender=code_sender(request),
                now=utcnow(),
            )
    except (ValidationFailed, TooManyAttempts, CodeNotSent) as exc:
        errors = field_errors(exc)
        return await render_settings_page(
            request,
            db_session,
            status_code=exc.status_code,
            errors={"whatsapp": errors.pop("_form", ""), **errors},
            whatsapp_form={"phone": values.get("phone", "")},
        )
    return see_other("/settings", notice="whatsapp_code_sent")


@post("/settings/whatsapp/confirm", guards=[VENDORS])
async def confirm_link(
    request: UserRequest, db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    values = await form_values(request)
    try:
        await linking.confirm_link(
            session=db_session,
            settings=settings,
            user=request.user,
            code=str(values.get("code", "")),
            policy=link_policy(settings),
            now=utcnow(),
        )
    except ValidationFailed as exc:
        keep_when_refused(request.scope)  # a wrong code counts against it
        return await render_settings_page(request, db_session, status_code=422, errors=field_errors(exc))
    return see_other("/settings", notice="whatsapp_linked")


@post("/settings/whatsapp/unlink", guards=[VENDORS])
async def unlink(request: UserRequest, db_session: DbSession) -> Redirect:
    await linking.unlink(session=db_session, user=request.user, now=utcnow())
    return see_other("/settings", notice="whatsapp_unlinked")


PAGE_ROUTES = [send_link_code, confirm_link, unlink]
