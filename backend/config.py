"""Settings read from environment variables, in one place, validated at start-up."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple
from urllib.parse import urlsplit

from pydantic import Field, IPvAnyNetwork, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'pasar.db'}"
ENVIRONMENTS = ("development", "test", "production")
# Only ever used when APP_ENV is development or test; production refuses to start without a real key.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"
# A worker's cash-on-delivery order may come to at most this many rupiah per vendor.
DEFAULT_CASH_ON_DELIVERY_LIMIT = 500_000
# The platform's own bank account shown in development when none is set, so `make run` can demonstrate bank
# transfers; never used in production or tests.
DEMO_PLATFORM_BANK = ("Bank Demo Indonesia", "0000 1234 5678", "PT Pasar Kawasan Demo")
# Seconds a request waits for a new PostgreSQL connection (asyncpg's own default is a minute).
DEFAULT_DATABASE_CONNECT_TIMEOUT = 5.0

PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
PositiveSeconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
IPNetwork = IPv4Network | IPv6Network
# S3's rules for a bucket name (no upper case, no underscores, starts and ends with a letter or digit).
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,40}")


class PlatformBank(NamedTuple):
    """Where buyers transfer money to the platform: bank transfers at checkout and invoices."""

    name: str
    account_number: str
    account_holder: str


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the environment variable."""


class Settings(BaseSettings):
    """Every setting, named after its environment variable (upper-cased; APP_ENV for `environment`).

    `Settings.from_env()` reads the environment at start-up; `Settings(...)` takes keyword arguments only, so a
    test or a script gets exactly what it passes; `settings.model_copy(update={...})` changes a few.
    """

    model_config = SettingsConfigDict(frozen=True, validate_by_name=True, str_strip_whitespace=True)

    environment: Literal["development", "test", "production"] = Field("development", validation_alias="APP_ENV")
    database_url: str = DEFAULT_DATABASE_URL
    # A request waits at most this long for a new PostgreSQL connection before it is answered "database
    # unavailable" (503); an unreachable database then never holds a buyer's phone for asyncpg's full minute.
    database_connect_timeout_seconds: PositiveSeconds = DEFAULT_DATABASE_CONNECT_TIMEOUT
    # PostgreSQL connections each worker process keeps open, and how many more it may open at a busy moment.
    # Workers x (pool size + overflow) must stay below the server's max_connections (100 by default): past it
    # PostgreSQL refuses new connections and requests are answered "database unavailable" (503).
    database_pool_size: PositiveInt = 10
    database_max_overflow: NonNegativeInt = 10
    secret_key: str = DEVELOPMENT_SECRET_KEY
    redis_url: str | None = None
    media_dir: Path = DEFAULT_DATA_DIR / "media"
    # Where uploaded photos and documents are kept: "local" (files under MEDIA_DIR, one machine) or "s3" (the
    # S3-compatible bucket below, shared by every app server and the worker).
    media_storage: Literal["local", "s3"] = "local"
    # The bucket's server: unset for AWS S3 itself, else its address (MinIO: http://minio:9000).
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_region: str = "us-east-1"
    # Both or neither: unset, boto3 finds credentials its own way (an AWS instance role, AWS_* variables).
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    # Where browsers may fetch the public photos (products/, vendors/) straight from the bucket or a CDN in front of
    # it: an address such as https://media.pasarkawasan.id, or a path such as /pasar-media that the reverse proxy
    # sends to the bucket (docker-compose.yml does). /media/<key> then redirects there. Unset, the app reads photos
    # from the bucket and serves them itself. Private documents are always served through the app.
    s3_public_base_url: str | None = None
    stripe_secret_key: str | None = None
    stripe_publishable_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    # Card payments go to the local stand-in for Stripe (backend.payments.demo_stripe) that `python -m backend
    # serve` starts in development when no Stripe key is set: pages label them "Demo". Refused in production.
    stripe_demo: bool = False
    # Each call to Stripe gives up after this many seconds (the SDK then retries twice): a buyer waits at most
    # about three times this long before being told that card payment is unavailable.
    stripe_timeout_seconds: PositiveSeconds = 10.0
    # QRIS and virtual accounts through Xendit (backend.payments.gateway): offered only when both the secret key
    # and the callback token (the X-CALLBACK-TOKEN Xendit sends with each callback, from its dashboard) are set.
    # XENDIT_API_BASE points the SDK elsewhere (the tests' stand-in); unset, Xendit's own address.
    xendit_secret_key: str | None = None
    xendit_callback_token: str | None = None
    xendit_api_base: str | None = None
    # The bank a canteen's virtual account is opened at (Xendit's channel code: BNI, BRI, MANDIRI, PERMATA, ...).
    xendit_va_bank: str = "BNI"
    # QRIS and virtual accounts go to the local stand-in for Xendit (backend.payments.demo_xendit) that `python -m
    # backend serve` starts in development when no Xendit key is set: pages label them "Demo" and offer a button
    # that makes the stand-in pay and send its callback. Refused in production.
    xendit_demo: bool = False
    xendit_timeout_seconds: PositiveSeconds = 10.0
    session_max_age_seconds: PositiveInt = 14 * 24 * 3600
    # Wrong passwords counted within LOGIN_WINDOW_SECONDS. One address guessing one account is stopped soon; one
    # address guessing many accounts later; an account guessed at from everywhere only at a high ceiling, so no
    # stranger can lock an owner out from an address of their own (and the owner can always log in by code).
    login_failures_per_account_and_address: PositiveInt = 5
    login_failures_per_ip: PositiveInt = 30
    login_failures_per_account: PositiveInt = 100
    login_window_seconds: PositiveInt = 15 * 60
    api_rate_limit_per_minute: PositiveInt = 600
    # How one-time codes reach a phone: "whatsapp" (WhatsApp Cloud API, an approved authentication template) or
    # "log" (printed to the app's log, for development and tests). Unset: whatsapp in production, log elsewhere.
    otp_sender: Literal["log", "whatsapp"] = Field(None, validate_default=True)
    whatsapp_token: str | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_otp_template: str | None = None
    whatsapp_otp_language: str = "id"
    whatsapp_api_base: str = "https://graph.facebook.com/v21.0"
    whatsapp_timeout_seconds: PositiveSeconds = 10.0
    # Orders by WhatsApp (backend.whatsapp): with WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID, the app's secret
    # (Meta signs each webhook delivery with it: X-Hub-Signature-256) and the token Meta echoes when the webhook is
    # registered. All four set: vendors may link their number and run their orders from WhatsApp; unset, the
    # click-to-chat links stay the only WhatsApp there is.
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None
    # Messages sent from the business number in one second, across every worker (counted in Redis when there is
    # one); the Cloud API's own throughput is higher, this keeps us well inside it.
    whatsapp_messages_per_second: PositiveInt = 20
    # Codes that one address may have sent in an hour, to any numbers (a training class signing up together shares
    # one address; a stranger asking for codes to number after number is stopped).
    otp_codes_per_address_per_hour: PositiveInt = 30
    # The reverse proxies in front of the app (IP addresses or CIDR networks, comma-separated). Only a request
    # from one of them may name its client in X-Forwarded-For; by default none may, so nobody can choose the
    # address the login throttle and the rate limit count by sending the header.
    trusted_proxies: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = ()
    # The address people open the site at (https://pasarkawasan.id). An unsafe page request whose Origin is any
    # other is refused as cross-site; unset, the request's own Host stands in for it.
    public_base_url: str | None = None
    # argon2id cost: "standard" is RFC 9106's low-memory profile; "fast" exists for the test suite only.
    password_hash_profile: Literal["standard", "fast"] = "standard"
    # Whether the web process runs the background jobs itself. Default: yes without REDIS_URL (the embedded
    # default, one process), no with it (`python -m backend worker` runs them from the queue); never in tests,
    # which run them by hand. Set true with REDIS_URL to run a queue worker inside the web process too.
    run_scheduled_jobs: bool = Field(None, validate_default=True)
    # A card order not paid within this many minutes is cancelled and its capacity or stock released.
    payment_window_minutes: PositiveInt = 30
    # The platform's bank account that buyers transfer to (checkout's bank transfer, invoices): all three or none.
    # Bank transfer is offered only once they are set; development shows a demo account when they are not.
    platform_bank_name: str | None = None
    platform_bank_account_number: str | None = None
    platform_bank_account_holder: str | None = None
    # Cash on delivery is refused for a vendor's order above this many rupiah (the vendor carries the risk).
    cash_on_delivery_limit: PositiveInt = DEFAULT_CASH_ON_DELIVERY_LIMIT
    # Web Push (VAPID): the application server's key pair (base64url, as `vapid --gen` prints them) and a contact.
    vapid_public_key: str | None = None
    vapid_private_key: str | None = None
    vapid_subject: str = "mailto:operator@pasarkawasan.id"
    # Log lines: "json" (one object a line, for a log collector) or "text" (readable); unset, json in production.
    log_format: Literal["json", "text"] = Field(None, validate_default=True)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Who may read /metrics: a scraper sending `Authorization: Bearer <METRICS_TOKEN>`, or one connecting from
    # METRICS_NETWORKS (the client address as backend.client_address finds it, so a request passed on by a trusted
    # proxy counts as its real client's). With neither set, /metrics answers 404.
    metrics_token: str | None = None
    metrics_networks: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = ()

    @property
    def gateway_enabled(self) -> bool:
        """QRIS and virtual accounts are offered: Xendit's key and callback token are both set."""
        return bool(self.xendit_secret_key and self.xendit_callback_token)

    @property
    def web_push_enabled(self) -> bool:
        return bool(self.vapid_public_key and self.vapid_private_key)

    @property
    def whatsapp_orders_enabled(self) -> bool:
        """Whether vendors may link a WhatsApp number and take orders there (every WhatsApp Business setting set)."""
        return bool(
            self.whatsapp_token
            and self.whatsapp_phone_number_id
            and self.whatsapp_app_secret
            and self.whatsapp_verify_token
        )

    @property
    def platform_bank(self) -> PlatformBank | None:
        """The account buyers transfer to; None while it is not set (then bank transfer is not offered)."""
        given = (self.platform_bank_name, self.platform_bank_account_number, self.platform_bank_account_holder)
        if all(given):
            return PlatformBank(*given)  # type: ignore[arg-type]
        return PlatformBank(*DEMO_PLATFORM_BANK) if self.is_development and not any(given) else None

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry the Secure flag everywhere but on a developer's or test machine (plain http)."""
        return self.environment == "production"

    @property
    def database_is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings of this process (or of `environ`); a bad value raises ConfigError naming the variable."""
        variables = _EnvironmentVariables(cls, os.environ if environ is None else environ)
        try:
            return cls(**variables())
        except ValidationError as error:
            raise ConfigError("; ".join(_explain(detail) for detail in error.errors())) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Keyword arguments only: the environment is read once, by from_env(), so a test's Settings(...) never
        # picks up a developer's exported DATABASE_URL or REDIS_URL.
        return (init_settings,)

    @field_validator("environment", "media_storage", mode="before")
    @classmethod
    def _lower_case_environment(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _async_database_url(cls, value: str) -> str:
        return _database_url(value)

    @field_validator("secret_key")
    @classmethod
    def _long_secret_key(cls, value: str) -> str:
        if len(value) < 32:
            raise ValueError("must be at least 32 characters long")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _json_logs_in_production(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return "json" if info.data.get("environment") == "production" else "text"
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("metrics_token")
    @classmethod
    def _long_metrics_token(cls, value: str | None) -> str | None:
        if value and len(value) < 24:
            raise ValueError("must be at least 24 characters long (anybody may try to guess it)")
        return value or None

    @field_validator("metrics_networks", mode="before")
    @classmethod
    def _comma_separated_networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [item.strip() for item in value.split(",") if item.strip()]
        if isinstance(value, list | tuple) and "*" in value:
            raise ValueError("cannot be *: list the networks Prometheus scrapes from")
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [item.strip() for item in value.split(",") if item.strip()]
        if isinstance(value, list | tuple) and "*" in value:
            raise ValueError(
                "cannot be *: anybody could then choose the address they are counted under; "
                "list the proxies' addresses or networks"
            )
        return value

    @field_validator("public_base_url")
    @classmethod
    def _origin_only(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") or parts.query:
            raise ValueError("must be the site's address such as https://pasarkawasan.id (no path)")
        return f"{parts.scheme}://{parts.netloc}"

    @field_validator("s3_endpoint_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("must be an http:// or https:// address such as http://minio:9000")
        return value.rstrip("/")

    @field_validator("s3_public_base_url")
    @classmethod
    def _public_media_address(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        same_site_path = not parts.scheme and not parts.netloc and value.startswith("/") and len(value) > 1
        absolute = parts.scheme in ("http", "https") and bool(parts.hostname)
        if not (same_site_path or absolute) or parts.query or parts.fragment:
            raise ValueError(
                "must be an http:// or https:// address such as https://media.pasarkawasan.id, or a path on the "
                "site's own address that the reverse proxy sends to the bucket, such as /pasar-media"
            )
        return value.rstrip("/")

    @field_validator("s3_bucket")
    @classmethod
    def _bucket_name(cls, value: str | None) -> str | None:
        if value and not _BUCKET_NAME.fullmatch(value):
            raise ValueError(
                f"must be a bucket name (3 to 63 lower-case letters, digits, dots and hyphens), not {value!r}"
            )
        return value or None

    @field_validator("s3_region")
    @classmethod
    def _region_name(cls, value: str) -> str:
        if not _REGION_NAME.fullmatch(value):
            raise ValueError(f"must be a region name such as us-east-1 or ap-southeast-3, not {value!r}")
        return value

    @field_validator("stripe_secret_key")
    @classmethod
    def _stripe_secret_key(cls, value: str | None) -> str | None:
        if value and not value.startswith(("sk_", "rk_")):
            raise ValueError("must start with sk_ or rk_")
        return value

    @field_validator("stripe_webhook_secret")
    @classmethod
    def _stripe_webhook_secret(cls, value: str | None) -> str | None:
        if value and not value.startswith("whsec_"):
            raise ValueError("must start with whsec_")
        return value

    @field_validator("run_scheduled_jobs", mode="before")
    @classmethod
    def _jobs_run_outside_tests(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return info.data.get("environment") != "test" and not info.data.get("redis_url")
        return value

    @field_validator("otp_sender", mode="before")
    @classmethod
    def _whatsapp_in_production(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return "whatsapp" if info.data.get("environment") == "production" else "log"
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("whatsapp_api_base")
    @classmethod
    def _whatsapp_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("vapid_private_key")
    @classmethod
    def _usable_vapid_private_key(cls, value: str | None) -> str | None:
        if value:
            _check_vapid_private_key(value)
        return value

    @field_validator("vapid_subject")
    @classmethod
    def _vapid_contact(cls, value: str) -> str:
        if not value.startswith(("mailto:", "https://")):
            raise ValueError("must start with mailto: or https://")
        return value

    @model_validator(mode="after")
    def _production_and_pairs(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEVELOPMENT_SECRET_KEY:
            raise ValueError("SECRET_KEY must be set in production (at least 32 characters)")
        if self.environment == "production" and self.stripe_demo:
            raise ValueError("STRIPE_DEMO is not allowed in production: card payments must go to Stripe")
        if self.environment == "production" and self.xendit_demo:
            raise ValueError("XENDIT_DEMO is not allowed in production: QRIS and virtual accounts must go to Xendit")
        if self.environment == "production" and self.password_hash_profile == "fast":
            raise ValueError("PASSWORD_HASH_PROFILE=fast is not allowed in production")
        if self.environment == "production" and self.otp_sender == "log":
            raise ValueError("OTP_SENDER=log is not allowed in production: codes must reach the phone (whatsapp)")
        if self.otp_sender == "whatsapp":
            missing = [
                name
                for name, value in (
                    ("WHATSAPP_TOKEN", self.whatsapp_token),
                    ("WHATSAPP_PHONE_NUMBER_ID", self.whatsapp_phone_number_id),
                    ("WHATSAPP_OTP_TEMPLATE", self.whatsapp_otp_template),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"{', '.join(missing)} must be set to send one-time codes by WhatsApp")
        if (self.whatsapp_app_secret or self.whatsapp_verify_token) and not self.whatsapp_orders_enabled:
            raise ValueError(
                "WHATSAPP_TOKEN, WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN must be set "
                "together for orders by WhatsApp"
            )
        bank = (self.platform_bank_name, self.platform_bank_account_number, self.platform_bank_account_holder)
        if any(bank) and not all(bank):
            raise ValueError(
                "PLATFORM_BANK_NAME, PLATFORM_BANK_ACCOUNT_NUMBER and PLATFORM_BANK_ACCOUNT_HOLDER must be set together"
            )
        if bool(self.vapid_public_key) != bool(self.vapid_private_key):
            raise ValueError("VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY must be set together")
        if self.media_storage == "s3" and not self.s3_bucket:
            raise ValueError("S3_BUCKET must be set when MEDIA_STORAGE is s3")
        if bool(self.s3_access_key_id) != bool(self.s3_secret_access_key):
            raise ValueError("S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together")
        return self


class _EnvironmentVariables(EnvSettingsSource):
    """pydantic-settings' own reading of environment variables, from a given mapping (os.environ, or a test's
    dict). A variable set to blanks counts as unset, as docker-compose's `${STRIPE_SECRET_KEY:-}` leaves it."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)
        # Keyword arguments may use field names (`environment=`), but only APP_ENV names the environment in the
        # environment: a stray ENVIRONMENT variable, which many platforms set, must not switch it.
        self.config = {**self.config, "validate_by_name": False}

    def _load_env_vars(self) -> Mapping[str, str | None]:
        set_ones = {name: value for name, value in self._environ.items() if value.strip()}
        return parse_env_vars(set_ones, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


# What pydantic's own checks mean, said the way an operator reads it after the variable's name.
_REASONS = {
    "int_parsing": "must be a whole number, not {input!r}",
    "float_parsing": "must be a number, not {input!r}",
    "finite_number": "must be a positive number",
    "greater_than": "must be greater than zero",
    "bool_parsing": "must be true or false, not {input!r}",
    "literal_error": "must be {expected}, not {input!r}",
    "ip_any_network": "must list IP addresses or networks such as 10.0.0.0/8, not {input!r}",
}


def _explain(detail: Any) -> str:
    """One failed check as "VARIABLE must ..."; a ConfigError from a helper already names its variable."""
    name = str(detail["loc"][0]).upper() if detail["loc"] else ""
    if detail["type"] == "value_error":
        error = detail["ctx"]["error"]
        if isinstance(error, ConfigError):
            return str(error)
        reason = str(error)
    else:
        reason = _REASONS.get(detail["type"], detail["msg"]).format(input=detail["input"], **detail.get("ctx", {}))
    return f"{name} {reason}" if name else reason


def _check_vapid_private_key(key: str) -> None:
    """A key the push job cannot sign with would fail every send: refuse it at start-up instead."""
    from py_vapid import Vapid

    try:
        Vapid.from_string(private_key=key)
    except Exception:  # noqa: BLE001  (py_vapid raises several kinds for a malformed key)
        raise ConfigError("VAPID_PRIVATE_KEY is not a valid VAPID private key (base64url or PEM)") from None


def _database_url(url: str) -> str:
    """Accept the usual spellings and pick the async driver; refuse anything else by name."""
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
    elif url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    if not url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite:///")):
        raise ConfigError("DATABASE_URL must be a postgresql:// or sqlite:/// URL")
    return url
