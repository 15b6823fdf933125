"""The words buyers can find things by, and what a search's words become before the index is asked.

`search_word` holds each distinct word of the names of buyer-visible products, of their vendors and of the
categories' words, with the number of visible products it appears in. It steers typo correction and the
suggestions of a search that found nothing; the index itself (FTS5 / tsvector) still holds every word.

It is rebuilt by a job (every few minutes, and by `python -m backend rebuild-search-words`) rather than kept in
step with each change: what a buyer may see changes in many places and even without a write (a certificate
expires at midnight), the words only steer corrections and suggestions (a word typed exactly is always searched
as typed), and a rebuild is one pass over two short columns of the visible products.

Typo candidates are the words sharing trigrams with the typed word: PostgreSQL's pg_trgm (`%`, a GIN
gin_trgm_ops index), SQLite a table of each word's trigrams counted the same way (searchtext.trigrams). Both keep
words of similarity >= 0.3 (pg_trgm's default threshold); the rule that decides is then the same Python on both:
at most one letter wrong, missing, extra or swapped (searchtext.one_typo_from).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select
from sqlalchemy.sql.selectable import ScalarSelect
from sqlmodel import Field, SQLModel, col

from backend.catalog.models import Category, Product
from backend.catalog.searchtext import (
    CATEGORY_WORDS,
    MAX_ALTERNATIVES,
    MIN_TYPO_LENGTH,
    one_typo_from,
    phrases,
    query_terms,
    spelling_variants,
    trigrams,
)
from backend.catalog.service import buyer_visible
from backend.catalog.synonyms import BUILT_IN, MAX_PHRASE_WORDS, SearchSynonym, equivalents
from backend.db import is_postgres
from backend.vendors.models import Vendor

# pg_trgm's default `%` threshold; SQLite applies the same number to the same trigrams.
SIMILARITY_THRESHOLD = 0.3
CANDIDATES_PER_WORD = 20
CORRECTIONS_PER_WORD = 3
# Words of one search looked up in the vocabulary: a pasted sentence costs no more than a short search.
MAX_LOOKED_UP_WORDS = 4
MAX_SUGGESTIONS = 4
MAX_WORD_LENGTH = 60

# A search's words, each with its alternatives: ("kripik", "keripik"); an alternative of several words
# ("nasi box") needs all of them.
Term = tuple[str, ...]


class SearchWord(SQLModel, table=True):
    __tablename__ = "search_word"

    word: str = Field(primary_key=True, max_length=MAX_WORD_LENGTH)
    products: int = 0  # visible products whose name or vendor's name has the word (0: a category's word only)
    trigram_count: int = 0


class SearchWordTrigram(SQLModel, table=True):
    """SQLite's trigram index of `search_word` (PostgreSQL uses pg_trgm's GIN index and leaves this empty): the
    word's trigram count is repeated here, so that similarities are counted from this table alone (the index
    on (trigram, word) is the table itself, WITHOUT ROWID: half the time of a join to search_word)."""

    __tablename__ = "search_word_trigram"
    __table_args__ = {"sqlite_with_rowid": False}

    trigram: str = Field(primary_key=True, max_length=3)
    word: str = Field(primary_key=True, max_length=MAX_WORD_LENGTH, foreign_key="search_word.word", ondelete="CASCADE")
    trigram_count: int


@dataclass(frozen=True)
class VocabularyRun:
    words: int
    added: int
    removed: int


async def rebuild_vocabulary(*, session: AsyncSession, today: date) -> VocabularyRun:
    """Make `search_word` the words of what buyers may see today (see the module's docstring); idempotent, and
    safe when several workers run it at once (rows change by key, in the same order)."""
    counts: Counter[str] = Counter()
    rows = await session.execute(
        select(col(Product.search_name), col(Product.search_vendor))
        .join(Vendor, col(Vendor.id) == col(Product.vendor_id))
        .where(buyer_visible(today))
    )
    for name, vendor_name in rows:
        counts.update(_words(f"{name} {vendor_name}"))
    for words in CATEGORY_WORDS.values():
        for word in _words(words):
            counts.setdefault(word, 0)
    existing = {
        row.word: row.products for row in await session.execute(select(col(SearchWord.word), col(SearchWord.products)))
    }
    gone = sorted(set(existing) - set(counts))
    new = sorted(set(counts) - set(existing))
    changed = sorted(word for word in counts.keys() & existing.keys() if counts[word] != existing[word])
    postgres = is_postgres(session)
    for start in range(0, len(gone), 500):
        chunk = gone[start : start + 500]
        if not postgres:
            await session.execute(delete(SearchWordTrigram).where(col(SearchWordTrigram.word).in_(chunk)))
        await session.execute(delete(SearchWord).where(col(SearchWord.word).in_(chunk)))
    if new:
        await session.execute(
            _insert_ignoring_existing(session, SearchWord),
            [{"word": word, "products": counts[word], "trigram_count": len(trigrams(word))} for word in new],
        )
        if not postgres:
            await session.execute(
                _insert_ignoring_existing(session, SearchWordTrigram),
                [
                    {"trigram": trigram, "word": word, "trigram_count": len(trigrams(word))}
                    for word in new
                    for trigram in sorted(trigrams(word))
                ],
            )
    if changed:
        await session.execute(
            update(SearchWord).where(col(SearchWord.word) == bindparam("changed")).values(products=bindparam("count")),
            [{"changed": word, "count": counts[word]} for word in changed],
        )
    return VocabularyRun(words=len(counts), added=len(new), removed=len(gone))


def _insert_ignoring_existing(session: AsyncSession, model: type[SQLModel]) -> Any:
    """An INSERT that skips rows another worker's run has just added."""
    insert = postgresql_insert if is_postgres(session) else sqlite_insert
    return insert(model).on_conflict_do_nothing()


def _words(text: str) -> set[str]:
    return {word for word in text.split() if len(word) >= 2 and not word.isdigit() and len(word) <= MAX_WORD_LENGTH}


def _unknown(typed: str) -> ColumnElement[bool]:
    """No vocabulary word starts with `typed` or another spelling of it. Uncorrelated, so both databases
    evaluate it once, first, and skip the trigram search for a word they know (most words)."""
    return ~exists(
        select(literal(1))
        .select_from(SearchWord)
        .where(or_(*(_starting_with(spelling) for spelling in (typed, *_other_forms(typed)))))
    )


def _starting_with(prefix: str) -> ColumnElement[bool]:
    """A range of the primary key: the same on both databases, and right in any collation that orders digits
    before letters and letters alphabetically (unlike a bound such as prefix + "{", or a LIKE, which PostgreSQL
    serves from a B-tree only in the C collation)."""
    word = col(SearchWord.word)
    stem = prefix.rstrip("z")
    if not stem:
        return word >= prefix
    last = stem[-1]
    following = stem[:-1] + ("a" if last == "9" else chr(ord(last) + 1))
    return and_(word >= prefix, word < following)


def rarest_word_use(words: list[str]) -> ScalarSelect[Any]:
    """About how many visible products the rarest of these words (or another spelling of it) starts a word of
    the name or the vendor's name of: the vocabulary's counts over the words it starts. An estimate (a product
    with two such words counts twice), which steers how the catalogue looks the words up."""
    uses = [
        select(func.coalesce(func.sum(col(SearchWord.products)), 0))
        .where(or_(*(_starting_with(form) for form in (word, *_other_forms(word)))))
        .scalar_subquery()
        for word in dict.fromkeys(words)
    ]
    rarest: Any = uses[0]
    for use in uses[1:]:
        rarest = case((use < rarest, use), else_=rarest)
    return select(rarest).scalar_subquery()


def _close_words(session: AsyncSession, typed: str) -> Select[Any]:
    """Vocabulary words sharing enough trigrams with an unknown word `typed`, the closest first: (kind, key,
    word, products, score)."""
    if is_postgres(session):
        score: Any = cast(func.similarity(col(SearchWord.word), typed), Float)
        close = select(col(SearchWord.word), col(SearchWord.products), score.label("score")).where(
            col(SearchWord.word).op("%")(typed), _unknown(typed)
        )
    else:
        grams = trigrams(typed)
        shared = func.count()
        score = shared * 1.0 / (col(SearchWordTrigram.trigram_count) + len(grams) - shared)
        similar = (
            select(col(SearchWordTrigram.word), score.label("score"))
            .where(col(SearchWordTrigram.trigram).in_(sorted(grams)), _unknown(typed))
            .group_by(col(SearchWordTrigram.word), col(SearchWordTrigram.trigram_count))
            .having(score >= SIMILARITY_THRESHOLD)
            .order_by(score.desc(), col(SearchWordTrigram.word))
            .limit(CANDIDATES_PER_WORD)
            .subquery()
        )
        close = select(col(SearchWord.word), col(SearchWord.products), similar.c.score).join(
            similar, similar.c.word == col(SearchWord.word)
        )
        score = similar.c.score
    ranked = close.order_by(score.desc(), col(SearchWord.word)).limit(CANDIDATES_PER_WORD).subquery()
    return select(
        literal("close", String).label("kind"),
        literal(typed, String).label("key"),
        ranked.c.word.label("word"),
        ranked.c.products.label("products"),
        ranked.c.score.label("score"),
    )


def _swapped_words(session: AsyncSession, typed: str) -> Select[Any]:
    """Vocabulary words that are `typed` with two neighbouring letters swapped: in a short word a swap leaves
    too few trigrams in common for the trigram search ("tmepe" and "tempe" share two of ten)."""
    swaps = {typed[:i] + typed[i + 1] + typed[i] + typed[i + 2 :] for i in range(len(typed) - 1)} - {typed}
    return select(
        literal("close", String).label("kind"),
        literal(typed, String).label("key"),
        col(SearchWord.word).label("word"),
        col(SearchWord.products).label("products"),
        literal(SIMILARITY_THRESHOLD, Float).label("score"),
    ).where(col(SearchWord.word).in_(sorted(swaps)), _unknown(typed))


def _neighbours(session: AsyncSession, typed: str) -> list[Select[Any]]:
    return [_close_words(session, typed), _swapped_words(session, typed)]


@dataclass(frozen=True)
class Neighbour:
    word: str
    products: int
    score: float


def _closest_first(neighbours: list[Neighbour]) -> list[Neighbour]:
    """Each word once (found by trigrams and as a swap), the closest first. Rounded: PostgreSQL computes the
    similarity as a real, SQLite as a double."""
    best: dict[str, Neighbour] = {}
    for neighbour in neighbours:
        if neighbour.word not in best or neighbour.score > best[neighbour.word].score:
            best[neighbour.word] = neighbour
    return sorted(best.values(), key=lambda n: (-round(n.score, 4), -n.products, n.word))


@dataclass
class QueryWords:
    """What a search's text becomes: its terms, and the corrections made (typed word → words used)."""

    terms: list[Term]
    corrected: dict[str, list[str]] = field(default_factory=dict)
    along_with: Any = None  # the value of the caller's scalar query


async def understand_query(
    *, session: AsyncSession, text: str, along_with: ScalarSelect[Any] | None = None
) -> QueryWords:
    """The terms to search for: each typed word (or run of words) with its spellings and synonyms, and for a
    word of five letters or more that no visible product's words start with (nor its spellings'), the words
    one typo away, most used first.

    One query (none for an empty text): the managers' synonyms of the text's runs of words, and the trigram
    neighbours of its long words. `along_with`, a scalar query of the caller's, comes back in the same round
    trip (QueryWords.along_with), so that a search's words cost the catalogue no query of their own."""
    words = query_terms(text)
    if not words:
        if along_with is None:
            return QueryWords(terms=[])
        return QueryWords(terms=[], along_with=(await session.execute(select(along_with))).scalar_one())
    long_words = [word for word in dict.fromkeys(words) if len(word) >= MIN_TYPO_LENGTH][:MAX_LOOKED_UP_WORDS]
    runs = phrases(words, MAX_PHRASE_WORDS)
    synonym_rows = select(
        literal("synonym", String).label("kind"),
        col(SearchSynonym.words).label("key"),
        col(SearchSynonym.same_as).label("word"),
        literal(0, Integer).label("products"),
        literal(0.0, Float).label("score"),
    ).where(or_(col(SearchSynonym.words).in_(runs), col(SearchSynonym.same_as).in_(runs)))
    carried = [] if along_with is None else [_carrying(along_with)]
    pairs: list[tuple[str, str]] = []
    close: dict[str, list[Neighbour]] = {}
    result = QueryWords(terms=[])
    statement = union_all(synonym_rows, *(part for word in long_words for part in _neighbours(session, word)), *carried)
    for row in await session.execute(statement):
        if row.kind == "synonym":
            pairs.append((row.key, row.word))
        elif row.kind == "along":
            result.along_with = row.score
        else:
            close.setdefault(row.key, []).append(Neighbour(row.word, row.products, row.score))
    groups = equivalents([*((member, *others) for member, others in BUILT_IN.items()), *pairs]) if pairs else BUILT_IN
    terms = _terms(words, groups)
    corrected: dict[str, list[str]] = {}
    for word in long_words:  # only unknown words have neighbours (_unknown)
        by_use = sorted(_closest_first(close.get(word, [])), key=lambda n: (-n.products, n.word))
        fixes = [n.word for n in by_use if one_typo_from(word, n.word)][:CORRECTIONS_PER_WORD]
        if fixes:
            corrected[word] = fixes
    if corrected:
        terms = [_with_corrections(term, corrected) for term in terms]
    result.terms, result.corrected = terms, corrected
    return result


def _carrying(value: ScalarSelect[Any]) -> Select[Any]:
    return select(
        literal("along", String).label("kind"),
        literal("", String).label("key"),
        literal("", String).label("word"),
        literal(0, Integer).label("products"),
        cast(value, Float).label("score"),
    )


def _other_forms(word: str) -> list[str]:
    """Other spellings and one-word synonyms: a word is known when a vocabulary word starts with any of them."""
    return [*spelling_variants(word), *(other for other in BUILT_IN.get(word, []) if " " not in other)]


def _terms(words: list[str], groups: dict[str, list[str]]) -> list[Term]:
    """Runs of words that have synonyms become one term ("nasi kotak" → ("nasi kotak", "nasi box")); the
    longest run wins. Every other word gets its spellings and single-word synonyms."""
    terms: list[Term] = []
    position = 0
    while position < len(words):
        for size in range(min(MAX_PHRASE_WORDS, len(words) - position), 1, -1):
            run = " ".join(words[position : position + size])
            if run in groups:
                terms.append(_alternatives(run, groups[run]))
                position += size
                break
        else:
            word = words[position]
            # The lists first: when alternatives are cut at MAX_ALTERNATIVES, the rules' guesses go first.
            terms.append(_alternatives(word, [*groups.get(word, []), *spelling_variants(word)]))
            position += 1
    return terms


def _alternatives(typed: str, others: Iterable[str]) -> Term:
    return tuple(dict.fromkeys((typed, *others)))[:MAX_ALTERNATIVES]


def _with_corrections(term: Term, corrected: dict[str, list[str]]) -> Term:
    fixes = corrected.get(term[0], [])
    return tuple(dict.fromkeys((*term, *fixes)))[: MAX_ALTERNATIVES + CORRECTIONS_PER_WORD]


@dataclass
class Suggestions:
    """What a search that found nothing offers instead: searches with the closest known words, and categories."""

    texts: list[str] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)


async def suggest(*, session: AsyncSession, text: str, found_any: bool = False) -> Suggestions:
    """For a search that found nothing (`found_any` False): the text with its unknown words replaced by the
    closest known ones (one query), and the categories whose words the text's words start or nearly start."""
    words = query_terms(text)
    if not words or found_any:
        return Suggestions()
    typed = [word for word in dict.fromkeys(words) if len(word) >= 3][:MAX_LOOKED_UP_WORDS]
    close: dict[str, list[Neighbour]] = {}
    if typed:
        for row in await session.execute(union_all(*(part for word in typed for part in _neighbours(session, word)))):
            close.setdefault(row.key, []).append(Neighbour(row.word, row.products, row.score))
    # A word the vocabulary knows has no neighbours (_unknown) and stays; the others make way for theirs.
    replacements = {word: [n.word for n in _closest_first(neighbours)][:3] for word, neighbours in close.items()}
    best = [replacements[word][0] if replacements.get(word) else word for word in words]
    texts = [" ".join(best)] if best != words else []
    for word, alternatives in replacements.items():
        for alternative in alternatives[1:]:
            texts.append(
                " ".join(
                    alternative if typed_word == word else kept for typed_word, kept in zip(words, best, strict=True)
                )
            )
    return Suggestions(texts=list(dict.fromkeys(texts))[:MAX_SUGGESTIONS], categories=matching_categories(words))


def matching_categories(words: list[str]) -> list[Category]:
    """Categories one of whose words a typed word (of three letters or more) starts, or nearly starts."""
    found: list[Category] = []
    for category in Category:
        vocabulary = {category.value, *CATEGORY_WORDS[category].split()}
        if any(
            known.startswith(word)
            if len(word) < MIN_TYPO_LENGTH
            else (known.startswith(word) or one_typo_from(word, known))
            for word in words
            if len(word) >= 3
            for known in vocabulary
        ):
            found.append(category)
    return found
