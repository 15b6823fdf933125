"""What buyers find: the catalogue's search, filters, distances and availability, one function for pages and API.

A page reads the catalogue's read model (catalog.entries): `catalogue_entry`, one row per buyer-visible product
with what its card shows, and `vendor_reach`, the vendors that may deliver to each 0.05° cell. The work of a
page is bounded by its size, not by the number of matching products:

- Reach: the buyer's cell is one primary-key range of `vendor_reach`; the exact great-circle distance and each
  vendor's radius are checked there, in SQL.
- Nearest first (and best rated first): the vendors in reach are walked in that order, a window at a time
  (the nearest 64, then 512, then all), probing each vendor's products by (vendor_id, product_id); a window is
  widened only when it did not fill the page. Cheapest first walks the price index.
- Text: the normalised words of catalog.searchtext, each with its other spellings, synonyms and, for an
  unknown long word, corrections (catalog.vocabulary.understand_query), matched as word prefixes. Relevance
  is a tier, then distance: every word as typed starts a word of the name (0), every word or its alternative
  in the name (1), in the name or the vendor's name (2), anywhere (3). Tiers are ranked inside a bounded set
  of candidates. Words that are rare by the vocabulary's counts are looked up in the text index (SQLite FTS5,
  PostgreSQL's GIN-indexed tsvector, which also hold the filters as words): when it finds at most
  INDEX_LIMIT products, all their matches in reach are ranked. Common words are matched among the products of
  the nearest vendors: the nearest 64 when they hold MIN_CANDIDATES matches, else the nearest 512, else all in
  reach. On SQLite a word is a substring search in the entries' normalised text; on PostgreSQL the text index
  is asked instead (the filters' words with it where more than a few vendors are read), and the 512 window is
  skipped: all in reach start from the index's matches (_windows, _text_matches).
- Pages follow an opaque cursor (the last row's sort key), not an offset.
- Availability for a delivery day: the vendor works that weekday, the lead time or order-before time can
  still be met, and the capacity left that day (made to order) or the stock (ready goods) covers the
  minimum order. "Lead time" counts to the end of the delivery day (WIB); checkout checks it against the slot.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    String,
    Subquery,
    and_,
    any_,
    bindparam,
    case,
    cast,
    column,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import Organisation, User, Zone
from backend.catalog.entries import cell_of, distance_km, filter_word
from backend.catalog.models import CatalogueEntry, Category, Fulfilment, Product, VendorReach
from backend.catalog.searchtext import CATEGORY_WORDS, query_terms
from backend.catalog.vocabulary import Term, rarest_word_use, understand_query
from backend.certification.formats import FORMATS, CertificateKind
from backend.clock import WIB, to_wib, wib_today
from backend.db import is_postgres
from backend.errors import N_, FieldError, NotFound, ValidationFailed
from backend.orders.models import CapacityDay
from backend.vendors.models import Vendor, rating_average

PER_PAGE = 20
MAX_PAGE = 50
# Nearest-first walks: vendors per window, the last window being all vendors in reach. With words, the text
# index has been asked first (one statement of the page's budget), and the words are common.
WINDOWS: tuple[int | None, ...] = (64, 512, None)
TEXT_WINDOWS: tuple[int | None, ...] = (64, None)
# Relevance ranks the matches of the nearest window of vendors that holds at least this many.
MIN_CANDIDATES = 40
# Words (and filters) that find at most this many products are ranked from the text index, all matches in
# reach; commoner ones among the matches of the nearest vendors.
INDEX_LIMIT = 500
# Words that find fewer products than this are sorted cheapest first from their matches, commoner ones by
# walking the price index (see _cheapest_first).
PRICE_WALK_FROM = 5_000
MSG_PRICE_RANGE = N_("The lowest price must not be above the highest.")
MSG_PAST_DATE = N_("Choose today or a later date.")
MSG_FAR_DATE = N_("Choose a date within the next 60 days.")
MSG_PLACE = N_("The location is not a valid latitude and longitude.")
MSG_PAGE = N_("There are no more pages.")
MSG_CURSOR = N_("This list has changed since it was opened: start again from the first page.")
MSG_PAGE_CURSOR = N_("The next pages are opened with the link to the next page (after), not by their number.")
MAX_DAYS_AHEAD = 60
ENTRY = CatalogueEntry
CATEGORY_VOCABULARY = frozenset(word for words in CATEGORY_WORDS.values() for word in words.split())


class Sort(StrEnum):
    RELEVANCE = "relevance"  # needs a search text; otherwise it falls back to distance
    DISTANCE = "distance"
    PRICE = "price"
    RATING = "rating"


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class CatalogueQuery:
    """What a buyer asked for. `near` is where distances are measured from (resolve it with buyer_location).
    `after` is the cursor of the page before (CataloguePage.next_cursor); `page` only numbers the page."""

    near: Place
    text: str = ""
    category: Category | None = None
    certified_only: bool = False
    halal_only: bool = False
    price_min: int | None = None
    price_max: int | None = None
    available_on: date | None = None
    sort: Sort = Sort.RELEVANCE
    page: int = 1
    after: str = ""
    vendor_id: int | None = None
    # A vendor's own page lists all their products, with the distance, even where they do not deliver.
    within_delivery_radius: bool = True


@dataclass
class CatalogueItem:
    product_id: int
    name: str
    category: str
    unit: str
    price: int
    min_order_qty: int
    fulfilment: str
    vendor_id: int
    vendor_name: str
    kecamatan: str
    distance_km: float
    delivers_here: bool
    rating_count: int
    rating_average: float | None
    # What can still be ordered for the chosen day: capacity left or stock; None when no day was chosen
    # for a made-to-order product.
    available_quantity: int | None
    best_tier_quantity: int | None = None
    best_tier_price: int | None = None
    thumb_key: str | None = None
    badges: list[str] = field(default_factory=list)


@dataclass
class CataloguePage:
    items: list[CatalogueItem]
    page: int
    has_more: bool
    sort: Sort
    # Ask for the next page with this (CatalogueQuery.after); empty on the last page.
    next_cursor: str = ""


def check_query(query: CatalogueQuery, *, today: date) -> None:
    """Refuse a query that cannot mean anything, with a message per field (nothing is searched)."""
    errors: list[FieldError] = []
    if not (-90 <= query.near.latitude <= 90 and -180 <= query.near.longitude <= 180):
        errors.append(FieldError("near", MSG_PLACE))
    if query.price_min is not None and query.price_max is not None and query.price_min > query.price_max:
        errors.append(FieldError("price_min", MSG_PRICE_RANGE))
    if query.available_on is not None:
        errors.extend(_date_errors(query.available_on, today))
    if not 1 <= query.page <= MAX_PAGE:
        errors.append(FieldError("page", MSG_PAGE))
    elif query.page > 1 and not query.after:
        errors.append(FieldError("page", MSG_PAGE_CURSOR))
    if errors:
        raise ValidationFailed(errors)


def _date_errors(day: date, today: date) -> list[FieldError]:
    if day < today:
        return [FieldError("available_on", MSG_PAST_DATE)]
    if day > today + timedelta(days=MAX_DAYS_AHEAD):
        return [FieldError("available_on", MSG_FAR_DATE)]
    return []


def check_delivery_date(day: date, *, today: date) -> None:
    """A delivery day buyers may ask about: from today to 60 days ahead."""
    errors = _date_errors(day, today)
    if errors:
        raise ValidationFailed(errors)


# --- the cursor --------------------------------------------------------------------------------------------


def _encode_cursor(sort: Sort, mode: str, values: list[Any]) -> str:
    raw = json.dumps([sort.value, mode, *values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: Sort) -> tuple[str, list[Any]]:
    """The mode and key values of a cursor made for this sort; a cursor that is not one is refused."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
    except (binascii.Error, ValueError):
        decoded = None
    valid = (
        isinstance(decoded, list)
        and len(decoded) >= 3
        and decoded[0] == sort.value
        and all(isinstance(value, int | float) for value in decoded[2:])
    )
    if not valid or not isinstance(decoded, list):
        raise ValidationFailed.single("after", MSG_CURSOR)
    return str(decoded[1]), list(decoded[2:])


# --- searching ---------------------------------------------------------------------------------------------


@dataclass
class _Search:
    """One page's work: the query, what its words became, and the request's clock."""

    query: CatalogueQuery
    terms: list[Term]
    typed: list[str]
    sort: Sort
    now: datetime
    per_page: int
    postgres: bool
    # The vocabulary's estimate of how many products the rarest typed word is in (catalog.vocabulary).
    rarest_word_use: float = 0

    @property
    def today(self) -> date:
        return wib_today(self.now)


async def search_catalogue(
    *, session: AsyncSession, query: CatalogueQuery, now: datetime, per_page: int = PER_PAGE
) -> CataloguePage:
    """One page of what the buyer may see and order, filtered and sorted as asked (see the module's docstring).

    One statement for the words of a text; for the rows one (most pages), at most three."""
    check_query(query, today=wib_today(now))
    typed = query_terms(query.text)
    if query.text.strip() and not typed:  # only emoji or punctuation: nothing can match it
        return CataloguePage(items=[], page=query.page, has_more=False, sort=query.sort)
    # A category's word is in every description of the category: common, whatever the vocabulary counts.
    rare = [word for word in typed if not any(known.startswith(word) for known in CATEGORY_VOCABULARY)]
    words = await understand_query(session=session, text=query.text, along_with=rarest_word_use(rare) if rare else None)
    sort = query.sort if (query.sort != Sort.RELEVANCE or words.terms) else Sort.DISTANCE
    rarest = (words.along_with or 0) if rare else math.inf
    search = _Search(query, words.terms, typed, sort, now, per_page, is_postgres(session), rarest)
    rows, mode = await _rows(session, search)
    has_more = len(rows) > per_page and query.page < MAX_PAGE
    items = [_item(row) for row in rows[:per_page]]
    next_cursor = _encode_cursor(sort, mode, _row_key(rows[per_page - 1], sort)) if has_more else ""
    return CataloguePage(items=items, page=query.page, has_more=has_more, sort=sort, next_cursor=next_cursor)


async def _rows(session: AsyncSession, search: _Search) -> tuple[list[Any], str]:
    """A page and a bit of rows, and how they were found ("index" or "walk", carried by the cursor so that
    the next pages are found the same way)."""
    mode, after = _cursor_values(search)
    if not search.query.within_delivery_radius:
        return await _vendor_products(session, search), ""
    if search.terms and (mode == "index" or (not mode and search.rarest_word_use < INDEX_LIMIT)):
        rows, complete = await _from_text_index(session, search, after)
        if complete or mode == "index":
            return rows, "index"
        if search.sort == Sort.RELEVANCE:
            # The words are commoner than the vocabulary knew (descriptions' words): walk, within the page's
            # budget of statements (two windows, not three).
            return await _most_relevant_first(session, search, after, "", last=1)
    if search.sort == Sort.PRICE:
        return await _cheapest_first(session, search, after), "walk"
    if search.sort == Sort.RELEVANCE:
        return await _most_relevant_first(session, search, after, mode)
    return await _nearest_first(session, search, after), "walk"


def _row_key(row: Any, sort: Sort) -> list[Any]:
    """The values of a row's sort key, in the order of _row_keys."""
    if sort == Sort.PRICE:
        return [row.price, row.product_id]
    key = [row.distance_km, row.vendor_id, row.product_id]
    if sort == Sort.RATING:
        return [row.rating_key, row.rating_count, *key]
    return [row.tier, *key] if sort == Sort.RELEVANCE else key


def _cursor_values(search: _Search) -> tuple[str, list[Any] | None]:
    if not search.query.after:
        return "", None
    mode, values = _decode_cursor(search.query.after, search.sort)
    expected = {Sort.PRICE: 2, Sort.RATING: 5, Sort.RELEVANCE: 4, Sort.DISTANCE: 3}[search.sort]
    if len(values) != expected:
        raise ValidationFailed.single("after", MSG_CURSOR)
    return mode, values


async def _from_text_index(session: AsyncSession, search: _Search, after: list[Any] | None) -> tuple[list[Any], bool]:
    """The matches in reach among the first INDEX_LIMIT products the text index finds for the words and the
    filters' words, and whether that was all of them (then every match in reach was ranked)."""
    ids = _text_index_ids(search)
    if search.postgres:
        # Every match first, then the first INDEX_LIMIT + 1 of them: with the LIMIT in the same query, PostgreSQL
        # expects to meet that many matches early in a sequential scan, and reads the whole table (0.5-0.7 s) when
        # the words and filters match little or nothing ("murah" and halal); the index finds those in ~15 ms. The
        # words are rare by the vocabulary's counts, so all their matches are few.
        every = ids.cte("index_matches").prefix_with("MATERIALIZED", dialect="postgresql")
        ids = select(every.c.product_id)
    matched = ids.limit(INDEX_LIMIT + 1).subquery("matched")
    candidates = _entries_in_reach(search).where(col(ENTRY.product_id).in_(select(matched.c.product_id)))
    found = select(func.count()).select_from(matched).scalar_subquery()
    rows = await _page_of(session, search, candidates, after, along_with=found)
    complete = not rows or rows[0].along_with <= INDEX_LIMIT
    return [row for row in rows if row.product_id is not None], complete


async def _most_relevant_first(
    session: AsyncSession, search: _Search, after: list[Any] | None, mode: str, *, last: int | None = None
) -> tuple[list[Any], str]:
    """The matches of the nearest vendors ranked by tier, then distance: of the nearest 64 when they hold at
    least MIN_CANDIDATES, else of the next window (_windows), else of all in reach. The first page decides,
    and its cursor carries the choice ("walk1": the second window), so that every page ranks the same
    candidates. A given mode is kept as it is. `last`: the last window that may be tried."""
    windows = _windows(search, relevance=True)
    last = len(windows) - 1 if last is None else min(last, len(windows) - 1)
    first = min(int(mode[len("walk") :]), last) if mode[len("walk") :].isdigit() else 0
    rows: list[Any] = []
    number = first
    for number in range(first, last + 1):
        candidates = _window_entries(search, windows[number], Sort.DISTANCE, None)
        candidates = candidates.add_columns(func.count().over().label("candidates"))
        rows = await _page_of(session, search, candidates, after)
        if mode or (rows and rows[0].candidates >= MIN_CANDIDATES):
            break
    return rows, f"walk{number}"


async def _nearest_first(session: AsyncSession, search: _Search, after: list[Any] | None) -> list[Any]:
    """Nearest (or best rated) vendors first, a window at a time, widened while the page is not full."""
    rows: list[Any] = []
    for window in _windows(search, relevance=False):
        rows = await _page_of(session, search, _window_entries(search, window, search.sort, after), after)
        if len(rows) > search.per_page:
            break
    return rows


def _windows(search: _Search, *, relevance: bool) -> tuple[int | None, ...]:
    """The windows of vendors walked, nearest first. When the text index narrows the entries (_indexed), the
    nearest 64, then every vendor in reach through the index: a middle window of 512 vendors read ~10,000
    entries (0.2-0.4 s for "kopi" among crafts, halal goods of a rare category) where the index finds their
    few matches in reach in milliseconds."""
    if _indexed(search):
        return (WINDOWS[0], None)
    return WINDOWS if relevance or not search.terms else TEXT_WINDOWS


def _window_entries(search: _Search, window: int | None, sort: Sort, after: list[Any] | None) -> Select[Any]:
    """The entries of a window: the nearest `window` vendors' (from the cursor's), or all in reach."""
    if window is None and _indexed(search):
        return _entries_in_reach(search).where(*_text_matches(search, with_filters=True))
    return _entries_of(search, _nearest_vendors(_reach(search.query.near), sort, after, window))


def _indexed(search: _Search) -> bool:
    """Whether the text index narrows the entries (PostgreSQL, words or filters it holds): then the widest
    window, every vendor in reach, starts from the index's matches and looks each one's vendor up in the reach
    (a key lookup), rather than joining every vendor in reach to their entries. Planned as a join, a rare match
    set was estimated at a row or two and each match compared with the ~3,000 vendors in reach (1.4 s for
    "nastar pedas")."""
    return search.postgres and bool(search.terms or _filter_words(search.query))


async def _cheapest_first(session: AsyncSession, search: _Search, after: list[Any] | None) -> list[Any]:
    """The price index walked from the cheapest, each product's vendor checked against the reach. Words rarer
    than PRICE_WALK_FROM (by the vocabulary) are taken the other way round on PostgreSQL: all their matches in
    reach from the text index, then sorted. Their matches may all be dear ones, and the walk then reads most
    of the index before it finds a page: "sablon" cheapest first read 168,000 entries (1.2 s) for 21."""
    candidates = _entries_in_reach(search).where(*_text_matches(search, with_filters=True))
    if search.postgres and search.terms and search.rarest_word_use < PRICE_WALK_FROM:
        # Taken whole before sorting (a CTE PostgreSQL may not fold into the sort), so the price index is
        # not walked.
        matches = candidates.cte("matches").prefix_with("MATERIALIZED", dialect="postgresql")
        candidates = select(matches)
    return await _page_of(session, search, candidates, after)


async def _vendor_products(session: AsyncSession, search: _Search) -> list[Any]:
    """A vendor's own page: all their products on sale, cheapest first, with the distance from the buyer."""
    near = search.query.near
    distance = distance_km(near.latitude, near.longitude, col(ENTRY.latitude), col(ENTRY.longitude))
    vendor = (
        select(
            col(ENTRY.vendor_id).label("vendor_id"),
            distance.label("distance_km"),
            literal_column("-1.0").label("rating_key"),
            literal_column("0").label("rating_count"),
        )
        .where(col(ENTRY.vendor_id) == search.query.vendor_id, col(ENTRY.latitude).is_not(None))
        .limit(1)
        .subquery("reach")
    )
    return await _page_of(session, search, _entries_of(search, vendor), None)


# --- the statements' parts ---------------------------------------------------------------------------------


def _reach(near: Place) -> Subquery:
    """The vendors that deliver to the buyer: one key range of vendor_reach, the distance checked in SQL."""
    distance = distance_km(near.latitude, near.longitude, col(VendorReach.latitude), col(VendorReach.longitude))
    return (
        select(
            col(VendorReach.vendor_id).label("vendor_id"),
            distance.label("distance_km"),
            col(VendorReach.rating_key).label("rating_key"),
            col(VendorReach.rating_count).label("rating_count"),
        )
        .where(
            col(VendorReach.cell_lat) == cell_of(near.latitude),
            col(VendorReach.cell_lon) == cell_of(near.longitude),
            distance <= col(VendorReach.delivery_radius_km),
        )
        .subquery("reach")
    )


def _vendor_keys(vendors: Any, sort: Sort) -> list[tuple[Any, bool]]:
    """The order vendors are walked in, as (column, descending)."""
    nearest = [(vendors.c.distance_km, False), (vendors.c.vendor_id, False)]
    if sort == Sort.RATING:
        return [(vendors.c.rating_key, True), (vendors.c.rating_count, True), *nearest]
    return nearest


def _nearest_vendors(reach: Subquery, sort: Sort, after: list[Any] | None, window: int | None) -> Subquery:
    """The next `window` vendors in walking order, from the one the cursor stopped at."""
    keys = _vendor_keys(reach, sort)
    statement = select(reach).order_by(*_ordering(keys)).limit(window)
    if after is not None:
        statement = statement.where(_beyond(keys, after[: len(keys)], inclusive=True))
    return statement.subquery("nearest")


def _entries_of(search: _Search, vendors: Any) -> Select[Any]:
    """The vendors' entries that pass the filters and the words (matched with LIKE), with their keys: for a
    walk over the vendors."""
    columns = _entry_columns(search, vendors.c.distance_km, vendors.c.rating_key)
    statement = columns.select_from(vendors).join(ENTRY, col(ENTRY.vendor_id) == vendors.c.vendor_id)
    statement = _with_filters(search, statement)
    return statement.where(*_text_matches(search, with_filters=False))


def _entries_in_reach(search: _Search) -> Select[Any]:
    """Entries that pass the filters, each one's vendor looked up in the reach of the buyer's cell (one key
    lookup): for a walk over an index of the entries (the price, the text index's ids)."""
    near = search.query.near
    distance = distance_km(near.latitude, near.longitude, col(VendorReach.latitude), col(VendorReach.longitude))
    in_reach = exists(
        select(literal(1))
        .select_from(VendorReach)
        .where(
            col(VendorReach.cell_lat) == cell_of(near.latitude),
            col(VendorReach.cell_lon) == cell_of(near.longitude),
            col(VendorReach.vendor_id) == col(ENTRY.vendor_id),
            distance <= col(VendorReach.delivery_radius_km),
        )
    )
    own_distance = distance_km(near.latitude, near.longitude, col(ENTRY.latitude), col(ENTRY.longitude))
    # As vendor_reach.rating_key: a double on both databases (PostgreSQL would make `* 1.0` a numeric).
    average = cast(col(ENTRY.rating_sum), Float) / func.nullif(col(ENTRY.rating_count), 0)
    rating_key = func.coalesce(average, -1.0)
    columns = _entry_columns(search, own_distance, rating_key)
    return _with_filters(search, columns.select_from(ENTRY).where(in_reach))


def _text_index_ids(search: _Search) -> Select[Any]:
    """The ids of the entries the text index finds for the words and the filters' words."""
    if search.postgres:
        matches = _text_document_matches(search.terms, _filter_words(search.query))
        return select(col(ENTRY.product_id).label("product_id")).where(matches)
    words = [_index_term(term, postgres=False) for term in search.terms]
    words += [_quoted(word, postgres=False) for word in _filter_words(search.query)]
    joined = " AND ".join(words)
    index = table("catalogue_search", column("rowid"))
    return select(index.c.rowid.label("product_id")).where(literal_column("catalogue_search").op("MATCH")(joined))


# What a card shows and the keys pages are sorted by: only these travel through the statement's layers.
CARD_COLUMNS = [
    col(getattr(ENTRY, name))
    for name in (
        "product_id",
        "vendor_id",
        "name",
        "category",
        "unit",
        "price",
        "min_order_qty",
        "fulfilment",
        "best_tier_quantity",
        "best_tier_price",
        "thumb_key",
        "badge_kinds",
        "vendor_name",
        "kecamatan",
        "delivery_radius_km",
        "rating_count",
        "rating_sum",
    )
]


def _entry_columns(search: _Search, distance: Any, rating_key: Any) -> Select[Any]:
    columns: list[Any] = [*CARD_COLUMNS, distance.label("distance_km"), rating_key.label("rating_key")]
    if search.sort == Sort.RELEVANCE:
        columns.append(_tier(search).label("tier"))
    return select(*columns)


def _with_filters(search: _Search, statement: Select[Any]) -> Select[Any]:
    """Every filter of the query on the entries; visible today."""
    query = search.query
    statement = statement.where(or_(col(ENTRY.visible_until).is_(None), col(ENTRY.visible_until) >= search.today))
    if query.category is not None:
        statement = statement.where(col(ENTRY.category) == query.category)
    if query.price_min is not None:
        statement = statement.where(col(ENTRY.price) >= query.price_min)
    if query.price_max is not None:
        statement = statement.where(col(ENTRY.price) <= query.price_max)
    if query.halal_only:
        statement = statement.where(col(ENTRY.halal))
    if query.certified_only:
        statement = statement.where(col(ENTRY.certified))
    if query.available_on is not None:
        statement = _available_on(statement, query.available_on, search.now)
    return statement


def _available_on(statement: Select[Any], day: date, now: datetime) -> Select[Any]:
    """What can be ordered now for delivery on `day`: the stock (from product, kept by orders) or the capacity
    left that day covers the minimum order."""
    available = available_quantity_column(
        day, fulfilment=col(ENTRY.fulfilment), daily_capacity=col(ENTRY.daily_capacity)
    )
    return (
        statement.join(Product, col(Product.id) == col(ENTRY.product_id))
        .outerjoin(CapacityDay, and_(col(CapacityDay.vendor_id) == col(ENTRY.vendor_id), col(CapacityDay.day) == day))
        .where(
            *orderable_on(
                day,
                now,
                order_cutoff=col(ENTRY.order_cutoff),
                lead_time_hours=col(ENTRY.lead_time_hours),
                operating_days=col(ENTRY.operating_days),
            ),
            available >= col(ENTRY.min_order_qty),
        )
        .add_columns(available.label("available_quantity"))
    )


def _row_keys(search: _Search, rows: Any) -> list[tuple[Any, bool]]:
    """The order of a page's rows, as (column, descending); the last rows of a key are the cursor."""
    if search.sort == Sort.PRICE:
        return [(rows.c.price, False), (rows.c.product_id, False)]
    vendor_keys = _vendor_keys(rows, search.sort)
    keys = [*vendor_keys, (rows.c.product_id, False)]
    return [(rows.c.tier, False), *keys] if search.sort == Sort.RELEVANCE else keys


async def _page_of(
    session: AsyncSession,
    search: _Search,
    candidates: Select[Any],
    after: list[Any] | None,
    *,
    along_with: Any = None,
) -> list[Any]:
    """One statement: the candidates after the cursor in the sort's order, one row more than a page (it tells
    whether there are more), with the stock of ready goods read for those rows only. A scalar `along_with`
    comes back on every row, and on a row of its own (all else null) when there are none."""
    found = candidates.subquery("found")
    keys = _row_keys(search, found)
    page = select(found).order_by(*_ordering(keys)).limit(search.per_page + 1)
    if after is not None:
        page = page.where(_beyond(keys, after, inclusive=False))
    page_rows = page.subquery("page")
    stock = case((page_rows.c.fulfilment == Fulfilment.READY_STOCK, col(Product.stock)), else_=None)
    statement = select(page_rows, stock.label("stock"))
    if along_with is None:
        statement = statement.join(Product, col(Product.id) == page_rows.c.product_id)
    else:
        carried = select(along_with.label("along_with")).subquery("carried")
        statement = (
            statement.add_columns(carried.c.along_with)
            .select_from(carried)
            .outerjoin(page_rows, true())
            .outerjoin(Product, col(Product.id) == page_rows.c.product_id)
        )
    return list((await session.execute(statement.order_by(*_ordering(_row_keys(search, page_rows))))).all())


def _ordering(keys: list[tuple[Any, bool]]) -> list[Any]:
    return [key.desc() if descending else key.asc() for key, descending in keys]


def _beyond(keys: list[tuple[Any, bool]], values: list[Any], *, inclusive: bool) -> ColumnElement[bool]:
    """The rows after `values` in the order of `keys` (or at them too, when inclusive): a keyset condition."""
    condition: ColumnElement[bool] | None = None
    for (key, descending), value in reversed(list(zip(keys, values, strict=False))):
        after = key < value if descending else key > value
        if condition is None:
            condition = or_(after, key == value) if inclusive else after
        else:
            condition = or_(after, and_(key == value, condition))
    return condition if condition is not None else true()


# --- words -------------------------------------------------------------------------------------------------


def _starts_word(word: str, text: Any, *, postgres: bool) -> ColumnElement[bool]:
    """`word` starts a word of a normalised text that begins with a space (the entries' search columns): a
    plain substring search, several times faster than LIKE on SQLite."""
    position = func.strpos if postgres else func.instr
    return position(text, f" {word}") > 0


def _term_in(term: Term, text: Any, *, postgres: bool) -> ColumnElement[bool]:
    """One alternative of the term is in the text: each of its words starts a word there.

    On PostgreSQL the alternatives (spellings, synonyms, corrections) go as array parameters, however many there
    are: `text LIKE ANY (…)` for those of one word, `text ~ ANY (…)` for those of several (a lookahead per word, so
    in any order). The statement's shape then follows the words typed, not how many ways they are spelt, so its
    compiled form, PostgreSQL's prepared statement and plan are made once and reused by the searches of that
    shape. (A shape per set of spellings meant compiling and preparing a new statement for most searches.)"""
    if not postgres:
        return or_(*(and_(*(_starts_word(word, text, postgres=False) for word in alt.split())) for alt in term))
    one_word = [f"% {alt}%" for alt in term if " " not in alt]  # normalised words: [0-9a-z], nothing to escape
    several = ["^" + "".join(f"(?=.* {word})" for word in alt.split()) for alt in term if " " in alt]
    # Both, even when one array is empty (which matches nothing): one shape whatever the spellings.
    return or_(
        text.like(any_(bindparam(None, one_word, type_=ARRAY(String)))),
        text.op("~")(any_(bindparam(None, several, type_=ARRAY(String)))),
    )


def _text_matches(search: _Search, *, with_filters: bool) -> list[ColumnElement[bool]]:
    """The entries holding every term. On PostgreSQL, the text index is asked, with the filters' words when
    the entries are not those of a few vendors (`with_filters`; for a few vendors, the filters' own columns
    are cheaper than an index scan per vendor): its
    document holds every word of search_text (word prefixes match as `LIKE '% word%'` would) and the filters,
    so PostgreSQL may read only the entries holding them, through the index, rather than every entry of the
    vendors walked (a scan of the whole table once the walk widens past the nearest vendors, 0.6-2 s when the
    words or filters are rare in reach: "kopi" among crafts, fresh food with halal). The same test as LIKE as
    well would only mislead the planner: it multiplies the two estimates, expects a row or two, and compares
    each of the 2,000 matches of "nugget ayam" with every vendor walked (0.6 s) instead of hashing them."""
    if not search.postgres:
        return [_term_in(term, col(ENTRY.search_text), postgres=False) for term in search.terms]
    filter_words = _filter_words(search.query) if with_filters else []
    return [_text_document_matches(search.terms, filter_words)] if search.terms or filter_words else []


def _text_document_matches(terms: list[Term], filter_words: Collection[str] = ()) -> ColumnElement[bool]:
    """PostgreSQL's text index asked for the terms (and filters' words), as one parameter."""
    words = [_index_term(term, postgres=True) for term in terms] + list(filter_words)
    document: ColumnElement[Any] = literal_column("catalogue_entry.search_document")
    tsquery = func.to_tsquery(literal_column("'simple'::regconfig"), " & ".join(words))
    return document.bool_op("@@")(tsquery)


def _tier(search: _Search) -> ColumnElement[int]:
    """0: every word as typed starts a word of the name; 1: every term (or an alternative) is in the name;
    2: in the name or the vendor's name; 3: elsewhere (the description, the category's words)."""
    name, vendor, postgres = col(ENTRY.search_name), col(ENTRY.search_vendor), search.postgres
    in_name = [_term_in(term, name, postgres=postgres) for term in search.terms]
    in_either = [
        or_(_term_in(term, name, postgres=postgres), _term_in(term, vendor, postgres=postgres)) for term in search.terms
    ]
    return case(
        (and_(*(_starts_word(word, name, postgres=postgres) for word in search.typed)), 0),
        (and_(*in_name), 1),
        (and_(*in_either), 2),
        else_=3,
    )


def _index_term(alternatives: Term, *, postgres: bool) -> str:
    """One search term for the text index, each alternative matched as a prefix and those of several words
    needing all of them: ("kripik", "nasi box") → `("kripik"* OR ("nasi"* AND "box"*))` for FTS5,
    `(kripik:* | (nasi:* & box:*))` for to_tsquery. Words are normalised ([0-9a-z]), so need no quoting."""
    prefix, every, either = ("{}:*", " & ", " | ") if postgres else ('"{}"*', " AND ", " OR ")
    parts = []
    for alternative in alternatives:
        words = [prefix.format(word) for word in alternative.split()]
        parts.append(words[0] if len(words) == 1 else f"({every.join(words)})")
    return f"({either.join(parts)})"


def _quoted(word: str, *, postgres: bool) -> str:
    return word if postgres else f'"{word}"'


def _filter_words(query: CatalogueQuery) -> list[str]:
    """The filters the text index can narrow by itself (catalog.entries puts them there as words)."""
    words = [filter_word(f"cat{Category(query.category).value}")] if query.category is not None else []
    if query.halal_only:
        words.append(filter_word("halal"))
    if query.certified_only:
        words.append(filter_word("certified"))
    return words


# --- rows to cards -----------------------------------------------------------------------------------------


def _item(row: Any) -> CatalogueItem:
    mapping = row._mapping
    available = mapping.get("available_quantity", row.stock)
    return CatalogueItem(
        product_id=row.product_id,
        name=row.name,
        category=row.category,
        unit=row.unit,
        price=row.price,
        min_order_qty=row.min_order_qty,
        fulfilment=row.fulfilment,
        vendor_id=row.vendor_id,
        vendor_name=row.vendor_name,
        kecamatan=row.kecamatan,
        distance_km=round(row.distance_km, 1),
        delivers_here=row.distance_km <= row.delivery_radius_km,
        rating_count=row.rating_count,
        rating_average=rating_average(row.rating_sum, row.rating_count),
        available_quantity=available,
        best_tier_quantity=row.best_tier_quantity,
        best_tier_price=row.best_tier_price,
        thumb_key=row.thumb_key,
        badges=[FORMATS[CertificateKind(kind)].badge or "" for kind in row.badge_kinds.split()],
    )


# --- shared with the product page --------------------------------------------------------------------------


def available_quantity_column(
    day: date | None, *, fulfilment: Any = None, daily_capacity: Any = None
) -> ColumnElement[int | None]:
    """Stock for ready goods; for made-to-order goods the vendor's capacity left on `day` (the query joins
    Product, and CapacityDay for a day). The fulfilment and daily capacity are Product's and Vendor's unless
    given (the catalogue's entries copy them)."""
    fulfilment = col(Product.fulfilment) if fulfilment is None else fulfilment
    ready = fulfilment == Fulfilment.READY_STOCK
    if day is None:
        return case((ready, col(Product.stock)), else_=None)
    daily_capacity = col(Vendor.daily_capacity) if daily_capacity is None else daily_capacity
    capacity_left = func.coalesce(col(CapacityDay.capacity) - col(CapacityDay.held), daily_capacity, 0)
    return case((ready, col(Product.stock)), else_=capacity_left)


def orderable_on(
    day: date,
    now: datetime,
    *,
    order_cutoff: Any = None,
    lead_time_hours: Any = None,
    operating_days: Any = None,
) -> list[ColumnElement[bool]]:
    """A product can be ordered now for delivery on `day`: the vendor works that weekday and the lead time holds
    (the columns are Product's and Vendor's unless given)."""
    cutoff = col(Product.order_cutoff) if order_cutoff is None else order_cutoff
    lead_time = col(Product.lead_time_hours) if lead_time_hours is None else lead_time_hours
    days = col(Vendor.operating_days) if operating_days is None else operating_days
    local_now = to_wib(now)
    days_ahead = (day - local_now.date()).days
    end_of_day = datetime.combine(day + timedelta(days=1), time(0), tzinfo=WIB)
    hours_left = (end_of_day - local_now).total_seconds() / 3600
    if days_ahead >= 2:
        cutoff_met: ColumnElement[bool] = true()
    elif days_ahead == 1:  # "order before HH:MM the day before": the day before is today
        cutoff_met = or_(cutoff.is_(None), cutoff > local_now.time().replace(tzinfo=None))
    else:
        cutoff_met = cutoff.is_(None)
    weekday_bit = 1 << (day.isoweekday() - 1)
    return [
        days.op("&")(weekday_bit) != 0,
        cutoff_met,
        or_(lead_time.is_(None), lead_time <= hours_left),
    ]


async def buyer_location(
    *, session: AsyncSession, user: User | None, latitude: float | None = None, longitude: float | None = None
) -> Place:
    """Where "near me" is: the phone's location when given, else the canteen's factory, else the buyer's zone,
    else the first zone (a visitor who is not logged in)."""
    if latitude is not None and longitude is not None:
        return Place(latitude, longitude)
    if user is not None and user.organisation_id is not None:
        row = (
            await session.execute(
                select(col(Organisation.latitude), col(Organisation.longitude), col(Zone.latitude), col(Zone.longitude))
                .join(Zone, col(Zone.id) == col(Organisation.zone_id))
                .where(col(Organisation.id) == user.organisation_id)
            )
        ).one()
        return Place(row[0], row[1]) if row[0] is not None and row[1] is not None else Place(row[2], row[3])
    zone_query = select(col(Zone.latitude), col(Zone.longitude))
    zone_query = (
        zone_query.where(col(Zone.id) == user.zone_id)
        if user is not None and user.zone_id is not None
        else zone_query.order_by(col(Zone.id)).limit(1)
    )
    zone_row = (await session.execute(zone_query)).one_or_none()
    if zone_row is None:
        raise NotFound(N_("No industrial zone is set up yet."))
    return Place(zone_row[0], zone_row[1])
