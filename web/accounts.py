"""Sign-up with the phone number proven by a code, login (by password, or by a code sent to WhatsApp), logout,
settings (password, API tokens) and the language switch."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts import service, verification
from backend.accounts.auth import LANGUAGE_COOKIE, SESSION_COOKIE, UserRequest, requires_login
from backend.accounts.code_senders import CodeSender
from backend.accounts.models import SELF_SERVICE_ROLES, CodePurpose, Role, User
from backend.accounts.schemas import (
    ApiTokenCreate,
    CodeLoginInput,
    LanguageInput,
    LoginInput,
    PasswordChangeInput,
    PhoneCodeInput,
    SignUpInput,
)
from backend.client_address import client_address
from backend.clock import utcnow
from backend.config import Settings
from backend.db import DbSession, keep_when_refused, undone_if_refused
from backend.errors import CodeNotSent, TooManyAttempts, ValidationFailed
from backend.whatsapp import linking
from web.forms import field_errors, form_values, read_form, safe_next
from web.responses import page, page_or_fragment, see_other
from web.roles import home_path_for

ONE_YEAR = 365 * 24 * 3600


def login_policy(settings: Settings) -> service.LoginPolicy:
    return service.LoginPolicy(
        failures_per_account_and_address=settings.login_failures_per_account_and_address,
        failures_per_ip=settings.login_failures_per_ip,
        failures_per_account=settings.login_failures_per_account,
        window_seconds=settings.login_window_seconds,
        password_hash_profile=settings.password_hash_profile,
    )


def code_policy(settings: Settings) -> verification.CodePolicy:
    return verification.CodePolicy(
        secret_key=settings.secret_key, max_codes_per_address_per_hour=settings.otp_codes_per_address_per_hour
    )


def code_sender(request: Request[Any, Any, Any]) -> CodeSender:
    """The app's way of sending codes (WhatsApp, the log, or a test's stand-in)."""
    sender: CodeSender = request.app.state["code_sender"]
    return sender


def client_ip(request: Request[Any, Any, Any]) -> str:
    return client_address(request)


async def send_sign_up_code(
    request: Request[Any, Any, Any], db_session: AsyncSession, settings: Settings, user: User, now: datetime
) -> None:
    """Send the code that confirms `user`'s phone number (after signing up or accepting an invitation, or again)."""
    await verification.send_code(
        session=db_session,
        user=user,
        purpose=CodePurpose.SIGN_UP,
        policy=code_policy(settings),
        sender=code_sender(request),
        ip_address=client_ip(request),
        now=now,
    )


def session_cookie(settings: Settings, value: str, *, max_age: int | None = None) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        max_age=settings.session_max_age_seconds if max_age is None else max_age,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
    )


async def open_session(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    settings: Settings,
    user: User,
    target: str,
    now: datetime,
) -> Redirect:
    """Log the user in with a brand-new session id, ending the one this browser had before."""
    old_token = request.cookies.get(SESSION_COOKIE)
    if old_token:
        await service.end_session(session=db_session, raw_token=old_token)
    token = await service.start_session(
        session=db_session,
        user=user,
        max_age_seconds=settings.session_max_age_seconds,
        now=now,
        ip_address=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    response = see_other(target)
    response.cookies.append(session_cookie(settings, token))
    return response


@get("/login", name="login")
async def login_form(
    request: Request[Any, Any, Any], next_path: Annotated[str | None, QueryParameter(name="next")] = None
) -> Template | Redirect:
    if request.scope.get("user") is not None:
        return see_other(safe_next(next_path, home_path_for(request.scope["user"])))
    return page(
        "accounts/login.html", form={"next": next_path or ""}, errors={}, notice=request.query_params.get("notice")
    )


@post("/login")
async def login(
    request: Request[Any, Any, Any], db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    values = await form_values(request)
    now = utcnow()
    try:
        data = read_form(LoginInput, values)
        user = await service.authenticate(
            session=db_session,
            phone=data.phone,
            password=data.password,
            ip_address=client_ip(request),
            policy=login_policy(settings),
            now=now,
        )
    except (ValidationFailed, TooManyAttempts) as exc:
        keep_when_refused(request.scope)  # the failed attempt counts towards the throttle
        status = 429 if isinstance(exc, TooManyAttempts) else 401
        values.pop("password", None)
        errors = field_errors(exc)
        return page(
            "accounts/login.html",
            status_code=status,
            form=values,
            errors=errors,
            message=errors.get("_form") or errors.get("password"),
            throttled=isinstance(exc, TooManyAttempts),
        )
    return await open_session(request, db_session, settings, user, safe_next(data.next, home_path_for(user)), now)


@post("/logout", guards=[requires_login])
async def logout(
    request: Request[Any, Any, Any], db_session: DbSession, settings: NamedDependency[Settings]
) -> Redirect:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await service.end_session(session=db_session, raw_token=token)
    response = see_other("/")
    response.cookies.append(session_cookie(settings, "", max_age=0))
    return response


@get("/signup", name="signup")
async def signup_form(
    request: Request[Any, Any, Any], db_session: DbSession, role: FromQuery[str | None] = None
) -> Template:
    zones = await service.list_zones(session=db_session)
    form = {"role": role if role in SELF_SERVICE_ROLES else "", "zone_id": str(zones[0].id) if len(zones) == 1 else ""}
    return page("accounts/signup.html", form=form, errors={}, zones=zones)


@post("/signup")
async def signup(
    request: Request[Any, Any, Any], db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    values = await form_values(request)
    now = utcnow()
    try:
        data = read_form(SignUpInput, values)
        async with undone_if_refused(db_session):
            user = await service.sign_up(session=db_session, policy=login_policy(settings), **data.model_dump())
            await send_sign_up_code(request, db_session, settings, user, now)
    except (ValidationFailed, TooManyAttempts, CodeNotSent) as exc:
        values.pop("password", None)
        zones = await service.list_zones(session=db_session)
        status = 422 if isinstance(exc, ValidationFailed) else exc.status_code
        return page("accounts/signup.html", status_code=status, form=values, errors=field_errors(exc), zones=zones)
    # The account is open but can do nothing until the code sent to the number is entered (a UMKM from the district
    # register gets its business profile then).
    return await open_session(request, db_session, settings, user, "/verify-phone", now)


@get("/verify-phone", guards=[requires_login], name="verify_phone")
async def verify_phone_form(request: UserRequest) -> Template | Redirect:
    if request.user.phone_verified:
        return see_other(home_path_for(request.user))
    return page("accounts/verify_phone.html", errors={}, notice=request.query_params.get("notice"))


@post("/verify-phone", guards=[requires_login])
async def verify_phone(
    request: UserRequest, db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    try:
        data = read_form(PhoneCodeInput, await form_values(request))
        user = await verification.confirm_phone(
            session=db_session, user=request.user, code=data.code, policy=code_policy(settings), now=utcnow()
        )
    except ValidationFailed as exc:
        keep_when_refused(request.scope)  # a wrong code counts against it
        return page("accounts/verify_phone.html", status_code=422, errors=field_errors(exc))
    return see_other(home_path_for(user))


@post("/verify-phone/resend", guards=[requires_login])
async def resend_phone_code(
    request: UserRequest, db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    if request.user.phone_verified:
        return see_other(home_path_for(request.user))
    try:
        async with undone_if_refused(db_session):
            await send_sign_up_code(request, db_session, settings, request.user, utcnow())
    except (TooManyAttempts, CodeNotSent) as exc:
        return page("accounts/verify_phone.html", status_code=exc.status_code, errors=field_errors(exc))
    return see_other("/verify-phone", notice="sent")


@get("/login/code", name="login_code")
async def login_code_form(
    request: Request[Any, Any, Any], phone: FromQuery[str] = "", sent: FromQuery[bool] = False
) -> Template | Redirect:
    """First the number (a code is sent to it), then the code."""
    if request.scope.get("user") is not None:
        return see_other(home_path_for(request.scope["user"]))
    return page("accounts/login_code.html", form={"phone": phone}, errors={}, sent=sent and bool(phone))


@post("/login/code")
async def send_login_code(
    request: Request[Any, Any, Any], db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    values = await form_values(request)
    data = read_form(CodeLoginInput, values)
    try:
        async with undone_if_refused(db_session):
            await verification.send_login_code(
                session=db_session,
                phone=data.phone,
                policy=code_policy(settings),
                sender=code_sender(request),
                ip_address=client_ip(request),
                now=utcnow(),
            )
    except (TooManyAttempts, CodeNotSent) as exc:
        return page(
            "accounts/login_code.html",
            status_code=exc.status_code,
            form={"phone": data.phone},
            errors=field_errors(exc),
            sent=False,
        )
    # The same answer whether or not the number has an account.
    return see_other("/login/code", phone=data.phone, sent="1")


@post("/login/code/enter")
async def log_in_with_code(
    request: Request[Any, Any, Any], db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    values = await form_values(request)
    now = utcnow()
    try:
        data = read_form(CodeLoginInput, values)
        user = await verification.log_in_with_code(
            session=db_session, phone=data.phone, code=data.code, policy=code_policy(settings), now=now
        )
    except ValidationFailed as exc:
        keep_when_refused(request.scope)  # a wrong code counts against it
        return page(
            "accounts/login_code.html",
            status_code=422,
            form={"phone": values.get("phone", "")},
            errors=field_errors(exc),
            sent=True,
        )
    return await open_session(request, db_session, settings, user, home_path_for(user), now)


async def render_settings_page(
    request: UserRequest, db_session: AsyncSession, *, status_code: int = 200, **context: Any
) -> Template:
    tokens = await service.list_api_tokens(session=db_session, user=request.user)
    settings: Settings = request.app.state.settings
    # Orders by WhatsApp: a vendor's section of the page, only when the site has WhatsApp set up.
    if settings.whatsapp_orders_enabled and request.user.role == Role.VENDOR:
        context["whatsapp_orders"] = True
        context.setdefault("whatsapp_link", await linking.link_of(session=db_session, user=request.user))
    context.setdefault("errors", {})
    context.setdefault("notice", request.query_params.get("notice"))
    return page("accounts/settings.html", status_code=status_code, tokens=tokens, **context)


@get("/settings", guards=[requires_login], name="settings")
async def settings_page(request: UserRequest, db_session: DbSession) -> Template:
    return await render_settings_page(request, db_session)


@post("/settings/password", guards=[requires_login])
async def change_password(
    request: UserRequest, db_session: DbSession, settings: NamedDependency[Settings]
) -> Template | Redirect:
    now = utcnow()
    try:
        data = read_form(PasswordChangeInput, await form_values(request))
        async with undone_if_refused(db_session):
            revoked_tokens = await service.change_password(
                session=db_session,
                user=request.user,
                current_password=data.current_password,
                new_password=data.new_password,
                password_hash_profile=settings.password_hash_profile,
                now=now,
            )
    except ValidationFailed as exc:
        return await render_settings_page(request, db_session, status_code=422, errors=field_errors(exc))
    # Every other device is logged out; this one continues with a new session id.
    notice = "password_changed_tokens_revoked" if revoked_tokens else "password_changed"
    return await open_session(request, db_session, settings, request.user, f"/settings?notice={notice}", now)


@post("/settings/tokens", guards=[requires_login])
async def create_token(request: UserRequest, db_session: DbSession) -> Template:
    values = await form_values(request)
    try:
        data = read_form(ApiTokenCreate, values)
        async with undone_if_refused(db_session):
            raw, token = await service.create_api_token(session=db_session, user=request.user, name=data.name)
    except ValidationFailed as exc:
        return await render_settings_page(
            request, db_session, status_code=422, errors=field_errors(exc), token_form=values
        )
    return await render_settings_page(request, db_session, new_token=raw, new_token_id=token.id)


@post("/settings/tokens/{token_id:int}/revoke", guards=[requires_login])
async def revoke_token(request: HTMXRequest, token_id: FromPath[int], db_session: DbSession) -> Template | Redirect:
    token = await service.revoke_api_token(session=db_session, actor=request.user, token_id=token_id, now=utcnow())
    return page_or_fragment(
        request, see_other("/settings", notice="token_revoked"), "accounts/_token_row.html", token=token
    )


@post("/language")
async def switch_language(
    request: Request[Any, Any, Any], db_session: DbSession, settings: NamedDependency[Settings]
) -> Response[Any]:
    data = read_form(LanguageInput, await form_values(request))
    user = request.scope.get("user")
    if user is not None:
        await service.choose_language(session=db_session, user=user, locale=data.locale)
    response = see_other(safe_next(data.next))
    response.cookies.append(
        Cookie(
            key=LANGUAGE_COOKIE,
            value=data.locale,
            max_age=ONE_YEAR,
            httponly=True,
            secure=settings.secure_cookies,
            samesite="lax",
            path="/",
        )
    )
    return response


PAGE_ROUTES = [
    login_form,
    login,
    logout,
    signup_form,
    signup,
    verify_phone_form,
    verify_phone,
    resend_phone_code,
    login_code_form,
    send_login_code,
    log_in_with_code,
    settings_page,
    change_password,
    create_token,
    revoke_token,
    switch_language,
]
