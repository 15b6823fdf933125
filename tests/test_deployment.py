"""docker-compose.yml stays consistent with the app (it cannot be run here), and Redis shares rate limits."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.config import ConfigError, Settings
from tests.app_process import redis_url_for_this_process
from tests.conftest import ROOT

COMPOSE = ROOT / "docker-compose.yml"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_runs_two_app_servers_behind_a_proxy_a_worker_and_the_services_they_share():
    services = compose()["services"]

    assert set(services) == {
        "proxy",
        "app1",
        "app2",
        "worker",
        "migrate",
        "postgres",
        "redis",
        "minio",
        "create-bucket",
    }
    for name in ("app1", "app2", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
        assert services[name]["depends_on"]["create-bucket"]["condition"] == "service_completed_successfully", name
        assert services[name]["build"]["dockerfile"] == "backend/Dockerfile", name  # `up` works from a clone
        assert services[name]["environment"] == services["app1"]["environment"], name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["create-bucket"]["depends_on"]["minio"]["condition"] == "service_healthy"
    assert services["worker"]["command"] == ["python", "-m", "backend", "worker"]
    for name in ("app1", "app2"):
        assert "--workers" in services[name]["command"]
        assert "/readyz" in " ".join(services[name]["healthcheck"]["test"])
        assert services["proxy"]["depends_on"][name]["condition"] == "service_healthy"
        assert "ports" not in services[name], "the app servers are reached through the proxy only"
    for name in ("proxy", "app1", "app2", "postgres", "redis", "minio"):
        assert "healthcheck" in services[name], name


def test_only_the_proxy_may_name_the_client_and_it_forwards_to_both_app_servers():
    document = compose()
    services = document["services"]
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    trusted = services["app1"]["environment"]["TRUSTED_PROXIES"]

    assert services["proxy"]["networks"] == ["edge"]
    assert document["networks"]["edge"]["ipam"]["config"] == [{"subnet": trusted}]
    assert {"./deploy/Caddyfile:/etc/caddy/Caddyfile:ro"} <= set(services["proxy"]["volumes"])
    assert "reverse_proxy app1:8000 app2:8000" in caddyfile
    assert "encode zstd gzip" in caddyfile
    # The proxy lets browsers read the public photos from MinIO, under the path the app redirects them to.
    public_path = services["app1"]["environment"]["S3_PUBLIC_BASE_URL"].split(":-", 1)[1].rstrip("}")
    assert f"path {public_path}/products/* {public_path}/vendors/*" in caddyfile
    bucket_setup = " ".join(services["create-bucket"]["command"])
    assert "mc anonymous set download local/pasar-media/products;" in bucket_setup
    assert "mc anonymous set download local/pasar-media/vendors;" in bucket_setup


@pytest.mark.skipif(shutil.which("caddy") is None, reason="caddy is not installed")
def test_caddy_accepts_the_proxys_configuration():
    result = subprocess.run(
        ["caddy", "validate", "--adapter", "caddyfile", "--config", str(ROOT / "deploy" / "Caddyfile")],
        capture_output=True,
        text=True,
        env={**os.environ, "SITE_ADDRESS": ":80"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


WHATSAPP = {
    "WHATSAPP_TOKEN": "EAAG-token",
    "WHATSAPP_PHONE_NUMBER_ID": "1234567890",
    "WHATSAPP_OTP_TEMPLATE": "kode_masuk",
}
# What the file requires the operator to set.
REQUIRED = {
    **WHATSAPP,
    "SECRET_KEY": "k" * 40,
    "MINIO_ROOT_PASSWORD": "rahasia-minio",
    "S3_SECRET_ACCESS_KEY": "rahasia-aplikasi",
}


def test_the_compose_environment_is_accepted_by_the_settings():
    environment = {key: str(value) for key, value in compose()["services"]["app1"]["environment"].items()}
    for key, value in list(environment.items()):
        if value.startswith("${"):
            # What the operator must set, else the file's own default ("${NAME:-default}"), else nothing.
            default = value.removeprefix("${").removesuffix("}").partition(":-")[2]
            environment[key] = REQUIRED.get(key, default)

    settings = Settings.from_env(environment)

    assert settings.environment == "production"
    assert settings.database_url == "postgresql+asyncpg://pasar:pasar@postgres:5432/pasar"
    assert settings.redis_url == "redis://redis:6379/0"
    # The app servers run no background job: the worker does, from the queue in Redis (same settings).
    assert settings.run_scheduled_jobs is False
    assert settings.secure_cookies
    assert (settings.otp_sender, settings.whatsapp_otp_language) == ("whatsapp", "id")
    assert (settings.media_storage, settings.s3_endpoint_url, settings.s3_bucket) == (
        "s3",
        "http://minio:9000",
        "pasar-media",
    )
    assert settings.s3_public_base_url == "/pasar-media"
    assert [str(network) for network in settings.trusted_proxies] == ["172.30.0.0/24"]


def test_compose_refuses_to_start_without_a_secret_key():
    assert "${SECRET_KEY:?" in COMPOSE.read_text()
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env({"APP_ENV": "production"})


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose (v1) is not installed")
def test_docker_compose_validates_the_file():
    result = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        env={**os.environ, **REQUIRED},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


REDIS_URL = redis_url_for_this_process()


@pytest.mark.one_database
@pytest.mark.xdist_group("redis")  # empties the test Redis: alone with the other tests that use it
@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
async def test_two_workers_share_one_rate_limit_through_redis(settings, database):
    import redis.asyncio as redis

    assert REDIS_URL is not None  # skipped otherwise
    client = redis.from_url(REDIS_URL)
    await client.flushdb()
    await client.aclose()
    shared = settings.model_copy(update={"redis_url": REDIS_URL, "api_rate_limit_per_minute": 3})

    async with AsyncTestClient(create_app(shared)) as first, AsyncTestClient(create_app(shared)) as second:
        statuses = [
            (await first.get("/api/v1/zones")).status_code,
            (await second.get("/api/v1/zones")).status_code,
            (await first.get("/api/v1/zones")).status_code,
            (await second.get("/api/v1/zones")).status_code,
        ]

    assert statuses == [200, 200, 200, 429]
