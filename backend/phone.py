"""Phone numbers in E.164. People type 0812..., 62812..., +62 812-...; we store +62812...."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-().]")


class InvalidPhoneNumber(ValueError):
    pass


def normalize_phone(text: str) -> str:
    """Return the E.164 form of a phone number typed by an Indonesian user.

    Numbers without a country code are taken as Indonesian. Indonesian numbers must be mobile
    numbers (8xx after the country code) because accounts and WhatsApp contact need one.
    """
    raw = _SEPARATORS.sub("", text.strip())
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    if raw.startswith("+"):
        digits = raw[1:]
    elif raw.startswith("62"):
        digits = raw
    elif raw.startswith("0"):
        digits = "62" + raw[1:]
    elif raw.startswith("8"):
        digits = "62" + raw
    else:
        raise InvalidPhoneNumber("unrecognised phone number")
    if not digits.isdigit():
        raise InvalidPhoneNumber("phone number contains letters or symbols")
    if digits.startswith("62"):
        national = digits[2:]
        # Indonesian mobile numbers: 8 then 8 to 11 more digits (0812-3456-789 ... 0812-3456-78901).
        if not (national.startswith("8") and 9 <= len(national) <= 12):
            raise InvalidPhoneNumber("not an Indonesian mobile number")
    elif not 8 <= len(digits) <= 15:
        raise InvalidPhoneNumber("wrong length for an international number")
    return "+" + digits


def display_phone(e164: str) -> str:
    """+6281234567890 -> 0812-3456-7890, the way Indonesians write their own numbers."""
    if e164.startswith("+62"):
        national = "0" + e164[3:]
        return "-".join([national[:4], national[4:8], national[8:]]).rstrip("-")
    return e164


def whatsapp_link(e164: str, message: str | None = None) -> str:
    """A click-to-chat link (wa.me takes the number without the plus sign)."""
    from urllib.parse import quote

    url = f"https://wa.me/{e164.lstrip('+')}"
    return f"{url}?text={quote(message)}" if message else url
