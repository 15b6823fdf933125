"""Who is asking: session cookies for pages, bearer tokens for the API; role guards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.openapi.spec import SecurityRequirement
from litestar.types import ASGIApp, Receive, Scope, Send

from backend.accounts import service
from backend.accounts.models import Role, User
from backend.clock import utcnow
from backend.db import Database
from backend.errors import Forbidden, NotAuthenticated, PhoneNotVerified
from backend.i18n import pick_locale, set_locale

# The request of a handler behind requires_login or requires_role: `request.user` is the logged-in User.
UserRequest: TypeAlias = Request[User, Any, Any]
# How the API's operations say, in the OpenAPI document, that they need a personal API token.
BEARER: list[SecurityRequirement] = [{"BearerToken": []}]

SESSION_COOKIE = "pk_session"
# Where a page request keeps, in the scope's state, the counts its badges show (service.ShellCounts), read by the
# base template.
SHELL_COUNTS = "shell_counts"
LANGUAGE_COOKIE = "pk_lang"
API_PREFIX = "/api/"
# What an account whose number is not proven yet may still do: enter the code, ask for another, change the
# language, log out (and fetch what any page needs: the service worker, the offline page, health checks).
OPEN_BEFORE_VERIFICATION = frozenset(
    {"/verify-phone", "/verify-phone/resend", "/language", "/logout", "/sw.js", "/offline", "/healthz", "/readyz"}
)


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


class AuthenticationMiddleware(ASGIMiddleware):
    """Attach the current user (or None) to every request, and pick the reader's language.

    Pages authenticate with the session cookie only and the API with a bearer token only, so a
    browser's cookie can never drive the API from another site (the API has no CSRF check).
    """

    scopes = (ScopeType.HTTP,)

    @staticmethod
    def should_bypass_for_scope(scope: Scope) -> bool:
        # Static files and public photos need no user; skipping them saves a database round trip per file.
        return scope["path"].startswith(("/static/", "/media/"))

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        user = await attach_user(scope)
        if user is not None and user.phone_verified_at is None and scope["path"] not in OPEN_BEFORE_VERIFICATION:
            # Mapped once (backend.problems): 403 phone_not_verified on the API, a redirect to /verify-phone on pages.
            raise PhoneNotVerified()
        await next_app(scope, receive, send)


async def attach_user(scope: Scope) -> User | None:
    """Put the logged-in user (or None) in the scope, with a page's shell counts, and pick the reader's language.

    The middleware above does it for every matched route; backend.problems for an address no route matched."""
    connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
    database: Database = scope["litestar_app"].state.database
    # The device's language first: an error page (the database unreachable) still speaks it.
    set_locale(pick_locale(cookie=connection.cookies.get(LANGUAGE_COOKIE), user_locale=None))
    user: User | None = None
    now = utcnow()  # a session or token is valid, or not, at this request's time
    if is_api_path(scope["path"]):
        authorization = connection.headers.get("authorization", "")
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() == "bearer" and credential:
            async with database.sessionmaker() as session:
                user = await service.user_for_api_token(session=session, raw_token=credential.strip(), now=now)
                await session.commit()
    else:
        raw_token = connection.cookies.get(SESSION_COOKIE)
        if raw_token:
            async with database.sessionmaker() as session:
                visitor = await service.page_visitor(session=session, raw_token=raw_token, now=now)
            if visitor is not None:
                user, scope.setdefault("state", {})[SHELL_COUNTS] = visitor
    scope["user"] = user
    set_locale(pick_locale(cookie=connection.cookies.get(LANGUAGE_COOKIE), user_locale=user.locale if user else None))
    return user


async def requires_login(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if connection.scope.get("user") is None:
        raise NotAuthenticated()


def requires_role(*roles: Role) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """A guard admitting only the given roles (admins are not let in implicitly)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        await requires_login(connection, handler)
        if connection.scope["user"].role not in roles:
            raise Forbidden()

    return guard
