"""Order placement: a 20-line checkout across 5 vendors and the cart changes before it, through the JSON API,
on SQLite and PostgreSQL.

Run by hand:

    .venv/bin/python bench/order_placement.py
    .venv/bin/python bench/order_placement.py --postgres postgresql://postgres@127.0.0.1:5432/test

For each database it creates a fresh one (an SQLite file in a temporary directory; with --postgres a database
named `pasar_bench_orders` on that server, dropped at the end), migrates it, and seeds 5 vendors with 4
products each (half made to order, sharing the vendor's daily capacity; half ready goods with stock) and
2 × --placements canteens with one staff member each, holding an API token. The app runs in this process and is
called over ASGI (httpx), so every figure is a whole request: token check, handler, the answer's JSON, commit.
1. Each buyer fills a cart with the 20 products, one `PUT /api/v1/cart/lines/{id}` each, one buyer at a time:
   p50/p95 per PUT and the SQL statements per PUT.
2. Half the buyers check out (`POST /api/v1/checkouts`) one after the other: p50/p95/max latency, placements
   per second, the SQL statements per checkout request and how many statements SQLAlchemy had to compile anew
   (a statement whose shape changes with the number of lines is compiled again each time).
3. The other half check out --concurrency at once, every hold contending on the same 5 vendors' capacity rows
   (SQLite writes one transaction at a time: its buyers queue on the database's lock).
Figures are wall-clock on a shared machine, and the bench, the app and its clients share one Python process:
expect noise.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event, make_url
from sqlalchemy.engine.interfaces import CacheStats

from backend import migrate
from backend.accounts.models import Organisation, Role, Zone
from backend.accounts.service import create_api_token, create_user
from backend.app import create_app
from backend.catalog import service as catalog
from backend.catalog.models import Category, Fulfilment, ListingStatus, Unit
from backend.catalog.schemas import ProductInput, TierInput
from backend.clock import utcnow, wib_today
from backend.config import Settings
from backend.db import Database
from backend.vendors import service as vendors
from backend.vendors.schemas import VendorProfileInput

VENDORS = 5
PRODUCTS_PER_VENDOR = 4
QUANTITY = 10


async def seed(database: Database, buyers: int) -> tuple[list[str], list[int]]:
    """The vendors' products and one API token per buyer."""
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
        tokens = []
        for number in range(buyers):
            organisation = Organisation(
                zone_id=zone.id, name=f"Kantin {number}", latitude=-6.95, longitude=110.03, invoice_terms_days=30
            )
            session.add(organisation)
            await session.flush()
            buyer = await create_user(
                session=session,
                role=Role.CANTEEN_STAFF,
                phone=f"08130{number:07d}",
                full_name=f"Staf {number}",
                password="bench-password-1",
                password_hash_profile="fast",
                zone_id=zone.id,
                organisation_id=organisation.id,
                phone_verified_at=now,
            )
            raw, _ = await create_api_token(session=session, user=buyer, name="bench")
            tokens.append(raw)
        await session.commit()
        return tokens, product_ids


@dataclass
class Statements:
    """The SQL statements sent while counting, and how many of them SQLAlchemy compiled anew."""

    sent: int = 0
    compiled: int = 0
    counting: bool = False

    def record(self, _conn: Any, _cursor: Any, _statement: str, _parameters: Any, context: Any, _many: bool) -> None:
        if self.counting:
            self.sent += 1
            self.compiled += getattr(context, "cache_hit", None) == CacheStats.CACHE_MISS

    def start(self) -> None:
        self.sent = self.compiled = 0
        self.counting = True


@dataclass
class Timings:
    """Wall-clock time per request, and this process's CPU time over them all (the app and its client share the
    process: on a busy machine CPU time varies far less than wall-clock time)."""

    samples: list[float] = field(default_factory=list)
    cpu: float = 0.0

    async def timed(self, call: Any) -> httpx.Response:
        started, cpu_started = time.perf_counter(), time.process_time()
        response: httpx.Response = await call
        self.samples.append(time.perf_counter() - started)
        self.cpu += time.process_time() - cpu_started
        return response

    def cpu_per_request(self) -> str:
        return f"{self.cpu / len(self.samples) * 1000:.1f} ms CPU per request"


def delivery_day() -> date:
    """Three days ahead or more (every lead time is met), on a weekday (the vendors' working days)."""
    day = wib_today(utcnow()) + timedelta(days=3)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return day


def checkout_body() -> dict[str, Any]:
    return {
        "delivery_day": delivery_day().isoformat(),
        "delivery_slot": "11:00",
        "delivery_kind": "canteen",
        "payment_method": "invoice",
    }


async def fill_cart(client: httpx.AsyncClient, token: str, product_ids: list[int], timings: Timings) -> None:
    for product_id in product_ids:
        response = await timings.timed(
            client.put(
                f"/api/v1/cart/lines/{product_id}",
                json={"quantity": QUANTITY},
                headers={"Authorization": f"Bearer {token}"},
            )
        )
        assert response.status_code == 200, response.text


def cart_sizes() -> range:
    """The cart sizes of the by-size phase: 1 to 20 lines."""
    return range(1, VENDORS * PRODUCTS_PER_VENDOR + 1)


async def check_out(client: httpx.AsyncClient, token: str, timings: Timings, *, vendors: int = VENDORS) -> None:
    response = await timings.timed(
        client.post(
            "/api/v1/checkouts",
            json=checkout_body(),
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
        )
    )
    assert response.status_code == 201, response.text
    assert len(response.json()["orders"]) == vendors


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def spread(samples: list[float]) -> str:
    return f"p50 {percentile(samples, 0.5) * 1000:.1f} ms, p95 {percentile(samples, 0.95) * 1000:.1f} ms"


def report(label: str, latencies: list[float], wall: float) -> None:
    print(
        f"  {label}: {len(latencies)} checkouts of {VENDORS * PRODUCTS_PER_VENDOR} lines from {VENDORS} vendors, "
        f"{len(latencies) / wall:.1f} placements/s, {spread(latencies)}, max {max(latencies) * 1000:.1f} ms"
    )


async def run(url: str, args: argparse.Namespace, media_dir: Path) -> None:
    database = Database(url)
    settings = Settings(
        environment="test",
        database_url=url,
        media_dir=media_dir,
        password_hash_profile="fast",
        run_scheduled_jobs=False,
        api_rate_limit_per_minute=1_000_000,
    )
    app = create_app(settings, database=database)
    statements = Statements()
    event.listen(database.engine.sync_engine, "before_cursor_execute", statements.record)
    try:
        tokens, product_ids = await seed(database, 2 * args.placements + 1 + len(cart_sizes()))
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # Litestar types the ASGI scope more narrowly
        async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://bench.local") as client:
            # Warm up connections, caches and each token's last use (written at most every few minutes).
            await fill_cart(client, tokens[0], product_ids, Timings())
            await check_out(client, tokens[0], Timings())
            for token in tokens[1:]:
                await client.get("/api/v1/cart", headers={"Authorization": f"Bearer {token}"})

            puts = Timings()
            statements.start()
            for token in tokens[1 : -len(cart_sizes())]:
                await fill_cart(client, token, product_ids, puts)
            print(
                f"  cart PUT (a line's quantity), one at a time: {len(puts.samples)} PUTs, {spread(puts.samples)}, "
                f"{puts.cpu_per_request()}; {statements.sent / len(puts.samples):.1f} SQL statements per PUT, "
                f"{statements.compiled} compiled anew in all"
            )

            sized, tokens = tokens[-len(cart_sizes()) :], tokens[: -len(cart_sizes())]
            sequential, concurrent = tokens[1 : args.placements + 1], tokens[args.placements + 1 :]
            one_at_a_time = Timings()
            statements.start()
            started = time.perf_counter()
            for token in sequential:
                await check_out(client, token, one_at_a_time)
            wall = time.perf_counter() - started
            statements.counting = False
            report("one at a time", one_at_a_time.samples, wall)
            print(f"  checkout: {one_at_a_time.cpu_per_request()} (app and client, one at a time)")
            print(
                f"  SQL statements per checkout request: {statements.sent / len(sequential):.1f}, "
                f"compiled anew: {statements.compiled / len(sequential):.2f} per checkout"
            )

            # Carts of 1 to 20 lines (1 to 5 vendors): the statements and compiling per checkout, by size.
            sizes: list[tuple[int, int]] = []
            for token, lines in zip(sized, cart_sizes(), strict=True):
                await fill_cart(client, token, product_ids[:lines], Timings())
                statements.start()
                await check_out(
                    client, token, Timings(), vendors=(lines + PRODUCTS_PER_VENDOR - 1) // PRODUCTS_PER_VENDOR
                )
                statements.counting = False
                sizes.append((statements.sent, statements.compiled))
            print(
                f"  checkouts of 1 to {len(sizes)} lines: {min(s for s, _ in sizes)} to {max(s for s, _ in sizes)} "
                f"SQL statements per request, {sum(c for _, c in sizes)} compiled anew in all {len(sizes)}"
            )

            at_once = Timings()

            async def buyer_queue() -> None:
                while concurrent:
                    await check_out(client, concurrent.pop(), at_once)

            started = time.perf_counter()
            await asyncio.gather(*(buyer_queue() for _ in range(args.concurrency)))
            report(f"{args.concurrency} buyers at once", at_once.samples, time.perf_counter() - started)
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="also run on this PostgreSQL server (a scratch database is created)")
    parser.add_argument("--placements", type=int, default=200, help="checkouts per phase")
    parser.add_argument("--concurrency", type=int, default=8, help="buyers checking out at once in the last phase")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    print(f"load average before: {' '.join(f'{load:.2f}' for load in os.getloadavg())} (2 cores shared)")
    with tempfile.TemporaryDirectory() as directory:
        media_dir = Path(directory) / "media"
        print("SQLite")
        url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        migrate.upgrade(url)
        asyncio.run(run(url, args, media_dir))
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
                asyncio.run(run(url, args, media_dir))
            finally:
                asyncio.run(admin("DROP DATABASE IF EXISTS pasar_bench_orders"))

    print(f"load average after: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")


if __name__ == "__main__":
    main()
