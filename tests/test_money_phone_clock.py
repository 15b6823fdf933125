"""Rupiah, phone numbers and WIB times: small rules used everywhere."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

import pytest

from backend.clock import format_date, format_datetime_wib, format_moment_short, format_slot, to_wib, wib_to_utc
from backend.i18n import set_locale
from backend.money import format_rupiah, from_stripe_amount, parse_rupiah, to_stripe_amount
from backend.phone import InvalidPhoneNumber, display_phone, normalize_phone, whatsapp_link
from tests.conftest import ROOT
from web.templating import format_decimal, rupiah_html


@pytest.mark.parametrize(
    ("amount", "shown"),
    [(15000, "Rp 15.000"), (0, "Rp 0"), (1250000, "Rp 1.250.000"), (-5000, "-Rp 5.000"), (999, "Rp 999")],
)
def test_rupiah_is_shown_the_indonesian_way(amount, shown):
    assert format_rupiah(amount) == shown


def test_pages_keep_rp_and_the_amount_on_one_line():
    assert rupiah_html(2_600_000) == '<span class="money">Rp 2.600.000</span>'
    assert re.search(r"^\.money \{ white-space: nowrap; \}$", (ROOT / "static/css/app.css").read_text(), re.M)


def test_rupiah_read_the_same_on_english_pages():
    set_locale("en")
    try:
        assert format_rupiah(1250000) == "Rp 1.250.000"
    finally:
        set_locale("id")


@pytest.mark.parametrize(
    ("value", "indonesian", "english"),
    [
        (1.5, "1,5", "1.5"),
        (2.0, "2", "2"),
        (12, "12", "12"),
        (1.96, "2", "2"),
        (4.25, "4,2", "4.2"),
        (1234.5, "1.234,5", "1,234.5"),
    ],
)
def test_decimals_are_shown_with_the_readers_separator_and_at_most_one_decimal(value, indonesian, english):
    try:
        set_locale("id")
        shown_in_indonesian = format_decimal(value)
        set_locale("en")
        shown_in_english = format_decimal(value)
    finally:
        set_locale("id")
    assert (shown_in_indonesian, shown_in_english) == (indonesian, english)


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("15000", 15000),
        ("15.000", 15000),
        ("Rp 15.000", 15000),
        ("Rp15.000", 15000),
        ("1.250.000", 1250000),
        ("15.000,00", 15000),
        (" 7500 ", 7500),
    ],
)
def test_rupiah_is_read_as_people_type_it(typed, amount):
    assert parse_rupiah(typed) == amount


@pytest.mark.parametrize("typed", ["15.5", "15,50", "abc", "", "-100", "1.00.000", "15.000,50"])
def test_amounts_that_are_not_whole_rupiah_are_refused(typed):
    with pytest.raises(ValueError, match="not a whole rupiah amount"):
        parse_rupiah(typed)


def test_stripe_counts_rupiah_in_hundredths():
    assert to_stripe_amount(15000) == 1500000
    assert from_stripe_amount(1500000) == 15000
    with pytest.raises(ValueError, match="not a whole number of rupiah"):
        from_stripe_amount(1500050)


@pytest.mark.parametrize(
    "typed",
    [
        "081234567890",
        "6281234567890",
        "+6281234567890",
        "+62 812-3456-7890",
        "0812 3456 7890",
        "(0812) 3456-7890",
        "81234567890",
        "006281234567890",
    ],
)
def test_phone_numbers_are_stored_in_e164(typed):
    assert normalize_phone(typed) == "+6281234567890"


@pytest.mark.parametrize(
    "typed", ["", "12345", "0212345678", "08123", "0812345678901234", "0812-abc-7890", "+62 21 1234567"]
)
def test_numbers_that_are_not_indonesian_mobiles_are_refused(typed):
    with pytest.raises(InvalidPhoneNumber):
        normalize_phone(typed)


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("0800-1-234567", "toll-free"),
        ("0800 123 4567", "toll-free"),
        ("0809-1234-567", "premium rate"),
        ("+62 809 1234567", "premium rate"),
        ("021-5551234", "Jakarta landline"),
        ("(0274) 123456", "Yogyakarta landline"),
    ],
)
def test_numbers_that_cannot_receive_whatsapp_are_refused(typed, kind):
    with pytest.raises(InvalidPhoneNumber, match="not an Indonesian mobile number"):
        normalize_phone(typed)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0811-0000-0001", "+6281100000001"),
        ("0857 7000 1234", "+6285770001234"),
        ("0899-1234-5678", "+6289912345678"),
        ("0812-3456-789", "+628123456789"),
    ],
)
def test_every_operators_mobile_numbers_are_accepted(typed, stored):
    assert normalize_phone(typed) == stored


def in_digits_of(zero: int, text: str) -> str:
    """`text` with its ASCII digits written in the script whose zero is the code point `zero`."""
    return text.translate({ord("0") + digit: zero + digit for digit in range(10)})


def full_width(text: str) -> str:
    """`text` as East Asian input methods type it: every ASCII character in its full-width form."""
    return "".join(
        chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else "\u3000" if char == " " else char for char in text
    )


# The same number from other keyboards: a phone's Arabic or Persian keyboard, a Japanese or Chinese input
# method's full-width forms, mathematical digits pasted from a document.
@pytest.mark.parametrize(
    "typed",
    [
        full_width("0812-3456-7890"),
        full_width("+62 812-3456-7890"),
        full_width("(0812) 3456 7890"),
        in_digits_of(0x0660, "081234567890"),  # Arabic-Indic
        in_digits_of(0x06F0, "0812-3456-7890"),  # Extended Arabic-Indic (Persian, Urdu)
        in_digits_of(0x0966, "081234567890"),  # Devanagari
        in_digits_of(0x1D7CE, "081234567890"),  # mathematical bold
        "08" + full_width("12") + "-34" + in_digits_of(0x0660, "56") + "-7890",
    ],
)
def test_a_number_in_other_digits_is_the_same_number_in_ascii(typed):
    stored = normalize_phone(typed)

    assert stored == "+6281234567890"
    assert stored.isascii()


@pytest.mark.parametrize(
    "typed",
    [
        "0812\u200b3456\u200b7890",  # zero-width spaces: invisible, and no keyboard types them
        "0812-3456-789\u0660\u0301",  # a combining accent on a digit
        "\u2070\u2078\u00b9\u00b234567890",  # superscripts are not digits anyone dials
        "0812-3456-789\u2460",  # circled one
        full_width("o81234567890"),  # a full-width letter o for the zero
    ],
)
def test_lookalike_characters_that_are_not_digits_are_refused(typed):
    with pytest.raises(InvalidPhoneNumber):
        normalize_phone(typed)


def test_foreign_numbers_keep_their_country_code():
    assert normalize_phone("+65 9123 4567") == "+6591234567"


def test_a_foreign_landline_is_refused_too():
    with pytest.raises(InvalidPhoneNumber, match="not a mobile number"):
        normalize_phone("+44 20 7946 0958")


def test_phone_numbers_are_displayed_and_linked_for_whatsapp():
    assert display_phone("+6281234567890") == "0812-3456-7890"
    assert display_phone("+628123456789") == "0812-3456-789"
    assert display_phone("+6591234567") == "+65 9123 4567"
    assert whatsapp_link("+6281234567890", "Halo, saya mau pesan 200 box") == (
        "https://wa.me/6281234567890?text=Halo%2C%20saya%20mau%20pesan%20200%20box"
    )


def test_times_are_shown_in_wib():
    moment = datetime(2026, 11, 23, 4, 30, tzinfo=UTC)
    assert to_wib(moment).hour == 11
    assert format_datetime_wib(moment) == "23 November 2026, 11.30 WIB"
    assert format_datetime_wib(moment, "en") == "23 November 2026, 11:30 WIB"
    assert format_date(date(2026, 8, 17)) == "17 Agustus 2026"


@pytest.mark.parametrize(
    ("day", "indonesian", "english"),
    [
        (date(2026, 12, 3), "3 Desember 2026", "3 December 2026"),
        (date(2027, 1, 1), "1 Januari 2027", "1 January 2027"),
        (date(2027, 2, 28), "28 Februari 2027", "28 February 2027"),
        (date(2027, 5, 9), "9 Mei 2027", "9 May 2027"),
        (date(2027, 10, 31), "31 Oktober 2027", "31 October 2027"),
    ],
)
def test_dates_name_the_month_in_the_readers_language_day_first(day, indonesian, english):
    assert (format_date(day), format_date(day, "en")) == (indonesian, english)


def test_an_evening_in_jakarta_is_shown_on_its_own_day():
    moment = datetime(2026, 12, 2, 19, 5, tzinfo=UTC)  # 02.05 on 3 December in WIB
    assert format_datetime_wib(moment) == "3 Desember 2026, 02.05 WIB"
    assert format_datetime_wib(moment, "en") == "3 December 2026, 02:05 WIB"


def test_an_unknown_language_falls_back_to_indonesian():
    assert format_date(date(2026, 12, 3), "fr") == "3 Desember 2026"


def test_a_naive_time_from_sqlite_is_read_as_utc():
    assert to_wib(datetime(2026, 11, 23, 4, 30)).hour == 11  # noqa: DTZ001  (naive, as SQLite returns it)


def test_a_local_delivery_slot_is_stored_as_utc():
    assert wib_to_utc(date(2026, 11, 30), time(11, 0)) == datetime(2026, 11, 30, 4, 0, tzinfo=UTC)


def test_an_orders_moments_are_short_with_the_weekday_and_the_slot():
    assert format_slot(date(2026, 12, 3), time(11)) == "Kamis, 3 Des, 11.00 WIB"
    assert format_slot(date(2026, 12, 3), time(11), "en") == "Thursday, 3 Dec, 11:00 WIB"
    evening = datetime(2026, 12, 2, 19, 5, tzinfo=UTC)  # 02.05 on Thursday 3 December in WIB
    assert format_moment_short(evening) == "Kamis, 3 Des, 02.05 WIB"
