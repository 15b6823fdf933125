"""Lists managers keep in spreadsheets and upload as CSV (the UMKM register, a training's attendance list): the
file's text whatever Excel saved it as, and which column holds which field, by the header's words."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from backend.errors import ValidationFailed

# Words that mark a phone column however it is headed ("No. HP / WA", "Nomor WhatsApp", "Telp.").
PHONE_WORDS = frozenset({"hp", "wa", "whatsapp", "telp", "telepon", "tlp", "handphone", "ponsel", "phone", "seluler"})


def decode_table(data: bytes, *, field: str, not_csv: str) -> str:
    """The file's text: UTF-16 with a BOM (Excel's "Unicode text"), UTF-8 (with or without a BOM), else Windows'
    code page. An .xlsx or another binary file is refused on `field` with the message `not_csv`."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if data.startswith(b"PK\x03\x04") or b"\x00" in data[:4096]:  # an .xlsx (a zip), an .xls or another binary
        raise ValidationFailed.single(field, not_csv)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def header_key(cell: str) -> str:
    """A header cell as a key: its words, lower case, joined by "_" ("No. HP / WA" → "no_hp_wa")."""
    return "_".join(re.findall(r"[^\W_]+", cell.lower()))


def clean(text: str) -> str:
    """A cell's text with its runs of spaces (and line breaks) made single spaces."""
    return " ".join(text.split())


def columns_of(header: Iterable[str], aliases: Mapping[str, Iterable[str]]) -> dict[str, int]:
    """Which cell holds each field, by the first of its aliases (most specific first) the header uses; a phone
    column (the field "phone") not named by an alias is found by its words."""
    keys = [header_key(cell) for cell in header]
    columns: dict[str, int] = {}
    for name, names in aliases.items():
        for alias in names:
            if alias in keys and keys.index(alias) not in columns.values():
                columns[name] = keys.index(alias)
                break
    if "phone" not in columns:
        for index, key in enumerate(keys):
            if index not in columns.values() and PHONE_WORDS.intersection(key.split("_")):
                columns["phone"] = index
                break
    return columns
