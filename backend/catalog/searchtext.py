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


# --- how buyers spell ----------------------------------------------------------------------------------------

# A typo is corrected only in words this long: shorter words ("es", "teh", "mie", "opor") have too many
# neighbours one letter away, and are found as typed.
MIN_TYPO_LENGTH = 5
# Alternatives for one word of a search (the word itself first); more would only slow the index down.
MAX_ALTERNATIVES = 8

# Spelling rules, each applied once to the whole word (not chained). Indonesian written as spoken drops or
# adds the weak "e" after a first consonant (keripik/kripik, kerupuk/krupuk, terasi/trasi, kelepon/klepon);
# old (pre-1972) spelling lives on in brand names (Djamu, Tjendol, Goela); final diphthongs are written as
# said (cabai/cabe, satai/sate, siomay/siomai, kwetiau/kwetiaw).
_SPELLING_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^([bcdfgkpst])e([lr][aiueo])"), r"\1\2"),
    (re.compile(r"^([bcdfgkpst])([lr][aiueo])"), r"\1e\2"),
    (re.compile(r"dj"), "j"),
    (re.compile(r"j"), "dj"),
    (re.compile(r"tj"), "c"),
    (re.compile(r"c"), "tj"),
    (re.compile(r"oe"), "u"),
    (re.compile(r"u"), "oe"),
    (re.compile(r"([^aiueo])ai$"), r"\1e"),
    (re.compile(r"([^aiueo])e$"), r"\1ai"),
    (re.compile(r"ay$"), "ai"),
    (re.compile(r"ai$"), "ay"),
    (re.compile(r"aw$"), "au"),
    (re.compile(r"au$"), "aw"),
)


def spelling_variants(word: str) -> list[str]:
    """Other ways the same word is written, by the rules above: "kripik" → ["keripik"]; "es" → []."""
    if len(word) < 3 or word.isdigit():
        return []
    variants: list[str] = []
    for pattern, replacement in _SPELLING_RULES:
        variant = pattern.sub(replacement, word)
        if variant != word and variant not in variants:
            variants.append(variant)
    return variants


def phrases(words: list[str], longest: int = 3) -> list[str]:
    """Every run of one to `longest` consecutive words: what a synonym ("nasi kotak") may be."""
    return [
        " ".join(words[start : start + size])
        for size in range(1, longest + 1)
        for start in range(len(words))
        if start + size <= len(words)
    ]


def trigrams(word: str) -> set[str]:
    """The trigrams of a word as PostgreSQL's pg_trgm counts them (two spaces before, one after), so that
    similarity() there and the trigram table on SQLite agree: "teh" → {"  t", " te", "teh", "eh "}."""
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def similarity(first: str, second: str) -> float:
    """pg_trgm's similarity: shared trigrams over all trigrams of the two words."""
    a, b = trigrams(first), trigrams(second)
    return len(a & b) / len(a | b) if a or b else 0.0


def _edits(first: str, second: str) -> int:
    """Edits from one word to the other: insertions, deletions, substitutions and swaps of two neighbours
    (the optimal string alignment distance)."""
    previous_row: list[int] = []
    row = list(range(len(second) + 1))
    for i in range(1, len(first) + 1):
        before, previous_row, row = previous_row, row, [i] + [0] * len(second)
        for j in range(1, len(second) + 1):
            cost = 0 if first[i - 1] == second[j - 1] else 1
            row[j] = min(previous_row[j] + 1, row[j - 1] + 1, previous_row[j - 1] + cost)
            if i > 1 and j > 1 and first[i - 1] == second[j - 2] and first[i - 2] == second[j - 1]:
                row[j] = min(row[j], before[j - 2] + 1)
    return row[len(second)]


def one_typo_from(typed: str, word: str) -> bool:
    """`typed` is `word`, or the start of it being typed, with at most one letter wrong, missing, extra or
    swapped: "kripk" and "krpiik" are one typo from "kripik", "kerpi" from "keripik"."""
    if len(typed) < MIN_TYPO_LENGTH:
        return False
    ends = {len(word), *range(max(len(typed) - 1, 1), len(typed) + 2)}
    return any(_edits(typed, word[:end]) <= 1 for end in ends if end <= len(word))
