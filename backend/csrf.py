"""Cross-site request protection for pages: a form's CSRF token belongs to the browser session it was given to,
and a form sent from another site is refused before its token is even read.

The token is `nonce.HMAC(key, nonce | binding)`, where the binding is the session cookie of a logged-in person,
or else an anonymous per-browser id kept in the `pk_csrf` cookie. So a token copied out of one person's page is
worthless with anybody else's cookies, and logging in (a new session cookie) makes the visitor's tokens stale.
The nonce makes every rendered token different, so a compressed page never repeats a secret an attacker could
guess byte by byte (BREACH).

Templates read the token as before (`csrf_input`, `csrf_token()`, through Litestar's scope state); forms send it
as `_csrf_token`, htmx and push.js in the `X-CSRFToken` header. The API (bearer tokens, never cookies) and
Stripe's webhook under it are not checked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.datastructures.cookie import Cookie
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from backend.accounts.auth import SESSION_COOKIE, is_api_path
from backend.config import Settings

CSRF_COOKIE = "pk_csrf"
CSRF_HEADER = "x-csrftoken"
CSRF_FORM_FIELD = "_csrf_token"
# The details of the two refusals; backend/problems.py turns each into its own message for the reader.
CSRF_FAILURE_DETAIL = "CSRF token verification failed"
CROSS_SITE_DETAIL = "Cross-site request refused"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# What a browser says in Sec-Fetch-Site about a request we accept: from our own pages, or typed in by the person.
# "same-site" (a sibling subdomain) is refused too: nothing of ours lives there.
ACCEPTED_FETCH_SITES = frozenset({"same-origin", "none"})
_FORMS = frozenset({RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART})


def _signing_key(secret_key: str) -> bytes:
    # A key of its own, so a CSRF token can never be mistaken for anything else signed with SECRET_KEY.
    return hmac.new(secret_key.encode(), b"pasar-kawasan csrf token", hashlib.sha256).digest()


def issue_token(key: bytes, binding: str) -> str:
    nonce = secrets.token_hex(16)
    return f"{nonce}.{_mac(key, nonce, binding)}"


def token_is_valid(key: bytes, binding: str, token: str) -> bool:
    nonce, _, mac = token.partition(".")
    if not nonce or not mac:
        return False
    return hmac.compare_digest(mac, _mac(key, nonce, binding))


def _mac(key: bytes, nonce: str, binding: str) -> str:
    return hmac.new(key, f"{nonce}|{binding}".encode(), hashlib.sha256).hexdigest()


def own_origin(public_base_url: str | None) -> str | None:
    """The origin (scheme://host[:port]) of PUBLIC_BASE_URL, or None when it is not set."""
    if not public_base_url:
        return None
    parts = urlsplit(public_base_url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class CrossSiteRequestMiddleware(ASGIMiddleware):
    """Hands every page its session-bound CSRF token, and refuses an unsafe page request (POST, PUT, PATCH,
    DELETE) that comes from another site or carries no valid token for this browser's session.

    Runs after AuthenticationMiddleware, which says whether the session cookie belongs to a logged-in person."""

    scopes = (ScopeType.HTTP,)

    @staticmethod
    def should_bypass_for_scope(scope: Scope) -> bool:
        # Files need no token, and a Set-Cookie on a photo would keep shared caches from storing it.
        return is_api_path(scope["path"]) or scope["path"].startswith(("/static/", "/media/"))

    def __init__(self, settings: Settings) -> None:
        self.key = _signing_key(settings.secret_key)
        self.origin = own_origin(settings.public_base_url)
        self.secure_cookie = settings.secure_cookies

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        if connection.scope.get("method", "GET") not in SAFE_METHODS:
            if self._from_another_site(connection):
                raise PermissionDeniedException(CROSS_SITE_DETAIL)
            binding = self._binding(scope, connection, connection.cookies.get(CSRF_COOKIE))
            submitted = await self._submitted_token(scope, receive, connection)
            if binding is None or submitted is None or not token_is_valid(self.key, binding, submitted):
                raise PermissionDeniedException(CSRF_FAILURE_DETAIL)
        await next_app(scope, receive, self.hand_out_token(scope, send))

    def hand_out_token(self, scope: Scope, send: Send) -> Send:
        """Give the page its token for this browser's session (after AuthenticationMiddleware, or
        backend.accounts.auth.attach_user, said who is logged in); a browser seen for the first time gets its id
        too, in a cookie set through the `send` returned.

        Checks nothing: `handle` above checks a change first, and an error page for an address no route matched
        (backend.problems) changes nothing."""
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        browser_id = connection.cookies.get(CSRF_COOKIE)
        new_browser_id = None
        if browser_id is None:
            browser_id = new_browser_id = secrets.token_urlsafe(32)
        binding = self._binding(scope, connection, browser_id)
        if binding is not None:
            ScopeState.from_scope(scope).csrf_token = issue_token(self.key, binding)
        return send if new_browser_id is None else self._setting_browser_id(send, new_browser_id)

    @staticmethod
    def _binding(scope: Scope, connection: ASGIConnection[Any, Any, Any, Any], browser_id: str | None) -> str | None:
        session_token = connection.cookies.get(SESSION_COOKIE)
        if scope.get("user") is not None and session_token:
            return f"session:{session_token}"
        return f"browser:{browser_id}" if browser_id else None

    @staticmethod
    async def _submitted_token(
        scope: Scope, receive: Receive, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> str | None:
        token = connection.headers.get(CSRF_HEADER)
        if token:
            return token
        request = scope["litestar_app"].request_class(scope=scope, receive=receive)
        content_type, _ = request.content_type
        if content_type not in _FORMS:
            return None
        # The parsed form stays in the scope, so the handler reads it without a second pass over the body.
        value = (await request.form()).get(CSRF_FORM_FIELD)
        return value if isinstance(value, str) else None

    def _from_another_site(self, connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
        """Sec-Fetch-Site says another site (or a sibling subdomain) sent it, or Origin names another origin.

        Without PUBLIC_BASE_URL our origin is the Host the request was sent to, over this connection's scheme or
        https (a proxy in front may end TLS without saying so)."""
        fetch_site = connection.headers.get("sec-fetch-site")
        if fetch_site is not None and fetch_site.lower() not in ACCEPTED_FETCH_SITES:
            return True
        origin = connection.headers.get("origin")
        if origin is None:
            return False
        origin = origin.strip().lower()
        if self.origin is not None:
            return origin != self.origin
        host = connection.headers.get("host", "").lower()
        return not host or origin not in {f"{connection.url.scheme}://{host}", f"https://{host}"}

    def _setting_browser_id(self, send: Send, browser_id: str) -> Send:
        cookie = Cookie(
            key=CSRF_COOKIE,
            value=browser_id,
            path="/",
            secure=self.secure_cookie,
            httponly=True,
            samesite="lax",
        )

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message).add("set-cookie", cookie.to_header(header=""))
            await send(message)

        return send_with_cookie
