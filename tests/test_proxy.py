"""docker-compose's proxy (deploy/Caddyfile, run by a real Caddy) in front of a real app server whose media are in
the S3 stand-in, as in the compose file: photos reach browsers from the bucket through the proxy, documents never."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.config import Settings
from backend.media.images import process_photo
from backend.media.s3 import PUBLIC_CACHE_CONTROL
from backend.media.storage import content_key, storage_from_settings
from tests import s3_server
from tests.app_process import ServerProcess, app_environment, free_port
from tests.conftest import ROOT, jpeg_bytes

pytestmark = [
    pytest.mark.one_database,
    pytest.mark.xdist_group("proxy"),  # the module's tests share one site: in one test process, so it starts once
    pytest.mark.skipif(shutil.which("caddy") is None, reason="caddy is not installed"),
]

BUCKET = "pasar-media"  # the name the Caddyfile's /pasar-media/ path stands for
PROXY_START_SECONDS = 20


@pytest.fixture(scope="module")
def bucket_settings(settings: Settings, s3_endpoint: str) -> Settings:
    client = s3_server.client(s3_endpoint)
    if BUCKET not in {bucket["Name"] for bucket in client.list_buckets()["Buckets"]}:
        s3_server.create_bucket(s3_endpoint, BUCKET)
    s3_server.allow_public_photos(s3_endpoint, BUCKET)
    return settings.model_copy(
        update={
            "media_storage": "s3",
            "s3_endpoint_url": s3_endpoint,
            "s3_bucket": BUCKET,
            "s3_access_key_id": s3_server.ACCESS_KEY_ID,
            "s3_secret_access_key": s3_server.SECRET_ACCESS_KEY,
            "s3_public_base_url": "/pasar-media",
        }
    )


@pytest.fixture(scope="module")
def site(bucket_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The proxy's address, with one app server standing for both app1 and app2 and the S3 stand-in for MinIO."""
    log_dir = tmp_path_factory.mktemp("proxy")
    server = ServerProcess(
        log_dir=log_dir,
        environment=app_environment(
            DATABASE_URL=bucket_settings.database_url,
            SECRET_KEY=bucket_settings.secret_key,
            RUN_SCHEDULED_JOBS="false",
            MEDIA_STORAGE="s3",
            S3_ENDPOINT_URL=str(bucket_settings.s3_endpoint_url),
            S3_BUCKET=BUCKET,
            S3_ACCESS_KEY_ID=s3_server.ACCESS_KEY_ID,
            S3_SECRET_ACCESS_KEY=s3_server.SECRET_ACCESS_KEY,
            S3_PUBLIC_BASE_URL="/pasar-media",
            TRUSTED_PROXIES="127.0.0.1",
        ),
    )
    app_address = server.start().removeprefix("http://")
    moto_address = str(bucket_settings.s3_endpoint_url).removeprefix("http://")
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy app1:8000 app2:8000" in caddyfile and "reverse_proxy minio:9000" in caddyfile
    caddyfile = caddyfile.replace("app1:8000 app2:8000", f"{app_address} {app_address}")
    caddyfile = caddyfile.replace("minio:9000", moto_address)
    config = log_dir / "Caddyfile"
    config.write_text(caddyfile)
    port = free_port()
    log = (log_dir / "caddy.log").open("wb")
    proxy = subprocess.Popen(
        ["caddy", "run", "--adapter", "caddyfile", "--config", str(config)],
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(log_dir),
            "XDG_DATA_HOME": str(log_dir / "data"),
            "XDG_CONFIG_HOME": str(log_dir / "config"),
            "SITE_ADDRESS": f"http://127.0.0.1:{port}",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(url, proxy, log_dir / "caddy.log")
        yield url
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
        log.close()
        server.stop()


def _wait_until_answering(url: str, proxy: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + PROXY_START_SECONDS
    while time.monotonic() < deadline:
        if proxy.poll() is not None:
            raise RuntimeError(f"caddy exited with {proxy.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"caddy did not answer within {PROXY_START_SECONDS} s:\n{log.read_text(errors='replace')}")


def test_a_photo_is_fetched_from_the_bucket_through_the_proxy_and_a_document_is_not(site, bucket_settings):
    storage = storage_from_settings(bucket_settings)
    photo = process_photo(jpeg_bytes()).detail.data
    photo_key = content_key("products", photo, "webp")
    document_key = content_key("certificates", b"%PDF-1.4\n%%EOF\n", "pdf")
    storage.save(photo_key, photo)
    storage.save(document_key, b"%PDF-1.4\n%%EOF\n")

    with httpx.Client(base_url=site) as browser:
        redirect = browser.get(f"/media/{photo_key}")
        fetched = browser.get(redirect.headers["location"])
        document = browser.get(f"/pasar-media/{document_key}")
        document_by_media = browser.get(f"/media/{document_key}")
        written = browser.put(f"/pasar-media/{photo_key}", content=b"not a photo")

    assert (redirect.status_code, redirect.headers["location"]) == (302, f"/pasar-media/{photo_key}")
    assert fetched.status_code == 200 and fetched.content == photo
    assert fetched.headers["cache-control"] == PUBLIC_CACHE_CONTROL
    assert fetched.headers["x-content-type-options"] == "nosniff"
    assert document.status_code == 404 and document_by_media.status_code == 404
    assert written.status_code == 404
    assert storage.read(photo_key) == photo


def test_pages_reach_the_browser_compressed_through_the_proxy(site):
    with httpx.Client(base_url=site) as browser:
        page = browser.get("/offline", headers={"Accept-Encoding": "gzip"})

    assert page.status_code == 200
    assert page.headers["content-encoding"] == "gzip"
    assert "Pasar Kawasan" in page.text


def test_readiness_and_metrics_are_not_reached_through_the_proxy(site):
    """They are asked of each app server directly (compose's health checks, the scraper); from outside, /readyz
    would let anybody make every server write to the bucket."""
    with httpx.Client(base_url=site) as browser:
        answers = [browser.get(path) for path in ("/readyz", "/metrics", "/readyz?x=1")]

    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert httpx.get(f"{site}/healthz").status_code == 200  # the load balancer's own check still passes
