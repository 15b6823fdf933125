"""Order placement: throughput and latency of a 20-line checkout across 5 vendors, on SQLite and PostgreSQL.

Run by hand:

    .venv/bin/python bench/order_placement.py
    .venv/bin/python bench/order_placement.py --postgres postgresql://postgres@127.0.0.1:5432/test

For each database it creates a fresh one (an SQLite file in a temporary directory; with --postgres a database
named `pasar_bench_orders` on that server, dropped at the end), migrates it, and seeds 5 vendors with 4
products each (half made to order, sharing the vendor's daily capacity; half ready goods with stock) and
--buyers canteens with one staff member each. Then each buyer fills a cart with the 20 products (not timed) and
checks it out through `place_checkout` in-process (timed: one transaction, committed):
1. one after the other: p50/p95/max latency, placements per second, and the SQL statements per placement;
2. --concurrency buyers at once (PostgreSQL only; SQLite writes one transaction at a time): wall-clock
   placements per second and p95, every hold contending on the same 5 vendors' capacity rows.
It stops after --placements checkouts per phase. Figures are wall-clock on a shared machine: expect noise.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import event, make_url

from backend import migrate
from backend.accounts.models import Organisation, Role, User, Zone
from backend.accounts.service import create_user
from backend.catalog import service as catalog
from backend.catalog.models import Category, Fulfilment, ListingStatus, Unit
from backend.catalog.schemas import ProductInput, TierInput
from backend.clock import utcnow, wib_today
from backend.db import Database
from backend.orders import cart
from backend.orders.delivery import DeliveryChoice
from backend.orders.models import DeliveryKind, PaymentMethod
from backend.orders.placement import place_checkout
from backend.vendors import service as vendors
from backend.vendors.schemas import VendorProfileInput

VENDORS = 5
PRODUCTS_PER_VENDOR = 4
QUANTITY = 10


async def seed(database: Database, buyers: int) -> tuple[list[User], list[int]]:
    now = utcnow()
    async with database.sessionmaker() as session:
        zone = Zone(
            code="KITB",
            name="Kawasan Industri Terpadu Batang",
            regency="Kabupaten Batang",
            province="Jawa Tengah",
            latitude=-6.9545,
            longitude=110.0322,
        )
        session.add(zone)
        await session.flush()
        product_ids = []
        for number in range(VENDORS):
            user = await create_user(
                session=session,
                role=Role.VENDOR,
                phone=f"08120000{number:04d}",
                full_name=f"Penjual {number}",
                password="bench-password-1",
                password_hash_profile="fast",
                zone_id=zone.id,
            )
            vendor = await vendors.save_profile(
                session=session,
                user=user,
                data=VendorProfileInput(
                    business_name=f"Dapur {number}",
                    owner_name=user.full_name,
                    whatsapp=user.phone,
                    kecamatan="Gringsing",
                    desa="Krengseng",
                    latitude=-6.95 - number / 1000,
                    longitude=110.02,
                    delivery_radius_km=20,
                    daily_capacity=100_000,
                ),
                now=now,
            )
            for item in range(PRODUCTS_PER_VENDOR):
                ready = item % 2 == 1
                product = await catalog.create_product(
                    session=session,
                    vendor=vendor,
                    data=ProductInput(
                        name=f"Produk {number}-{item}",
                        category=Category.CATERING,
                        unit=Unit.BOX,
                        price=15000 + item * 500,
                        tiers=[TierInput(min_quantity=50, unit_price=14000)],
                        min_order_qty=1,
                        fulfilment=Fulfilment.READY_STOCK if ready else Fulfilment.MADE_TO_ORDER,
                        stock=1_000_000 if ready else None,
                    ),
                )
                catalog.change_listing_status(product, ListingStatus.PENDING_REVIEW, now=now)
                catalog.change_listing_status(product, ListingStatus.LIVE, now=now)
                product_ids.append(product.id)
        staff = []
        for number in range(buyers):
            organisation = Organisation(
                zone_id=zone.id, name=f"Kantin {number}", latitude=-6.95, longitude=110.03, invoice_terms_days=30
            )
            session.add(organisation)
            await session.flush()
            staff.append(
                await create_user(
                    session=session,
                    role=Role.CANTEEN_STAFF,
                    phone=f"08130{number:07d}",
                    full_name=f"Staf {number}",
                    password="bench-password-1",
                    password_hash_profile="fast",
                    zone_id=zone.id,
                    organisation_id=organisation.id,
                )
            )
        await session.commit()
        return staff, product_ids


async def fill_cart(database: Database, buyer: User, product_ids: list[int]) -> None:
    async with database.sessionmaker() as session:
        for product_id in product_ids:
            await cart.set_quantity(
                session=session, buyer=buyer, product_id=product_id, quantity=QUANTITY, today=wib_today(utcnow())
            )
        await session.commit()


async def timed_checkout(database: Database, buyer: User) -> float:
    started = time.perf_counter()
    now = utcnow()
    async with database.sessionmaker() as session:
        placement = await place_checkout(
            session=session,
            buyer=buyer,
            payment_method=PaymentMethod.INVOICE,
            idempotency_key=f"bench-{buyer.id}",
            delivery=DeliveryChoice(
                day=wib_today(now) + timedelta(days=3), slot=clock_time(11), kind=DeliveryKind.CANTEEN
            ),
            now=now,
        )
        await session.commit()
    assert len(placement.orders) == VENDORS
    return time.perf_counter() - started


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(label: str, latencies: list[float], wall: float) -> None:
    print(
        f"  {label}: {len(latencies)} checkouts of {VENDORS * PRODUCTS_PER_VENDOR} lines from {VENDORS} vendors, "
        f"{len(latencies) / wall:.1f} placements/s, p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
    )


async def run(url: str, args: argparse.Namespace) -> None:
    database = Database(url)
    try:
        total = args.placements * (2 if url.startswith("postgresql") else 1)
        buyers, product_ids = await seed(database, total)
        for buyer in buyers:
            await fill_cart(database, buyer, product_ids)
        statements = 0

        def count(*_: object) -> None:
            nonlocal statements
            statements += 1

        sequential = buyers[: args.placements]
        await timed_checkout(database, sequential[0])  # warm up connections and caches
        event.listen(database.engine.sync_engine, "before_cursor_execute", count)
        latencies = []
        started = time.perf_counter()
        for buyer in sequential[1:]:
            latencies.append(await timed_checkout(database, buyer))
        wall = time.perf_counter() - started
        event.remove(database.engine.sync_engine, "before_cursor_execute", count)
        report("one at a time", latencies, wall)
        print(f"  SQL statements per placement: {statements / len(latencies):.1f}")

        if url.startswith("postgresql"):
            queue = list(buyers[args.placements :])
            concurrent: list[float] = []

            async def worker() -> None:
                while queue:
                    concurrent.append(await timed_checkout(database, queue.pop()))

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(args.concurrency)))
            report(f"{args.concurrency} at once", concurrent, time.perf_counter() - started)
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="also run on this PostgreSQL server (a scratch database is created)")
    parser.add_argument("--placements", type=int, default=200, help="checkouts per phase")
    parser.add_argument("--concurrency", type=int, default=8, help="buyers at once on PostgreSQL")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as directory:
        print("SQLite")
        url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        migrate.upgrade(url)
        asyncio.run(run(url, args))
    if args.postgres:
        server = make_url(args.postgres.replace("postgresql://", "postgresql+asyncpg://", 1))
        dsn = f"postgresql://{server.username}@{server.host}:{server.port or 5432}/{server.database}"

        async def admin(statement: str) -> None:
            connection = await asyncpg.connect(dsn)
            try:
                await connection.execute(statement)
            finally:
                await connection.close()

        asyncio.run(admin("DROP DATABASE IF EXISTS pasar_bench_orders"))
        asyncio.run(admin("CREATE DATABASE pasar_bench_orders"))
        try:
            print("PostgreSQL")
            url = server.set(database="pasar_bench_orders").render_as_string(hide_password=False)
            migrate.upgrade(url)
            asyncio.run(run(url, args))
        finally:
            asyncio.run(admin("DROP DATABASE IF EXISTS pasar_bench_orders"))


if __name__ == "__main__":
    main()
