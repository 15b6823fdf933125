"""Errors mapped to HTTP once: JSON problem bodies (RFC 9457) for the API, friendly pages otherwise.

Litestar's ProblemDetailsPlugin is not used: it installs its handlers for the whole app, while the same
DomainError must become a problem body under /api and an Indonesian page (or a login redirect) elsewhere; its
conversions see the exception only, not the request our `instance` and the outage check need; and it documents
nothing in OpenAPI, which ProblemDocumentation below does for every API operation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, cast
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import ClientException, HTTPException, PermissionDeniedException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins import ReceiveRoutePlugin
from litestar.response import Redirect, Template
from litestar.response.base import ASGIResponse
from litestar.routes import BaseRoute, HTTPRoute
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap, Receive, Scope, Send
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError

from backend.accounts.auth import LANGUAGE_COOKIE, attach_user, is_api_path
from backend.csrf import CROSS_SITE_DETAIL, CSRF_FAILURE_DETAIL, CrossSiteRequestMiddleware
from backend.db import database_unreachable, raised_inside
from backend.errors import (
    N_,
    CartCheckedOut,
    CodeNotSent,
    DatabaseUnavailable,
    DomainError,
    InsufficientCapacity,
    MediaUnavailable,
    NotAuthenticated,
    NotFound,
    PhoneNotVerified,
    StatusConflict,
    TooManyAttempts,
    ValidationFailed,
)
from backend.i18n import gettext, pick_locale, set_locale
from backend.media.storage import StorageUnreachable

logger = logging.getLogger("pasar_kawasan.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"

# Titles for statuses raised by the framework itself (routing, parsing, middleware).
_HTTP_TITLES = {
    400: N_("The request is not valid."),
    401: N_("Please log in first."),
    403: N_("You are not allowed to do this."),
    404: N_("We could not find what you were looking for."),
    405: N_("This action is not available here."),
    413: N_("The upload is too large."),
    429: N_("Too many requests. Please slow down and try again shortly."),
    500: N_("Something went wrong on our side. Please try again."),
    503: N_("The service is temporarily unavailable. Please try again shortly."),
}
MSG_CSRF = N_("This form has expired. Reload the page and try again.")
MSG_CROSS_SITE = N_(
    "This request came from another website and was refused. Open Pasar Kawasan yourself and try again there."
)


def _problem(request: Request[Any, Any, Any], *, status: int, code: str, detail: str, **extra: Any) -> Response[Any]:
    body = {
        "type": f"urn:pasar-kawasan:problem:{code}",
        "title": detail,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
        **extra,
    }
    headers = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _error_page(
    request: Request[Any, Any, Any], *, status: int, message: str, headers: dict[str, str] | None = None
) -> Response[Any]:
    return Template(
        "errors/error.html",
        context={"status": status, "message": message},
        status_code=status,
        media_type=MediaType.HTML,
        headers=headers,
    )


# What no route matches: an address (404), or a method at an address (405).
UNMATCHED_STATUSES = frozenset({404, 405})
_FILE_PATHS = ("/static/", "/media/")


class UnmatchedAddressPage(Template):
    """The error page for an address no route matched, in the reader's own shell.

    Route middleware never ran for it, so nobody has found the logged-in person (their bottom bar, their
    language) or handed out the CSRF token the header's language switch needs. That takes the database, which an
    exception handler cannot await, so the answer does it when it is sent (ShellFirst below)."""

    def __init__(self, *, status: int, message_id: str) -> None:
        super().__init__("errors/error.html", context={"status": status}, status_code=status, media_type=MediaType.HTML)
        self.message_id = message_id

    def to_asgi_response(self, app: Any, request: Request[Any, Any, Any], **options: Any) -> ASGIResponse:
        return ShellFirst(self, request, options)


class ShellFirst(ASGIResponse):
    """Sends an UnmatchedAddressPage once the person and their CSRF token are in the scope."""

    __slots__ = ("_options", "_page", "_request")

    def __init__(self, page: UnmatchedAddressPage, request: Request[Any, Any, Any], options: dict[str, Any]) -> None:
        # The page is rendered, and its ASGIResponse made, in __call__: nothing of this one is sent itself.
        self._page, self._request, self._options = page, request, options

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await attach_user(scope)
        except Exception as exc:
            if not database_unreachable(exc):
                raise
            # The page is answered all the same, to a visitor (the outage is the next page's to report).
            logger.error("database unreachable on %s %s: %s", scope.get("method"), scope["path"], exc)
            scope["user"] = None
        settings = scope["litestar_app"].state.settings
        send = CrossSiteRequestMiddleware(settings).hand_out_token(scope, send)
        self._page.context["message"] = gettext(self._page.message_id)
        rendered = Template.to_asgi_response(self._page, None, self._request, **self._options)
        await rendered(scope, receive, send)


def _no_route_matched(request: Request[Any, Any, Any], status: int) -> bool:
    # Every matched route passes AuthenticationMiddleware, which puts "user" in the scope (files skip it).
    return (
        status in UNMATCHED_STATUSES
        and "user" not in cast("dict[str, Any]", request.scope)
        and not is_api_path(request.url.path)
        and not request.url.path.startswith(_FILE_PATHS)
    )


def handle_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    detail = gettext(exc.message, **exc.params)
    if is_api_path(request.url.path):
        extra: dict[str, Any] = {}
        if isinstance(exc, ValidationFailed):
            extra["errors"] = [
                {"field": error.field, "message": gettext(error.message, **error.params)} for error in exc.errors
            ]
        if isinstance(exc, InsufficientCapacity):
            extra["shortages"] = [
                {
                    "product_id": item.product_id,
                    "product_name": item.product_name,
                    "requested": item.requested,
                    "available": item.available,
                    "message": gettext(item.message, **item.params),
                }
                for item in exc.shortages
            ]
        if isinstance(exc, TooManyAttempts | DatabaseUnavailable | MediaUnavailable | CodeNotSent):
            extra["retry_after"] = exc.retry_after_seconds
        if isinstance(exc, CartCheckedOut):  # where the buyer finds what the cart became
            extra.update(checkout_id=exc.checkout_id, orders="/api/v1/orders")
        if isinstance(exc, StatusConflict):
            extra["current_status"] = exc.current_status
        return _problem(request, status=exc.status_code, code=exc.code, detail=detail, **extra)
    if isinstance(exc, NotAuthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(f"/login?next={quote(target, safe='')}", status_code=303)
    if isinstance(exc, PhoneNotVerified):
        return Redirect("/verify-phone", status_code=303)
    headers = (
        {"Retry-After": str(exc.retry_after_seconds)}
        if isinstance(exc, DatabaseUnavailable | MediaUnavailable)
        else None
    )
    return _error_page(request, status=exc.status_code, message=detail, headers=headers)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if _no_route_matched(request, status):
        return UnmatchedAddressPage(status=status, message_id=_HTTP_TITLES[status])
    if request.scope.get("user") is None:
        # The middleware that picks the reader's language may not have run (a refusal before it, a file that
        # does not exist): pick it here from the device's choice, or an English reader answers in Indonesian.
        # (For a visitor on a matched route this is the choice the middleware made.)
        set_locale(pick_locale(cookie=request.cookies.get(LANGUAGE_COOKIE), user_locale=None))
    if status >= 500:
        logger.error("server error on %s %s: %s", request.method, request.url.path, exc.detail, exc_info=exc)
    if isinstance(exc, PermissionDeniedException) and exc.detail == CSRF_FAILURE_DETAIL:
        message, code = gettext(MSG_CSRF), "csrf_failed"
    elif isinstance(exc, PermissionDeniedException) and exc.detail == CROSS_SITE_DETAIL:
        message, code = gettext(MSG_CROSS_SITE), "cross_site_request"
    elif isinstance(exc, ValidationException):
        message, code = gettext(_HTTP_TITLES[400]), "invalid_request"
    else:
        message = gettext(_HTTP_TITLES.get(status, _HTTP_TITLES[400 if status < 500 else 500]))
        code = f"http_{status}"
    if is_api_path(request.url.path):
        extra: dict[str, Any] = {}
        if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
            extra["errors"] = [
                {"field": item.get("key") or item.get("source") or "", "message": item.get("message", "")}
                for item in exc.extra
                if isinstance(item, dict)
            ]
        return _problem(request, status=status, code=code, detail=message, **extra)
    return _error_page(request, status=status, message=message)


def _number_too_large(exc: Exception) -> bool:
    """An id or page typed far beyond any row (a 30-digit /orders/…): SQLite refuses the integer in Python,
    PostgreSQL with "out of range for type integer"."""
    if isinstance(exc, OverflowError):
        return True
    return isinstance(exc, DBAPIError) and ("out of range" in str(exc.orig) or "out of int32 range" in str(exc.orig))


_MULTIPART_PARSER = ("litestar._multipart",)


def _text_the_database_refuses(exc: Exception) -> bool:
    """Text with a NUL character (a token named "a\\x00b"): PostgreSQL cannot store it in any text column
    (SQLSTATE 22021, character_not_in_repertoire), so the request is at fault, whichever field carried it."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) == "22021"


def _form_field_not_text(exc: Exception) -> bool:
    """A multipart form field Litestar's parser could not decode as text: bytes that are not UTF-8 (a file sent
    without a filename) or a charset that does not exist (`charset=nonsense` on the part). Only from the parser:
    a UnicodeDecodeError in our own code is a bug, and stays a 500."""
    return isinstance(exc, UnicodeDecodeError | LookupError) and raised_inside(exc, _MULTIPART_PARSER)


def handle_unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if _number_too_large(exc):
        return handle_domain_error(request, NotFound())
    if _form_field_not_text(exc) or _text_the_database_refuses(exc):
        # Text that cannot be read or stored, so the request is at fault.
        return handle_http_exception(request, ClientException())
    if database_unreachable(exc):
        # An outage, not a bug: one line per request (no traceback); the request can be sent again.
        logger.error("database unreachable on %s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        return handle_domain_error(request, DatabaseUnavailable())
    if isinstance(exc, StorageUnreachable):
        logger.error("media storage unreachable on %s %s: %s", request.method, request.url.path, exc)
        return handle_domain_error(request, MediaUnavailable())
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    message = gettext(_HTTP_TITLES[500])
    if is_api_path(request.url.path):
        return _problem(request, status=HTTP_500_INTERNAL_SERVER_ERROR, code="internal_error", detail=message)
    return _error_page(request, status=HTTP_500_INTERNAL_SERVER_ERROR, message=message)


class ProblemFieldError(BaseModel):
    field: str
    message: str


class ProblemShortage(BaseModel):
    product_id: int
    product_name: str
    requested: int
    available: int
    message: str


class Problem(BaseModel):
    """The body of every error answer of the API: RFC 9457 problem details with a stable `code`."""

    type: str = Field(description="urn:pasar-kawasan:problem:<code>")
    title: str
    status: int
    detail: str = Field(description="What went wrong, in the reader's language")
    code: str = Field(description="Stable and machine-readable: not_found, validation_failed, forbidden, ...")
    instance: str = Field(description="The path that was asked for")
    errors: list[ProblemFieldError] | None = Field(default=None, description="Which fields are wrong, and why")
    shortages: list[ProblemShortage] | None = Field(default=None, description="What is left of each product asked for")
    retry_after: int | None = Field(default=None, description="Seconds to wait before trying again")
    current_status: str | None = Field(
        default=None,
        description="What the order's status is now, when a change no longer fits it (someone changed it first)",
    )
    checkout_id: int | None = Field(
        default=None,
        description="The checkout that took the cart, when the cart was just checked out by another request",
    )
    orders: str | None = Field(default=None, description="Where to see the orders (with checkout_id)")


_PROBLEM_DESCRIPTIONS = {
    400: "The request is malformed: a parameter, header or body of the wrong shape",
    401: "No valid API token",
    403: "The token's role may not do this",
    404: "Not found (other people's ids are reported as not found too)",
    409: "This conflicts with the current state: someone changed it meanwhile, or there is not enough left",
    413: "The body is too large (a JSON body: 256 KiB at most)",
    422: "Some fields need fixing: `errors` says which",
    429: "Too many requests: wait `Retry-After` seconds",
    503: "The database or the file storage cannot be reached: try again after `Retry-After` seconds",
}
_NOT_INPUT = frozenset({"request", "state", "scope", "headers", "cookies", "socket"})


def problem_statuses(handler: HTTPRouteHandler, path_parameters: Iterable[str]) -> set[int]:
    """The error statuses an API operation can answer with, from what it takes and who may call it."""
    statuses = {400, 429, 503}
    if handler.resolve_guards():
        statuses |= {401, 403}
    in_path = set(path_parameters)
    if in_path:
        statuses.add(404)
    inputs = set(handler.parsed_fn_signature.parameters) - _NOT_INPUT - set(handler.resolve_dependencies())
    if inputs - in_path:
        statuses.add(422)  # a query or body the service checks beyond its shape
    if not handler.http_methods <= {"GET", "HEAD"}:
        # A change names other objects (a delivery point, a certificate) and meets the state others left; its
        # body may be too large.
        statuses |= {404, 409, 413, 422}
    return statuses


def problem_response(status: int, description: str | None = None) -> ResponseSpec:
    """The OpenAPI description of a problem answer; a handler names one the rules above cannot see."""
    return ResponseSpec(
        data_container=Problem,
        media_type=PROBLEM_MEDIA_TYPE,
        generate_examples=False,
        description=description or _PROBLEM_DESCRIPTIONS[status],
    )


class ProblemDocumentation(ReceiveRoutePlugin):
    """Documents the problem answers of every API operation in the OpenAPI document, with their real body.

    They come from the exception handlers above rather than from each handler, so they are described here once.
    A handler's own `responses` take precedence.
    """

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute) or not is_api_path(route.path):
            return
        for handler in route.route_handlers:
            documented = {
                status: problem_response(status) for status in sorted(problem_statuses(handler, route.path_parameters))
            }
            handler.responses = {**documented, **(handler.responses or {})}


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: handle_domain_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected_error,
}
