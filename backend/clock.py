"""Time: UTC in the database, WIB (Asia/Jakarta) at the edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")

_MONTHS_ID = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)


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
    months = _MONTHS_EN if locale == "en" else _MONTHS_ID
    return f"{day.day} {months[day.month - 1]} {day.year}"


def format_datetime_wib(moment: datetime, locale: str = "id") -> str:
    local = to_wib(moment)
    return f"{format_date(local.date(), locale)}, {local:%H.%M} WIB" if locale != "en" else (
        f"{format_date(local.date(), locale)}, {local:%H:%M} WIB"
    )
