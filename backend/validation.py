"""Turn submitted fields (a page's form or an API body) into a typed input, or a ValidationFailed.

Pages and the API validate with the same input models; the messages here are gettext ids so a
page can show them in Indonesian.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator
from pydantic import ValidationError as PydanticValidationError

from backend.errors import N_, FieldError, ValidationFailed
from backend.money import parse_rupiah

InputT = TypeVar("InputT", bound=BaseModel)

MSG_REQUIRED = N_("This field is required.")
MSG_WHOLE_NUMBER = N_("Enter a whole number, without dots or commas.")
MSG_NUMBER = N_("Enter a number, for example -6.9545.")
MSG_TOO_SMALL = N_("Must be at least %(limit)s.")
MSG_TOO_LARGE = N_("Must be at most %(limit)s.")
MSG_MUST_EXCEED = N_("Must be more than %(limit)s.")
MSG_TOO_SHORT = N_("Needs at least %(limit)s characters.")
MSG_TOO_LONG = N_("Can have at most %(limit)s characters.")
MSG_CHOICE = N_("Choose one of the options.")
MSG_TIME = N_("Enter a time as HH:MM, for example 15:00.")
MSG_DATE = N_("Enter a date as YYYY-MM-DD.")
MSG_CALENDAR_DAY = N_("Choose a date from the calendar.")
MSG_INVALID = N_("This value is not valid.")
MSG_RUPIAH = N_("Enter an amount in rupiah, for example 15000 or 15.000.")
MSG_TOO_MANY = N_("At most %(limit)s items.")
MSG_COORDINATE = N_("Type the location as numbers, for example -6.9545 and 110.0322.")


def _rupiah(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return parse_rupiah(value)
        except ValueError:
            raise ValueError(MSG_RUPIAH) from None
    return value


# Whole rupiah; a page may type "15.000" or "Rp 15.000", the API may send 15000.
Rupiah = Annotated[int, BeforeValidator(_rupiah)]


def _coordinate(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", "."))
        except ValueError:
            raise ValueError(MSG_COORDINATE) from None
    return value


# A latitude or longitude; a phone may type -6.95 as "-6,95".
Coordinate = Annotated[float, BeforeValidator(_coordinate)]

_MESSAGES_BY_TYPE = {
    "missing": MSG_REQUIRED,
    "int_parsing": MSG_WHOLE_NUMBER,
    "int_from_float": MSG_WHOLE_NUMBER,
    "int_type": MSG_WHOLE_NUMBER,
    "float_parsing": MSG_NUMBER,
    "float_type": MSG_NUMBER,
    "greater_than_equal": MSG_TOO_SMALL,
    "less_than_equal": MSG_TOO_LARGE,
    "greater_than": MSG_MUST_EXCEED,
    "less_than": MSG_TOO_LARGE,
    "string_too_short": MSG_TOO_SHORT,
    "string_too_long": MSG_TOO_LONG,
    "enum": MSG_CHOICE,
    "literal_error": MSG_CHOICE,
    "time_parsing": MSG_TIME,
    "time_type": MSG_TIME,
    "date_parsing": MSG_DATE,
    "date_from_datetime_parsing": MSG_DATE,
    "date_type": MSG_DATE,
    "too_long": MSG_TOO_MANY,
}
_LIMIT_KEYS = ("ge", "le", "gt", "lt", "min_length", "max_length")
# Problems that say which limit a value crossed: their message keeps the limit.
_OUT_OF_RANGE = frozenset(
    {
        "greater_than_equal",
        "less_than_equal",
        "greater_than",
        "less_than",
        "string_too_short",
        "string_too_long",
        "too_short",
        "too_long",
    }
)


def validate_input(model: type[InputT], data: Mapping[str, Any]) -> InputT:
    """Validate submitted data; every problem becomes a FieldError named after its field path.

    A model may name what a person is told about a field whose value is missing or cannot be read, in a class
    attribute `field_messages` ({field: gettext id}): "Choose from 1 to 5 stars." says more than "This field is
    required." Such a field's problems are named after the field, not after an item of it; a value out of range
    still says its limit, and a validator of the model its own message."""
    field_messages: Mapping[str, str] = getattr(model, "field_messages", {})
    try:
        return model.model_validate(dict(data))
    except PydanticValidationError as exc:
        raise ValidationFailed([_field_error(error, field_messages) for error in exc.errors()]) from None


def _field_error(error: Any, field_messages: Mapping[str, str]) -> FieldError:
    head = str(error["loc"][0]) if error["loc"] else "_form"
    if head in field_messages and error["type"] not in _OUT_OF_RANGE and error["type"] != "value_error":
        return FieldError(head, field_messages[head])
    field = head if head in field_messages else ".".join(str(part) for part in error["loc"]) or "_form"
    context = error.get("ctx") or {}
    if error["type"] == "value_error":
        # Our own validators raise ValueError with a gettext id as the message.
        message = str(context.get("error", "")) or MSG_INVALID
        return FieldError(field, message)
    message = _MESSAGES_BY_TYPE.get(error["type"], MSG_INVALID)
    limit = next((context[key] for key in _LIMIT_KEYS if key in context), None)
    return FieldError(field, message, {"limit": limit} if limit is not None else {})


def form_to_input(values: Mapping[str, Any]) -> dict[str, Any]:
    """Blank form fields mean "not given", so optional fields take their defaults."""
    return {key: value for key, value in values.items() if not (isinstance(value, str) and value.strip() == "")}
