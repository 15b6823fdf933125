"""Time: UTC in the database, WIB (Asia/Jakarta) at the edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from babel import dates

WIB = ZoneInfo("Asia/Jakarta")

# Day first in both languages ("3 Desember 2026", "3 December 2026"): English pages are read by Indonesians, so
# only the words change, not the order. Times are 24-hour; Indonesian separates hours and minutes with a dot.
_DATE_PATTERN = "d MMMM y"
_DATETIME_PATTERNS = {"id": "d MMMM y, HH.mm 'WIB'", "en": "d MMMM y, HH:mm 'WIB'"}
# An order's moments, short enough for a phone's line: "Kamis, 3 Des, 11.00 WIB".
_SHORT_DAY_PATTERN = "EEEE, d MMM"
_TIME_PATTERNS = {"id": "%H.%M", "en": "%H:%M"}


def utcnow() -> datetime:
    """The one reading of the clock. Only the edges call it (request handlers, the job loops, commands) and pass
    the instant down, so every rule below them works on a time it was given and a test can fix it."""
    return datetime.now(UTC)


def to_wib(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        # SQLite hands back naive values for timezone-aware columns; they were written as UTC.
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(WIB)


def wib_today(now: datetime) -> date:
    """The date in the zone at the instant `now`."""
    return to_wib(now).date()


def wib_to_utc(day: date, at: time) -> datetime:
    """A local delivery slot or cut-off (WIB) as the UTC instant stored in the database."""
    return datetime.combine(day, at, tzinfo=WIB).astimezone(UTC)


def format_date(day: date, locale: str = "id") -> str:
    """3 Desember 2026 (3 December 2026 in English)."""
    return dates.format_date(day, _DATE_PATTERN, locale=_known(locale))


def format_datetime_wib(moment: datetime, locale: str = "id") -> str:
    """3 Desember 2026, 11.00 WIB (3 December 2026, 11:00 WIB in English), whatever zone `moment` is in."""
    locale = _known(locale)
    return dates.format_datetime(to_wib(moment), _DATETIME_PATTERNS[locale], tzinfo=WIB, locale=locale)


def format_slot(day: date, at: time, locale: str = "id") -> str:
    """A local day and slot as a person reads them: Kamis, 3 Des, 11.00 WIB (Thursday, 3 Dec, 11:00 WIB)."""
    locale = _known(locale)
    return f"{dates.format_date(day, _SHORT_DAY_PATTERN, locale=locale)}, {at.strftime(_TIME_PATTERNS[locale])} WIB"


def format_moment_short(moment: datetime, locale: str = "id") -> str:
    """An instant, in WIB, as `format_slot` writes a slot: Rabu, 2 Des, 14.05 WIB."""
    local = to_wib(moment)
    return format_slot(local.date(), local.time(), locale)


def _known(locale: str) -> str:
    return locale if locale in _DATETIME_PATTERNS else "id"
