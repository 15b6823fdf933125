"""Holding a vendor's daily capacity and a product's stock, atomically, whatever the concurrency.

Each hold is one conditional UPDATE (`... WHERE capacity - held >= :quantity`, `... WHERE stock >= :quantity`)
whose row count says whether it succeeded: there is no read-then-write window for two buyers to slip through.
The caller owns the transaction, so a checkout that fails half-way rolls every hold back.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import case, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.catalog.models import Product
from backend.orders.models import CapacityDay
from backend.vendors.models import Vendor


async def remaining_capacity(*, session: AsyncSession, vendor_id: int, day: date) -> int:
    """What a made-to-order vendor can still accept for a delivery day (0 for a vendor without capacity)."""
    row = (await session.execute(
        select(Vendor.daily_capacity, CapacityDay.capacity - CapacityDay.held)
        .outerjoin(CapacityDay, (CapacityDay.vendor_id == Vendor.id) & (CapacityDay.day == day))
        .where(Vendor.id == vendor_id)
    )).one_or_none()
    if row is None:
        return 0
    daily_capacity, left = row
    return left if left is not None else (daily_capacity or 0)


async def hold_capacity(*, session: AsyncSession, vendor_id: int, day: date, quantity: int) -> bool:
    """Take `quantity` units of the vendor's capacity for `day`; False (and nothing held) when not enough is left."""
    if quantity <= 0:
        raise ValueError("a hold needs a positive quantity")
    await _ensure_day(session=session, vendor_id=vendor_id, day=day)
    result = await session.execute(
        update(CapacityDay)
        .where(CapacityDay.vendor_id == vendor_id, CapacityDay.day == day,
               CapacityDay.capacity - CapacityDay.held >= quantity)
        .values(held=CapacityDay.held + quantity)
    )
    return result.rowcount == 1


async def release_capacity(*, session: AsyncSession, vendor_id: int, day: date, quantity: int) -> None:
    """Give back what a declined or cancelled order held."""
    await session.execute(
        update(CapacityDay)
        .where(CapacityDay.vendor_id == vendor_id, CapacityDay.day == day)
        .values(held=case((CapacityDay.held >= quantity, CapacityDay.held - quantity), else_=0))
    )


async def hold_stock(*, session: AsyncSession, product_id: int, quantity: int) -> bool:
    """Take `quantity` from a ready product's stock; False (and nothing taken) when not enough is left."""
    if quantity <= 0:
        raise ValueError("a hold needs a positive quantity")
    result = await session.execute(
        update(Product).where(Product.id == product_id, Product.stock >= quantity)
        .values(stock=Product.stock - quantity)
    )
    return result.rowcount == 1


async def release_stock(*, session: AsyncSession, product_id: int, quantity: int) -> None:
    await session.execute(
        update(Product).where(Product.id == product_id, Product.stock.is_not(None))
        .values(stock=Product.stock + quantity)
    )


async def change_daily_capacity(*, session: AsyncSession, vendor_id: int, capacity: int, from_day: date) -> None:
    """A vendor's new daily capacity applies to every day from `from_day` on; days already held beyond the new
    figure keep what they hold and accept nothing more."""
    await session.execute(
        update(CapacityDay)
        .where(CapacityDay.vendor_id == vendor_id, CapacityDay.day >= from_day)
        .values(capacity=case((CapacityDay.held > capacity, CapacityDay.held), else_=capacity))
    )


async def _ensure_day(*, session: AsyncSession, vendor_id: int, day: date) -> None:
    """Create the day's row from the vendor's daily capacity unless it exists (safe under concurrency)."""
    insert = postgresql_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    source = select(Vendor.id, literal(day), func.coalesce(Vendor.daily_capacity, 0), literal(0)).where(
        Vendor.id == vendor_id)  # the WHERE also keeps SQLite's INSERT … SELECT … ON CONFLICT unambiguous
    if insert is postgresql_insert:
        # Wait for a vendor who is changing their daily capacity: the day then starts from the new figure,
        # and their change_daily_capacity() sees this row once we commit (SQLite runs one writer at a time).
        source = source.with_for_update(read=True)
    await session.execute(
        insert(CapacityDay)
        .from_select(["vendor_id", "day", "capacity", "held"], source)
        .on_conflict_do_nothing(index_elements=["vendor_id", "day"])
    )
