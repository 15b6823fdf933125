"""The Jinja environment: translations, rupiah and WIB formatting, versioned static URLs, the labels of stored
values (web.labels)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

from babel import Locale, numbers
from jinja2 import pass_context
from litestar.plugins.jinja import JinjaTemplateEngine
from markupsafe import Markup

from backend.accounts.auth import SHELL_COUNTS
from backend.accounts.service import ShellCounts
from backend.clock import format_date, format_datetime_wib, format_moment_short, format_slot
from backend.i18n import LOCALES, get_locale, gettext, ngettext
from backend.money import format_rupiah
from backend.orders.cart import can_buy
from backend.orders.standing import can_order_weekly
from backend.orders.states import NEEDS_REASON
from backend.payments.cash import cash_step
from backend.phone import display_phone, whatsapp_link
from backend.vendors.models import mask_to_days
from web.audit_log import AUDIT_ACTION_LABELS, audit_changes, audit_title
from web.labels import TEMPLATE_LABELS, WEEKDAY_LABELS, counted
from web.navigation import current_place, places_for
from web.roles import home_path_for

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
HTMX_FILE = "js/htmx-2.0.11.min.js"


@cache
def static_fingerprints() -> dict[str, str]:
    """Every file under static/ (by its path there) with a hash of its content: read once per process, so a page
    render costs a dictionary look-up per asset, and web.caching knows which URLs may be cached for a year."""
    return {
        file.relative_to(STATIC_DIR).as_posix(): hashlib.sha256(file.read_bytes()).hexdigest()[:10]
        for file in sorted(STATIC_DIR.rglob("*"))
        if file.is_file()
    }


def static_url(path: str) -> str:
    """A URL for a file under static/ carrying a hash of its content, so it can be cached for a year."""
    return f"/static/{path}?v={static_fingerprints()[path]}"


@pass_context
def current_user(context: Any) -> Any:
    request = context.get("request")
    return request.scope.get("user") if request is not None else None


@pass_context
def shell_counts(context: Any) -> ShellCounts:
    """The counts the shell's badges show, loaded with the user (none for a page without a logged-in user)."""
    request = context.get("request")
    counts = request.scope.get("state", {}).get(SHELL_COUNTS) if request is not None else None
    return counts if isinstance(counts, ShellCounts) else ShellCounts()


def _format_date(value: date | datetime) -> str:
    if isinstance(value, datetime):
        return format_datetime_wib(value, get_locale())
    return format_date(value, get_locale())


class _DeliveredOrder(Protocol):
    delivery_day: date
    delivery_slot: time


def delivery_label(order: _DeliveredOrder) -> str:
    """When an order is delivered, said as delivery: "Dikirim Kamis, 3 Des, 11.00 WIB". Every order page uses it,
    so the delivery day is never mistaken for the day the order was made (`ordered_label`)."""
    return gettext("Delivery %(when)s", when=format_slot(order.delivery_day, order.delivery_slot, get_locale()))


def ordered_label(moment: datetime) -> str:
    """When an order was made: "Dipesan Rabu, 2 Des, 14.05 WIB"."""
    return gettext("Ordered %(when)s", when=format_moment_short(moment, get_locale()))


def query_with(params: dict[str, str], **changes: object) -> str:
    """The current query string with some parameters replaced; an empty value drops the parameter."""
    merged = {**params, **{name: str(value) for name, value in changes.items()}}
    return urlencode({name: value for name, value in merged.items() if value not in ("", "None")})


_DECIMAL_PATTERN = numbers.parse_pattern("#,##0.#")


@cache
def _babel_locale(name: str) -> Locale:
    return Locale.parse(name)


def format_decimal(value: float) -> str:
    """1.5 → "1,5" in Indonesian, "1.5" in English; at most one decimal, none for whole numbers. (The pattern
    and locale parsed once: Babel's format_decimal parses both at each call.)"""
    return str(_DECIMAL_PATTERN.apply(value, _babel_locale(get_locale())))


def whatsapp_text_link(phone: str, message: str | None = None) -> str:
    """whatsapp_link for templates: the text comes from _(), whose parameters are HTML-escaped (Markup); the
    chat must read "Dapur Ibu & Anak", not "Dapur Ibu &amp; Anak"."""
    if isinstance(message, Markup):
        message = message.unescape()
    return whatsapp_link(phone, message)


def weekday_names(days: Iterable[int]) -> str:
    """ISO weekdays as a reader says them: [1, 3] → "Senin, Rabu"."""
    return ", ".join(gettext(WEEKDAY_LABELS[day]) for day in sorted(days))


def weekday_mask_names(mask: int) -> str:
    """Weekdays kept as a bit mask (Monday = bit 0) as a reader says them."""
    return weekday_names(mask_to_days(mask))


def rupiah_html(amount: int) -> Markup:
    """An amount on a page: "Rp" and the number kept on one line (class money: white-space nowrap), however
    narrow the screen."""
    return Markup('<span class="money">{}</span>').format(format_rupiah(amount))


def label_options(labels: Mapping[Any, str]) -> list[tuple[str, str]]:
    """A label mapping (web.labels) as a select's options: (value, translated label) pairs."""
    return [(str(value), gettext(label)) for value, label in labels.items()]


def configure_environment(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]  # added by the i18n extension at run time
    env.filters["rupiah"] = rupiah_html
    env.filters["wib"] = _format_date
    env.filters["phone"] = display_phone
    env.filters["decimal"] = format_decimal
    env.filters["weekday_names"] = weekday_names
    env.filters["weekday_mask_names"] = weekday_mask_names
    env.filters["options"] = label_options
    env.filters["delivery_label"] = delivery_label
    env.filters["ordered_label"] = ordered_label
    env.globals.update(
        static_url=static_url,
        current_user=current_user,
        shell_counts=shell_counts,
        places_for=places_for,
        current_place=current_place,
        home_path_for=home_path_for,
        get_locale=get_locale,
        locales=LOCALES,
        htmx_url=lambda: static_url(HTMX_FILE),
        whatsapp_link=whatsapp_text_link,
        query_with=query_with,
        counted=counted,
        # Who may do what, and where an order stands: the services' own rules, so no template re-encodes them.
        can_buy=can_buy,
        can_order_weekly=can_order_weekly,
        cash_step=cash_step,
        reason_targets=NEEDS_REASON,
        audit_title=audit_title,
        audit_changes=audit_changes,
        audit_action_labels=AUDIT_ACTION_LABELS,
        **TEMPLATE_LABELS,
    )
    env.trim_blocks = True
    env.lstrip_blocks = True
