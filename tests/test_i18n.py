"""Every string a person reads is translatable, and the Indonesian catalogue translates all of them."""

from __future__ import annotations

import re

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from backend.i18n import po_path
from tests.conftest import ROOT

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHOD_MAP = [("backend/**.py", "python"), ("web/**.py", "python"), ("web/templates/**.html", "jinja2")]


def extracted_messages() -> set[str]:
    messages = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        METHOD_MAP,
        options_map={"web/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        keywords=KEYWORDS,
    ):
        messages.add(message[0] if isinstance(message, tuple) else message)
    return messages


def test_every_message_in_the_code_has_an_indonesian_translation():
    with po_path("id").open("rb") as po_file:
        catalogue = read_po(po_file, locale="id")
    translated = {
        message.id[0] if isinstance(message.id, tuple) else message.id
        for message in catalogue
        if message.id and message.string and not message.fuzzy
    }

    missing = sorted(extracted_messages() - translated)

    assert missing == [], "run `make messages` and translate: " + "; ".join(missing)


def test_placeholders_survive_translation():
    with po_path("id").open("rb") as po_file:
        catalogue = read_po(po_file, locale="id")
    placeholder = re.compile(r"%\((\w+)\)s")
    for message in catalogue:
        if not message.id:
            continue
        ids = tuple(message.id) if isinstance(message.id, tuple | list) else (message.id,)
        strings = tuple(message.string) if isinstance(message.string, tuple | list) else (message.string or "",)
        expected = set(placeholder.findall(ids[-1]))
        for string in strings:
            assert set(placeholder.findall(string)) <= expected | {"num"}, message.id
            if not isinstance(message.id, tuple):
                assert set(placeholder.findall(string)) == expected, message.id
