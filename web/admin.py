"""The admin's pages: zones (their centre, commission and delivery points), market managers (invited by a link,
moved, removed), people's accounts (found by phone, deactivated, given a one-time link to set a new password) and
the platform's bank account. Each calls the same service as the admin API (backend.administration); the invited
manager's and the password link's pages are open to whoever holds the link."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts import service as accounts
from backend.accounts import verification
from backend.accounts.auth import UserRequest
from backend.accounts.models import CodePurpose, Zone
from backend.administration import service
from backend.administration.schemas import (
    ManagerInvitationInput,
    MoveManagerInput,
    NewPasswordInput,
    ReasonInput,
    ZoneFormInput,
)
from backend.clock import utcnow
from backend.config import Settings
from backend.db import DbSession, undone_if_refused
from backend.errors import CodeNotSent, NotFound, TooManyAttempts, ValidationFailed
from backend.links import absolute_link
from backend.orders import delivery
from backend.orders.models import PointKind
from backend.orders.schemas import DeliveryPointInput
from backend.payments.ledger_schemas import bps_to_percent
from backend.payments.payout_accounts import PayoutAccountInput
from backend.phone import display_phone
from backend.security_headers import LOCATION
from web.accounts import client_ip, code_policy, code_sender, open_session
from web.forms import field_errors, form_values, read_form
from web.responses import page, page_or_fragment, see_other
from web.roles import ADMINS

ZONE_FORM = {"commission_bps": "commission"}

# --- zones --------------------------------------------------------------------------------------------------


async def _zones_page(
    db_session: AsyncSession,
    *,
    notice: str | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return page(
        "admin/zones.html",
        status_code=status_code,
        zones=await accounts.zones_with_people(session=db_session),
        form=form or {"commission": "5"},
        errors=errors or {},
        notice=notice,
    )


@get("/admin/zones", guards=ADMINS, name="admin_zones", opt=LOCATION)
async def zones_page(request: UserRequest, db_session: DbSession) -> Template:
    """Every zone with its number of accounts, and the form to create one (two queries)."""
    return await _zones_page(db_session, notice=request.query_params.get("notice"))


@post("/admin/zones", guards=ADMINS, opt=LOCATION)
async def create_zone(request: UserRequest, db_session: DbSession) -> Template | Redirect:
    form = await form_values(request)
    try:
        data = read_form(ZoneFormInput, form, names={"commission": "commission_bps"})
        async with undone_if_refused(db_session):
            zone = await service.create_zone(session=db_session, actor=request.user, data=data)
    except ValidationFailed as refused:
        errors = field_errors(refused, rename=ZONE_FORM)
        return await _zones_page(db_session, form=form, errors=errors, status_code=400)
    return see_other(f"/admin/zones/{zone.id}", notice="created")


def _zone_form(zone: Zone) -> dict[str, Any]:
    return {
        "code": zone.code,
        "name": zone.name,
        "regency": zone.regency,
        "province": zone.province,
        "latitude": zone.latitude,
        "longitude": zone.longitude,
        "commission": bps_to_percent(zone.commission_bps),
    }


async def _zone_page(
    request: UserRequest,
    db_session: AsyncSession,
    zone_id: int,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    point_form: dict[str, Any] | None = None,
    point_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    zone, points = await service.zone_and_points(session=db_session, actor=request.user, zone_id=zone_id)
    return page(
        "admin/zone.html",
        status_code=status_code,
        zone=zone,
        points=points,
        form=form or _zone_form(zone),
        errors=errors or {},
        point_form=point_form or {"kind": PointKind.GATE.value},
        point_errors=point_errors or {},
        notice=request.query_params.get("notice"),
    )


@get("/admin/zones/{zone_id:int}", guards=ADMINS, name="admin_zone", opt=LOCATION)
async def zone_page(request: UserRequest, zone_id: FromPath[int], db_session: DbSession) -> Template:
    """A zone's details, centre and commission, and its gates and dormitories (three queries)."""
    return await _zone_page(request, db_session, zone_id)


@post("/admin/zones/{zone_id:int}", guards=ADMINS, opt=LOCATION)
async def update_zone(request: UserRequest, zone_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    form = await form_values(request)
    try:
        data = read_form(ZoneFormInput, form, names={"commission": "commission_bps"})
        async with undone_if_refused(db_session):
            await service.update_zone(session=db_session, actor=request.user, zone_id=zone_id, data=data)
    except ValidationFailed as refused:
        errors = field_errors(refused, rename={**ZONE_FORM, "commission_bps": "commission"})
        return await _zone_page(request, db_session, zone_id, form=form, errors=errors, status_code=400)
    return see_other(f"/admin/zones/{zone_id}", notice="saved")


@post("/admin/zones/{zone_id:int}/delivery-points", guards=ADMINS, opt=LOCATION)
async def add_delivery_point(
    request: UserRequest, zone_id: FromPath[int], db_session: DbSession
) -> Template | Redirect:
    form = await form_values(request)
    try:
        point = read_form(DeliveryPointInput, form)
        async with undone_if_refused(db_session):
            await delivery.add_delivery_point(
                session=db_session,
                actor=request.user,
                zone_id=zone_id,
                kind=point.kind,
                name=point.name,
                latitude=point.latitude,
                longitude=point.longitude,
            )
    except ValidationFailed as refused:
        errors = field_errors(refused)
        return await _zone_page(request, db_session, zone_id, point_form=form, point_errors=errors, status_code=400)
    return see_other(f"/admin/zones/{zone_id}", notice="point_added")


@post("/admin/zones/{zone_id:int}/delivery-points/{point_id:int}/{action:str}", guards=ADMINS)
async def open_or_close_delivery_point(
    request: UserRequest, zone_id: FromPath[int], point_id: FromPath[int], action: FromPath[str], db_session: DbSession
) -> Redirect:
    if action not in ("open", "close"):
        raise NotFound()
    await delivery.set_delivery_point_active(
        session=db_session, actor=request.user, point_id=point_id, active=action == "open"
    )
    return see_other(f"/admin/zones/{zone_id}", notice="point_opened" if action == "open" else "point_closed")


# --- managers -----------------------------------------------------------------------------------------------


async def _managers_page(
    request: UserRequest,
    db_session: AsyncSession,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    link: str | None = None,
) -> Template:
    overview = await service.managers_overview(session=db_session, actor=request.user, now=utcnow())
    return page(
        "admin/managers.html",
        status_code=status_code,
        overview=overview,
        zone_options=[(zone.id, f"{zone.code} · {zone.name}") for zone in overview.zones],
        form=form or {},
        errors=errors or {},
        link=link,
        notice=request.query_params.get("notice"),
    )


@get("/admin/managers", guards=ADMINS, name="admin_managers")
async def managers_page(request: UserRequest, db_session: DbSession) -> Template:
    """Every zone's managers, the invitations still open and the form to invite one (four queries)."""
    return await _managers_page(request, db_session)


@post("/admin/managers/invitations", guards=ADMINS)
async def invite_manager(request: UserRequest, db_session: DbSession, settings: NamedDependency[Settings]) -> Template:
    """The invitation's link is shown once, on the answer itself (never in a redirect's address), for the admin
    to send to the person by WhatsApp."""
    form = await form_values(request)
    try:
        data = read_form(ManagerInvitationInput, form)
        async with undone_if_refused(db_session):
            raw, invitation = await service.invite_manager(
                session=db_session,
                actor=request.user,
                zone_id=data.zone_id,
                phone=data.phone,
                full_name=data.full_name,
                now=utcnow(),
            )
    except ValidationFailed as refused:
        return await _managers_page(request, db_session, form=form, errors=field_errors(refused), status_code=400)
    link = absolute_link(request, settings, f"/invitations/{raw}")
    return await _managers_page(request, db_session, link=link, form={"sent_to": invitation.phone})


@post("/admin/managers/invitations/{invitation_id:int}/withdraw", guards=ADMINS)
async def withdraw_invitation(request: UserRequest, invitation_id: FromPath[int], db_session: DbSession) -> Redirect:
    await service.withdraw_invitation(session=db_session, actor=request.user, invitation_id=invitation_id, now=utcnow())
    return see_other("/admin/managers", notice="withdrawn")


@post("/admin/managers/{manager_id:int}/move", guards=ADMINS)
async def move_manager(request: UserRequest, manager_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    form = await form_values(request)
    try:
        data = read_form(MoveManagerInput, form)
        async with undone_if_refused(db_session):
            await service.move_manager(
                session=db_session, actor=request.user, manager_id=manager_id, zone_id=data.zone_id
            )
    except ValidationFailed as refused:
        return await _managers_page(request, db_session, errors=field_errors(refused), status_code=400)
    return see_other("/admin/managers", notice="moved")


@post("/admin/managers/{manager_id:int}/remove", guards=ADMINS)
async def remove_manager(request: UserRequest, manager_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    form = await form_values(request)
    try:
        data = read_form(ReasonInput, form)
        async with undone_if_refused(db_session):
            await service.remove_manager(
                session=db_session, actor=request.user, manager_id=manager_id, reason=data.reason, now=utcnow()
            )
    except ValidationFailed as refused:
        return await _managers_page(request, db_session, errors=field_errors(refused), status_code=400)
    return see_other("/admin/managers", notice="removed")


def _kept_nowhere(answer: Template) -> Template:
    """A page whose address is a secret link: no cache keeps it, so a shared phone's history does not hand the
    link's page to the next person."""
    answer.headers["Cache-Control"] = "no-store"
    return answer


# --- the invited manager's link -------------------------------------------------------------------------------


async def _invitation_page(
    db_session: AsyncSession, token: str, *, errors: dict[str, str] | None = None, status_code: int = 200
) -> Template:
    try:
        invitation, zone = await service.open_invitation(session=db_session, raw_token=token, now=utcnow())
    except NotFound as dead:
        return page("admin/link_dead.html", status_code=410, message=dead.message)
    return _kept_nowhere(
        page(
            "admin/invitation.html",
            status_code=status_code,
            invitation=invitation,
            zone=zone,
            token=token,
            errors=errors or {},
        )
    )


@get("/invitations/{token:str}", name="manager_invitation")
async def invitation_page(token: FromPath[str], db_session: DbSession) -> Template:
    """Whoever holds the link sees the zone they are invited to manage and chooses a password."""
    return await _invitation_page(db_session, token)


@post("/invitations/{token:str}")
async def accept_invitation(
    request: Request[Any, Any, Any], token: FromPath[str], db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    """The manager's account is opened and a code sent to the number by WhatsApp: as at sign-up, entering it
    proves the number (/verify-phone), and the manager's pages open."""
    values = await form_values(request)
    now = utcnow()
    try:
        data = read_form(NewPasswordInput, values)
        async with undone_if_refused(db_session):
            user = await service.accept_invitation(
                session=db_session,
                raw_token=token,
                password=data.password,
                password_hash_profile=settings.password_hash_profile,
                now=now,
            )
            await verification.send_code(
                session=db_session,
                user=user,
                purpose=CodePurpose.SIGN_UP,
                policy=code_policy(settings),
                sender=code_sender(request),
                ip_address=client_ip(request),
                now=now,
            )
    except NotFound as dead:
        return page("admin/link_dead.html", status_code=410, message=dead.message)
    except (ValidationFailed, TooManyAttempts, CodeNotSent) as refused:
        status = 400 if isinstance(refused, ValidationFailed) else refused.status_code
        return await _invitation_page(db_session, token, errors=field_errors(refused), status_code=status)
    return await open_session(request, db_session, settings, user, "/verify-phone", now)


# --- accounts -----------------------------------------------------------------------------------------------


@get("/admin/users", guards=ADMINS, name="admin_users")
async def users_page(request: HTMXRequest, db_session: DbSession) -> Template:
    """Find an account by its phone number (as typed, or at least 4 of its digits); htmx swaps only the results
    (two queries)."""
    phone = (request.query_params.get("phone") or "").strip()
    users: list[Any] = []
    errors: dict[str, str] = {}
    if phone:
        try:
            users = await service.find_users_by_phone(session=db_session, actor=request.user, phone=phone)
        except ValidationFailed as refused:
            errors = field_errors(refused)
    return page_or_fragment(
        request,
        "admin/users.html",
        "admin/_user_results.html",
        form={"phone": phone},
        errors=errors,
        users=users,
        searched=bool(phone),
    )


async def _user_page(
    request: UserRequest,
    db_session: AsyncSession,
    user_id: int,
    *,
    link: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    detail = await service.account_detail(session=db_session, actor=request.user, user_id=user_id, now=utcnow())
    return page(
        "admin/user.html",
        status_code=status_code,
        detail=detail,
        account=detail.user,
        link=link,
        errors=errors or {},
        notice=request.query_params.get("notice"),
    )


@get("/admin/users/{user_id:int}", guards=ADMINS, name="admin_user")
async def user_page(request: UserRequest, user_id: FromPath[int], db_session: DbSession) -> Template:
    """One account: its role, zone, whether it is active and on how many browsers it is logged in (three
    queries)."""
    return await _user_page(request, db_session, user_id)


@post("/admin/users/{user_id:int}/{action:str}", guards=ADMINS)
async def change_account(
    request: UserRequest, user_id: FromPath[int], action: FromPath[str], db_session: DbSession
) -> Template | Redirect:
    """Deactivate an account (logged out everywhere, tokens revoked) or reactivate it, with a reason."""
    if action not in ("deactivate", "reactivate"):
        raise NotFound()
    form = await form_values(request)
    try:
        data = read_form(ReasonInput, form)
        async with undone_if_refused(db_session):
            if action == "deactivate":
                await service.deactivate_user(
                    session=db_session, actor=request.user, user_id=user_id, reason=data.reason, now=utcnow()
                )
            else:
                await service.reactivate_user(
                    session=db_session, actor=request.user, user_id=user_id, reason=data.reason
                )
    except ValidationFailed as refused:
        return await _user_page(request, db_session, user_id, errors=field_errors(refused), status_code=400)
    return see_other(f"/admin/users/{user_id}", notice=f"{action}d")


@post("/admin/users/{user_id:int}/password-link", guards=ADMINS)
async def password_link(
    request: UserRequest, user_id: FromPath[int], db_session: DbSession, settings: NamedDependency[Settings]
) -> Template:
    """A one-time link for the owner to choose a new password, shown once on the answer for the admin to send."""
    try:
        async with undone_if_refused(db_session):
            raw, _ = await service.create_password_reset_link(
                session=db_session, actor=request.user, user_id=user_id, now=utcnow()
            )
    except ValidationFailed as refused:
        return await _user_page(request, db_session, user_id, errors=field_errors(refused), status_code=400)
    link = absolute_link(request, settings, f"/reset-password/{raw}")
    return await _user_page(request, db_session, user_id, link=link)


# --- the password link --------------------------------------------------------------------------------------


async def _reset_page(
    db_session: AsyncSession, token: str, *, errors: dict[str, str] | None = None, status_code: int = 200
) -> Template:
    try:
        owner = await service.reset_link_owner(session=db_session, raw_token=token, now=utcnow())
    except NotFound as dead:
        return page("admin/link_dead.html", status_code=410, message=dead.message)
    return _kept_nowhere(
        page(
            "admin/reset_password.html",
            status_code=status_code,
            owner_phone=display_phone(owner.phone),
            token=token,
            errors=errors or {},
        )
    )


@get("/reset-password/{token:str}", name="reset_password")
async def reset_password_page(token: FromPath[str], db_session: DbSession) -> Template:
    return await _reset_page(db_session, token)


@post("/reset-password/{token:str}")
async def reset_password(
    request: Request[Any, Any, Any], token: FromPath[str], db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    """The new password is set, the link used up, and every session of the account ended; the owner logs in."""
    values = await form_values(request)
    try:
        data = read_form(NewPasswordInput, values)
        async with undone_if_refused(db_session):
            await service.reset_password_with_link(
                session=db_session,
                raw_token=token,
                new_password=data.password,
                password_hash_profile=settings.password_hash_profile,
                now=utcnow(),
            )
    except NotFound as dead:
        return page("admin/link_dead.html", status_code=410, message=dead.message)
    except ValidationFailed as refused:
        return await _reset_page(db_session, token, errors=field_errors(refused), status_code=400)
    return see_other("/login", notice="password_reset")


# --- the platform's settings ------------------------------------------------------------------------------------


async def _settings_page(
    request: UserRequest,
    db_session: AsyncSession,
    settings: Settings,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    stored = await service.stored_platform_bank(session=db_session, actor=request.user)
    configured = settings.platform_bank
    if form is None:
        if stored is not None:
            form = {
                "bank_name": stored.bank_name,
                "account_number": stored.account_number,
                "account_holder": stored.account_holder,
            }
        elif configured is not None:
            form = {
                "bank_name": configured.name,
                "account_number": configured.account_number,
                "account_holder": configured.account_holder,
            }
        else:
            form = {}
    return page(
        "admin/settings.html",
        status_code=status_code,
        stored=stored,
        configured=configured,
        form=form,
        errors=errors or {},
        notice=request.query_params.get("notice"),
    )


@get("/admin/settings", guards=ADMINS, name="admin_settings")
async def settings_page(request: UserRequest, db_session: DbSession, settings: NamedDependency[Settings]) -> Template:
    """The platform's bank account that invoices and bank-transfer payments name (two queries)."""
    return await _settings_page(request, db_session, settings)


@post("/admin/settings", guards=ADMINS)
async def save_settings(
    request: UserRequest, db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    form = await form_values(request)
    try:
        data = read_form(PayoutAccountInput, form)
        async with undone_if_refused(db_session):
            await service.save_platform_bank(session=db_session, actor=request.user, data=data, now=utcnow())
    except ValidationFailed as refused:
        return await _settings_page(
            request, db_session, settings, form=form, errors=field_errors(refused), status_code=400
        )
    return see_other("/admin/settings", notice="saved")


PAGE_ROUTES = [
    zones_page,
    create_zone,
    zone_page,
    update_zone,
    add_delivery_point,
    open_or_close_delivery_point,
    managers_page,
    invite_manager,
    withdraw_invitation,
    move_manager,
    remove_manager,
    invitation_page,
    accept_invitation,
    users_page,
    user_page,
    password_link,
    change_account,
    reset_password_page,
    reset_password,
    settings_page,
    save_settings,
]
