"""Operators' command line: `python -m backend <command>`.

migrate                    apply database migrations (DATABASE_URL, default the SQLite file)
load-demo                  load the KITB demo data once
create-admin               create an administrator
create-manager --zone KITB create a market manager for a zone
run-expiry [--date D]      run the daily certificate expiry job (idempotent)
run-order-jobs             cancel unpaid orders, place standing orders, complete delivered orders (idempotent)
run-login-cleanup          delete expired sessions and login attempts older than the login window (idempotent)
rebuild-search-words       rebuild the words of visible products that search corrects typos to (idempotent)
worker                     run the background jobs and their schedules from the queue (needs REDIS_URL)
copy-media-to-s3           copy the photos and documents under MEDIA_DIR into the S3_BUCKET (idempotent: skips
                           objects already there with the same size and MD5)
serve [--workers N]        run the web app with uvicorn (in development without STRIPE_SECRET_KEY, card payments
                           go to a local stand-in for Stripe, labelled "Demo")
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from backend import demo, migrate
from backend.accounts.models import Role, Zone
from backend.accounts.service import DeletedLoginRecords, create_user
from backend.catalog.vocabulary import VocabularyRun
from backend.clock import utcnow, wib_today
from backend.config import ConfigError, Settings
from backend.db import Database
from backend.errors import ValidationFailed
from backend.jobs import (
    OrderJobsRun,
    delete_expired_login_records_once,
    rebuild_vocabulary_once,
    run_expiry_once,
    run_order_jobs_once,
)
from backend.logs import configure_logging, logging_config
from backend.media.storage import (
    FileSystemStorage,
    StorageUnreachable,
    s3_storage_from_settings,
    storage_from_settings,
)
from backend.metrics import MULTIPROCESS_DIRECTORY_VARIABLE, multiprocess_directory, prepare_multiprocess_directory
from backend.moderation.service import ExpiryRun
from backend.payments import demo_stripe, demo_xendit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend", description="Pasar Kawasan operations")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("load-demo", help="load the KITB demo data (once)")
    for name in ("create-admin", "create-manager"):
        command = commands.add_parser(name, help=f"{name.replace('-', ' ')} account")
        command.add_argument("--phone", required=True)
        command.add_argument("--name", required=True)
        command.add_argument("--password", help="prompted for when left out")
        if name == "create-manager":
            command.add_argument("--zone", required=True, help="zone code, e.g. KITB")
    expiry = commands.add_parser("run-expiry", help="run the daily certificate expiry job")
    expiry.add_argument("--date", type=date.fromisoformat, help="the day to run for (WIB), default today")
    commands.add_parser("run-order-jobs", help="cancel unpaid orders, place standing orders, complete deliveries")
    commands.add_parser("run-login-cleanup", help="delete expired sessions and old login attempts")
    commands.add_parser("rebuild-search-words", help="rebuild the words search corrects typos to")
    commands.add_parser("worker", help="run the background jobs from the queue (needs REDIS_URL)")
    commands.add_parser("copy-media-to-s3", help="copy the media under MEDIA_DIR into the S3 bucket")
    serve = commands.add_parser("serve", help="run the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2

    if args.command == "migrate":
        _prepare_sqlite_directory(settings)
        migrate.upgrade(settings.database_url)
        print("database is up to date")
        return 0
    if args.command == "load-demo":
        loaded = asyncio.run(_load_demo(settings))
        print("demo data loaded" if loaded else "demo data already present; nothing changed")
        return 0
    if args.command in ("create-admin", "create-manager"):
        password = args.password or getpass.getpass("Password: ")
        try:
            asyncio.run(_create_staff(settings, args, password))
        except (ValidationFailed, LookupError) as exc:
            details = (
                "; ".join(f"{e.field}: {e.message % e.params}" for e in exc.errors)
                if isinstance(exc, ValidationFailed)
                else str(exc)
            )
            print(f"not created: {details}", file=sys.stderr)
            return 1
        print("account created")
        return 0
    if args.command == "run-expiry":
        result = asyncio.run(_run_expiry(settings, args.date))
        print(
            f"expiry run for {result.run_on}: {result.warned_30} warned 30 days ahead, {result.warned_7} warned "
            f"7 days ahead, {result.expired} expired, {result.listings_hidden} listings hidden"
        )
        return 0
    if args.command == "run-order-jobs":
        jobs_run = asyncio.run(_run_order_jobs(settings))
        print(
            f"order jobs: {jobs_run.unpaid_cancelled} unpaid orders cancelled, {jobs_run.standing_placed} standing "
            f"orders placed, {jobs_run.standing_refused} could not be held, {jobs_run.completed} completed"
        )
        return 0
    if args.command == "run-login-cleanup":
        deleted = asyncio.run(_delete_expired_login_records(settings))
        print(
            f"login clean-up: {deleted.sessions} expired sessions and {deleted.login_attempts} old login attempts "
            "deleted"
        )
        return 0
    if args.command == "rebuild-search-words":
        rebuilt = asyncio.run(_rebuild_search_words(settings))
        print(f"search words: {rebuilt.words} words, {rebuilt.added} added, {rebuilt.removed} removed")
        return 0
    if args.command == "worker":
        if not settings.redis_url:
            print(
                "the worker needs REDIS_URL (the job queue); without Redis the web app runs the jobs itself",
                file=sys.stderr,
            )
            return 2
        from backend.queue import run_worker

        # The web servers' log format (JSON lines in production, LOG_FORMAT), so one collector reads both.
        configure_logging(settings)
        logging.getLogger("saq").setLevel(logging.WARNING)  # SAQ tells of every job it queues and runs
        print("worker started: running the background jobs from the queue", flush=True)
        asyncio.run(run_worker(settings))
        return 0
    if args.command == "copy-media-to-s3":
        return _copy_media_to_s3(settings)
    if args.command == "serve":
        import uvicorn

        if demo_stripe.wants_demo(settings):
            # The workers read their settings from the environment: they find the stand-in there.
            app_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
            stand_in, variables = demo_stripe.start_demo(settings, app_url=f"http://{app_host}:{args.port}")
            os.environ.update(variables)
            print(f"Demo card payments: a local stand-in for Stripe at {stand_in.url} (no money moves)")
        if demo_xendit.wants_demo(settings):
            app_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
            xendit, variables = demo_xendit.start_demo(settings, app_url=f"http://{app_host}:{args.port}")
            os.environ.update(variables)
            print(f"Demo QRIS and virtual accounts: a local stand-in for Xendit at {xendit.url} (no money moves)")

        # uvicorn believes X-Forwarded-For (and -Proto) from exactly the proxies the app does, and from none by
        # default: its own default trusts 127.0.0.1, where anybody on the machine or behind a local tunnel is.
        trusted_proxies = ",".join(str(network) for network in settings.trusted_proxies)
        _prepare_metrics_directory(args.workers)
        uvicorn.run(
            "backend.asgi:app",
            host=args.host,
            port=args.port,
            workers=args.workers,
            proxy_headers=bool(trusted_proxies),
            forwarded_allow_ips=trusted_proxies or None,
            # The app's log format for uvicorn's lines too (in the supervisor and in every worker), and the
            # app's own access line (backend.request_context) instead of uvicorn's.
            log_config=logging_config(settings),
            access_log=False,
        )
        return 0
    return 1


def _prepare_metrics_directory(workers: int) -> None:
    """Several workers add up their metrics through files in PROMETHEUS_MULTIPROC_DIR (prometheus_client's
    multiprocess mode), emptied at each start; with several workers and no directory named, one is made for this
    run. The workers are new processes: they read the variable before they first count anything."""
    directory = multiprocess_directory()
    if directory is None and workers > 1:
        directory = Path(tempfile.mkdtemp(prefix="pasar-metrics-"))
        os.environ[MULTIPROCESS_DIRECTORY_VARIABLE] = str(directory)
    if directory is not None:
        prepare_multiprocess_directory(directory)


def _prepare_sqlite_directory(settings: Settings) -> None:
    if settings.database_is_sqlite:
        Path(settings.database_url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)


async def _load_demo(settings: Settings) -> bool:
    database = Database(settings.database_url)
    try:
        async with database.sessionmaker() as session:
            loaded = await demo.load_demo(
                session=session,
                password_hash_profile=settings.password_hash_profile,
                storage=storage_from_settings(settings),
            )
            await session.commit()
            return loaded
    finally:
        await database.dispose()


def _copy_media_to_s3(settings: Settings) -> int:
    from backend.media.copy import copy_media_to_s3

    try:
        bucket = s3_storage_from_settings(settings)
        copied = copy_media_to_s3(FileSystemStorage(settings.media_dir), bucket)
    except ValueError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except StorageUnreachable as exc:
        print(f"copy stopped: {exc} (run the command again to go on)", file=sys.stderr)
        return 1
    print(
        f"media copied to bucket {bucket.bucket}: {copied.copied} ({copied.copied_bytes} bytes); "
        f"already there: {copied.already_there}"
    )
    return 0


async def _run_expiry(settings: Settings, day: date | None) -> ExpiryRun:
    database = Database(settings.database_url)
    try:
        return await run_expiry_once(database, day or wib_today(utcnow()))
    finally:
        await database.dispose()


async def _run_order_jobs(settings: Settings) -> OrderJobsRun:
    database = Database(settings.database_url)
    try:
        return await run_order_jobs_once(database, utcnow(), settings=settings)
    finally:
        await database.dispose()


async def _delete_expired_login_records(settings: Settings) -> DeletedLoginRecords:
    database = Database(settings.database_url)
    try:
        return await delete_expired_login_records_once(database, settings, now=utcnow())
    finally:
        await database.dispose()


async def _rebuild_search_words(settings: Settings) -> VocabularyRun:
    database = Database(settings.database_url)
    try:
        return await rebuild_vocabulary_once(database, wib_today(utcnow()))
    finally:
        await database.dispose()


async def _create_staff(settings: Settings, args: argparse.Namespace, password: str) -> None:
    database = Database(settings.database_url)
    try:
        async with database.sessionmaker() as session:
            zone_id = None
            if args.command == "create-manager":
                zone_id = (
                    await session.execute(select(col(Zone.id)).where(col(Zone.code) == args.zone))
                ).scalar_one_or_none()
                if zone_id is None:
                    raise LookupError(f"no zone with code {args.zone!r}")
            await create_user(
                session=session,
                role=Role.MANAGER if args.command == "create-manager" else Role.ADMIN,
                phone=args.phone,
                full_name=args.name,
                password=password,
                password_hash_profile=settings.password_hash_profile,
                zone_id=zone_id,
                phone_verified_at=utcnow(),  # the operator vouches for the number of the staff they create
            )
            await session.commit()
    finally:
        await database.dispose()


if __name__ == "__main__":
    sys.exit(main())
