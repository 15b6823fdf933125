"""Load: the app under several uvicorn workers on PostgreSQL with 10,000 vendors and 200,000 products, driven
over loopback from a second process with a mix of catalogue searches, product pages and order placements, and
in the same run the same driver against the plain JSON endpoint `/healthz`, for the ratio of the two.

Run by hand (PostgreSQL and Redis running):

    .venv/bin/python bench/load.py
    .venv/bin/python bench/load.py --workers 4 --concurrency 64 --seconds 30
    .venv/bin/python bench/load.py --mix product=1                             # product pages alone
    .venv/bin/python bench/load.py --vendors 1000 --products 20000 --reseed     # a quick look

It:
1. creates the database --database on the --postgres server when it is missing and migrates it
   (`python -m backend migrate`);
2. seeds it unless it already holds this many vendors and products (--reseed drops and recreates it): the KITB
   zone, --vendors vendors around it along Central Java's north coast (the generator of
   bench/catalogue_search.py: the same names, trades, places and delivery radii), every one active, working
   every day, with verified, unexpired certificates and a large daily capacity; --products live products
   (Indonesian names by trade, prices, bulk tiers, photos, the certificates they rely on, large stocks), their
   search columns filled by the catalogue service's own function; 30 canteens on invoice terms with their
   staff and workers of the zone (--buyers in all), each with a personal API token; one gate of the zone.
   Rows go in with COPY; the time is printed;
3. starts `uvicorn backend.asgi:app --workers N` on a free loopback port: APP_ENV=production, REDIS_URL set
   (rate-limit counters shared by the workers; the limit raised so the bench is not refused), the scheduled
   jobs off (they are not what is measured), no access log;
4. runs the driver as a second process (asyncio, --concurrency HTTP/1.1 connections kept alive) for at most
   --seconds seconds or --requests operations after a warm-up that is not counted, with this mix (--mix
   changes the weights):
   - 60 % catalogue searches: the page `/catalogue?q=…` as an anonymous visitor sees it (measured from the
     zone), with words of every trade, whole or half typed, some with a category, halal, a delivery day or
     another order; three in ten as the htmx results fragment the search box asks for while typing;
   - 30 % product pages: `/products/{id}` (HTML) of any live product;
   - 10 % order placements through the API as a canteen (invoice, to the canteen) or a worker (cash, to the
     gate): one or two `PUT /api/v1/cart/lines/{id}` then `POST /api/v1/checkouts` with an Idempotency-Key,
     counted as one operation whose latency is the sum; each driver connection has buyers of its own;
5. runs the same driver, same concurrency and bounds, against `GET /healthz` (a constant JSON body: no database,
   no Redis, no template);
6. prints per kind and overall: operations, errors (any answer other than 2xx/3xx, or no answer), operations
   per second, p50/p95/p99 latency; the ratio of the two phases; the driver's own CPU use (if it is near 100 %
   of one core, the client is the limit, not the app); then stops the server.

The database is kept for the next run (seeding is the slow part); orders placed by earlier runs stay in it.
Figures are wall-clock on the machine at hand: the cores are printed; other work on them shows in the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import json
import math
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
from catalogue_search import (  # bench/ is on sys.path: the same generated vendors and products
    FIRST_NAMES,
    LAST_NAMES,
    TOWNS,
    TRADES,
    ZONE,
    fill_read_model,
    generate_vendors,
    product_chunks,
)
from sqlalchemy import make_url
from sqlmodel import SQLModel

from backend.accounts.models import Role
from backend.catalog.models import Category, Fulfilment, ListingStatus
from backend.catalog.vocabulary import rebuild_vocabulary
from backend.certification.models import CertificateStatus
from backend.clock import utcnow, wib_today
from backend.db import Database
from backend.orders.models import PointKind
from backend.vendors.models import ALL_DAYS_MASK, VendorStatus

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_DATABASE = "bench_load"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
DAILY_CAPACITY = 1_000_000  # every vendor's made-to-order goods: placements never run short
STOCK_RANGE = (5_000, 100_000)
CANTEENS = 30
WORKER_SHARE = 0.5  # of the buyers; the rest are canteen staff
CASH_LIMIT = 500_000  # the default CASH_ON_DELIVERY_LIMIT: a worker's cart stays under it
DELIVERY_SLOT = "11:00"
DAYS_AHEAD = 3  # delivery day of placements: every lead time up to 48 h and every order-before time is met
MIX = {"search": 60, "product": 30, "order": 10}
HTMX_SHARE = 0.3  # of the searches: the results fragment the search box asks for while typing
REQUEST_TIMEOUT = 30.0  # seconds: an answer slower than this counts as an error
KIND_LABELS = {
    "search": "catalogue search (HTML page)",
    "product": "product page (HTML)",
    "order": "order placement (API, cart + checkout)",
    "hello": "GET /healthz (JSON)",
}
# Regencies of the generator's towns, in TOWNS order: a vendor's regency follows its kecamatan.
TOWN_REGENCIES = [
    "Kota Pekalongan",
    "Kabupaten Batang",
    "Kabupaten Batang",
    "Kabupaten Batang",
    "Kabupaten Batang",
    "Kabupaten Kendal",
    "Kabupaten Kendal",
    "Kota Semarang",
    "Kabupaten Demak",
    "Kabupaten Semarang",
]
REGENCY_OF = {kecamatan: regency for town, regency in zip(TOWNS, TOWN_REGENCIES, strict=True) for kecamatan in town[3]}
FACTORIES = [
    "PT Garmen Nusantara Batang",
    "PT Kaca Batang Jaya",
    "PT Sepatu Mas Jawa",
    "PT Pipa Baja Utama",
    "PT Elektronik Kawasan",
    "PT Tekstil Pantura",
    "PT Kemasan Hijau",
    "PT Mebel Jati Batang",
    "PT Komponen Otomotif Jateng",
    "PT Keramik Pesisir",
]


# ---------------------------------------------------------------------------------------------- database


def server_dsn(url: str, database: str | None = None) -> str:
    """A plain postgresql:// address for asyncpg (any driver named in the URL dropped), on another database."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def prepare_database(server: str, database: str, *, recreate: bool) -> None:
    """Create the bench's database when missing (or drop it first), through the server's maintenance database."""
    connection = await asyncpg.connect(server_dsn(server, "postgres"))
    try:
        if recreate:
            await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()


def migrate(database_url: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "backend", "migrate"],
        cwd=PROJECT_ROOT,
        check=True,
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=subprocess.DEVNULL,
    )


async def is_seeded(dsn: str, *, vendors: int, products: int, buyers: int) -> bool:
    connection = await asyncpg.connect(dsn)
    try:
        counts = await connection.fetchrow(
            "SELECT (SELECT count(*) FROM vendor) AS vendors, (SELECT count(*) FROM product) AS products, "
            "(SELECT count(*) FROM api_token) AS tokens"
        )
    finally:
        await connection.close()
    assert counts is not None  # one row, always
    return (counts["vendors"], counts["products"], counts["tokens"]) == (vendors, products, buyers)


def api_token(user_id: int) -> str:
    """The buyer's personal token, derived from its id so a later run knows it without storing it anywhere
    (only the SHA-256 is in the database, as the app keeps it). A bench database's tokens, nothing more."""
    return "pk_" + hashlib.sha256(f"bench-load-buyer-{user_id}".encode()).hexdigest()[:43]


def _model_defaults(table: str) -> dict[str, Any]:
    """The model's own defaults for `table`'s fields: COPY does not apply them, so a column added to a model later
    (a canteen's receiving contact, a vendor's delivery fee) is filled as the app would fill it."""
    models = [SQLModel]
    while models:
        model = models.pop()
        models.extend(model.__subclasses__())
        if getattr(model, "__tablename__", None) == table and hasattr(model, "__table__"):
            return {
                name: field.get_default(call_default_factory=True)
                for name, field in model.model_fields.items()
                if not field.is_required() and name in model.__table__.columns
            }
    return {}


async def copy_rows(connection: asyncpg.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """COPY the rows in, the model's defaults for the fields they leave out; a list or dict (a JSON column) goes
    as its JSON text."""
    if rows:
        defaults = {name: value for name, value in _model_defaults(table).items() if name not in rows[0]}
        defaults = {name: value for name, value in defaults.items() if value is not None}
        columns = [*rows[0], *defaults]
        records = [
            tuple(
                json.dumps(value) if isinstance(value, list | dict) else value
                for value in (row[column] if column in row else defaults[column] for column in columns)
            )
            for row in rows
        ]
        await connection.copy_records_to_table(table, columns=columns, records=records)


def make_orderable(rng: random.Random, vendor_rows: Any, today: date, now: datetime) -> None:
    """The generator's vendors as this bench wants them: active, working every day, every certificate verified
    and unexpired, capacity to spare (its partly held days dropped)."""
    for vendor in vendor_rows.vendors:
        vendor.update(
            status=VendorStatus.ACTIVE.value,
            operating_days=ALL_DAYS_MASK,
            daily_capacity=DAILY_CAPACITY,
            regency=REGENCY_OF.get(vendor["kecamatan"], "Kabupaten Batang"),
        )
    for certificate in vendor_rows.certificates:
        expires_on = certificate["expires_on"]
        if expires_on is not None and expires_on <= today + timedelta(days=60):
            expires_on = today + timedelta(days=rng.randint(200, 1400))
        certificate.update(status=CertificateStatus.VERIFIED.value, expires_on=expires_on, verified_at=now)
    vendor_rows.capacity_days.clear()


def buyer_rows(count: int, *, first_id: int, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Canteens near the zone's centre (on invoice terms) with their staff, workers of the zone, a token each,
    and the zone's main gate."""
    rng = random.Random(8)
    organisations = [
        {
            "id": number,
            "zone_id": 1,
            "name": f"Kantin {FACTORIES[(number - 1) % len(FACTORIES)]}"
            + (f" {(number - 1) // len(FACTORIES) + 1}" if number > 10 else ""),
            "address": f"Kawasan Industri Terpadu Batang, Kavling {rng.randint(1, 80)}",
            "latitude": round(ZONE.latitude + rng.uniform(-0.015, 0.015), 6),
            "longitude": round(ZONE.longitude + rng.uniform(-0.015, 0.015), 6),
            "invoice_terms_days": rng.choice([14, 30]),
            "npwp": f"{rng.randrange(10**15):015d}",
            "created_at": now,
        }
        for number in range(1, CANTEENS + 1)
    ]
    users, tokens = [], []
    workers = round(count * WORKER_SHARE)
    for number in range(count):
        user_id = first_id + number
        worker = number < workers
        users.append(
            {
                "id": user_id,
                "phone": f"+62857{user_id:08d}",
                "full_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                "password_hash": "$argon2id$bench-not-a-password",
                "role": (Role.WORKER if worker else Role.CANTEEN_STAFF).value,
                "zone_id": 1,
                "organisation_id": None if worker else number % CANTEENS + 1,
                "locale": "id",
                "is_active": True,
                "created_at": now,
                "phone_verified_at": now,
            }
        )
        raw = api_token(user_id)
        tokens.append(
            {
                "id": number + 1,
                "user_id": user_id,
                "name": "Sistem pengadaan",
                "token_hash": hashlib.sha256(raw.encode()).hexdigest(),
                "prefix": raw[:10],
                "created_at": now,
            }
        )
    gate = {
        "id": 1,
        "zone_id": 1,
        "kind": PointKind.GATE.value,
        "name": "Gerbang Utama KITB",
        "latitude": ZONE.latitude,
        "longitude": ZONE.longitude,
        "active": True,
        "created_at": now,
    }
    return {"organisation": organisations, "user": users, "api_token": tokens, "delivery_point": [gate]}


async def seed(dsn: str, *, vendors: int, products: int, buyers: int) -> None:
    """Everything in one transaction with COPY, then fresh planner statistics; prints counts and times."""
    started = time.perf_counter()
    rng = random.Random(2026)
    now = datetime.now(UTC)
    today = wib_today(now)
    vendor_rows = generate_vendors(rng, vendors, zone_id=1, today=today, now=now)
    make_orderable(rng, vendor_rows, today, now)
    counts: dict[str, int] = defaultdict(int)
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            await copy_rows(
                connection,
                "zone",
                [
                    {
                        "id": 1,
                        "code": "KITB",
                        "name": "Kawasan Industri Terpadu Batang",
                        "regency": "Kabupaten Batang",
                        "province": "Jawa Tengah",
                        "timezone": "Asia/Jakarta",
                        "latitude": ZONE.latitude,
                        "longitude": ZONE.longitude,
                        "commission_bps": 500,
                        "created_at": now,
                    }
                ],
            )
            await copy_rows(connection, "user", vendor_rows.users)
            await copy_rows(connection, "vendor", vendor_rows.vendors)
            await copy_rows(connection, "certificate", vendor_rows.certificates)
            for product_rows, tier_rows, photo_rows, link_rows in product_chunks(
                rng, vendor_rows.seeded, products, now=now
            ):
                for product in product_rows:
                    product["status"] = ListingStatus.LIVE.value
                    if product["fulfilment"] == Fulfilment.READY_STOCK.value:
                        product["stock"] = rng.randint(*STOCK_RANGE)
                for table, rows in (
                    ("product", product_rows),
                    ("price_tier", tier_rows),
                    ("product_photo", photo_rows),
                    ("product_certificate", link_rows),
                ):
                    await copy_rows(connection, table, rows)
                    counts[table] += len(rows)
            for table, rows in buyer_rows(buyers, first_id=vendors + 1, now=now).items():
                await copy_rows(connection, table, rows)
            # Ids were given explicitly; the app's own inserts (orders, carts, invoices) continue after them.
            for table in (
                "zone",
                "user",
                "vendor",
                "certificate",
                "product",
                "organisation",
                "api_token",
                "delivery_point",
            ):
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT max(id) FROM \"{table}\"))"
                )
        inserted = time.perf_counter() - started
        await connection.execute("VACUUM ANALYZE")  # the statistics of a database that has lived a while
    finally:
        await connection.close()
    total = time.perf_counter() - started
    print(
        f"seeded {vendors:,} vendors ({len(vendor_rows.certificates):,} certificates), {products:,} products "
        f"({counts['price_tier']:,} tiers, {counts['product_photo']:,} photos, "
        f"{counts['product_certificate']:,} certificates relied on), {CANTEENS} canteens, {buyers:,} buyers "
        f"with API tokens: {inserted:.1f} s generating and copying, {total - inserted:.1f} s VACUUM ANALYZE, "
        f"{total:.1f} s in all"
    )


async def fill_catalogue(database_url: str) -> None:
    """The catalogue's read model and search words from the copied rows, as migration 0013 and the words' job
    would have made them."""
    database = Database(database_url)
    try:
        await fill_read_model(database.engine)
        async with database.sessionmaker() as session:
            await rebuild_vocabulary(session=session, today=wib_today(datetime.now(UTC)))
            await session.commit()
        async with database.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql("VACUUM ANALYZE")
    finally:
        await database.dispose()


# ---------------------------------------------------------------------------------------------- the plan


@dataclass
class Reach:
    vendors: int
    products: int
    postgres_version: str


async def read_plan(dsn: str, *, buyers: int, vendors: int, seed_value: int) -> tuple[dict[str, Any], Reach]:
    """What the driver asks for: search URLs, product pages, buyers and what each kind of buyer can order."""
    rng = random.Random(seed_value)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SET plan_cache_mode = force_custom_plan")
        # A run stopped halfway may have left lines in carts; every placement starts from an empty cart.
        await connection.execute("DELETE FROM cart_line")
        version = await connection.fetchval("SHOW server_version")
        reach_condition = (
            "v.status = 'active' AND great_circle_km($1, $2, v.latitude, v.longitude) <= v.delivery_radius_km"
        )
        reach = await connection.fetchrow(
            f"SELECT count(DISTINCT v.id) AS vendors, count(p.id) AS products FROM vendor v "
            f"JOIN product p ON p.vendor_id = v.id AND p.status = 'live' WHERE {reach_condition}",
            ZONE.latitude,
            ZONE.longitude,
        )
        assert reach is not None  # an aggregate: one row, always
        product_ids = [
            row["id"]
            for row in await connection.fetch(
                "SELECT id FROM product WHERE status = 'live' ORDER BY random() LIMIT 20000"
            )
        ]
        # Orderable at the canteens and at the gate (all near the zone's centre) for the delivery day.
        orderable = await connection.fetch(
            f"SELECT p.id, p.price, p.min_order_qty FROM product p JOIN vendor v ON v.id = p.vendor_id "
            f"WHERE p.status = 'live' AND {reach_condition} AND great_circle_km($1, $2, v.latitude, v.longitude) "
            f"<= v.delivery_radius_km - 3 AND (p.lead_time_hours IS NULL OR p.lead_time_hours <= 48) "
            f"ORDER BY random() LIMIT 20000",
            ZONE.latitude,
            ZONE.longitude,
        )
        buyer_rows_ = await connection.fetch(
            "SELECT id, role FROM \"user\" WHERE role IN ('canteen_staff', 'worker') AND id > $1 ORDER BY id LIMIT $2",
            vendors,
            buyers,
        )
    finally:
        await connection.close()
    canteen_pool = [[row["id"], row["min_order_qty"]] for row in orderable]
    # Two lines at the minimum order stay under the cash limit; a worker's cart is no bigger.
    worker_pool = [
        [row["id"], row["min_order_qty"]] for row in orderable if row["price"] * row["min_order_qty"] * 2 <= CASH_LIMIT
    ]
    buyer_list = [{"token": api_token(row["id"]), "role": row["role"]} for row in buyer_rows_]
    rng.shuffle(buyer_list)
    plan = {
        "search_urls": search_urls(rng, count=600),
        "product_urls": [f"/products/{product_id}" for product_id in product_ids],
        "buyers": buyer_list,
        "canteen_pool": canteen_pool,
        "worker_pool": worker_pool,
        "delivery_day": (wib_today(utcnow()) + timedelta(days=DAYS_AHEAD)).isoformat(),
        "delivery_slot": DELIVERY_SLOT,
        "gate_id": 1,
    }
    return plan, Reach(reach["vendors"], reach["products"], version)


def search_urls(rng: random.Random, *, count: int) -> list[str]:
    """What visitors type and pick: whole product words, half-typed words, a vendor's name; some with filters."""
    words: list[str] = []
    for trade in TRADES.values():
        for base in trade.bases:
            words.append(base)
            words.append(base.split()[0])
            words.append(base.split()[0][: rng.randint(2, 4)])  # still typing
        words.extend(f"{rng.choice(trade.bases)} {rng.choice(trade.variants)}" for _ in range(4))
        words.extend(trade.shop_words)
    words += ["bu sri", "pak slamet", "berkah", "halal", "pedas", "murah", "kantin", "box"]
    tomorrow = wib_today(utcnow()) + timedelta(days=1)
    urls = []
    for _ in range(count):
        params: list[tuple[str, str]] = []
        roll = rng.random()
        if roll < 0.85:
            params.append(("q", rng.choice(words).lower()))
        if roll >= 0.75:
            params.append(("category", rng.choice(list(Category)).value))
        extra = rng.random()
        if extra < 0.10:
            params.append(("halal", "1"))
        elif extra < 0.18:
            params.append(("date", tomorrow.isoformat()))
        elif extra < 0.24:
            params.append(("sort", rng.choice(["price", "distance", "rating"])))
        elif extra < 0.28:
            params.append(("page", "2"))
        urls.append("/catalogue?" + urlencode(params))
    return urls


# ---------------------------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(
    database_url: str, *, redis_url: str, workers: int, port: int, media_dir: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": "bench-load-secret-key-" + "x" * 32,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "MEDIA_DIR": str(media_dir),
        "API_RATE_LIMIT_PER_MINUTE": "100000000",
        "RUN_SCHEDULED_JOBS": "false",
        # Warnings and errors only, as `--log-level warning` asks of uvicorn: no access line per request.
        "LOG_LEVEL": "WARNING",
        # Production sends sign-up codes by WhatsApp; the bench's buyers use API tokens, so none is ever sent.
        "WHATSAPP_TOKEN": "bench-load-never-used",
        "WHATSAPP_PHONE_NUMBER_ID": "0",
        "WHATSAPP_OTP_TEMPLATE": "bench_load_never_used",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "backend.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        start_new_session=True,
    )


def wait_until_ready(base_url: str, server: subprocess.Popen[bytes], *, workers: int, timeout: float = 90) -> None:
    """/readyz answers once a worker is up; each worker connects on its first requests, so a few more rounds."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base_url, timeout=5) as client:
        ready = 0
        while ready < 4 * workers:
            if server.poll() is not None:
                raise SystemExit(f"the server stopped (exit code {server.returncode})")
            if time.monotonic() > deadline:
                raise SystemExit(f"the server was not ready within {timeout:.0f} s")
            try:
                ready += client.get("/readyz").status_code == 200
            except httpx.TransportError:
                time.sleep(0.3)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM to uvicorn's supervisor, which stops its workers; SIGKILL to the group if it hangs."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# ---------------------------------------------------------------------------------------------- the driver


def run_driver(spec: dict[str, Any]) -> dict[str, Any]:
    """The driver in a process of its own (this script with --drive): the spec in on stdin, results out."""
    completed = subprocess.run(
        [sys.executable, __file__, "--drive"],
        input=json.dumps(spec).encode(),
        capture_output=True,
        check=False,
        timeout=spec["seconds"] + spec["warmup"] + 120,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr.decode())
        raise SystemExit(f"the driver failed (exit code {completed.returncode})")
    return json.loads(completed.stdout)


class Connection:
    """One kept-alive HTTP/1.1 connection, as a browser tab or a procurement system holds it: the driver's client.

    A few lines of asyncio instead of httpx: with 32 requests in flight httpx's connection pool, not the app,
    was the limit (75 requests/s where this client gets about 1,200 from the same server). Asks for gzip like a
    browser and keeps the CSRF cookie the pages set; reads bodies by Content-Length or chunks, never unzips them
    but to quote an error."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.cookie = ""

    async def request(
        self, method: str, target: str, *, headers: dict[str, str] | None = None, json_body: Any = None
    ) -> tuple[int, str]:
        """The status and, for an error, the body as text ("" otherwise)."""
        try:
            return await asyncio.wait_for(self._exchange(method, target, headers or {}, json_body), REQUEST_TIMEOUT)
        except BaseException:
            self.close()  # a half-read answer would poison the next request on this connection
            raise

    async def _exchange(self, method: str, target: str, headers: dict[str, str], json_body: Any) -> tuple[int, str]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        body = json.dumps(json_body).encode() if json_body is not None else b""
        lines = [
            f"{method} {target} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Accept-Encoding: gzip",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        if self.cookie:
            lines.append(f"Cookie: {self.cookie}")
        if json_body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        fields: dict[str, str] = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "set-cookie" and value.strip().startswith("pk_csrf="):
                self.cookie = value.strip().split(";", 1)[0]
            fields[name.lower()] = value.strip()
        if "content-length" in fields:
            content = await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding") == "chunked":
            content = b""
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                content += (await self.reader.readexactly(size + 2))[:-2]
            await self.reader.readuntil(b"\r\n")
        else:
            content = b""
        if fields.get("connection", "").lower() == "close":
            self.close()
        if status < 400:
            return status, ""
        if fields.get("content-encoding") == "gzip":
            content = gzip.decompress(content)
        return status, content.decode(errors="replace")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def drive(spec: dict[str, Any]) -> dict[str, Any]:
    """--concurrency loops, each on a kept-alive connection and with buyers of its own, until the time or the
    operation count is used up; operations started during the warm-up are not counted."""
    plan = spec["plan"]
    concurrency = spec["concurrency"]
    kinds = list(spec["mix"])
    weights = [spec["mix"][kind] for kind in kinds]
    samples: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    error_examples: list[str] = []
    requests = 0
    measured = 0
    cpu_before = cpu_seconds()
    loop = asyncio.get_running_loop()
    started = loop.time()
    counting_from = started + spec["warmup"]
    deadline = counting_from + spec["seconds"]
    counted_until = deadline

    def note_error(kind: str, detail: str) -> None:
        errors[kind] += 1
        if len(error_examples) < 8:
            error_examples.append(f"{kind}: {detail}"[:300])

    async def request(connection: Connection, method: str, target: str, **kwargs: Any) -> tuple[int, str]:
        nonlocal requests
        requests += 1
        return await connection.request(method, target, **kwargs)

    async def place_order(connection: Connection, rng: random.Random, buyer: dict[str, str]) -> str | None:
        """Cart lines then the checkout; None when it was placed, else what went wrong."""
        headers = {"Authorization": f"Bearer {buyer['token']}"}
        worker = buyer["role"] == Role.WORKER.value
        pool = plan["worker_pool"] if worker else plan["canteen_pool"]
        lines = rng.sample(pool, k=rng.choice([1, 1, 2]))
        problem = None
        for product_id, minimum in lines:
            quantity = minimum if worker else minimum * rng.choice([1, 2, 4])
            status, text = await request(
                connection, "PUT", f"/api/v1/cart/lines/{product_id}", headers=headers, json_body={"quantity": quantity}
            )
            if status >= 400:
                problem = f"cart {status} {text}"
                break
        if problem is None:
            body = {
                "delivery_day": plan["delivery_day"],
                "delivery_slot": plan["delivery_slot"],
                "payment_method": "cash" if worker else "invoice",
                "delivery_kind": "zone_point" if worker else "canteen",
                "delivery_point_id": plan["gate_id"] if worker else None,
            }
            status, text = await request(
                connection,
                "POST",
                "/api/v1/checkouts",
                json_body=body,
                headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            )
            if status == 201:
                return None
            problem = f"checkout {status} {text}"
        for product_id, _ in lines:  # leave the cart empty for this buyer's next order
            await request(connection, "DELETE", f"/api/v1/cart/lines/{product_id}", headers=headers)
        return problem

    async def one_loop(number: int) -> None:
        nonlocal measured, counted_until
        rng = random.Random(spec["seed"] * 1000 + number)
        buyers = plan.get("buyers", [])[number::concurrency] or plan.get("buyers", [])
        connection = Connection(spec["host"], spec["port"])
        turn = 0
        while True:
            now = loop.time()
            if now >= deadline or measured >= spec["requests"]:
                break
            kind = rng.choices(kinds, weights)[0]
            began = time.perf_counter()
            problem: str | None = None
            try:
                if kind == "order":
                    turn += 1
                    problem = await place_order(connection, rng, buyers[turn % len(buyers)])
                else:
                    if kind == "search":
                        target = rng.choice(plan["search_urls"])
                        htmx = {"HX-Request": "true", "HX-Target": "results"} if rng.random() < HTMX_SHARE else {}
                        status, text = await request(connection, "GET", target, headers=htmx)
                    elif kind == "product":
                        target = rng.choice(plan["product_urls"])
                        status, text = await request(connection, "GET", target)
                    else:
                        target = "/healthz"
                        status, text = await request(connection, "GET", target)
                    if status >= 400:
                        problem = f"{status} {target} {text}"
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as error:
                problem = f"{type(error).__name__} {error}"
            elapsed = time.perf_counter() - began
            if now < counting_from:
                continue
            if measured >= spec["requests"]:
                break
            measured += 1
            samples[kind].append(elapsed)
            if problem is not None:
                note_error(kind, problem)
            if measured >= spec["requests"]:
                counted_until = loop.time()
        connection.close()

    await asyncio.gather(*(one_loop(number) for number in range(concurrency)))
    wall = min(counted_until, loop.time()) - counting_from
    return {
        "samples": samples,
        "errors": errors,
        "error_examples": error_examples,
        "wall": wall,
        "requests": requests,
        "cpu": cpu_seconds() - cpu_before,
        "total_wall": loop.time() - started,
    }


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------------------------------------- report


def percentile(samples: list[float], share: float) -> float:
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


@dataclass
class Figures:
    operations: int
    errors: int
    per_second: float
    p50: float
    p95: float
    p99: float


def figures(samples: list[float], errors: int, wall: float) -> Figures:
    return Figures(
        len(samples),
        errors,
        len(samples) / wall if wall > 0 else math.nan,
        percentile(samples, 0.50) * 1000,
        percentile(samples, 0.95) * 1000,
        percentile(samples, 0.99) * 1000,
    )


def print_phase(title: str, result: dict[str, Any]) -> Figures:
    wall = result["wall"]
    print(
        f"\n{title}: {wall:.1f} s counted, {result['requests']:,} HTTP requests in all "
        f"(warm-up included); driver CPU {result['cpu']:.1f} s in {result['total_wall']:.1f} s "
        f"({100 * result['cpu'] / result['total_wall']:.0f} % of one core)"
    )
    print(f"  {'kind':<40} {'ops':>7} {'errors':>6} {'ops/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    everything: list[float] = []
    error_total = 0
    for kind, samples in sorted(result["samples"].items(), key=lambda item: -len(item[1])):
        row = figures(samples, result["errors"].get(kind, 0), wall)
        everything += samples
        error_total += row.errors
        print(
            f"  {KIND_LABELS[kind]:<40} {row.operations:>7,} {row.errors:>6} {row.per_second:>8.1f} "
            f"{row.p50:>8.1f} {row.p95:>8.1f} {row.p99:>8.1f}"
        )
    overall = figures(everything, error_total, wall)
    if len(result["samples"]) > 1:
        print(
            f"  {'all':<40} {overall.operations:>7,} {overall.errors:>6} {overall.per_second:>8.1f} "
            f"{overall.p50:>8.1f} {overall.p95:>8.1f} {overall.p99:>8.1f}"
        )
    for example in result["error_examples"]:
        print(f"  error: {example}")
    if result["cpu"] > 0.8 * result["total_wall"]:
        print("  the driver used most of a core: these figures may be the client's limit rather than the app's")
    return overall


def parse_mix(text: str) -> dict[str, int]:
    weights = {}
    for part in text.split(","):
        kind, _, weight = part.partition("=")
        if kind.strip() not in MIX or not weight.strip().isdigit():
            raise argparse.ArgumentTypeError(f"write the mix as search=60,product=30,order=10, not {text!r}")
        weights[kind.strip()] = int(weight)
    if not any(weights.values()):
        raise argparse.ArgumentTypeError("give at least one kind a weight above zero")
    return weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres", default=DEFAULT_SERVER, metavar="URL", help=f"the PostgreSQL server (default {DEFAULT_SERVER})"
    )
    parser.add_argument(
        "--database",
        default=DEFAULT_DATABASE,
        help=f"the bench's own database on it, named bench_…: created when missing, dropped and created "
        f"again when it does not hold what this bench seeds (default {DEFAULT_DATABASE})",
    )
    parser.add_argument(
        "--redis",
        default=DEFAULT_REDIS,
        metavar="URL",
        help=f"Redis for the shared rate-limit counters (default {DEFAULT_REDIS})",
    )
    parser.add_argument("--vendors", type=int, default=10_000)
    parser.add_argument("--products", type=int, default=200_000)
    parser.add_argument("--buyers", type=int, default=300)
    parser.add_argument("--reseed", action="store_true", help="drop and recreate the database, then seed it")
    parser.add_argument(
        "--workers", type=int, default=(os.cpu_count() or 1) + 1, help="uvicorn workers (default: cores + 1)"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="connections the driver keeps busy")
    parser.add_argument("--seconds", type=float, default=20.0, help="counted seconds per phase at most")
    parser.add_argument("--requests", type=int, default=20_000, help="counted operations per phase at most")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds per phase before counting starts")
    parser.add_argument(
        "--mix",
        type=parse_mix,
        default=MIX,
        metavar="search=60,product=30,order=10",
        help="weights of the kinds of operation in the mix (a kind left out is not asked for)",
    )
    parser.add_argument("--seed", type=int, default=1, help="the driver's random choices")
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)  # the driver process
    args = parser.parse_args()
    if args.drive:
        json.dump(asyncio.run(drive(json.load(sys.stdin))), sys.stdout)
        return
    if not args.database.startswith("bench_"):
        # The bench drops and recreates its database when it holds anything else: never a real one.
        parser.error(f"--database must start with bench_ (it is dropped and recreated), not {args.database!r}")

    dsn = server_dsn(args.postgres, args.database)
    database_url = make_url(dsn).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    print(
        f"machine: {os.cpu_count()} cores, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} before the run"
    )
    asyncio.run(prepare_database(args.postgres, args.database, recreate=args.reseed))
    migrate(database_url)
    if not asyncio.run(is_seeded(dsn, vendors=args.vendors, products=args.products, buyers=args.buyers)):
        if not args.reseed:  # a database left half-seeded, or seeded at another size: start it afresh
            asyncio.run(prepare_database(args.postgres, args.database, recreate=True))
            migrate(database_url)
        asyncio.run(seed(dsn, vendors=args.vendors, products=args.products, buyers=args.buyers))
        asyncio.run(fill_catalogue(database_url))
    else:
        print(
            f"database {args.database} already holds {args.vendors:,} vendors and {args.products:,} products "
            f"(--reseed to start afresh)"
        )
    plan, reach = asyncio.run(read_plan(dsn, buyers=args.buyers, vendors=args.vendors, seed_value=args.seed))
    print(
        f"PostgreSQL {reach.postgres_version}, database {args.database}: a visitor at the zone is reached by "
        f"{reach.vendors:,} vendors with {reach.products:,} live products; placements choose among "
        f"{len(plan['canteen_pool']):,} products (canteens) and {len(plan['worker_pool']):,} (workers, cash under "
        f"Rp {CASH_LIMIT:,})"
    )

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    print(
        f"server: uvicorn backend.asgi:app, {args.workers} workers, APP_ENV=production, REDIS_URL {args.redis}, "
        f"scheduled jobs off, on {base_url}"
    )
    print(
        f"driver: a second process, asyncio, HTTP/1.1 keep-alive, {args.concurrency} connections; each phase "
        f"counts at most {args.seconds:g} s or {args.requests:,} operations after a {args.warmup:g} s warm-up"
    )
    shares = {kind: 100 * weight / sum(args.mix.values()) for kind, weight in args.mix.items()}
    print(
        f"mix: {shares.get('search', 0):.0f} % catalogue searches ({100 * HTMX_SHARE:.0f} % of them as the htmx "
        f"results fragment), {shares.get('product', 0):.0f} % product pages, {shares.get('order', 0):.0f} % order "
        f"placements"
    )
    with tempfile.TemporaryDirectory(prefix="load-bench-") as media_dir:
        server = start_server(
            database_url, redis_url=args.redis, workers=args.workers, port=port, media_dir=Path(media_dir)
        )
        try:
            wait_until_ready(base_url, server, workers=args.workers)
            common = {
                "host": "127.0.0.1",
                "port": port,
                "concurrency": args.concurrency,
                "seconds": args.seconds,
                "requests": args.requests,
                "warmup": args.warmup,
                "seed": args.seed,
            }
            mix = run_driver({**common, "plan": plan, "mix": args.mix})
            hello = run_driver({**common, "plan": {}, "mix": {"hello": 1}})
        finally:
            stop_server(server)
    mixed = print_phase("mix", mix)
    plain = print_phase("plain JSON, same server, same driver", hello)
    print(
        f"\nratio, plain JSON / mix: {plain.per_second / mixed.per_second:.1f}x the operations per second; "
        f"the mix's latency is {mixed.p50 / plain.p50:.1f}x at p50, {mixed.p95 / plain.p95:.1f}x at p95, "
        f"{mixed.p99 / plain.p99:.1f}x at p99"
    )


if __name__ == "__main__":
    main()
