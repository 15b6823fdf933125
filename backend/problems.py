"""Errors mapped to HTTP once: JSON problem bodies (RFC 9457) for the API, friendly pages otherwise."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, PermissionDeniedException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DBAPIError

from backend.accounts.auth import is_api_path
from backend.errors import (
    N_,
    DomainError,
    InsufficientCapacity,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
    ValidationFailed,
)
from backend.i18n import gettext

logger = logging.getLogger("pasar_kawasan.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
CSRF_FAILURE_DETAIL = "CSRF token verification failed"

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


def _problem(request: Request[Any, Any, Any], *, status: int, code: str, detail: str, **extra: Any) -> Response[Any]:
    body = {"type": f"urn:pasar-kawasan:problem:{code}", "title": detail, "status": status, "detail": detail,
            "code": code, "instance": request.url.path, **extra}
    headers = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _error_page(request: Request[Any, Any, Any], *, status: int, message: str) -> Response[Any]:
    return Template(
        "errors/error.html",
        context={"status": status, "message": message},
        status_code=status,
        media_type=MediaType.HTML,
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
                {"product_id": item.product_id, "product_name": item.product_name, "requested": item.requested,
                 "available": item.available, "message": gettext(item.message, **item.params)}
                for item in exc.shortages
            ]
        if isinstance(exc, TooManyAttempts):
            extra["retry_after"] = exc.retry_after_seconds
        return _problem(request, status=exc.status_code, code=exc.code, detail=detail, **extra)
    if isinstance(exc, NotAuthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(f"/login?next={quote(target, safe='')}", status_code=303)
    return _error_page(request, status=exc.status_code, message=detail)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= 500:
        logger.error("server error on %s %s: %s", request.method, request.url.path, exc.detail, exc_info=exc)
    if isinstance(exc, PermissionDeniedException) and exc.detail == CSRF_FAILURE_DETAIL:
        message, code = gettext(MSG_CSRF), "csrf_failed"
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


def handle_unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if _number_too_large(exc):
        return handle_domain_error(request, NotFound())
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    message = gettext(_HTTP_TITLES[500])
    if is_api_path(request.url.path):
        return _problem(request, status=HTTP_500_INTERNAL_SERVER_ERROR, code="internal_error", detail=message)
    return _error_page(request, status=HTTP_500_INTERNAL_SERVER_ERROR, message=message)


EXCEPTION_HANDLERS = {
    DomainError: handle_domain_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected_error,
}
