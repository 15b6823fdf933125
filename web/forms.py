"""Reading what a page was sent: a form's values read with an input model, their translated errors, and the few
things a query string or a link carries (a page number, a day, a local path to go back to)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from litestar import Request

from backend.errors import DomainError, FieldError, ValidationFailed
from backend.i18n import gettext
from backend.validation import InputT, form_to_input, validate_input


async def form_values(request: Request[Any, Any, Any], *, lists: Collection[str] = ()) -> dict[str, Any]:
    """The submitted form, the CSRF token left out: text stripped, a file as it came, and each field named in
    `lists` (a group of checkboxes) as the list of its values, empty when none is ticked."""
    form = await request.form()
    values: dict[str, Any] = {
        key: value.strip() if isinstance(value, str) else value for key, value in form.items() if key != "_csrf_token"
    }
    for name in lists:
        values[name] = [value.strip() for value in form.getall(name, []) if isinstance(value, str)]
    return values


def read_form(model: type[InputT], values: Mapping[str, Any], *, names: Mapping[str, str] | None = None) -> InputT:
    """A page's form read with the input model the API reads the same input with: blank fields are "not given",
    and a problem is a ValidationFailed naming the form's fields. `names` maps a form's field to the model's where
    the page calls it otherwise (a button's `target` is a transition's `status`)."""
    names = names or {}
    try:
        return validate_input(model, form_to_input({names.get(key, key): value for key, value in values.items()}))
    except ValidationFailed as refused:
        form_names = {model_name: form_name for form_name, model_name in names.items()}
        raise ValidationFailed(
            [
                FieldError(form_names.get(error.field, error.field), error.message, error.params)
                for error in refused.errors
            ]
        ) from None


def field_errors(exc: DomainError, *, rename: Mapping[str, str] | None = None) -> dict[str, str]:
    """Translated messages by the form's field names (`rename` maps a model's or service's name to the form's);
    several for one field (a vendor closed that day and too far) are joined, once each; errors not tied to a field
    go under "_form"."""
    if not isinstance(exc, ValidationFailed):
        return {"_form": gettext(exc.message, **exc.params)}
    messages: dict[str, list[str]] = {}
    for error in exc.errors:
        messages.setdefault((rename or {}).get(error.field, error.field), []).append(
            gettext(error.message, **error.params)
        )
    return {field: " ".join(dict.fromkeys(texts)) for field, texts in messages.items()}


@dataclass(frozen=True)
class FormState:
    """What a page's form shows: the values typed, the messages by field, and the answer's status. The page as
    first opened is `FormState()`; after a refusal, `FormState.refused(values, exc)`."""

    values: Mapping[str, Any] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    status_code: int = 200

    @classmethod
    def refused(
        cls,
        values: Mapping[str, Any],
        exc: DomainError,
        *,
        status_code: int = 400,
        rename: Mapping[str, str] | None = None,
    ) -> FormState:
        return cls(values, field_errors(exc, rename=rename), status_code)

    def context(self, blank: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The template's `form` (the `blank` values when nothing was typed), `errors` and the page's status."""
        return {"form": self.values or blank or {}, "errors": self.errors, "status_code": self.status_code}


FIRST_OPENED = FormState()


@dataclass(frozen=True)
class RowRefusal:
    """A refused form of one row of a list where each row has its own (a payout per vendor, terms per canteen):
    the list comes back with the row's message and what was typed in it."""

    row_id: int
    refused: DomainError
    values: Mapping[str, Any] = field(default_factory=dict)
    status_code: int = 400


def row_forms(refusal: RowRefusal | None) -> dict[str, Any]:
    """What a list's template shows of a refused row (`errors` and `forms` by row id) and the page's status."""
    if refusal is None:
        return {"status_code": 200, "errors": {}, "forms": {}}
    return {
        "status_code": refusal.status_code,
        "errors": {refusal.row_id: field_errors(refusal.refused)},
        "forms": {refusal.row_id: refusal.values},
    }


_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")
LAST_PAGE = 10_000


def whole_number(text: str | None) -> int | None:
    """A whole number as typed, ASCII digits only and small enough for an id or a quantity (below 10⁹);
    None otherwise. ("²".isdigit() is true, and int() of a 30-digit id overflows the database.)"""
    text = (text or "").strip()
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


def query_date(text: str | None) -> date | None:
    """A day from the query string (?day=2026-12-01): None when missing or not a date."""
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def page_number(text: str | None) -> int:
    """A list's page from ?page=: 1 when missing or unreadable, at most LAST_PAGE."""
    return min(max(whole_number(text) or 1, 1), LAST_PAGE)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths: an attacker's link must not send a fresh login to another site."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default
