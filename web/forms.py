"""Reading what a page's form sent: its values, its translated field errors, the numbers and paths in it."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from backend.errors import DomainError, ValidationFailed
from backend.i18n import gettext


async def form_values(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The submitted form as plain strings (the CSRF token left out)."""
    form = await request.form()
    return {key: str(value).strip() if isinstance(value, str) else value for key, value in form.items()
            if key != "_csrf_token"}


def field_errors(exc: DomainError) -> dict[str, str]:
    """Translated messages by field name; errors not tied to a field go under "_form"."""
    if isinstance(exc, ValidationFailed):
        messages: dict[str, str] = {}
        for error in exc.errors:
            messages.setdefault(error.field, gettext(error.message, **error.params))
        return messages
    return {"_form": gettext(exc.message, **exc.params)}


_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")
LAST_PAGE = 10_000


def whole_number(text: str | None) -> int | None:
    """A whole number as typed, ASCII digits only and small enough for an id or a quantity (below 10⁹);
    None otherwise. ("²".isdigit() is true, and int() of a 30-digit id overflows the database.)"""
    text = (text or "").strip()
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


def page_number(text: str | None) -> int:
    """A list's page from ?page=: 1 when missing or unreadable, at most LAST_PAGE."""
    return min(max(whole_number(text) or 1, 1), LAST_PAGE)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths: an attacker's link must not send a fresh login to another site."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default
