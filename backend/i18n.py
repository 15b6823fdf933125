"""Translations: English message ids in code, Indonesian by default, English by choice.

Catalogues are gettext .po files under backend/locale, maintained with Babel (`make messages`).
They are compiled in memory at first use, so no build step is needed.
"""

from __future__ import annotations

import gettext as gettext_module
import io
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = ("id", "en")
DEFAULT_LOCALE = "id"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
CATALOGUE_DOMAIN = "messages"

_current_locale: ContextVar[str] = ContextVar("locale", default=DEFAULT_LOCALE)


def set_locale(locale: str) -> None:
    _current_locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def get_locale() -> str:
    return _current_locale.get()


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{CATALOGUE_DOMAIN}.po"


@cache
def translations(locale: str) -> gettext_module.NullTranslations:
    path = po_path(locale)
    if not path.exists():
        return gettext_module.NullTranslations()
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


def gettext(message: str, **params: Any) -> str:
    translated = translations(get_locale()).gettext(message)
    return translated % params if params else translated


def ngettext(singular: str, plural: str, count: int, **params: Any) -> str:
    translated = translations(get_locale()).ngettext(singular, plural, count)
    return translated % {"num": count, **params}


def pick_locale(*, cookie: str | None, user_locale: str | None) -> str:
    """The reader's language: an explicit choice on this device, then the account's, else Indonesian.

    The browser's Accept-Language is deliberately ignored: many phones here are set to English while
    their owners read Indonesian, and the product is Indonesian first.
    """
    for choice in (cookie, user_locale):
        if choice in LOCALES:
            return choice
    return DEFAULT_LOCALE
