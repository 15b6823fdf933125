"""Domain errors: raised by services, mapped once to HTTP (JSON problem or Indonesian page).

Messages are English gettext message ids; the edge translates them into the reader's language.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


def N_(message: str) -> str:  # noqa: N802  (gettext's conventional name for the marker)
    """Mark a message for extraction; it is translated later, where the reader's language is known."""
    return message


@dataclass
class FieldError:
    field: str
    message: str
    # `dataclasses.field`: the bare name `field` would be read as the attribute above.
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


class DomainError(Exception):
    status_code = 400
    code = "bad_request"
    default_message = N_("The request could not be handled.")

    def __init__(self, message: str | None = None, *, params: dict[str, Any] | None = None) -> None:
        self.message = message or self.default_message
        self.params = params or {}
        super().__init__(self.message % self.params if self.params else self.message)


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_message = N_("We could not find what you were looking for.")


class NotAuthenticated(DomainError):
    status_code = 401
    code = "not_authenticated"
    default_message = N_("Please log in first.")


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"
    default_message = N_("You are not allowed to do this.")


class PhoneNotVerified(Forbidden):
    """The account has not proved its phone number yet: it can only enter the code sent to it (pages redirect to
    /verify-phone)."""

    code = "phone_not_verified"
    default_message = N_("Confirm your phone number first: enter the code we sent to it by WhatsApp.")


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    default_message = N_("This conflicts with the current state.")


@dataclass
class Shortage:
    """A line of an order that cannot be held: what was asked and what is still available."""

    product_id: int
    product_name: str
    requested: int
    available: int

    message = N_("%(product)s: you asked for %(requested)s, only %(available)s can still be ordered.")

    @property
    def params(self) -> dict[str, Any]:
        return {"product": self.product_name, "requested": self.requested, "available": self.available}


class InsufficientCapacity(Conflict):
    """Some lines could not be held; nothing was held. `shortages` says which and how much is left."""

    code = "insufficient_capacity"
    default_message = N_("Not enough left to order.")

    def __init__(self, shortages: list[Shortage], message: str | None = None) -> None:
        self.shortages = shortages
        super().__init__(message)


class StatusConflict(Conflict):
    """The change does not fit what the thing is now (often: someone else changed it a moment before);
    `current_status` says what it is, so the caller can look again and decide."""

    def __init__(self, message: str, *, current_status: str, params: dict[str, Any] | None = None) -> None:
        self.current_status = current_status
        super().__init__(message, params=params)


class CartCheckedOut(Conflict):
    """The cart was checked out a moment ago by another request of the same buyer (a second tab, a tap sent again
    with a new key): this one placed nothing. `checkout_id` is the checkout that took the cart."""

    code = "cart_checked_out"
    default_message = N_("This cart was just checked out: its orders are under Orders.")

    def __init__(self, checkout_id: int) -> None:
        self.checkout_id = checkout_id
        super().__init__()


class TooManyAttempts(DomainError):
    status_code = 429
    code = "too_many_attempts"
    default_message = N_("Too many attempts. Please try again later.")

    def __init__(self, message: str | None = None, *, retry_after_seconds: int, params: dict[str, Any] | None = None):
        self.retry_after_seconds = retry_after_seconds
        super().__init__(message, params=params)


class DatabaseUnavailable(DomainError):
    """The database cannot be reached for a moment (see db.database_unreachable); nothing the person sent is
    wrong, and the same request may be sent again (a checkout with the same Idempotency-Key is placed once)."""

    status_code = 503
    code = "database_unavailable"
    default_message = N_("We cannot reach our database right now. Please try again in a moment.")
    retry_after_seconds = 15


class MediaUnavailable(DomainError):
    """The store of photos and documents (the S3-compatible bucket) cannot be reached or refused the request for a
    moment; nothing the person sent is wrong, and the same request may be sent again."""

    status_code = 503
    code = "media_unavailable"
    default_message = N_("We cannot reach our file storage right now. Please try again in a moment.")
    retry_after_seconds = 15


class CodeNotSent(DomainError):
    """The one-time code could not be handed to WhatsApp (unreachable, or it refused); nothing was changed."""

    status_code = 503
    code = "code_not_sent"
    default_message = N_("We could not send the code by WhatsApp just now. Please try again in a moment.")
    retry_after_seconds = 30


class ValidationFailed(DomainError):
    """One or more fields are wrong; nothing was changed."""

    status_code = 422
    code = "validation_failed"
    default_message = N_("Some fields need fixing.")

    def __init__(self, errors: list[FieldError], message: str | None = None) -> None:
        self.errors = errors
        super().__init__(message)

    @classmethod
    def single(cls, field_name: str, message: str, **params: Any) -> ValidationFailed:
        return cls([FieldError(field_name, message, params)])

    def by_field(self) -> dict[str, FieldError]:
        return {error.field: error for error in self.errors}
