"""What the zone wants: the weekly "dicari" list, from searches that found few or no products, open requests
from canteens, and what the zone ordered, by category and word, with counts (never who searched).

A search is counted by its normalised words (catalog.searchtext), once per word, in the zone and ISO week of the
searcher; only a first page that found fewer than FEW_RESULTS products is counted, and only a search the buyer
settled on (the pages count a submitted search, not the answers shown while typing). A word enters the list once
MIN_SEARCHES searches of one week asked for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Date, String, cast, func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.catalog.models import ListingStatus, Product
from backend.catalog.searchtext import query_terms
from backend.catalog.vocabulary import matching_categories
from backend.db import Database, upsert_insert
from backend.orders.models import OPEN_STATUSES, Order, OrderLine, OrderStatus
from backend.requests.models import BuyerRequest, RequestStatus, SearchDemand
from backend.vendors.models import Vendor

FEW_RESULTS = 3  # a search finding fewer products than this counts as unmet
MIN_WORD_LENGTH = 3
# A word is listed once this many searches of one week (this one or the last) asked for it: one or two searches
# are noise (a typo, a single curious buyer), and a word so rare could point at who searched.
MIN_SEARCHES = 3
MAX_WORDS = 5
LIST_LENGTH = 20
HOME_LENGTH = 5  # entries of the list on the vendor's home
COUNTED_ORDER_STATUSES = (*OPEN_STATUSES, OrderStatus.DELIVERED, OrderStatus.COMPLETED)


def week_start(day: date) -> date:
    """The Monday of the ISO week of `day`."""
    return day - timedelta(days=day.isoweekday() - 1)


def demand_words(text: str) -> list[str]:
    """The words of a search worth counting: normalised, three letters or more, each once, the first few."""
    words = [word for word in dict.fromkeys(query_terms(text)) if len(word) >= MIN_WORD_LENGTH]
    return [word[:60] for word in words[:MAX_WORDS]]


async def count_unmet_search(*, session: AsyncSession, zone_id: int | None, text: str, found: int, today: date) -> None:
    """Count a search that found fewer than FEW_RESULTS products in the zone's week (one statement; nothing for a
    search without a zone, without words, or that found enough)."""
    words = demand_words(text)
    if zone_id is None or not words or found >= FEW_RESULTS:
        return
    monday = week_start(today)
    insert = upsert_insert(session)
    # The rows are locked in the order given: sorted, so two searches of the same words in another order ("kopi
    # susu", "susu kopi") wait for each other instead of deadlocking on PostgreSQL.
    statement = insert(SearchDemand).values(
        [{"zone_id": zone_id, "week_start": monday, "word": word, "searches": 1} for word in sorted(words)]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["zone_id", "week_start", "word"],
            set_={"searches": col(SearchDemand.searches) + 1},
        )
    )


@dataclass(frozen=True)
class SearchedWord:
    word: str
    category: str | None  # the category the word belongs to, when it names one
    this_week: int
    last_week: int


@dataclass(frozen=True)
class RequestedKind:
    title: str
    category: str
    requests: int
    quantity: int  # per delivery day, all open requests together
    unit: str


@dataclass(frozen=True)
class OrderedCategory:
    category: str
    orders: int
    quantity: int


@dataclass
class WantedList:
    """The zone's "dicari" list for the week starting `week`, with the week before for comparison."""

    week: date
    searched: list[SearchedWord] = field(default_factory=list)
    requested: list[RequestedKind] = field(default_factory=list)
    ordered: list[OrderedCategory] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.searched or self.requested or self.ordered)


@dataclass
class VendorHomeDemand:
    """What the vendor's home shows of the shop's listings and of the zone's "dicari" list."""

    listings: dict[str, int] = field(default_factory=dict)  # listing status → number of products
    requested: list[RequestedKind] = field(default_factory=list)
    searched: list[SearchedWord] = field(default_factory=list)


async def listings_and_wanted(
    *, session: AsyncSession, vendor: Vendor, today: date, length: int = HOME_LENGTH
) -> VendorHomeDemand:
    """The vendor's listings by status, and the top of the zone's "dicari" list in the vendor's categories (the
    categories of its products not rejected): open requests first, most asked first, then searched words that
    name one of those categories or none (a dish, "rendang"), at most `length` entries in all. One query, so the
    home keeps its five."""
    monday = week_start(today)
    in_the_weeks = (
        col(SearchDemand.zone_id) == vendor.zone_id,
        col(SearchDemand.week_start).in_([monday, monday - timedelta(days=7)]),
    )
    asked_enough = select(col(SearchDemand.word)).where(*in_the_weeks, col(SearchDemand.searches) >= MIN_SEARCHES)
    sold_categories = select(col(Product.category)).where(
        col(Product.vendor_id) == vendor.id, col(Product.status) != ListingStatus.REJECTED
    )
    no_text, no_day = cast(null(), String), cast(null(), Date)
    # One row shape for the three kinds: kind, text, category, week, count, quantity, unit.
    products = (
        select(
            literal("product"),
            col(Product.status),
            col(Product.category),
            no_day,
            func.count(),
            literal(0),
            no_text,
        )
        .where(col(Product.vendor_id) == vendor.id)
        .group_by(col(Product.status), col(Product.category))
    )
    searched = select(
        literal("searched"),
        col(SearchDemand.word),
        no_text,
        col(SearchDemand.week_start),
        col(SearchDemand.searches),
        literal(0),
        no_text,
    ).where(*in_the_weeks, col(SearchDemand.word).in_(asked_enough))
    requested = (
        select(
            literal("requested"),
            func.lower(col(BuyerRequest.title)),
            col(BuyerRequest.category),
            no_day,
            func.count(),
            func.sum(col(BuyerRequest.quantity)),
            col(BuyerRequest.unit),
        )
        .where(
            col(BuyerRequest.zone_id) == vendor.zone_id,
            col(BuyerRequest.status) == RequestStatus.OPEN,
            col(BuyerRequest.expires_on) >= today,
            col(BuyerRequest.category).in_(sold_categories),
        )
        .group_by(func.lower(col(BuyerRequest.title)), col(BuyerRequest.category), col(BuyerRequest.unit))
    )
    found = VendorHomeDemand()
    categories: set[str] = set()
    words: dict[str, list[int]] = {}
    for kind, text, category, week, number, quantity, unit in await session.execute(
        union_all(products, searched, requested)
    ):
        if kind == "product":
            found.listings[text] = found.listings.get(text, 0) + number
            if text != ListingStatus.REJECTED:
                categories.add(category)
        elif kind == "searched":
            words.setdefault(text, [0, 0])[0 if week == monday else 1] += number
        else:
            found.requested.append(
                RequestedKind(title=text, category=category, unit=unit, requests=number, quantity=quantity or 0)
            )
    found.requested.sort(key=lambda entry: (-entry.requests, -entry.quantity, entry.title))
    found.requested = found.requested[:length]
    for word, (this_week, last_week) in sorted(words.items(), key=lambda item: (-item[1][0], -item[1][1], item[0])):
        named = [category.value for category in matching_categories([word])]
        if named and not categories.intersection(named):
            continue  # a word of another trade's category
        category = next((value for value in named if value in categories), None)
        found.searched.append(SearchedWord(word, category, this_week, last_week))
    found.searched = found.searched[: length - len(found.requested)]
    return found


async def wanted_list(*, session: AsyncSession, zone_id: int | None, today: date) -> WantedList:
    """The "dicari" list of the zone for the week of `today` and the one before (three queries)."""
    monday = week_start(today)
    wanted = WantedList(week=monday)
    if zone_id is None:
        return wanted
    last_monday = monday - timedelta(days=7)
    in_the_weeks = (col(SearchDemand.zone_id) == zone_id, col(SearchDemand.week_start).in_([monday, last_monday]))
    asked_enough = select(col(SearchDemand.word)).where(*in_the_weeks, col(SearchDemand.searches) >= MIN_SEARCHES)
    rows = await session.execute(
        select(col(SearchDemand.word), col(SearchDemand.week_start), col(SearchDemand.searches)).where(
            *in_the_weeks, col(SearchDemand.word).in_(asked_enough)
        )
    )
    counts: dict[str, list[int]] = {}
    for word, week, searches in rows:
        counts.setdefault(word, [0, 0])[0 if week == monday else 1] += searches
    ranked = sorted(counts.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))[:LIST_LENGTH]
    wanted.searched = [
        SearchedWord(word, next((c.value for c in matching_categories([word])), None), now, before)
        for word, (now, before) in ranked
    ]
    requested = await session.execute(
        select(
            func.lower(col(BuyerRequest.title)),
            col(BuyerRequest.category),
            col(BuyerRequest.unit),
            func.count(),
            func.sum(col(BuyerRequest.quantity)),
        )
        .where(
            col(BuyerRequest.zone_id) == zone_id,
            col(BuyerRequest.status) == RequestStatus.OPEN,
            col(BuyerRequest.expires_on) >= today,
        )
        .group_by(func.lower(col(BuyerRequest.title)), col(BuyerRequest.category), col(BuyerRequest.unit))
        .order_by(func.count().desc(), func.sum(col(BuyerRequest.quantity)).desc())
        .limit(LIST_LENGTH)
    )
    wanted.requested = [
        RequestedKind(title=title, category=category, unit=unit, requests=count, quantity=quantity or 0)
        for title, category, unit, count, quantity in requested
    ]
    ordered = await session.execute(
        select(col(Product.category), func.count(func.distinct(col(Order.id))), func.sum(col(OrderLine.quantity)))
        .join(OrderLine, col(OrderLine.order_id) == col(Order.id))
        .join(Product, col(Product.id) == col(OrderLine.product_id))
        .where(
            col(Order.zone_id) == zone_id,
            col(Order.delivery_day) >= monday,
            col(Order.delivery_day) < monday + timedelta(days=7),
            col(Order.status).in_(COUNTED_ORDER_STATUSES),
        )
        .group_by(col(Product.category))
        .order_by(func.count(func.distinct(col(Order.id))).desc())
    )
    wanted.ordered = [
        OrderedCategory(category=category, orders=orders, quantity=quantity or 0)
        for category, orders, quantity in ordered
    ]
    return wanted


async def count_unmet_search_apart(
    database: Database, *, zone_id: int | None, text: str, found: int, today: date
) -> None:
    """`count_unmet_search` in a transaction of its own: for a page that counts after its answer is sent, so the
    count costs the search nothing and a failure to count never fails the search (it is logged)."""
    if zone_id is None or not demand_words(text) or found >= FEW_RESULTS:
        return
    async with database.sessionmaker() as session:
        await count_unmet_search(session=session, zone_id=zone_id, text=text, found=found, today=today)
        await session.commit()
