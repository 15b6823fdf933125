"""What a photo's /media/ address costs on each store, and how long copy-media-to-s3 takes.

Run by hand: `.venv/bin/python bench/media_storage.py`. It starts moto's S3 server on a loopback port (the tests'
stand-in: slower than MinIO or S3 in their own data centre, so the S3 figures are an upper bound for the app's own
work plus a local round trip), then times `GET /media/<key>` of one photo, in-process over ASGI, with the photo on
the local disk, in the bucket read through the app, and in the bucket with S3_PUBLIC_BASE_URL set (a redirect
worked out without asking the bucket). Then it copies `--files` files of 40 KB from a local directory into an
empty bucket twice (the second run finds them all there).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.app import create_app  # noqa: E402
from backend.config import Settings  # noqa: E402
from backend.media.copy import copy_media_to_s3  # noqa: E402
from backend.media.images import process_photo  # noqa: E402
from backend.media.s3 import S3Storage  # noqa: E402
from backend.media.storage import FileSystemStorage, content_key, storage_from_settings  # noqa: E402
from tests import s3_server  # noqa: E402
from tests.conftest import jpeg_bytes  # noqa: E402


async def time_photo(settings: Settings, key: str, runs: int) -> tuple[int, float, float]:
    """The answer's status, and the median and 95th percentile in milliseconds."""
    app = create_app(settings)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # Litestar types the ASGI scope more narrowly than httpx
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for _ in range(20):
                await client.get(f"/media/{key}")
            times = []
            status = 0
            for _ in range(runs):
                started = time.perf_counter()
                status = (await client.get(f"/media/{key}")).status_code
                times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return status, statistics.median(times), times[int(len(times) * 0.95)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--files", type=int, default=500)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="media-bench-"))
    with s3_server.s3_server(directory) as endpoint:
        local = Settings(
            environment="test",
            database_url=f"sqlite+aiosqlite:///{directory / 'bench.db'}",
            media_dir=directory / "media",
            password_hash_profile="fast",
            run_scheduled_jobs=False,
        )
        bucket = local.model_copy(
            update={
                "media_storage": "s3",
                "s3_endpoint_url": endpoint,
                "s3_bucket": s3_server.create_bucket(endpoint),
                "s3_access_key_id": s3_server.ACCESS_KEY_ID,
                "s3_secret_access_key": s3_server.SECRET_ACCESS_KEY,
            }
        )
        redirect = bucket.model_copy(update={"s3_public_base_url": "/pasar-media"})
        photo = process_photo(jpeg_bytes(1600, 1200)).detail.data
        key = content_key("products", photo, "webp")
        storage_from_settings(local).save(key, photo)
        storage_from_settings(bucket).save(key, photo)
        print(f"GET /media/<key> of a {len(photo)}-byte photo, {args.runs} times, in-process:")
        for name, settings in (
            ("local disk", local),
            ("bucket, through the app", bucket),
            ("bucket, redirect", redirect),
        ):
            status, p50, p95 = asyncio.run(time_photo(settings, key, args.runs))
            print(f"  {name}: {status}, p50 {p50:.2f} ms, p95 {p95:.2f} ms")

        files = FileSystemStorage(directory / "to-copy")
        for _ in range(args.files):
            data = os.urandom(40_000)
            files.save(content_key("products", data, "webp"), data)
        target = S3Storage(
            bucket=s3_server.create_bucket(endpoint),
            endpoint_url=endpoint,
            access_key_id=s3_server.ACCESS_KEY_ID,
            secret_access_key=s3_server.SECRET_ACCESS_KEY,
        )
        for name in ("copy-media-to-s3, empty bucket", "copy-media-to-s3, again"):
            started = time.perf_counter()
            run = copy_media_to_s3(files, target)
            print(
                f"  {name}: {run.copied} copied, {run.already_there} already there, {time.perf_counter() - started:.1f} s"
            )


if __name__ == "__main__":
    main()
