"""Settings come from the environment; a bad value stops start-up and names the variable."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from backend.app import create_app
from backend.config import DEFAULT_DATABASE_URL, DEMO_PLATFORM_BANK, ConfigError, Settings
from tests.conftest import ROOT


def test_defaults_run_the_embedded_demo():
    settings = Settings.from_env({})
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.redis_url is None
    assert settings.secure_cookies is False


def test_common_database_url_spellings_get_the_async_driver():
    assert Settings.from_env({"DATABASE_URL": "postgresql://u@db:5432/pasar"}).database_url == (
        "postgresql+asyncpg://u@db:5432/pasar"
    )
    assert Settings.from_env({"DATABASE_URL": "postgres://u@db/pasar"}).database_url.startswith("postgresql+asyncpg")
    assert Settings.from_env({"DATABASE_URL": "sqlite:///tmp/x.db"}).database_url == "sqlite+aiosqlite:///tmp/x.db"


async def test_each_worker_opens_at_most_the_connections_it_is_given():
    settings = Settings.from_env(
        {"DATABASE_URL": "postgresql://u@db:5432/pasar", "DATABASE_POOL_SIZE": "4", "DATABASE_MAX_OVERFLOW": "2"}
    )
    database = create_app(settings).state.database
    try:
        pool = database.engine.pool
        assert (pool.size(), pool._max_overflow) == (4, 2)
    finally:
        await database.dispose()


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"DATABASE_URL": "mysql://root@localhost/pasar"}, "DATABASE_URL"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"APP_ENV": "production"}, "SECRET_KEY"),
        ({"APP_ENV": "staging"}, "APP_ENV"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({"DATABASE_POOL_SIZE": "0"}, "DATABASE_POOL_SIZE"),
        ({"DATABASE_MAX_OVERFLOW": "-1"}, "DATABASE_MAX_OVERFLOW"),
        ({"STRIPE_SECRET_KEY": "pk_test_123"}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_WEBHOOK_SECRET": "abc"}, "STRIPE_WEBHOOK_SECRET"),
        ({"STRIPE_TIMEOUT_SECONDS": "sepuluh"}, "STRIPE_TIMEOUT_SECONDS"),
        ({"STRIPE_TIMEOUT_SECONDS": "0"}, "STRIPE_TIMEOUT_SECONDS"),
        ({"DATABASE_CONNECT_TIMEOUT_SECONDS": "-1"}, "DATABASE_CONNECT_TIMEOUT_SECONDS"),
        ({"LOGIN_FAILURES_PER_ACCOUNT": "lima"}, "LOGIN_FAILURES_PER_ACCOUNT"),
        ({"LOGIN_WINDOW_SECONDS": "0"}, "LOGIN_WINDOW_SECONDS"),
        ({"APP_ENV": "production", "SECRET_KEY": "x" * 40, "PASSWORD_HASH_PROFILE": "fast"}, "PASSWORD_HASH_PROFILE"),
        ({"VAPID_PUBLIC_KEY": "BExample"}, "VAPID_PUBLIC_KEY"),
        ({"VAPID_PUBLIC_KEY": "BExample", "VAPID_PRIVATE_KEY": "not-a-key"}, "VAPID_PRIVATE_KEY"),
        ({"VAPID_SUBJECT": "operator@pasarkawasan.id"}, "VAPID_SUBJECT"),
        ({"PAYMENT_WINDOW_MINUTES": "setengah jam"}, "PAYMENT_WINDOW_MINUTES"),
        ({"CASH_ON_DELIVERY_LIMIT": "lima ratus ribu"}, "CASH_ON_DELIVERY_LIMIT"),
        ({"CASH_ON_DELIVERY_LIMIT": "0"}, "CASH_ON_DELIVERY_LIMIT"),
        ({"TRUSTED_PROXIES": "nginx"}, "TRUSTED_PROXIES"),
        ({"TRUSTED_PROXIES": "10.0.0.1/8"}, "TRUSTED_PROXIES"),
        ({"TRUSTED_PROXIES": "*"}, "TRUSTED_PROXIES"),
        ({"MEDIA_STORAGE": "minio"}, "MEDIA_STORAGE"),
        ({"MEDIA_STORAGE": "s3"}, "S3_BUCKET"),
        ({"S3_BUCKET": "Pasar_Media"}, "S3_BUCKET"),
        ({"S3_ENDPOINT_URL": "minio:9000"}, "S3_ENDPOINT_URL"),
        ({"S3_PUBLIC_BASE_URL": "media.pasarkawasan.id"}, "S3_PUBLIC_BASE_URL"),
        ({"S3_PUBLIC_BASE_URL": "//media.pasarkawasan.id"}, "S3_PUBLIC_BASE_URL"),
        ({"S3_PUBLIC_BASE_URL": "ftp://media.pasarkawasan.id"}, "S3_PUBLIC_BASE_URL"),
        ({"S3_REGION": "Jakarta 1"}, "S3_REGION"),
        ({"S3_BUCKET": "pasar-media", "S3_ACCESS_KEY_ID": "pasar"}, "S3_SECRET_ACCESS_KEY"),
    ],
)
def test_a_bad_setting_is_refused_by_name(environ, named):
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(environ)


def test_the_cash_on_delivery_limit_is_whole_rupiah_with_a_default():
    assert Settings.from_env({}).cash_on_delivery_limit == 500_000
    assert Settings.from_env({"CASH_ON_DELIVERY_LIMIT": "250000"}).cash_on_delivery_limit == 250_000


def test_no_proxy_is_trusted_unless_listed():
    assert Settings.from_env({}).trusted_proxies == ()
    listed = Settings.from_env({"TRUSTED_PROXIES": " 127.0.0.1, 10.0.0.0/8,fd00::/8 "}).trusted_proxies
    assert [str(network) for network in listed] == ["127.0.0.1/32", "10.0.0.0/8", "fd00::/8"]


def test_the_operator_is_told_what_a_trusted_proxy_looks_like():
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"TRUSTED_PROXIES": "10.0.0.2, nginx"})
    assert str(refused.value) == "TRUSTED_PROXIES must list IP addresses or networks such as 10.0.0.0/8, not 'nginx'"


def test_media_stay_on_the_local_disk_unless_object_storage_is_chosen():
    assert Settings.from_env({}).media_storage == "local"
    settings = Settings.from_env(
        {
            "MEDIA_STORAGE": "S3",
            "S3_ENDPOINT_URL": "http://minio:9000/",
            "S3_BUCKET": "pasar-media",
            "S3_ACCESS_KEY_ID": "pasar",
            "S3_SECRET_ACCESS_KEY": "rahasia-minio",
            "S3_PUBLIC_BASE_URL": "https://media.pasarkawasan.id/",
        }
    )
    assert (settings.media_storage, settings.s3_bucket, settings.s3_region) == ("s3", "pasar-media", "us-east-1")
    assert settings.s3_endpoint_url == "http://minio:9000"
    assert settings.s3_public_base_url == "https://media.pasarkawasan.id"
    assert Settings.from_env({"S3_PUBLIC_BASE_URL": "/pasar-media/"}).s3_public_base_url == "/pasar-media"


def test_the_operator_is_told_what_a_bucket_name_looks_like():
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"MEDIA_STORAGE": "s3", "S3_BUCKET": "Pasar_Media"})
    assert str(refused.value) == (
        "S3_BUCKET must be a bucket name (3 to 63 lower-case letters, digits, dots and hyphens), not 'Pasar_Media'"
    )


PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "s" * 40,
    "WHATSAPP_TOKEN": "EAAG-token",
    "WHATSAPP_PHONE_NUMBER_ID": "1234567890",
    "WHATSAPP_OTP_TEMPLATE": "kode_masuk",
}


def test_production_marks_cookies_secure():
    settings = Settings.from_env(PRODUCTION)
    assert settings.secure_cookies is True


def test_production_sends_codes_by_whatsapp_and_refuses_to_start_without_it():
    assert Settings.from_env(PRODUCTION).otp_sender == "whatsapp"
    assert Settings.from_env({}).otp_sender == "log"
    with pytest.raises(ConfigError, match="OTP_SENDER=log is not allowed in production"):
        Settings.from_env({**PRODUCTION, "OTP_SENDER": "log"})
    with pytest.raises(ConfigError, match="WHATSAPP_TOKEN, WHATSAPP_OTP_TEMPLATE must be set"):
        Settings.from_env({**PRODUCTION, "WHATSAPP_TOKEN": "", "WHATSAPP_OTP_TEMPLATE": " "})
    with pytest.raises(ConfigError, match="OTP_SENDER"):
        Settings.from_env({"OTP_SENDER": "sms"})


def test_the_platforms_bank_account_is_set_whole_with_a_demo_one_in_development_only():
    bank = {
        "PLATFORM_BANK_NAME": "Bank Rakyat Indonesia",
        "PLATFORM_BANK_ACCOUNT_NUMBER": "0123-01-000456-30-1",
        "PLATFORM_BANK_ACCOUNT_HOLDER": "PT Pasar Kawasan Indonesia",
    }
    assert Settings.from_env({**PRODUCTION, **bank}).platform_bank == tuple(bank.values())
    assert Settings.from_env(PRODUCTION).platform_bank is None  # no bank transfer until it is set
    assert Settings.from_env({"APP_ENV": "test"}).platform_bank is None
    assert Settings.from_env({}).platform_bank == DEMO_PLATFORM_BANK  # `make run`
    with pytest.raises(ConfigError, match="PLATFORM_BANK_NAME, PLATFORM_BANK_ACCOUNT_NUMBER and"):
        Settings.from_env({**PRODUCTION, "PLATFORM_BANK_NAME": "Bank Rakyat Indonesia"})


def test_the_demo_stand_in_for_stripe_is_refused_in_production():
    assert Settings.from_env({"STRIPE_DEMO": "true"}).stripe_demo
    with pytest.raises(ConfigError, match="STRIPE_DEMO is not allowed in production"):
        Settings.from_env({**PRODUCTION, "STRIPE_DEMO": "true"})


def test_the_demo_stand_in_for_xendit_is_refused_in_production():
    assert Settings.from_env({"XENDIT_DEMO": "true"}).xendit_demo
    with pytest.raises(ConfigError, match="XENDIT_DEMO is not allowed in production"):
        Settings.from_env({**PRODUCTION, "XENDIT_DEMO": "true"})


def test_the_app_refuses_to_start_with_a_bad_setting_and_says_which():
    result = subprocess.run(
        [sys.executable, "-c", "import backend.asgi"],
        cwd=ROOT,
        env={"DATABASE_URL": "mysql://nope", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_the_operator_is_told_what_is_wrong_with_the_value():
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"LOGIN_FAILURES_PER_ACCOUNT": "lima"})
    assert str(refused.value) == "LOGIN_FAILURES_PER_ACCOUNT must be a whole number, not 'lima'"


def test_every_bad_setting_is_named_at_once():
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"REDIS_URL": "localhost:6379", "LOGIN_WINDOW_SECONDS": "0", "RUN_SCHEDULED_JOBS": "maybe"})
    assert {"REDIS_URL", "LOGIN_WINDOW_SECONDS", "RUN_SCHEDULED_JOBS"} <= set(
        str(refused.value).replace(";", "").split()
    )


def test_the_process_environment_is_read_at_start_up(monkeypatch):
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("LOGIN_WINDOW_SECONDS", " 600 ")
    monkeypatch.setenv("STRIPE_SECRET_KEY", "")  # docker-compose's ${STRIPE_SECRET_KEY:-}: unset

    settings = Settings.from_env()

    assert (settings.environment, settings.login_window_seconds, settings.stripe_secret_key) == ("test", 600, None)
    assert settings.run_scheduled_jobs is False  # tests run the jobs by hand


def test_the_web_process_runs_the_jobs_itself_only_without_redis():
    assert Settings.from_env({}).run_scheduled_jobs is True  # make run: one process does everything
    # With Redis, `python -m backend worker` runs them and the web processes only enqueue.
    assert Settings.from_env({"REDIS_URL": "redis://127.0.0.1:6379/0"}).run_scheduled_jobs is False
    assert Settings.from_env({"REDIS_URL": "redis://r:6379/0", "RUN_SCHEDULED_JOBS": "true"}).run_scheduled_jobs


def test_only_app_env_names_the_environment(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")  # set by many hosting platforms for their own purposes
    assert Settings.from_env().environment == "development"
    assert Settings.from_env({"APP_ENV": " Test "}).environment == "test"


def test_settings_built_in_code_take_nothing_from_the_environment(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@db/pasar")

    settings = Settings(environment="test", media_dir=ROOT / "var" / "media")

    assert settings.redis_url is None
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.run_scheduled_jobs is False


def test_settings_are_frozen_and_copied_with_changes():
    settings = Settings(environment="test")
    stricter = settings.model_copy(update={"login_failures_per_ip": 4})

    assert (settings.login_failures_per_ip, stricter.login_failures_per_ip) == (30, 4)
    with pytest.raises(ValidationError, match="Instance is frozen"):
        settings.login_failures_per_ip = 1  # type: ignore[misc]  # the assignment this test expects to be refused
