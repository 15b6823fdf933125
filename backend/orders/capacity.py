"""Holding a vendor's daily capacity and a product's stock, atomically, whatever the concurrency.

Each hold is one conditional write (`... WHERE capacity - held >= :quantity`, `... WHERE stock >= :quantity`)
whose returned rows say whether it succeeded: there is no read-then-write window for two buyers to slip through,
and the CHECK constraints (held within capacity, stock not negative) stand behind it. The caller owns the
transaction, so a checkout that fails half-way rolls every hold back.

Checkouts, cancellations and vendors changing their capacity lock rows in one order, so that on PostgreSQL they
wait for each other but never in a circle (a deadlock): the vendor, then the vendor's capacity days, then the
products, each kind by id. Every row is locked by one statement that does nothing else; an UPDATE that locks its
own rows in a subquery also reaches them a second time through an older version, and two of them deadlocked
on a single product under load.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Integer, case, func, literal, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.catalog.models import Product
from backend.db import id_quantities, in_ids, is_postgres, upsert_insert
from backend.orders.models import CapacityDay
from backend.vendors.models import Vendor


async def remaining_capacity(*, session: AsyncSession, vendor_id: int, day: date) -> int:
    """What a made-to-order vendor can still accept for a delivery day (0 for a vendor without capacity)."""
    # No row for the day yet (the outer join finds none): the vendor's daily capacity is all left.
    left = (
        await session.execute(
            select(func.coalesce(col(CapacityDay.capacity) - col(CapacityDay.held), col(Vendor.daily_capacity), 0))
            .outerjoin(CapacityDay, (col(CapacityDay.vendor_id) == col(Vendor.id)) & (col(CapacityDay.day) == day))
            .where(col(Vendor.id) == vendor_id)
        )
    ).scalar_one_or_none()
    return left or 0


async def hold_capacity(*, session: AsyncSession, vendor_id: int, day: date, quantity: int) -> bool:
    """Take `quantity` units of the vendor's capacity for `day`; False (and nothing held) when not enough is left."""
    return not await hold_capacities(session=session, day=day, wanted={vendor_id: quantity})


async def hold_capacities(*, session: AsyncSession, day: date, wanted: dict[int, int]) -> set[int]:
    """Take capacity for `day` from several vendors at once (vendor id → units), in one statement whatever the
    number of vendors. Returns the vendors whose capacity was short; when it is not empty, some others may have
    been held, and the caller must roll the transaction (or its savepoint) back."""
    _check_positive(wanted)
    if not wanted:
        return set()
    insert = upsert_insert(session)
    daily = func.coalesce(Vendor.daily_capacity, 0)
    # The wanted units as rows (vendor id, quantity) of one bound value: the statement reads the same for one
    # vendor or ten, so it is compiled once (backend/db.py's id_quantities says why not a CASE per vendor).
    wanted_rows = id_quantities(session, wanted)
    # A day nobody ordered for yet starts from the vendor's daily capacity, holding what is wanted when it fits
    # (and nothing otherwise: held 0 then says short). The WHERE also keeps SQLite's INSERT … SELECT … ON
    # CONFLICT unambiguous.
    source = (
        select(
            col(Vendor.id),
            literal(day),
            daily,
            case((daily >= wanted_rows.c.quantity, wanted_rows.c.quantity), else_=0),
        )
        .where(col(Vendor.id) == wanted_rows.c.id)
        .order_by(col(Vendor.id))
    )
    if is_postgres(session):
        # Wait for a vendor who is changing their daily capacity: the day then starts from the new figure,
        # and their change_daily_capacity() sees this row once we commit (SQLite runs one writer at a time).
        source = source.with_for_update(read=True, of=Vendor)
    statement = insert(CapacityDay).from_select(["vendor_id", "day", "capacity", "held"], source)
    # A day that exists is locked by the conflict, vendor by vendor in id order, and takes the units if they fit.
    again = id_quantities(session, wanted)
    # `excluded` is the row proposed for the conflict (both databases call it so), named as text: through
    # statement.excluded the subquery would read it as a table of its own.
    proposed_vendor = literal_column("excluded.vendor_id", Integer)
    wanted_on_day = select(again.c.quantity).where(again.c.id == proposed_vendor).scalar_subquery()
    statement = statement.on_conflict_do_update(
        index_elements=["vendor_id", "day"],
        set_={"held": CapacityDay.held + wanted_on_day},
        where=CapacityDay.capacity - CapacityDay.held >= wanted_on_day,
    ).returning(CapacityDay.vendor_id, CapacityDay.held)
    held = {vendor_id for vendor_id, held_now in await session.execute(statement) if held_now > 0}
    return set(wanted) - held


async def release_capacity(*, session: AsyncSession, vendor_id: int, day: date, quantity: int) -> None:
    """Give back what a declined or cancelled order held. A day kept above the vendor's daily capacity only
    because more was held when the vendor lowered it (change_daily_capacity) comes down with the release, so
    the freed units are not sold again beyond the new figure."""
    daily_capacity = select(func.coalesce(col(Vendor.daily_capacity), 0)).where(col(Vendor.id) == vendor_id)
    if is_postgres(session):
        # The vendor first, as a checkout does: a capacity change under way is waited for, and seen.
        daily_capacity = daily_capacity.with_for_update(read=True)
    daily = (await session.execute(daily_capacity)).scalar_one()
    held = case((col(CapacityDay.held) >= quantity, col(CapacityDay.held) - quantity), else_=0)
    await session.execute(
        update(CapacityDay)
        .where(col(CapacityDay.vendor_id) == vendor_id, col(CapacityDay.day) == day)
        .values(
            held=held,
            capacity=case(
                (col(CapacityDay.capacity) <= daily, col(CapacityDay.capacity)), (held > daily, held), else_=daily
            ),
        )
    )


async def hold_stock(*, session: AsyncSession, product_id: int, quantity: int) -> bool:
    """Take `quantity` from a ready product's stock; False (and nothing taken) when not enough is left."""
    return not await hold_stocks(session=session, wanted={product_id: quantity})


async def hold_stocks(*, session: AsyncSession, wanted: dict[int, int]) -> set[int]:
    """Take stock of several ready products at once (product id → quantity): one statement, after the one that
    locks them on PostgreSQL. Returns the products whose stock was short; when it is not empty the caller must
    roll back, as for hold_capacities."""
    _check_positive(wanted)
    if not wanted:
        return set()
    await _lock_products(session=session, product_ids=list(wanted))
    needed = id_quantities(session, wanted)
    taken = set(
        (
            await session.execute(
                update(Product)
                .where(col(Product.id) == needed.c.id, col(Product.stock) >= needed.c.quantity)
                .values(stock=col(Product.stock) - needed.c.quantity)
                .returning(col(Product.id))
            )
        ).scalars()
    )
    return set(wanted) - taken


async def release_stocks(*, session: AsyncSession, returned: dict[int, int]) -> None:
    """Put back the stock of a declined or cancelled order (product id → quantity)."""
    if not returned:
        return
    await _lock_products(session=session, product_ids=list(returned))
    back = id_quantities(session, returned)
    await session.execute(
        update(Product)
        .where(col(Product.id) == back.c.id, col(Product.stock).is_not(None))
        .values(stock=col(Product.stock) + back.c.quantity)
    )


async def _lock_products(*, session: AsyncSession, product_ids: list[int]) -> None:
    """Lock the products' rows in id order (PostgreSQL), so that two transactions sharing products never wait
    on each other in a circle: a multi-row UPDATE locks its rows in whatever order its plan scans them. The
    UPDATE that follows, a statement of its own, then finds the newest version of each row already ours."""
    if is_postgres(session):
        # FOR NO KEY UPDATE: the order lines being inserted hold KEY SHARE locks on their products (foreign
        # keys), which a plain FOR UPDATE would wait on, in a circle between two checkouts.
        await session.execute(
            select(col(Product.id))
            .where(in_ids(session, col(Product.id), product_ids))
            .order_by(col(Product.id))
            .with_for_update(key_share=True)
        )


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
