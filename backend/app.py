"""create_app(): plugins, routes and middleware, assembled from each domain's route list."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.middleware.compression import CompressionMiddleware
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.template.config import TemplateConfig

from backend.accounts.api import API_ROUTES as ACCOUNT_API_ROUTES
from backend.accounts.auth import AuthenticationMiddleware
from backend.accounts.code_senders import code_sender_for
from backend.administration.api import API_ROUTES as ADMINISTRATION_API_ROUTES
from backend.catalog.api import API_ROUTES as CATALOGUE_API_ROUTES
from backend.client_address import client_address
from backend.config import Settings
from backend.csrf import CrossSiteRequestMiddleware
from backend.db import WAKE_JOBS, Database, close_unanswered_session, end_request_transaction
from backend.health import HEALTH_ROUTES
from backend.jobs import InProcessJobs, Wake
from backend.json_bodies import JSON_BODY_LIMIT, JsonBodyRequest
from backend.logs import log_sql_errors
from backend.media.routes import MEDIA_ROUTES
from backend.media.storage import Storage, storage_from_settings
from backend.metrics import forget_this_process, watch_database_pool
from backend.moderation.api import API_ROUTES as MODERATION_API_ROUTES
from backend.moderation.register_api import API_ROUTES as REGISTER_API_ROUTES
from backend.notifications.api import API_ROUTES as NOTIFICATION_API_ROUTES
from backend.orders.api import API_ROUTES as ORDER_API_ROUTES
from backend.orders.claim_api import API_ROUTES as CLAIM_API_ROUTES
from backend.payments.api import API_ROUTES as PAYMENT_API_ROUTES
from backend.payments.gateway_api import API_ROUTES as GATEWAY_API_ROUTES
from backend.payments.ledger_api import API_ROUTES as LEDGER_API_ROUTES
from backend.payments.terms_api import API_ROUTES as TERMS_API_ROUTES
from backend.payments.transfer_api import API_ROUTES as TRANSFER_API_ROUTES
from backend.problems import EXCEPTION_HANDLERS, ProblemDocumentation
from backend.queue import JobQueue, run_worker
from backend.reports.api import API_ROUTES as REPORT_API_ROUTES
from backend.request_context import ObservedRequests
from backend.requests.api import API_ROUTES as REQUEST_API_ROUTES
from backend.security_headers import security_headers_hook
from backend.training.api import API_ROUTES as TRAINING_API_ROUTES
from backend.vendors.api import API_ROUTES as VENDOR_API_ROUTES
from backend.vendors.readiness_api import API_ROUTES as READINESS_API_ROUTES
from backend.whatsapp.api import API_ROUTES as WHATSAPP_API_ROUTES
from web.accounts import PAGE_ROUTES as ACCOUNT_PAGE_ROUTES
from web.admin import PAGE_ROUTES as ADMIN_PAGE_ROUTES
from web.caching import FingerprintedStaticFiles, RevalidatedPages
from web.catalogue import PAGE_ROUTES as CATALOGUE_PAGE_ROUTES
from web.claims import PAGE_ROUTES as CLAIM_PAGE_ROUTES
from web.delivery_points import PAGE_ROUTES as DELIVERY_POINT_PAGE_ROUTES
from web.home import PAGE_ROUTES as HOME_PAGE_ROUTES
from web.invoice_terms import PAGE_ROUTES as INVOICE_TERMS_PAGE_ROUTES
from web.invoices import PAGE_ROUTES as INVOICE_PAGE_ROUTES
from web.ledger import PAGE_ROUTES as LEDGER_PAGE_ROUTES
from web.moderation import PAGE_ROUTES as MODERATION_PAGE_ROUTES
from web.moderation_register import PAGE_ROUTES as REGISTER_PAGE_ROUTES
from web.notifications import PAGE_ROUTES as NOTIFICATION_PAGE_ROUTES
from web.orders import PAGE_ROUTES as ORDER_PAGE_ROUTES
from web.payments import PAGE_ROUTES as PAYMENT_PAGE_ROUTES
from web.pwa import PAGE_ROUTES as PWA_PAGE_ROUTES
from web.readiness import PAGE_ROUTES as READINESS_PAGE_ROUTES
from web.reports import PAGE_ROUTES as REPORT_PAGE_ROUTES
from web.requests import PAGE_ROUTES as REQUEST_PAGE_ROUTES
from web.templating import STATIC_DIR, TEMPLATE_DIR, configure_environment
from web.training import PAGE_ROUTES as TRAINING_PAGE_ROUTES
from web.vendor_orders import PAGE_ROUTES as VENDOR_ORDER_PAGE_ROUTES
from web.vendors import PAGE_ROUTES as VENDOR_PAGE_ROUTES
from web.whatsapp import PAGE_ROUTES as WHATSAPP_PAGE_ROUTES

API_VERSION = "1.0.0"
OPENAPI_PATH = "/schema"
# Brotli for the browsers that accept it (every current one, over HTTPS), gzip for the others, nothing for answers
# too small to gain. Quality 5 keeps a page's compression to a millisecond or so. Photos (/media/, WebP) are
# compressed already; the static files are compressed once per process, at the best quality (web.caching).
COMPRESSION = CompressionConfig(
    backend="brotli",
    brotli_quality=5,
    brotli_gzip_fallback=True,
    gzip_compress_level=6,
    minimum_size=500,
    exclude=["^/media/", "^/static/"],
)


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> Litestar:
    """The app for `settings` (read from the environment when not given).

    With `database` the app serves from that engine and leaves it open at shutdown: its owner (a test session
    sharing one engine between the app and its own setup) disposes of it. Otherwise the app makes its own from
    `settings.database_url` and disposes of it when it stops."""
    settings = settings or Settings.from_env()
    owns_database = database is None
    if database is None:
        database = Database(
            settings.database_url,
            connect_timeout=settings.database_connect_timeout_seconds,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )
    if settings.media_storage == "local":
        settings.media_dir.mkdir(parents=True, exist_ok=True)
    watch_database_pool(database.engine)
    log_sql_errors(database.engine)

    # Background jobs (README, "Background jobs"): with Redis, the app enqueues them on the queue that
    # `python -m backend worker` runs (and runs that worker itself only when RUN_SCHEDULED_JOBS says so);
    # without Redis, it runs them in this process when RUN_SCHEDULED_JOBS is on (the default outside tests).
    queue = JobQueue.for_url(settings.redis_url) if settings.redis_url else None
    in_process = InProcessJobs(database, settings) if queue is None else None

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        worker: asyncio.Task[None] | None = None
        if queue is not None:
            await queue.connect()
            if settings.run_scheduled_jobs:
                worker = asyncio.create_task(run_worker(settings, handle_signals=False))
        elif in_process is not None and settings.run_scheduled_jobs:
            in_process.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            if in_process is not None:
                await in_process.stop()
            if queue is not None:
                await queue.disconnect()
            if owns_database:
                await database.dispose()
            forget_this_process()

    def provide_settings() -> Settings:
        return settings

    storage = storage_from_settings(settings)

    def provide_storage() -> Storage:
        return storage

    rate_limit = RateLimitConfig(
        rate_limit=("minute", settings.api_rate_limit_per_minute),
        exclude=["^/static/", "^/healthz", "^/readyz", "^/metrics"],
        identifier_for_request=client_address,
    )
    app = Litestar(
        route_handlers=[
            *HEALTH_ROUTES,
            # JSON bodies of the API are bounded in size and depth before they are parsed (json_bodies).
            Router(
                path="/",
                route_handlers=[
                    *ACCOUNT_API_ROUTES,
                    *VENDOR_API_ROUTES,
                    *READINESS_API_ROUTES,
                    *CATALOGUE_API_ROUTES,
                    *MODERATION_API_ROUTES,
                    *REGISTER_API_ROUTES,
                    *ORDER_API_ROUTES,
                    *CLAIM_API_ROUTES,
                    *PAYMENT_API_ROUTES,
                    *GATEWAY_API_ROUTES,
                    *LEDGER_API_ROUTES,
                    *TERMS_API_ROUTES,
                    *TRANSFER_API_ROUTES,
                    *REPORT_API_ROUTES,
                    *REQUEST_API_ROUTES,
                    *TRAINING_API_ROUTES,
                    *NOTIFICATION_API_ROUTES,
                    *WHATSAPP_API_ROUTES,
                    *ADMINISTRATION_API_ROUTES,
                ],
                request_class=JsonBodyRequest,
                request_max_body_size=JSON_BODY_LIMIT,
            ),
            *MEDIA_ROUTES,
            # Pages are HTML for people; only the JSON API belongs in the OpenAPI document.
            Router(
                path="/",
                route_handlers=[
                    *HOME_PAGE_ROUTES,
                    *ACCOUNT_PAGE_ROUTES,
                    *WHATSAPP_PAGE_ROUTES,
                    *PWA_PAGE_ROUTES,
                    *VENDOR_PAGE_ROUTES,
                    *READINESS_PAGE_ROUTES,
                    *REGISTER_PAGE_ROUTES,
                    *MODERATION_PAGE_ROUTES,
                    *CATALOGUE_PAGE_ROUTES,
                    *ORDER_PAGE_ROUTES,
                    *CLAIM_PAGE_ROUTES,
                    *PAYMENT_PAGE_ROUTES,
                    *INVOICE_PAGE_ROUTES,
                    *INVOICE_TERMS_PAGE_ROUTES,
                    *LEDGER_PAGE_ROUTES,
                    *VENDOR_ORDER_PAGE_ROUTES,
                    *NOTIFICATION_PAGE_ROUTES,
                    *DELIVERY_POINT_PAGE_ROUTES,
                    *REPORT_PAGE_ROUTES,
                    *REQUEST_PAGE_ROUTES,
                    *TRAINING_PAGE_ROUTES,
                    *ADMIN_PAGE_ROUTES,
                ],
                include_in_schema=False,
            ),
            # A year and immutable for the fingerprinted URLs the pages link to (web.caching).
            create_static_files_router(
                path="/static",
                directories=[STATIC_DIR],
                middleware=[FingerprintedStaticFiles()],
                include_in_schema=False,
            ),
        ],
        dependencies={
            "db_session": Provide(database.request_session, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
            "storage": Provide(provide_storage, sync_to_thread=False),
        },
        # Compression wraps everything else (rather than Litestar's compression_config, which sits innermost):
        # a visitor's page gets its ETag from the page as rendered, its CSRF token known, so that runs last and
        # sees it uncompressed. The CSRF check needs to know who is logged in, so it runs after authentication.
        # The API authenticates with bearer tokens only (never cookies), so it needs no CSRF token.
        middleware=[
            DefineMiddleware(CompressionMiddleware, config=COMPRESSION),
            rate_limit.middleware,
            AuthenticationMiddleware(),
            CrossSiteRequestMiddleware(settings),
            RevalidatedPages(),
        ],
        template_config=TemplateConfig(
            directory=TEMPLATE_DIR, engine=JinjaTemplateEngine, engine_callback=configure_environment
        ),
        plugins=[HTMXPlugin(), ProblemDocumentation()],
        stores=_stores(settings),
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="Pasar Kawasan API",
            version=API_VERSION,
            description="Certified local products for industrial-zone canteens and workers. "
            "Authenticate with a personal API token: `Authorization: Bearer pk_...`.",
            path=OPENAPI_PATH,
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(
                        type="http", scheme="bearer", description="A personal API token (pk_...)"
                    )
                }
            ),
            render_plugins=_openapi_render_plugins(settings),
        ),
        before_send=[
            end_request_transaction,
            security_headers_hook(settings, unrestricted_prefix=_viewer_prefix(settings)),
        ],
        after_response=close_unanswered_session,
        lifespan=[lifespan],
        # code_sender: how one-time codes reach phones (a test suite swaps in its own).
        state=State(
            {
                "settings": settings,
                "database": database,
                "storage": storage,
                "code_sender": code_sender_for(settings),
                # Starts the jobs a request's committed transaction asked for (backend.db.run_after_commit).
                WAKE_JOBS: queue.wake if queue is not None else _in_process_wake(in_process, settings),
            }
        ),
        debug=False,
        # Log lines are shaped by backend.logs (configured by the server's entry point): Litestar's own default
        # would replace the root logger's handler with its format when the app is made.
        logging_config=None,
    )
    # Outermost, around Litestar's own routing and error handling (its `middleware` only wraps matched routes):
    # an address no route matches, or a request that fails, still gets its request id, access line and latency.
    app.asgi_handler = ObservedRequests(app.asgi_handler, settings)
    return app


def _in_process_wake(jobs: InProcessJobs | None, settings: Settings) -> Wake | None:
    """Without Redis a request's jobs are started in this process, when it runs them (not in tests, which run
    them by hand)."""
    return jobs.wake if jobs is not None and settings.run_scheduled_jobs else None


def _openapi_render_plugins(settings: Settings) -> list[OpenAPIRenderPlugin]:
    """The OpenAPI document (/schema/openapi.json, and /schema) everywhere; the Scalar and Swagger viewers on a
    developer's machine only.

    The viewers load their scripts, styles and icon from public CDNs. Served by the app, that is a third party's
    code running on our origin, next to the buyers' sessions; vendoring them instead means several megabytes of
    someone else's JavaScript in static/ to keep patched, for pages only developers read. The API's users (the
    canteens' procurement systems, the vendors' apps) need the document, which any viewer of theirs can open. So
    no page served outside development (production, and the test suite that stands in for it) refers to a CDN.
    """
    if settings.is_development:
        return [ScalarRenderPlugin(), SwaggerRenderPlugin()]
    # At least one plugin must be given: with none, Litestar serves every viewer it knows (from CDNs) by default.
    return [JsonRenderPlugin()]


def _viewer_prefix(settings: Settings) -> str | None:
    """Where the OpenAPI viewers live on a developer's machine: they run their CDN scripts inline, so they are
    left without a Content-Security-Policy there (and are not served anywhere else)."""
    return OPENAPI_PATH if settings.is_development else None


def _stores(settings: Settings) -> dict[str, Store]:
    """Rate-limit counters live in Redis when there is one, so several workers share them."""
    if settings.redis_url:
        return {"rate_limit": RedisStore.with_client(url=settings.redis_url, namespace="pasar_rate_limit")}
    return {"rate_limit": MemoryStore()}
