"""The readiness path on pages: the vendor's checklist ("Siap jual") and the manager's list of the zone's help
contacts (plain forms, a 303 back to the list with a notice; each change is in the audit log).

The rules are in backend.vendors.readiness and backend.vendors.help_contacts, which the JSON API calls too.
"""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.auth import UserRequest, requires_role
from backend.accounts.models import Role
from backend.clock import utcnow, wib_today
from backend.db import DbSession, undone_if_refused
from backend.errors import ValidationFailed
from backend.phone import display_phone
from backend.training.service import training_badges
from backend.vendors import help_contacts
from backend.vendors.help_contacts import ContactKind, HelpContact, HelpContactInput
from backend.vendors.readiness import vendor_readiness
from web.forms import FIRST_OPENED, FormState, form_values, read_form
from web.responses import page, see_other
from web.roles import VENDORS

MANAGER_ONLY = [requires_role(Role.MANAGER)]
PATH = "/manager/help-contacts"


@get("/vendor/readiness", guards=VENDORS, name="vendor_readiness")
async def readiness_page(request: UserRequest, db_session: DbSession) -> Template:
    """What stands between the vendor and selling into the zone, with the next step and who can help."""
    view = await vendor_readiness(session=db_session, user=request.user, today=wib_today(utcnow()))
    badges = await training_badges(session=db_session, user_id=request.user.id)
    return page("readiness/vendor.html", view=view, training_badges=badges)


async def _contacts_page(request: UserRequest, db_session: AsyncSession, state: FormState = FIRST_OPENED) -> Template:
    contacts = await help_contacts.managed_help_contacts(session=db_session, actor=request.user)
    return page(
        "readiness/help_contacts.html",
        contacts=contacts,
        notice=request.query_params.get("notice"),
        **state.context(blank={"kind": ContactKind.PLUT.value}),
    )


@get(PATH, guards=MANAGER_ONLY)
async def help_contacts_page(request: UserRequest, db_session: DbSession) -> Template:
    return await _contacts_page(request, db_session)


@post(PATH, guards=MANAGER_ONLY)
async def add_help_contact(request: UserRequest, db_session: DbSession) -> Template | Redirect:
    form = await form_values(request)
    try:
        data = read_form(HelpContactInput, form)
        async with undone_if_refused(db_session):
            await help_contacts.add_help_contact(session=db_session, actor=request.user, data=data, now=utcnow())
    except ValidationFailed as refused:
        return await _contacts_page(request, db_session, FormState.refused(form, refused))
    return see_other(PATH, notice="added")


def _contact_form(contact: HelpContact) -> dict[str, Any]:
    return {
        "name": contact.name,
        "kind": contact.kind,
        "phone": display_phone(contact.phone) if contact.phone else "",
        "address": contact.address,
        "opening_hours": contact.opening_hours,
        "note": contact.note,
    }


@get(f"{PATH}/{{contact_id:int}}", guards=MANAGER_ONLY)
async def help_contact_page(request: UserRequest, contact_id: FromPath[int], db_session: DbSession) -> Template:
    """One contact's form, to correct it or remove it; another zone's contact is not found."""
    contact = await help_contacts.get_help_contact(session=db_session, actor=request.user, contact_id=contact_id)
    return page("readiness/help_contact.html", contact=contact, form=_contact_form(contact), errors={})


@post(f"{PATH}/{{contact_id:int}}", guards=MANAGER_ONLY)
async def edit_help_contact(
    request: UserRequest, contact_id: FromPath[int], db_session: DbSession
) -> Template | Redirect:
    form = await form_values(request)
    try:
        data = read_form(HelpContactInput, form)
        async with undone_if_refused(db_session):
            await help_contacts.update_help_contact(
                session=db_session, actor=request.user, contact_id=contact_id, data=data, now=utcnow()
            )
    except ValidationFailed as refused:
        contact = await help_contacts.get_help_contact(session=db_session, actor=request.user, contact_id=contact_id)
        state = FormState.refused(form, refused)
        return page("readiness/help_contact.html", contact=contact, **state.context())
    return see_other(PATH, notice="saved")


@post(f"{PATH}/{{contact_id:int}}/remove", guards=MANAGER_ONLY)
async def remove_help_contact(request: UserRequest, contact_id: FromPath[int], db_session: DbSession) -> Redirect:
    await help_contacts.remove_help_contact(session=db_session, actor=request.user, contact_id=contact_id)
    return see_other(PATH, notice="removed")


PAGE_ROUTES = [
    readiness_page,
    help_contacts_page,
    add_help_contact,
    help_contact_page,
    edit_help_contact,
    remove_help_contact,
]
