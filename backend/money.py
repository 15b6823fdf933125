"""Rupiah: whole numbers only, formatted the Indonesian way (Rp 15.000)."""

from __future__ import annotations

import re

from babel import Locale
from babel.numbers import parse_pattern

# Stripe counts IDR in hundredths (a two-decimal currency in its API); we never store that form.
STRIPE_IDR_FACTOR = 100

_THOUSANDS_DOTS = re.compile(r"^\d{1,3}(\.\d{3})+$")


# Babel's Indonesian pattern is "¤#,##0.00" (Rp15.000,00): we show whole rupiah, with a space after the symbol
# as Indonesians write it. Rupiah read the same on English pages: "Rp 15.000", not "IDR 15,000".
# Parsed once: a page of 20 products formats some 70 amounts and numbers, and Babel's format_currency parses its
# pattern and locale again at each call (a third of the time of drawing a catalogue page's cards).
_RUPIAH_PATTERN = parse_pattern("¤ #,##0")
_INDONESIAN = Locale.parse("id")


def format_rupiah(amount: int) -> str:
    """Rp 15.000; negative amounts as -Rp 15.000."""
    return str(_RUPIAH_PATTERN.apply(amount, _INDONESIAN, currency="IDR", currency_digits=False))


def parse_rupiah(text: str) -> int:
    """Read what a person types: "15000", "15.000", "Rp 15.000", "15.000,00" (sen are dropped only when zero).

    Raises ValueError with an Indonesian-neutral reason when the text is not a whole rupiah amount.
    """
    cleaned = text.strip().replace(" ", "")
    if cleaned[:2].lower() == "rp":
        cleaned = cleaned[2:].lstrip(".")
    if cleaned.endswith((",00", ",0")):
        cleaned = cleaned.rsplit(",", 1)[0]
    if _THOUSANDS_DOTS.match(cleaned):
        cleaned = cleaned.replace(".", "")
    if not cleaned.isdigit():
        raise ValueError("not a whole rupiah amount")
    return int(cleaned)


def to_stripe_amount(rupiah: int) -> int:
    return rupiah * STRIPE_IDR_FACTOR


def from_stripe_amount(amount: int) -> int:
    if amount % STRIPE_IDR_FACTOR:
        raise ValueError("Stripe amount is not a whole number of rupiah")
    return amount // STRIPE_IDR_FACTOR


def unit_price_for(base_price: int, tiers: list[tuple[int, int]], quantity: int) -> int:
    """The price per unit for a quantity: the deepest tier the quantity reaches, else the base price.

    `tiers` are (minimum quantity, unit price) pairs, e.g. [(50, 14000), (200, 13000)].
    """
    price = base_price
    for min_quantity, tier_price in sorted(tiers):
        if quantity >= min_quantity:
            price = tier_price
    return price
