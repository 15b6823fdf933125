"""Phone numbers in E.164. People type 0812..., 62812..., +62 812-...; we store +62812...."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

_SEPARATORS = re.compile(r"[\s\-().]")
_DIGITS = re.compile(r"\+?[0-9]+", re.ASCII)
# The Halfwidth and Fullwidth Forms block: full-width ASCII (the plus sign, digits, hyphen and parentheses that
# East Asian input methods type) sits at a fixed distance from ASCII.
_FULL_WIDTH_ASCII = range(0xFF01, 0xFF5F)
_FULL_WIDTH_OFFSET = 0xFEE0
INDONESIA = "ID"
INDONESIA_COUNTRY_CODE = 62
# Accounts log in with their number and are reached on WhatsApp, so it must be a mobile. Some countries (the US)
# do not tell mobiles from landlines by the number; Indonesia does.
_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


class InvalidPhoneNumber(ValueError):
    pass


def normalize_phone(text: str) -> str:
    """Return the E.164 form of a phone number typed by an Indonesian user.

    Numbers without a country code are taken as Indonesian. Only mobile numbers are accepted: not landlines
    (021-...), toll-free (0800-...) or premium-rate (0809-...) numbers, which cannot receive WhatsApp messages.
    """
    raw = _SEPARATORS.sub("", _ascii_digits(text).strip())
    if not raw:
        raise InvalidPhoneNumber("unrecognised phone number")
    if raw.startswith("00"):
        # The international prefix most phones accept; Indonesia's own (001, 007, ...) would not be read as one.
        raw = "+" + raw[2:]
    if not _DIGITS.fullmatch(raw):
        # phonenumbers would read letters as a keypad spells them (0812-ABC-7890): a typo, not a number.
        raise InvalidPhoneNumber("phone number contains letters or symbols")
    try:
        number = phonenumbers.parse(raw, INDONESIA)
    except NumberParseException:
        raise InvalidPhoneNumber("unrecognised phone number") from None
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in _MOBILE_TYPES:
        if number.country_code == INDONESIA_COUNTRY_CODE:
            raise InvalidPhoneNumber("not an Indonesian mobile number")
        raise InvalidPhoneNumber("not a mobile number")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _ascii_digits(text: str) -> str:
    """The digits of every script (Arabic-Indic, Persian, Devanagari, full-width, ...) as ASCII digits, and
    full-width ASCII as ASCII, so that the same number typed on another keyboard is the same number, never a
    second account. Anything else (superscripts, circled digits, invisible characters) is left as it is, and
    refused as a symbol."""
    return "".join(
        str(unicodedata.decimal(char))
        if unicodedata.category(char) == "Nd"
        else chr(ord(char) - _FULL_WIDTH_OFFSET)
        if ord(char) in _FULL_WIDTH_ASCII
        else char
        for char in text
    )


def display_phone(e164: str) -> str:
    """+6281234567890 -> 0812-3456-7890, the way Indonesians write their own numbers; others as +65 9123 4567."""
    try:
        number = phonenumbers.parse(e164)
    except NumberParseException:
        return e164
    if number.country_code == INDONESIA_COUNTRY_CODE:
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def whatsapp_link(e164: str, message: str | None = None) -> str:
    """A click-to-chat link (wa.me takes the number without the plus sign)."""
    url = f"https://wa.me/{e164.lstrip('+')}"
    return f"{url}?text={quote(message)}" if message else url
