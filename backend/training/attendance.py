"""A cohort's attendance list, as the organiser sends it (a spreadsheet saved as CSV), imported in the spirit of
the district register (moderation.register): tolerant column names, a report of the rows not taken with their
reasons, and importing the same file again changes nothing.

A row is someone who attended: a name, a phone number or an NIB (one of them is enough), and whether they passed
("Lulus"). A row matches an attendee already on the cohort's list by NIB, else by phone, and updates them only when
something changed. Passing on the list is not a verified completion: a manager verifies that (service).
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import User
from backend.errors import N_, NotFound, ValidationFailed
from backend.moderation.audit import record
from backend.phone import InvalidPhoneNumber, normalize_phone
from backend.spreadsheets import clean, columns_of, decode_table
from backend.training.models import AttendanceImport, TrainingAttendee
from backend.training.service import clean_nib, get_cohort, managed_zone, zone_identities

MAX_FILE_BYTES = 5 * 1024 * 1024
FILE_FIELD = "attendance"
# Header spellings (Indonesian and English) as words: lower-cased, every run of punctuation and spaces one
# underscore ("No. HP / WA" -> "no_hp_wa"); the most specific first.
HEADER_ALIASES = {
    "business_name": ("nama_usaha", "nama_umkm", "nama_toko", "usaha", "business_name", "business"),
    "full_name": ("nama_peserta", "nama_lengkap", "nama_pemilik", "peserta", "nama", "full_name", "name"),
    "phone": ("no_hp_wa", "no_hp", "nomor_hp", "hp", "no_wa", "wa", "whatsapp", "phone", "telepon", "no_telp", "telp"),
    "nib": ("nib", "no_nib", "nomor_nib", "nomor_induk_berusaha"),
    "completed": ("lulus", "status", "kelulusan", "status_kelulusan", "hasil", "keterangan", "passed", "completed"),
    "certificate_number": ("no_sertifikat", "nomor_sertifikat", "no_sertifikat_pelatihan", "certificate_number"),
}
HEADER_SEARCH_ROWS = 10
# What the "Lulus"/"Status" column says, read as passed or not; anything else is reported.
PASSED_WORDS = frozenset({"lulus", "ya", "y", "yes", "v", "1", "selesai", "kompeten", "passed", "completed", "true"})
NOT_PASSED_WORDS = frozenset(
    {
        "",
        "tidak lulus",
        "belum lulus",
        "tidak",
        "tdk",
        "t",
        "no",
        "n",
        "0",
        "hadir",
        "belum",
        "belum kompeten",
        "tidak kompeten",
        "gagal",
        "mengulang",
        "false",
    }
)

MSG_NOT_CSV = N_("The file is not a CSV table. Save the attendance list from the spreadsheet as CSV.")
MSG_TOO_LARGE = N_("The file is too large. The limit is 5 MB.")
MSG_MISSING_COLUMNS = N_("The file needs a column for the name and one for the phone number (No. HP / WA) or the NIB.")
MSG_NAME = N_("Line %(line)s: the name is missing or too long.")
MSG_PHONE = N_("Line %(line)s: the phone number is not an Indonesian mobile number.")
MSG_NIB = N_("Line %(line)s: an NIB has 13 digits.")
MSG_NO_IDENTITY = N_("Line %(line)s: neither a phone number nor an NIB.")
MSG_STATUS = N_("Line %(line)s: the status \u201c%(value)s\u201d is not understood; write Lulus or Tidak lulus.")
MSG_DUPLICATE = N_("Line %(line)s: the same person as line %(first)s.")


@dataclass(frozen=True)
class AttendanceRow:
    line: int
    full_name: str
    business_name: str
    phone: str | None
    nib: str | None
    completed: bool
    certificate_number: str


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str
    params: dict[str, Any] = field(default_factory=dict)


def _usable(columns: dict[str, int]) -> bool:
    return bool({"full_name", "business_name"} & columns.keys() and {"phone", "nib"} & columns.keys())


def _open_table(text: str) -> tuple[Any, dict[str, int]]:
    """A csv reader positioned after the header, and the header's columns; the delimiter (semicolon, comma, tab)
    is the one under which one of the first lines names a name column and a phone or NIB column."""
    sample = "\n".join(text[:20_000].splitlines()[:HEADER_SEARCH_ROWS])
    for delimiter in sorted((";", ",", "\t"), key=sample.count, reverse=True):
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for cells in itertools.islice(reader, HEADER_SEARCH_ROWS):
            columns = columns_of(cells, HEADER_ALIASES)
            if _usable(columns):
                return reader, columns
    raise ValidationFailed.single(FILE_FIELD, MSG_MISSING_COLUMNS)


def _passed(text: str) -> bool | None:
    words = " ".join(re.findall(r"[^\W_]+", text.lower()))
    if words in PASSED_WORDS:
        return True
    if words in NOT_PASSED_WORDS:
        return False
    return None


def _check(value: dict[str, str], line: int) -> AttendanceRow | RejectedRow:
    name = value.get("full_name") or value.get("business_name", "")
    if not 2 <= len(name) <= 120:
        return RejectedRow(line, MSG_NAME, {"line": line})
    phone = None
    if value.get("phone"):
        try:
            phone = normalize_phone(value["phone"])
        except InvalidPhoneNumber:
            return RejectedRow(line, MSG_PHONE, {"line": line})
    try:
        nib = clean_nib(value.get("nib"))
    except ValueError:
        return RejectedRow(line, MSG_NIB, {"line": line})
    if phone is None and nib is None:
        return RejectedRow(line, MSG_NO_IDENTITY, {"line": line})
    passed = _passed(value.get("completed", ""))
    if passed is None:
        return RejectedRow(line, MSG_STATUS, {"line": line, "value": value.get("completed", "")[:40]})
    return AttendanceRow(
        line,
        name,
        value.get("business_name", "")[:120] if value.get("full_name") else "",
        phone,
        nib,
        passed,
        value.get("certificate_number", "")[:60],
    )


def parse_attendance(data: bytes) -> tuple[list[AttendanceRow], list[RejectedRow]]:
    """The list's rows, and the rows not taken with their line (the file's own) and reason; a file without a name
    column and a phone or NIB column is refused as a whole (ValidationFailed)."""
    if len(data) > MAX_FILE_BYTES:
        raise ValidationFailed.single(FILE_FIELD, MSG_TOO_LARGE)
    rows: list[AttendanceRow] = []
    rejected: list[RejectedRow] = []
    try:
        reader, columns = _open_table(decode_table(data, field=FILE_FIELD, not_csv=MSG_NOT_CSV))
        first_line_of: dict[str, int] = {}
        end_of_previous = reader.line_num
        for cells in reader:
            line, end_of_previous = end_of_previous + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            value = {name: clean(cells[index]) if index < len(cells) else "" for name, index in columns.items()}
            checked = _check(value, line)
            if isinstance(checked, RejectedRow):
                rejected.append(checked)
                continue
            keys = [f"nib:{checked.nib}"] if checked.nib else []
            keys += [f"phone:{checked.phone}"] if checked.phone else []
            first = next((first_line_of[key] for key in keys if key in first_line_of), None)
            if first is not None:
                rejected.append(RejectedRow(line, MSG_DUPLICATE, {"line": line, "first": first}))
                continue
            first_line_of.update(dict.fromkeys(keys, line))
            rows.append(checked)
    except csv.Error:
        raise ValidationFailed.single(FILE_FIELD, MSG_NOT_CSV) from None
    return rows, rejected


_COMPARED = ("full_name", "business_name", "phone", "nib", "completed", "certificate_number")


async def import_attendance(
    *, session: AsyncSession, manager: User, cohort_id: int, filename: str, data: bytes, now: datetime
) -> AttendanceImport:
    """Import an attendance list into a cohort of the manager's zone and return its report.

    New people are added to the cohort's list, linked to the zone's vendor or register invitation with the same
    phone or NIB; someone already on it (by NIB, else phone) is updated when a field changed. A verified
    completion is never undone by a list that says otherwise. Never commits: the caller does."""
    cohort, _programme = await get_cohort(session=session, actor=manager, cohort_id=cohort_id)
    rows, rejected = parse_attendance(data)
    report = AttendanceImport(
        cohort_id=cohort.id, zone_id=cohort.zone_id, manager_id=manager.id, filename=filename[:200], created_at=now
    )
    session.add(report)
    await session.flush()

    existing = list(
        (await session.execute(select(TrainingAttendee).where(col(TrainingAttendee.cohort_id) == cohort.id))).scalars()
    )
    by_nib = {attendee.nib: attendee for attendee in existing if attendee.nib}
    by_phone = {attendee.phone: attendee for attendee in existing if attendee.phone}
    identities = await zone_identities(
        session=session,
        zone_id=cohort.zone_id,
        phones=[row.phone for row in rows if row.phone],
        nibs=[row.nib for row in rows if row.nib],
    )
    created = updated = unchanged = 0
    matched_lines: dict[int, int] = {}
    for row in rows:
        match = (by_nib.get(row.nib) if row.nib else None) or (by_phone.get(row.phone) if row.phone else None)
        user_id, invitation_id = identities.match(row.phone, row.nib)
        if match is None:
            attendee = TrainingAttendee(
                cohort_id=cohort.id,
                zone_id=cohort.zone_id,
                full_name=row.full_name,
                business_name=row.business_name,
                phone=row.phone,
                nib=row.nib,
                completed=row.completed,
                certificate_number=row.certificate_number,
                user_id=user_id,
                invitation_id=invitation_id,
                import_id=report.id,
                created_at=now,
                updated_at=now,
            )
            session.add(attendee)
            for key, index in ((row.nib, by_nib), (row.phone, by_phone)):
                if key:
                    index[key] = attendee
            created += 1
            continue
        if id(match) in matched_lines:
            rejected.append(RejectedRow(row.line, MSG_DUPLICATE, {"line": row.line, "first": matched_lines[id(match)]}))
            continue
        matched_lines[id(match)] = row.line
        phone_taken = row.phone is not None and by_phone.get(row.phone, match) is not match
        nib_taken = row.nib is not None and by_nib.get(row.nib, match) is not match
        fields = {
            "full_name": row.full_name,
            "business_name": row.business_name or match.business_name,
            "phone": match.phone if phone_taken else row.phone or match.phone,
            "nib": match.nib if nib_taken else row.nib or match.nib,
            "completed": row.completed or match.verified_at is not None,
            "certificate_number": row.certificate_number or match.certificate_number,
        }
        changed = {name for name in _COMPARED if getattr(match, name) != fields[name]}
        if match.user_id is None and user_id is not None:
            match.user_id = user_id
            changed.add("user_id")
        if match.invitation_id is None and invitation_id is not None:
            match.invitation_id = invitation_id
            changed.add("invitation_id")
        if not changed:
            unchanged += 1
            continue
        for name in _COMPARED:
            setattr(match, name, fields[name])
        match.updated_at = now
        session.add(match)
        updated += 1
    await session.flush()

    rejected.sort(key=lambda row: row.line)
    report.total_rows = created + updated + unchanged + len(rejected)
    report.created_count, report.updated_count, report.unchanged_count = created, updated, unchanged
    report.rejected_count = len(rejected)
    report.rejected_rows = [asdict(row) for row in rejected]
    session.add(report)
    await session.flush()
    after = {"created": created, "updated": updated, "unchanged": unchanged, "rejected": len(rejected)}
    await record(
        session,
        manager,
        "training.import",
        report,
        cohort.zone_id,
        reason=f"{cohort.name}: {filename}"[:200],
        after=after,
    )
    return report


async def get_import(*, session: AsyncSession, actor: User, import_id: int) -> AttendanceImport:
    """One import's report; another zone's is not found, as if it did not exist."""
    report = await session.get(AttendanceImport, import_id)
    if report is None or report.zone_id != managed_zone(actor):
        raise NotFound(N_("This import does not exist."))
    return report
