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
from tests.conftest import ROOT

COMPOSE = ROOT / "docker-compose.yml"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_runs_the_app_with_postgres_redis_and_a_migration_step():
    services = compose()["services"]

    assert set(services) == {"app", "migrate", "postgres", "redis"}
    assert services["app"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "--workers" in services["app"]["command"]
    for name in ("app", "postgres", "redis"):
        assert "healthcheck" in services[name], name
    assert "/readyz" in " ".join(services["app"]["healthcheck"]["test"])


WHATSAPP = {
    "WHATSAPP_TOKEN": "EAAG-token",
    "WHATSAPP_PHONE_NUMBER_ID": "1234567890",
    "WHATSAPP_OTP_TEMPLATE": "kode_masuk",
}


def test_the_compose_environment_is_accepted_by_the_settings():
    environment = {key: str(value) for key, value in compose()["services"]["app"]["environment"].items()}
    required = {**WHATSAPP, "SECRET_KEY": "k" * 40}  # the file requires the operator to set these
    for key, value in list(environment.items()):
        if value.startswith("${"):
            environment[key] = required.get(key, "")

    settings = Settings.from_env(environment)

    assert settings.environment == "production"
    assert settings.database_url == "postgresql+asyncpg://pasar:pasar@postgres:5432/pasar"
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.secure_cookies
    assert (settings.otp_sender, settings.whatsapp_otp_language) == ("whatsapp", "id")


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
        env={**os.environ, **WHATSAPP, "SECRET_KEY": "k" * 40},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


REDIS_URL = os.environ.get("TEST_REDIS_URL")


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
