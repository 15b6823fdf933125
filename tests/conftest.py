"""The app, a migrated database (SQLite always, PostgreSQL when TEST_DATABASE_URL is set), and people.

Each test starts from empty tables: rows are removed after every test, so no state leaks between tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import io
import os
import re
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from PIL import Image
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import backend.models  # noqa: F401
from backend import migrate
from backend.accounts.models import Organisation, Role, User, Zone
from backend.accounts.service import create_user
from backend.app import create_app
from backend.catalog import service as catalog_service
from backend.catalog.entries import refresh_entries
from backend.catalog.models import Category, Fulfilment, ListingStatus, Product, Unit
from backend.catalog.schemas import ProductInput, TierInput
from backend.certification import service as certification_service
from backend.certification.formats import CertificateKind
from backend.certification.models import Certificate, CertificateStatus
from backend.certification.schemas import CertificateInput
from backend.clock import utcnow
from backend.config import PlatformBank, Settings, _database_url
from backend.db import Database
from backend.media.images import ProcessedDocument, ProcessedPhoto, process_document, process_photo
from backend.media.storage import Storage, storage_from_settings
from backend.vendors import service as vendor_service
from backend.vendors.models import Vendor
from backend.vendors.schemas import VendorProfileInput
from tests.app_process import ServerProcess, app_environment, run_command

PASSWORD = "rahasia-kantin-42"
TEST_SECRET = "test-secret-key-that-is-long-enough-for-hmac"
# The platform's bank account buyers transfer to, in every test's settings.
TEST_BANK = PlatformBank("Bank Uji Batang", "123 456 7890", "PT Pasar Kawasan Uji")


@functools.cache
def _postgres_url() -> str | None:
    """TEST_DATABASE_URL, or with several test processes (pytest-xdist) a database of this process's own beside
    it (`test_gw1` next to `test`), so no process empties another's tables."""
    raw = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not raw:
        return None
    url = _database_url(raw)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return worker_database(url, worker) if worker else url


def worker_database(url: str, worker: str) -> str:
    """The URL of a database named after `url`'s and `worker`, created (empty) when it does not exist yet."""
    base, _, name = url.rpartition("/")
    own = f"{name}_{worker}"

    async def create() -> None:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            found = await connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own})
            if not found:
                await connection.execute(text(f'CREATE DATABASE "{own}"'))
        await engine.dispose()

    asyncio.run(create())
    return f"{base}/{own}"


DATABASES = ["sqlite"] + (["postgresql"] if _postgres_url() else [])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `one_database` (a server process, a fuzzer, Redis: slow, and about the app more than the SQL)
    and the S3 runs of the tests `@on_both_media_stores` run once, on PostgreSQL when it is configured, as in
    production; on SQLite otherwise."""
    if "postgresql" not in DATABASES:
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("database_url") == "sqlite"
        once = item.get_closest_marker("one_database") or (callspec and callspec.params.get("media_settings") == "s3")
        (dropped if on_sqlite and once else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_collection_finish(session: pytest.Session) -> None:
    """What is loaded by now (the app's modules, the collected tests) lives for the whole run: keep it out of
    the garbage collector's full passes, which would otherwise walk it again and again."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Every test runs on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        postgres_url = _postgres_url()
        assert postgres_url is not None
        url = postgres_url
        reset_postgres_schema(url)
    migrate.upgrade(url)
    return url


def reset_postgres_schema(url: str) -> None:
    """Start from an empty public schema, whatever an earlier run left behind."""

    async def reset() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(reset())


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key=TEST_SECRET,
        media_dir=tmp_path_factory.mktemp("media"),
        password_hash_profile="fast",
        run_scheduled_jobs=False,
        platform_bank_name=TEST_BANK.name,
        platform_bank_account_number=TEST_BANK.account_number,
        platform_bank_account_holder=TEST_BANK.account_holder,
    )


@pytest.fixture(scope="session")
async def shared_database(settings: Settings) -> AsyncIterator[Database]:
    """One engine per database for the whole run, shared by the app under test and the tests' own setup (both
    run on the session's event loop)."""
    database = Database(settings.database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def database(shared_database: Database) -> AsyncIterator[Database]:
    """The test's database: empty when the test starts, emptied again when it ends."""
    try:
        yield shared_database
    finally:
        await empty_all_tables(shared_database)


async def empty_all_tables(database: Database) -> None:
    """Remove every row and restart every id (SQLite's rowids restart by themselves once a table is empty), so
    ids and counts in one test never depend on another.

    One script, sent in one round trip: a DELETE per table, children first, then every sequence back to 1.
    PostgreSQL's TRUNCATE of the same tables took about 190 ms a test (it gives each table and index a new file);
    deleting the few rows a test leaves takes a few milliseconds."""
    async with database.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection  # asyncpg's or aiosqlite's
        assert driver is not None
        if connection.dialect.name == "postgresql":
            await driver.execute(_EMPTY_POSTGRES)
        else:
            await driver.executescript(_EMPTY_SQLITE)


_DELETE_EVERY_ROW = "".join(f'DELETE FROM "{table.name}";\n' for table in reversed(SQLModel.metadata.sorted_tables))
_EMPTY_SQLITE = f"BEGIN;\n{_DELETE_EVERY_ROW}COMMIT;"
_EMPTY_POSTGRES = (
    f"BEGIN;\n{_DELETE_EVERY_ROW}"
    "SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace;\n"
    "COMMIT;"
)


# --- `make run`'s server, for the demo tests -------------------------------------------------------------


@dataclass
class DemoServer:
    server: ServerProcess
    database: Path

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """`make run`'s server: development settings and nothing about Stripe or Xendit, on the demo data, so it
    starts both stand-ins. One for the session, shared by the demo tests of
    tests/payments and tests/browser (one xdist group: they run in one test process); each pays for a checkout of
    its own."""
    data_dir = tmp_path_factory.mktemp("demo")
    database = data_dir / "demo.db"
    env = app_environment(
        APP_ENV="development",
        DATABASE_URL=f"sqlite:///{database}",
        MEDIA_DIR=str(data_dir / "media"),
        PASSWORD_HASH_PROFILE="fast",
        RUN_SCHEDULED_JOBS="false",
    )
    run_command(["backend", "migrate"], env)
    run_command(["backend", "load-demo"], env)
    server = ServerProcess(environment=env, log_dir=data_dir)
    try:
        server.start()
        yield DemoServer(server, database)
    finally:
        server.stop()


AppFor = Callable[[Settings], Awaitable[Litestar]]


class RecordingCodeSender:
    """Stands in for WhatsApp: keeps every one-time code the app sends, so a test can read it as the phone's
    owner would. The app holds it where it holds its real sender (`app.state["code_sender"]`)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_code(self, *, phone: str, code: str) -> None:
        self.sent.append((phone, code))

    def last_code(self, phone: str) -> str:
        """The newest code sent to `phone` (E.164)."""
        codes = [code for to, code in self.sent if to == phone]
        assert codes, f"no code was sent to {phone}"
        return codes[-1]

    def sent_to(self, phone: str) -> int:
        return sum(1 for to, _ in self.sent if to == phone)


@pytest.fixture(scope="session")
async def app_for(shared_database: Database) -> AsyncIterator[AppFor]:
    """The app for a variant of the settings, built and started once per run (building one registers ~370
    handlers); every variant serves from the run's shared engine."""
    apps: dict[Settings, Litestar] = {}
    code_sender = RecordingCodeSender()
    stop = asyncio.Event()
    running: list[asyncio.Task[None]] = []

    async def serve(app: Litestar, started: asyncio.Event) -> None:
        # The app's start-up and shut-down must happen in one task (its lifespan holds a task group).
        async with app.lifespan():
            started.set()
            await stop.wait()

    async def started(variant: Settings) -> Litestar:
        if variant not in apps:
            assert variant.database_url == shared_database.url, "an app on another database needs its own engine"
            app = create_app(variant, database=shared_database)
            app.state["code_sender"] = code_sender
            ready = asyncio.Event()
            running.append(asyncio.create_task(serve(app, ready)))
            await ready.wait()
            apps[variant] = app
        return apps[variant]

    yield started
    stop.set()
    await asyncio.gather(*running)


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3-compatible server (moto's) on a loopback port, for the whole run; started only when asked for."""
    from tests.s3_server import s3_server

    with s3_server(tmp_path_factory.mktemp("s3")) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def s3_settings(settings: Settings, s3_endpoint: str) -> Settings:
    """The run's settings with media in a bucket of their own on the S3 stand-in (photos served through the app)."""
    from tests import s3_server

    return settings.model_copy(
        update={
            "media_storage": "s3",
            "s3_endpoint_url": s3_endpoint,
            "s3_bucket": s3_server.create_bucket(s3_endpoint),
            "s3_region": s3_server.REGION,
            "s3_access_key_id": s3_server.ACCESS_KEY_ID,
            "s3_secret_access_key": s3_server.SECRET_ACCESS_KEY,
        }
    )


@pytest.fixture
def media_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """The settings of the app and of `world`: media on the local disk, or in the S3 stand-in's bucket for a test
    marked `@on_both_media_stores`."""
    if getattr(request, "param", "local") == "s3":
        from backend.media.s3 import S3Storage

        monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
        for name in ("save", "read", "delete", "exists", "stat"):
            monkeypatch.setattr(S3Storage, name, off_the_event_loop(getattr(S3Storage, name)))
        s3: Settings = request.getfixturevalue("s3_settings")
        return s3
    return settings


def off_the_event_loop(method: Callable[..., Any]) -> Callable[..., Any]:
    """`method`, refusing to run on an event loop's thread: a call to the bucket there would hold up every request
    the process serves (the app calls storage through anyio.to_thread)."""

    @functools.wraps(method)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return method(*args, **kwargs)
        raise AssertionError(f"S3Storage.{method.__name__} was called on the event loop")

    return guarded


# A test that stores or serves media, run once with the local disk and once with the S3-compatible bucket.
on_both_media_stores = pytest.mark.parametrize("media_settings", ["local", "s3"], indirect=True)


@pytest.fixture
async def app(media_settings: Settings, app_for: AppFor, database: Database) -> Litestar:
    return await app_for(media_settings)


@pytest.fixture
def codes(app: Litestar) -> RecordingCodeSender:
    """The codes the app sends to phones in this test (every app variant of the run shares one recorder)."""
    recorder: RecordingCodeSender = app.state["code_sender"]
    recorder.sent.clear()
    return recorder


@contextlib.asynccontextmanager
async def browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of its own (its own cookies) talking to `app` in this process and on this event loop; the app's
    per-address counters (the API rate limit) start afresh, as if each test came from a new address."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))  # type: ignore[arg-type]  # Litestar types the ASGI scope more narrowly than httpx
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        try:
            yield client
        finally:
            await app.stores.get("rate_limit").delete_all()


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(app) as client:
        yield client


@pytest.fixture
async def other_client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser, for a second person acting at the same time on the same app."""
    async with browser(app) as client:
        yield client


# --- factories -------------------------------------------------------------------------------------


_STORAGES: dict[int, tuple[Settings, Storage]] = {}


def _storage_for(settings: Settings) -> Storage:
    """The media store `settings` name, made once per settings object (a session's): an S3 client takes about
    100 ms to make. The settings are kept with it, so their id is never reused."""
    if id(settings) not in _STORAGES:
        _STORAGES[id(settings)] = (settings, storage_from_settings(settings))
    return _STORAGES[id(settings)][1]


@dataclass
class World:
    """Builds the people and places a test needs, committed so the app sees them."""

    database: Database
    settings: Settings
    counter: int = 0
    created: list[Any] = field(default_factory=list)
    # When the story happens: the real clock (the pages read it too) unless a test fixes it.
    now: datetime = field(default_factory=utcnow)

    def next_phone(self) -> str:
        self.counter += 1
        return f"0857{self.counter:08d}"

    async def zone(self, code: str = "KITB", name: str = "Kawasan Industri Terpadu Batang") -> Zone:
        async with self.database.sessionmaker() as session:
            zone = Zone(
                code=code,
                name=name,
                regency="Kabupaten Batang",
                province="Jawa Tengah",
                latitude=-6.9545,
                longitude=110.0322,
            )
            session.add(zone)
            await session.commit()
            return zone

    async def organisation(
        self,
        zone: Zone,
        name: str = "Kantin PT Garmen Nusantara",
        *,
        invoice_terms_days: int | None = 30,
        npwp: str = "",
    ) -> Organisation:
        """A canteen; most stories need one a manager verified, so it has 30-day invoice terms unless told."""
        async with self.database.sessionmaker() as session:
            organisation = Organisation(
                zone_id=zone.id, name=name, address="Blok C-3", invoice_terms_days=invoice_terms_days, npwp=npwp
            )
            session.add(organisation)
            await session.commit()
            return organisation

    async def user(
        self,
        role: Role,
        *,
        zone: Zone | None = None,
        organisation: Organisation | None = None,
        full_name: str | None = None,
        phone: str | None = None,
        verified: bool = True,
    ) -> User:
        """An account; its number is proven unless `verified=False` (then it can only enter the code)."""
        async with self.database.sessionmaker() as session:
            user = await create_user(
                session=session,
                role=role,
                phone=phone or self.next_phone(),
                full_name=full_name or f"{role.value.title()} {self.counter}",
                password=PASSWORD,
                password_hash_profile="fast",
                zone_id=zone.id if zone else None,
                organisation_id=organisation.id if organisation else None,
                phone_verified_at=self.now if verified else None,
            )
            await session.commit()
            return user

    async def shop(
        self,
        user: User,
        *,
        certificate_kinds: tuple[str, ...] = ("halal",),
        verified: bool = False,
        expires_on: date | None = None,
        submit: bool = True,
        business_name: str = "Catering Bu Sri",
    ) -> Shop:
        """A vendor's shop: profile, certificates, and a nasi box product relying on them (submitted for review)."""
        storage = _storage_for(self.settings)
        async with self.database.sessionmaker() as session:
            vendor = await vendor_service.save_profile(
                session=session,
                user=user,
                data=VendorProfileInput(
                    business_name=business_name,
                    owner_name=user.full_name,
                    whatsapp=user.phone,
                    kecamatan="Gringsing",
                    desa="Krengseng",
                    latitude=-6.9581,
                    longitude=110.0195,
                    delivery_radius_km=15,
                    daily_capacity=500,
                ),
                now=self.now,
            )
            certificates = []
            for kind in certificate_kinds:
                certificate = await certification_service.add_certificate(
                    session=session,
                    vendor=vendor,
                    storage=storage,
                    now=self.now,
                    data=CertificateInput(
                        kind=CertificateKind(kind), number=EXAMPLE_NUMBERS[kind], issuer="BPJPH", expires_on=expires_on
                    ),
                    document=processed_document(600, 400),
                )
                if verified:
                    certificate.status = CertificateStatus.VERIFIED
                certificates.append(certificate)
            product = await catalog_service.create_product(
                session=session,
                vendor=vendor,
                data=ProductInput(
                    name="Nasi Box Ayam Bakar",
                    category=Category.CATERING,
                    unit=Unit.BOX,
                    price=15000,
                    tiers=[TierInput(min_quantity=50, unit_price=14000)],
                    min_order_qty=10,
                    fulfilment=Fulfilment.MADE_TO_ORDER,
                    order_cutoff=time(15, 0),
                    certificate_ids=[c.id for c in certificates],
                ),
            )
            await catalog_service.add_photo(
                session=session,
                vendor=vendor,
                product_id=product.id,
                photo=processed_photo(),
                storage=storage,
                now=self.now,
            )
            if submit:
                await catalog_service.submit_for_review(
                    session=session, vendor=vendor, product_id=product.id, now=self.now
                )
            await session.commit()
            return Shop(vendor=vendor, product=product, certificates=certificates)

    async def seller(
        self,
        zone: Zone,
        *,
        business_name: str,
        latitude: float = -6.9581,
        longitude: float = 110.0195,
        radius_km: float = 15,
        daily_capacity: int | None = 500,
        operating_days: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7),
        certificates: tuple[str, ...] = ("halal",),
    ) -> Seller:
        """A vendor with a profile at a place and certificates a manager has verified."""
        user = await self.user(Role.VENDOR, zone=zone)
        storage = _storage_for(self.settings)
        async with self.database.sessionmaker() as session:
            vendor = await vendor_service.save_profile(
                session=session,
                user=user,
                data=VendorProfileInput(
                    business_name=business_name,
                    owner_name=user.full_name,
                    whatsapp=user.phone,
                    kecamatan="Gringsing",
                    desa="Krengseng",
                    latitude=latitude,
                    longitude=longitude,
                    delivery_radius_km=radius_km,
                    daily_capacity=daily_capacity,
                    operating_days=list(operating_days),
                ),
                now=self.now,
            )
            certificate_ids = {}
            for kind in certificates:
                certificate = await certification_service.add_certificate(
                    session=session,
                    vendor=vendor,
                    storage=storage,
                    now=self.now,
                    data=CertificateInput(kind=CertificateKind(kind), number=EXAMPLE_NUMBERS[kind], issuer="BPJPH"),
                    document=processed_document(300, 200),
                )
                certificate.status = CertificateStatus.VERIFIED
                certificate_ids[kind] = certificate.id
            await session.commit()
            return Seller(user=user, vendor=vendor, certificate_ids=certificate_ids)

    async def live_product(
        self,
        seller: Seller,
        name: str,
        *,
        category: str = "catering",
        price: int = 15000,
        description: str = "",
        unit: str = "box",
        certificates: tuple[str, ...] | None = None,
        **fields: Any,
    ) -> Product:
        """A product its vendor listed and a manager approved (status set through the listing's transitions)."""
        kinds = tuple(seller.certificate_ids) if certificates is None else certificates
        fields.setdefault("fulfilment", "made_to_order")
        async with self.database.sessionmaker() as session:
            vendor = await session.get_one(Vendor, seller.vendor.id)
            product = await catalog_service.create_product(
                session=session,
                vendor=vendor,
                data=ProductInput(
                    name=name,
                    category=Category(category),
                    unit=Unit(unit),
                    price=price,
                    description=description,
                    certificate_ids=[seller.certificate_ids[kind] for kind in kinds],
                    **fields,
                ),
            )
            catalog_service.change_listing_status(product, ListingStatus.PENDING_REVIEW, now=self.now)
            catalog_service.change_listing_status(product, ListingStatus.LIVE, now=self.now)
            await refresh_entries(session, product_ids=[product.id])
            await session.commit()
            return product


@dataclass
class Seller:
    user: User
    vendor: Vendor
    certificate_ids: dict[str, int]


@dataclass
class Shop:
    vendor: Vendor
    product: Product
    certificates: list[Certificate]


def found(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    """The first match of `pattern` in `text` (a page, a header); the test fails when there is none."""
    match = re.search(pattern, text, flags)
    assert match is not None, f"{pattern!r} not found"
    return match


EXAMPLE_NUMBERS = {
    "halal": "ID33250000123450523",
    "pirt": "206332501012324",
    "bpom": "MD 224510001234",
    "nib": "9120301234567",
    "sni": "SNI 01-3553-2015",
}


@functools.cache
def jpeg_bytes(width: int = 800, height: int = 600) -> bytes:
    """A plain JPEG photo; made once per size for the whole run."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (190, 110, 50)).save(buffer, "JPEG")
    return buffer.getvalue()


@functools.cache
def processed_photo() -> ProcessedPhoto:
    """A product photo as the upload path stores it (re-encoding takes a while: done once per run)."""
    return process_photo(jpeg_bytes())


@functools.cache
def processed_document(width: int, height: int) -> ProcessedDocument:
    return process_document(jpeg_bytes(width, height))


@pytest.fixture
def world(database: Database, media_settings: Settings) -> World:
    return World(database=database, settings=media_settings)


@pytest.fixture
async def zone(world: World) -> Zone:
    return await world.zone()


@pytest.fixture
async def canteen(world: World, zone: Zone) -> Organisation:
    return await world.organisation(zone)


@pytest.fixture
async def vendor(world: World, zone: Zone) -> User:
    return await world.user(Role.VENDOR, zone=zone, full_name="Sri Rahayu")


@pytest.fixture
async def canteen_staff(world: World, zone: Zone, canteen: Organisation) -> User:
    return await world.user(Role.CANTEEN_STAFF, zone=zone, organisation=canteen, full_name="Dewi Lestari")


@pytest.fixture
async def worker(world: World, zone: Zone) -> User:
    return await world.user(Role.WORKER, zone=zone, full_name="Rizky Pratama")


@pytest.fixture
async def manager(world: World, zone: Zone) -> User:
    return await world.user(Role.MANAGER, zone=zone, full_name="Sri Wahyuni")


@pytest.fixture
async def admin(world: World) -> User:
    return await world.user(Role.ADMIN, full_name="Admin Pasar")


# --- browser-like helpers ----------------------------------------------------------------------------

CSRF_COOKIE = "pk_csrf"
SESSION_COOKIE = "pk_session"
# The token each test browser was last handed, and the cookies it was handed for (tokens are bound to the session).
_handed_tokens: weakref.WeakKeyDictionary[httpx.AsyncClient, tuple[tuple[str | None, str | None], str]] = (
    weakref.WeakKeyDictionary()
)


async def csrf_token(client: httpx.AsyncClient, page: str = "/offline") -> str:
    """The CSRF token a page hands this browser for its current session (read from the page, as a browser would
    submit it); fetched again once the browser's cookies have changed (a login, a logout)."""
    cookies = (client.cookies.get(SESSION_COOKIE), client.cookies.get(CSRF_COOKIE))
    handed = _handed_tokens.get(client)
    if handed is None or handed[0] != cookies:
        response = await client.get(page)
        match = re.search(r'name="_csrf_token" value="([^"]+)"', response.text) or re.search(
            r'"x-csrftoken": "([^"]+)"', response.text
        )
        assert match, "the page should carry a CSRF token"
        cookies = (client.cookies.get(SESSION_COOKIE), client.cookies.get(CSRF_COOKIE))
        handed = _handed_tokens[client] = (cookies, match.group(1))
    return handed[1]


async def submit(client: httpx.AsyncClient, url: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """Post a form the way a browser does: with the page's CSRF token, not following redirects."""
    token = await csrf_token(client)
    return await client.post(url, data={**data, "_csrf_token": token}, follow_redirects=False, **kwargs)


async def log_in(client: httpx.AsyncClient, user: User, password: str = PASSWORD) -> Any:
    response = await submit(client, "/login", {"phone": user.phone, "password": password})
    assert response.status_code == 303, response.text
    return response


async def sign_up(client: httpx.AsyncClient, codes: RecordingCodeSender, fields: dict[str, Any]) -> Any:
    """Sign up through the page and enter the code WhatsApp brought; the answer to the code (a redirect home)."""
    response = await submit(client, "/signup", fields)
    assert (response.status_code, response.headers.get("location")) == (303, "/verify-phone"), response.text
    phone = codes.sent[-1][0]
    response = await submit(client, "/verify-phone", {"code": codes.last_code(phone)})
    assert response.status_code == 303, response.text
    return response


class QueryCounter:
    """Counts SQL statements sent by an engine (N+1 queries are what make commerce apps slow)."""

    def __init__(self, database: Database) -> None:
        self.engine = database.engine.sync_engine
        self.statements: list[str] = []

    def __enter__(self) -> QueryCounter:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT", "RELEASE")):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Litestar) -> Iterator[QueryCounter]:
    with QueryCounter(app.state.database) as counter:
        yield counter


ROOT = Path(__file__).resolve().parent.parent
