"""Holding a vendor's daily capacity and a product's stock, atomically, whatever the concurrency.

Each hold is one conditional UPDATE (`... WHERE capacity - held >= :quantity`, `... WHERE stock >= :quantity`)
whose row count says whether it succeeded: there is no read-then-write window for two buyers to slip through.
The caller owns the transaction, so a checkout that fails half-way rolls every hold back.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, case, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.catalog.models import Product
from backend.db import is_postgres, upsert_insert
from backend.orders.models import CapacityDay
from backend.vendors.models import Vendor


async def remaining_capacity(*, session: AsyncSession, vendor_id: int, day: date) -> int:
    """What a made-to-order vendor can still accept for a delivery day (0 for a vendor without capacity)."""
    # No row for the day yet (the outer join finds none): the vendor's daily capacity is all left.
    left = (await session.execute(
        select(func.coalesce(col(CapacityDay.capacity) - col(CapacityDay.held), col(Vendor.daily_capacity), 0))
        .outerjoin(CapacityDay, (col(CapacityDay.vendor_id) == col(Vendor.id)) & (col(CapacityDay.day) == day))
        .where(col(Vendor.id) == vendor_id)
    )).scalar_one_or_none()
    return left or 0


async def hold_capacity(*, session: AsyncSession, vendor_id: int, day: date, quantity: int) -> bool:
    """Take `quantity` units of the vendor's capacity for `day`; False (and nothing held) when not enough is left."""
    return not await hold_capacities(session=session, day=day, wanted={vendor_id: quantity})


async def hold_capacities(*, session: AsyncSession, day: date, wanted: dict[int, int]) -> set[int]:
    """Take capacity for `day` from several vendors at once (vendor id → units): two statements whatever the
    number of vendors. Returns the vendors whose capacity was short; when it is not empty, some others may have
    been held, and the caller must roll the transaction (or its savepoint) back."""
    _check_positive(wanted)
    if not wanted:
        return set()
    await _ensure_days(session=session, vendor_ids=sorted(wanted), day=day)
    needed = case(wanted, value=col(CapacityDay.vendor_id))
    statement = (
        update(CapacityDay)
        .where(col(CapacityDay.day) == day, col(CapacityDay.vendor_id).in_(wanted), col(CapacityDay.capacity) - col(CapacityDay.held) >= needed)
        .values(held=col(CapacityDay.held) + needed)
        .returning(col(CapacityDay.vendor_id))
    )
    if is_postgres(session):
        statement = statement.where(col(CapacityDay.vendor_id).in_(
            select(col(CapacityDay.vendor_id)).where(col(CapacityDay.day) == day, col(CapacityDay.vendor_id).in_(wanted))
            .order_by(col(CapacityDay.vendor_id)).with_for_update(key_share=True)))
    held = set((await session.execute(statement)).scalars())
    return set(wanted) - held


async def release_capacity(*, session: AsyncSession, vendor_id: int, day: date, quantity: int) -> None:
    """Give back what a declined or cancelled order held. A day kept above the vendor's daily capacity only
    because more was held when the vendor lowered it (change_daily_capacity) comes down with the release, so
    the freed units are not sold again beyond the new figure."""
    daily = select(func.coalesce(col(Vendor.daily_capacity), 0)).where(col(Vendor.id) == vendor_id).scalar_subquery()
    held = case((col(CapacityDay.held) >= quantity, col(CapacityDay.held) - quantity), else_=0)
    await session.execute(
        update(CapacityDay)
        .where(col(CapacityDay.vendor_id) == vendor_id, col(CapacityDay.day) == day)
        .values(held=held, capacity=case((col(CapacityDay.capacity) <= daily, col(CapacityDay.capacity)),
                                         (held > daily, held), else_=daily))
    )


async def hold_stock(*, session: AsyncSession, product_id: int, quantity: int) -> bool:
    """Take `quantity` from a ready product's stock; False (and nothing taken) when not enough is left."""
    return not await hold_stocks(session=session, wanted={product_id: quantity})


async def hold_stocks(*, session: AsyncSession, wanted: dict[int, int]) -> set[int]:
    """Take stock of several ready products at once (product id → quantity) in one statement. Returns the
    products whose stock was short; when it is not empty the caller must roll back, as for hold_capacities."""
    _check_positive(wanted)
    if not wanted:
        return set()
    needed = case(wanted, value=col(Product.id))
    statement = (
        update(Product).where(col(Product.id).in_(wanted), col(Product.stock) >= needed)
        .values(stock=col(Product.stock) - needed).returning(col(Product.id))
    )
    if is_postgres(session):
        statement = statement.where(col(Product.id).in_(_locked_products(wanted)))
    taken = set((await session.execute(statement)).scalars())
    return set(wanted) - taken


async def release_stocks(*, session: AsyncSession, returned: dict[int, int]) -> None:
    """Put back the stock of a declined or cancelled order (product id → quantity)."""
    if not returned:
        return
    statement = (update(Product).where(col(Product.id).in_(returned), col(Product.stock).is_not(None))
                 .values(stock=col(Product.stock) + case(returned, value=col(Product.id))))
    if is_postgres(session):
        statement = statement.where(col(Product.id).in_(_locked_products(returned)))
    await session.execute(statement)


def _locked_products(product_ids: dict[int, int]) -> Select[int | None]:
    """The products' rows locked in id order: two checkouts sharing products never wait on each other in a
    circle (PostgreSQL would otherwise lock the rows of a multi-row UPDATE in whatever order it scans them)."""
    # FOR NO KEY UPDATE: the order lines being inserted hold KEY SHARE locks on their products (foreign keys),
    # which a plain FOR UPDATE would wait on, in a circle between two checkouts.
    return select(col(Product.id)).where(col(Product.id).in_(product_ids)).order_by(col(Product.id)).with_for_update(key_share=True)


def _check_positive(wanted: dict[int, int]) -> None:
    if any(quantity <= 0 for quantity in wanted.values()):
        raise ValueError("a hold needs a positive quantity")


async def change_daily_capacity(*, session: AsyncSession, vendor_id: int, capacity: int, from_day: date) -> None:
    """A vendor's new daily capacity applies to every day from `from_day` on; days already held beyond the new
    figure keep what they hold and accept nothing more."""
    await session.execute(
        update(CapacityDay)
        .where(col(CapacityDay.vendor_id) == vendor_id, col(CapacityDay.day) >= from_day)
        .values(capacity=case((col(CapacityDay.held) > capacity, col(CapacityDay.held)), else_=capacity))
    )


async def _ensure_days(*, session: AsyncSession, vendor_ids: list[int], day: date) -> None:
    """Create the day's rows from the vendors' daily capacity unless they exist (safe under concurrency)."""
    insert = upsert_insert(session)
    source = select(col(Vendor.id), literal(day), func.coalesce(col(Vendor.daily_capacity), 0), literal(0)).where(
        col(Vendor.id).in_(vendor_ids))  # the WHERE also keeps SQLite's INSERT … SELECT … ON CONFLICT unambiguous
    if is_postgres(session):
        # Wait for a vendor who is changing their daily capacity: the day then starts from the new figure,
        # and their change_daily_capacity() sees this row once we commit (SQLite runs one writer at a time).
        source = source.order_by(col(Vendor.id)).with_for_update(read=True)
    await session.execute(
        insert(CapacityDay)
        .from_select(["vendor_id", "day", "capacity", "held"], source)
        .on_conflict_do_nothing(index_elements=["vendor_id", "day"])
    )
