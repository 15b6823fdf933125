"""The words a product is found by, normalised the same way for the index and for what a buyer types.

Both databases index these normalised words (SQLite FTS5, PostgreSQL tsvector with the 'simple' configuration),
so case, accents and punctuation are handled once, here, and the two behave alike.
"""

from __future__ import annotations

import re
import unicodedata

from backend.catalog.models import Category

MAX_QUERY_TERMS = 8
_WORD = re.compile(r"[0-9a-z]+")

# Words buyers use for each category, Indonesian first; they are indexed with every product of the category.
CATEGORY_WORDS = {
    Category.CATERING: "katering catering makan siang prasmanan",
    Category.SNACKS: "camilan snack jajanan makanan olahan kue keripik",
    Category.FROZEN: "makanan beku frozen food",
    Category.DRINKS: "minuman drink jamu kopi teh",
    Category.FRESH: "hasil tani sayur buah segar fresh produce",
    Category.UNIFORMS: "konveksi seragam uniform pakaian kerja wearpack",
    Category.CRAFTS: "kerajinan craft anyaman batik",
    Category.OTHER: "lainnya other",
}


def normalize(text: str) -> str:
    """Lower-case words without accents or punctuation: "Kripik Tempe Bu Siti's — Pédas" → "kripik tempe bu siti s pedas"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_WORD.findall(plain))


def query_terms(text: str) -> list[str]:
    """The words of a search, each matched as a prefix; the first few only, so a pasted paragraph stays cheap."""
    return normalize(text).split()[:MAX_QUERY_TERMS]


def fitted(text: str, length: int) -> str:
    """Normalised text cut at a word to fit its column (normalising may lengthen it: "⑳" becomes "20")."""
    words = normalize(text)
    return words if len(words) <= length else words[:length].rsplit(" ", 1)[0]


def product_body(description: str, category: str) -> str:
    return fitted(f"{description} {CATEGORY_WORDS.get(Category(category), '')}", 2400)
