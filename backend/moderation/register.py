"""The district's UMKM register: a CSV a manager uploads, checked row by row; valid rows become vendor
invitations that a vendor claims by signing up with the same phone number.

Importing the same file again creates no duplicates: a row matches an existing invitation of the zone by
NIB, else by phone, and updates it only when something changed.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Role, User, Zone
from backend.catalog.models import Category
from backend.db import table_of
from backend.errors import N_, Forbidden, NotFound, ValidationFailed
from backend.i18n import gettext
from backend.moderation.audit import record
from backend.moderation.models import RegisterImport, VendorInvitation
from backend.phone import InvalidPhoneNumber, display_phone, normalize_phone
from backend.spreadsheets import clean, columns_of, decode_table, header_key
from backend.vendors.models import Vendor
from backend.vendors.schemas import VendorProfileInput
from backend.vendors.service import save_profile

MAX_FILE_BYTES = 20 * 1024 * 1024
REQUIRED_COLUMNS = ("business_name", "phone", "kecamatan", "desa")
# Header spellings seen in district registers (English and Indonesian), as words: lower-cased, every run of
# punctuation and spaces turned into one underscore ("No. HP / WA" -> "no_hp_wa"); the most specific first, so
# "Nama Usaha" wins over a plain "Nama".
HEADER_ALIASES = {
    "business_name": ("nama_usaha", "nama_umkm", "nama_perusahaan", "business_name", "usaha", "name", "nama"),
    "owner_name": ("nama_pemilik", "pemilik", "owner_name", "owner", "penanggung_jawab", "nama_pelaku_usaha"),
    "nib": ("nib", "no_nib", "nomor_nib", "nomor_induk_berusaha"),
    "phone": ("no_hp", "nomor_hp", "hp", "phone", "whatsapp", "no_wa", "wa", "telepon", "no_telp", "telp"),
    "kecamatan": ("kecamatan", "kec", "district"),
    "desa": ("desa_kelurahan", "kelurahan_desa", "desa", "kelurahan", "kel", "village"),
    "category": (
        "jenis_usaha",
        "jenis_produk",
        "produk",
        "kategori",
        "category",
        "sektor",
        "bidang_usaha",
        "komoditas",
    ),
}
# Words that mark a phone column however the office combined them: "No. HP / WA", "Nomor WhatsApp", "Telp/HP".
# A running number column: known, not worth reporting as a column that was not read.
ROW_NUMBER_HEADERS = frozenset({"no", "nomor", "no_urut", "nomor_urut", "urut"})
# How a missing column is named to the manager: the header we expect, Indonesian and English.
COLUMN_NAMES = {
    "business_name": "nama_usaha / name",
    "phone": "no_hp / phone",
    "kecamatan": "kecamatan",
    "desa": "desa",
}
# A register exported from a spreadsheet often has a title and a blank line above the header.
HEADER_SEARCH_ROWS = 10
# Words of the register's free-text category, mapped to the marketplace's categories; first match wins.
CATEGORY_WORDS = (
    (("beku", "frozen"), Category.FROZEN),
    (("makanan dan minuman", "makanan & minuman", "mamin"), Category.SNACKS),
    (("minum", "jamu", "kopi", "drink"), Category.DRINKS),
    (("katering", "catering", "nasi", "warung", "kuliner"), Category.CATERING),
    (("makanan", "camilan", "snack", "keripik", "kue", "olahan"), Category.SNACKS),
    (("konveksi", "fashion", "pakaian", "seragam", "jahit", "garmen"), Category.UNIFORMS),
    (("kerajinan", "kriya", "craft", "batik", "anyaman"), Category.CRAFTS),
    (("pertanian", "hasil bumi", "sayur", "buah", "perikanan", "peternakan"), Category.FRESH),
)

MSG_NOT_CSV = N_("The file is not a CSV table. Export the register from the spreadsheet as CSV.")
MSG_TOO_LARGE = N_("The file is too large. The limit is 20 MB.")
MSG_MISSING_COLUMNS = N_("The file has no column for: %(columns)s.")
MSG_IGNORED_COLUMNS = N_("Line %(line)s: columns not known and not read: %(columns)s.")
MSG_NAME = N_("Line %(line)s: the business name is missing or too long.")
MSG_OWNER = N_("Line %(line)s: the owner's name must have 2 to 120 characters.")
MSG_PHONE = N_("Line %(line)s: the phone number is not an Indonesian mobile number.")
MSG_NIB = N_("Line %(line)s: an NIB has 13 digits.")
MSG_PLACE = N_("Line %(line)s: the kecamatan and desa are required.")
MSG_DUPLICATE = N_("Line %(line)s: the same UMKM as line %(first)s.")
MSG_PHONE_OF_ANOTHER = N_("Line %(line)s: this phone number belongs to another UMKM of the register.")
MSG_CHOOSE_ZONE = N_("Choose your industrial zone.")


@dataclass(frozen=True)
class RegisterRow:
    line: int
    business_name: str
    owner_name: str
    nib: str | None
    phone: str
    kecamatan: str
    desa: str
    category: str


@dataclass(frozen=True)
class IgnoredColumns:
    """The header's columns that no field reads, on the header's line of the file."""

    line: int
    names: list[str]


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str
    params: dict[str, Any] = field(default_factory=dict)


def _ignored_columns(header: list[str], columns: dict[str, int]) -> list[str]:
    """The header's named columns that no field reads (a running number column aside), as the file names them."""
    used = set(columns.values())
    return [
        clean(cell)
        for index, cell in enumerate(header)
        if index not in used and header_key(cell) and header_key(cell) not in ROW_NUMBER_HEADERS
    ]


@lru_cache(maxsize=1024)  # a register repeats a handful of category words thousands of times
def _category(text: str) -> str:
    lowered = text.lower()
    for words, category in CATEGORY_WORDS:
        if any(word in lowered for word in words):
            return category.value
    return Category.OTHER.value


def parse_register(data: bytes) -> tuple[list[RegisterRow], list[RejectedRow], IgnoredColumns]:
    """Read the register; rows that fail a check are returned with their line number and reason, and the
    header's columns that were not read (an address, remarks), so the manager knows what was left out.

    A file whose header lacks a required column is refused as a whole (ValidationFailed); a column the import
    does not know is never a reason to refuse it. Line numbers are
    the file's own (the header is line 1 unless a title sits above it), so a manager finds the row in the
    spreadsheet; a row repeating an earlier one (same NIB, else same phone) is rejected as its duplicate.
    """
    if len(data) > MAX_FILE_BYTES:
        raise ValidationFailed.single("register", MSG_TOO_LARGE)
    try:
        reader, header, columns = _open_table(decode_table(data, field="register", not_csv=MSG_NOT_CSV))
        rows: list[RegisterRow] = []
        rejected: list[RejectedRow] = []
        first_line_of: dict[str, int] = {}
        end_of_previous = header_line = reader.line_num
        for cells in reader:
            # A quoted cell may span lines: the row starts on the line after the previous one ended.
            line, end_of_previous = end_of_previous + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            value = {name: clean(cells[index]) if index < len(cells) else "" for name, index in columns.items()}
            checked = _check(value, line)
            if isinstance(checked, RejectedRow):
                rejected.append(checked)
                continue
            identity = f"nib:{checked.nib}" if checked.nib else f"phone:{checked.phone}"
            duplicate_of = first_line_of.get(identity) or first_line_of.get(f"phone:{checked.phone}")
            if duplicate_of:
                rejected.append(RejectedRow(line, MSG_DUPLICATE, {"line": line, "first": duplicate_of}))
                continue
            first_line_of[identity] = first_line_of[f"phone:{checked.phone}"] = line
            rows.append(checked)
    except csv.Error:
        raise ValidationFailed.single("register", MSG_NOT_CSV) from None
    return rows, rejected, IgnoredColumns(header_line, _ignored_columns(header, columns))


def _open_table(text: str) -> tuple[Any, list[str], dict[str, int]]:
    """A csv reader positioned after the header, the header, and its columns.

    The delimiter is the one (semicolon from an Indonesian Excel, comma, or tab) under which a row of the first
    few names every required column; the most frequent one in those lines is tried first.
    """
    sample = "\n".join(text[:20_000].splitlines()[:HEADER_SEARCH_ROWS])
    best: dict[str, int] | None = None
    for delimiter in sorted((";", ",", "\t"), key=sample.count, reverse=True):
        # newline="": the csv module splits \n, \r\n and old Mac \r lines itself, and keeps quoted line breaks.
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for cells in itertools.islice(reader, HEADER_SEARCH_ROWS):
            if not any(cell.strip() for cell in cells):
                continue
            columns = columns_of(cells, HEADER_ALIASES)
            if all(name in columns for name in REQUIRED_COLUMNS):
                return reader, cells, columns
            if best is None or len(columns) > len(best):
                best = columns
    if best is None:
        raise ValidationFailed.single("register", MSG_NOT_CSV)
    missing = [COLUMN_NAMES[name] for name in REQUIRED_COLUMNS if name not in best]
    raise ValidationFailed.single("register", MSG_MISSING_COLUMNS, columns=", ".join(missing))


def _check(value: dict[str, str], line: int) -> RegisterRow | RejectedRow:
    name = value.get("business_name", "")
    if not 2 <= len(name) <= 120:
        return RejectedRow(line, MSG_NAME, {"line": line})
    owner = value.get("owner_name", "") or name
    if not 2 <= len(owner) <= 120:
        return RejectedRow(line, MSG_OWNER, {"line": line})
    try:
        phone = normalize_phone(value.get("phone", ""))
    except InvalidPhoneNumber:
        return RejectedRow(line, MSG_PHONE, {"line": line})
    nib = "".join(char for char in value.get("nib", "") if char not in " .-") or None
    if nib is not None and not (nib.isascii() and nib.isdigit() and len(nib) == 13):
        return RejectedRow(line, MSG_NIB, {"line": line})
    kecamatan, desa = value.get("kecamatan", ""), value.get("desa", "")
    if not (2 <= len(kecamatan) <= 80 and 2 <= len(desa) <= 80):
        return RejectedRow(line, MSG_PLACE, {"line": line})
    return RegisterRow(line, name, owner, nib, phone, kecamatan, desa, _category(value.get("category", "")))


_COMPARED = ("business_name", "owner_name", "nib", "phone", "kecamatan", "desa", "category")


async def import_register(
    *, session: AsyncSession, manager: User, zone_id: int | None, filename: str, data: bytes, now: datetime
) -> RegisterImport:
    """Import a register into a zone (managers: their own zone only; admins: any) and return its report.

    Valid rows become invitations; a row matching an existing invitation of the zone (by NIB, else by phone)
    updates it when something changed. The whole file is refused (ValidationFailed) when a required column is
    missing. Writes in bulk and never commits: the caller does.
    """
    if not (manager.role == Role.ADMIN or (manager.role == Role.MANAGER and manager.zone_id == zone_id)):
        raise Forbidden()
    if zone_id is None:
        raise ValidationFailed.single("zone_id", MSG_CHOOSE_ZONE)
    if await session.get(Zone, zone_id) is None:
        raise NotFound()
    rows, rejected, ignored = parse_register(data)
    data_rows = len(rows) + len(rejected)
    report = RegisterImport(zone_id=zone_id, manager_id=manager.id, filename=filename[:200], created_at=now)
    session.add(report)
    await session.flush()

    # The zone's invitations, once, in memory: 100,000 rows of short strings is a few tens of MB at most.
    existing = (
        await session.execute(
            select(col(VendorInvitation.id), *(getattr(VendorInvitation, name) for name in _COMPARED)).where(
                col(VendorInvitation.zone_id) == zone_id
            )
        )
    ).all()
    current = {row[0]: dict(zip(_COMPARED, row[1:], strict=True)) for row in existing}
    by_nib = {fields["nib"]: invitation_id for invitation_id, fields in current.items() if fields["nib"]}
    by_phone = {fields["phone"]: invitation_id for invitation_id, fields in current.items()}

    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    unchanged = 0
    line_of_match: dict[int, int] = {}  # invitation id -> the line of this file that matched it
    for row in rows:
        fields = {name: getattr(row, name) for name in _COMPARED}
        match = (by_nib.get(row.nib) if row.nib else None) or by_phone.get(row.phone)
        if match is None:
            inserts.append({**fields, "zone_id": zone_id, "import_id": report.id, "created_at": now, "updated_at": now})
            continue
        known = current[match]
        if match in line_of_match:  # e.g. one line matched it by NIB and gave it a new phone, this one by phone
            rejected.append(RejectedRow(row.line, MSG_DUPLICATE, {"line": row.line, "first": line_of_match[match]}))
            continue
        owner_of_phone = by_phone.get(row.phone)
        phone_of_another = owner_of_phone is not None and owner_of_phone != match
        # Matched by phone, but both have an NIB and they differ: two UMKM sharing a phone, not one to update.
        nib_of_another = bool(row.nib and known["nib"] and row.nib != known["nib"])
        if phone_of_another or nib_of_another:
            rejected.append(RejectedRow(row.line, MSG_PHONE_OF_ANOTHER, {"line": row.line}))
            continue
        line_of_match[match] = row.line
        if row.nib is None:
            fields["nib"] = known["nib"]  # a register without NIBs keeps the ones we already know
        if known == fields:
            unchanged += 1
        else:
            updates.append({**fields, "id": match, "import_id": report.id, "updated_at": now})
    if inserts:
        # A Core executemany on the table: the new rows need no ORM objects (a fifth faster for 60,000 rows).
        await session.execute(insert(table_of(VendorInvitation)), inserts)
    if updates:
        await session.execute(update(VendorInvitation), updates)

    rejected.sort(key=lambda item: item.line)
    report.total_rows = data_rows
    report.created_count, report.updated_count, report.unchanged_count = len(inserts), len(updates), unchanged
    report.rejected_count = len(rejected)
    report.rejected_rows = [asdict(item) for item in rejected]
    if ignored.names:
        # Not a rejected row (the count leaves it out), but read where the manager reads what was not imported.
        columns = ", ".join(ignored.names)
        note = RejectedRow(ignored.line, MSG_IGNORED_COLUMNS, {"line": ignored.line, "columns": columns})
        report.rejected_rows.insert(0, asdict(note))
    session.add(report)
    counts = ("created", "updated", "unchanged", "rejected")
    after = {name: getattr(report, f"{name}_count") for name in counts}
    await record(session, manager, "register.import", report, zone_id, reason=filename[:200], after=after)
    return report


async def list_imports(*, session: AsyncSession, actor: User) -> list[RegisterImport]:
    """The latest 50 imports, newest first: a manager's zone only, every zone for an admin."""
    query = select(RegisterImport).order_by(col(RegisterImport.id).desc()).limit(50)
    if actor.role != Role.ADMIN:
        query = query.where(col(RegisterImport.zone_id) == actor.zone_id)
    return list((await session.execute(query)).scalars())


async def get_import(*, session: AsyncSession, actor: User, import_id: int) -> RegisterImport:
    """One import's report; another zone's import is NotFound for a manager, as if it did not exist."""
    report = await session.get(RegisterImport, import_id)
    if report is None or not (actor.role == Role.ADMIN or report.zone_id == actor.zone_id):
        raise NotFound(N_("This import does not exist."))
    return report


async def claim_invitation(*, session: AsyncSession, user: User, now: datetime) -> VendorInvitation | None:
    """A vendor who signs up with a phone number from the register claims its invitation, once the number is
    proven (the code sent to it was entered): typing someone else's number gets nobody their business."""
    if user.role != Role.VENDOR or user.zone_id is None or user.phone_verified_at is None:
        return None
    invitation = (
        await session.execute(
            select(VendorInvitation).where(
                col(VendorInvitation.zone_id) == user.zone_id,
                col(VendorInvitation.phone) == user.phone,
                col(VendorInvitation.claimed_by_id).is_(None),
            )
        )
    ).scalar_one_or_none()
    if invitation is not None:
        invitation.claimed_by_id, invitation.claimed_at = user.id, now
        session.add(invitation)
        await session.flush()
    return invitation


async def welcome_vendor(*, session: AsyncSession, user: User, now: datetime) -> Vendor | None:
    """A new vendor account from the register starts with its business profile filled in from it."""
    invitation = await claim_invitation(session=session, user=user, now=now)
    if invitation is None:
        return None
    profile = VendorProfileInput(
        business_name=invitation.business_name,
        owner_name=invitation.owner_name,
        whatsapp=invitation.phone,
        kecamatan=invitation.kecamatan,
        desa=invitation.desa,
    )
    return await save_profile(session=session, user=user, data=profile, now=now)


# --- inviting the register's UMKM ---------------------------------------------------------------------------

INVITATIONS_PER_PAGE = 50
MAX_MARKED = 200  # one page's worth of rows and then some: a bulk mark is one form


class InvitationState(StrEnum):
    NOT_INVITED = "not_invited"
    INVITED = "invited"
    SIGNED_UP = "signed_up"


MSG_INVITATION = N_(
    "Hello %(owner)s, %(business)s is in the UMKM register of %(regency)s. Pasar Kawasan links UMKM with the "
    "canteens and workers of %(zone)s. Sign up as a seller with this WhatsApp number (%(phone)s) and your business "
    "profile is filled in from the register: %(link)s"
)
MSG_INVITATION_NOT_FOUND = N_("This register row does not exist.")


@dataclass
class InvitationPage:
    rows: list[VendorInvitation]
    total: int  # rows matching the filter, every page
    page: int
    pages: int


def _zone_rows(actor: User) -> list[ColumnElement[bool]]:
    if actor.role == Role.ADMIN:
        return []
    if actor.role != Role.MANAGER:
        raise Forbidden()
    return [col(VendorInvitation.zone_id) == actor.zone_id]


def _state_condition(state: InvitationState | None) -> list[ColumnElement[bool]]:
    claimed = col(VendorInvitation.claimed_by_id).is_not(None)
    if state == InvitationState.SIGNED_UP:
        return [claimed]
    if state == InvitationState.INVITED:
        return [~claimed, col(VendorInvitation.invited_at).is_not(None)]
    if state == InvitationState.NOT_INVITED:
        return [~claimed, col(VendorInvitation.invited_at).is_(None)]
    return []


async def list_invitations(
    *,
    session: AsyncSession,
    actor: User,
    state: InvitationState | None = None,
    kecamatan: str = "",
    page: int = 1,
) -> InvitationPage:
    """The register's rows (a manager's zone; every zone for an admin), by kecamatan and business name, a page of
    50 at a time, optionally only those not invited yet, invited, or signed up: two queries."""
    conditions = [*_zone_rows(actor), *_state_condition(state)]
    if kecamatan:
        conditions.append(func.lower(col(VendorInvitation.kecamatan)) == kecamatan.strip().lower())
    total = (await session.execute(select(func.count(col(VendorInvitation.id))).where(*conditions))).scalar_one()
    pages = max(1, -(-total // INVITATIONS_PER_PAGE))
    page = min(max(page, 1), pages)
    rows = (
        await session.execute(
            select(VendorInvitation)
            .where(*conditions)
            .order_by(col(VendorInvitation.kecamatan), col(VendorInvitation.business_name), col(VendorInvitation.id))
            .offset((page - 1) * INVITATIONS_PER_PAGE)
            .limit(INVITATIONS_PER_PAGE)
        )
    ).scalars()
    return InvitationPage(list(rows), total, page, pages)


def invitation_message(invitation: VendorInvitation, *, zone: Zone, signup_link: str) -> str:
    """The WhatsApp text inviting a register row's owner to sign up, in the reader's language."""
    return gettext(
        MSG_INVITATION,
        owner=invitation.owner_name,
        business=invitation.business_name,
        regency=zone.regency,
        zone=zone.name,
        phone=display_phone(invitation.phone),
        link=signup_link,
    )


async def mark_invited(
    *, session: AsyncSession, actor: User, invitation_ids: Sequence[int], now: datetime
) -> list[VendorInvitation]:
    """Record that the rows were sent their invitation (the WhatsApp link was opened, or the manager says so).

    Only the first invitation is kept (the funnel counts a row as invited in the month it first was); rows already
    signed up are left alone. A manager marks their own zone's rows: another zone's row is NotFound, as if it did
    not exist. Returns the rows newly marked; never commits."""
    ids = sorted(set(invitation_ids))[:MAX_MARKED]
    if not ids:
        return []
    found = list(
        (
            await session.execute(select(VendorInvitation).where(col(VendorInvitation.id).in_(ids), *_zone_rows(actor)))
        ).scalars()
    )
    if len(found) != len(ids):
        raise NotFound(MSG_INVITATION_NOT_FOUND)
    marked = [row for row in found if row.invited_at is None and row.claimed_by_id is None]
    for row in marked:
        row.invited_at = now
        session.add(row)
        await record(session, actor, "register.invite", row, row.zone_id)
    await session.flush()
    return marked
