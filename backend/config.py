"""Settings read from environment variables, in one place, validated at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'pasar.db'}"
ENVIRONMENTS = ("development", "test", "production")
# Only ever used when APP_ENV is development or test; production refuses to start without a real key.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"
# A worker's cash-on-delivery order may come to at most this many rupiah per vendor.
DEFAULT_CASH_ON_DELIVERY_LIMIT = 500_000
# Seconds a request waits for a new PostgreSQL connection (asyncpg's own default is a minute).
DEFAULT_DATABASE_CONNECT_TIMEOUT = 5.0


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the environment variable."""


@dataclass(frozen=True)
class Settings:
    environment: str = "development"
    database_url: str = DEFAULT_DATABASE_URL
    # A request waits at most this long for a new PostgreSQL connection before it is answered "database
    # unavailable" (503); an unreachable database then never holds a buyer's phone for asyncpg's full minute.
    database_connect_timeout_seconds: float = DEFAULT_DATABASE_CONNECT_TIMEOUT
    secret_key: str = DEVELOPMENT_SECRET_KEY
    redis_url: str | None = None
    media_dir: Path = DEFAULT_DATA_DIR / "media"
    stripe_secret_key: str | None = None
    stripe_publishable_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    # Each call to Stripe gives up after this many seconds (the SDK then retries twice): a buyer waits at most
    # about three times this long before being told that card payment is unavailable.
    stripe_timeout_seconds: float = 10.0
    session_max_age_seconds: int = 14 * 24 * 3600
    login_failures_per_account: int = 5
    login_failures_per_ip: int = 30
    login_window_seconds: int = 15 * 60
    api_rate_limit_per_minute: int = 600
    # argon2id cost: "standard" is RFC 9106's low-memory profile; "fast" exists for the test suite only.
    password_hash_profile: str = "standard"
    trusted_hosts: tuple[str, ...] = field(default_factory=lambda: ("*",))
    # The daily certificate expiry job runs inside each worker (it is idempotent); tests run it by hand.
    run_scheduled_jobs: bool = True
    # A card order not paid within this many minutes is cancelled and its capacity or stock released.
    payment_window_minutes: int = 30
    # Cash on delivery is refused for a vendor's order above this many rupiah (the vendor carries the risk).
    cash_on_delivery_limit: int = DEFAULT_CASH_ON_DELIVERY_LIMIT
    # Web Push (VAPID): the application server's key pair (base64url, as `vapid --gen` prints them) and a contact.
    vapid_public_key: str | None = None
    vapid_private_key: str | None = None
    vapid_subject: str = "mailto:operator@pasarkawasan.id"

    @property
    def web_push_enabled(self) -> bool:
        return bool(self.vapid_public_key and self.vapid_private_key)

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
        env = os.environ if environ is None else environ
        environment = env.get("APP_ENV", "development").strip().lower()
        if environment not in ENVIRONMENTS:
            raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {environment!r}")

        database_url = _database_url(env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL)

        secret_key = env.get("SECRET_KEY", "").strip()
        if not secret_key:
            if environment == "production":
                raise ConfigError("SECRET_KEY must be set in production (at least 32 characters)")
            secret_key = DEVELOPMENT_SECRET_KEY
        elif len(secret_key) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters long")

        redis_url = env.get("REDIS_URL", "").strip() or None
        if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError("REDIS_URL must start with redis://, rediss:// or unix://")

        stripe_secret_key = env.get("STRIPE_SECRET_KEY", "").strip() or None
        if stripe_secret_key and not stripe_secret_key.startswith(("sk_", "rk_")):
            raise ConfigError("STRIPE_SECRET_KEY must start with sk_ or rk_")
        stripe_webhook_secret = env.get("STRIPE_WEBHOOK_SECRET", "").strip() or None
        if stripe_webhook_secret and not stripe_webhook_secret.startswith("whsec_"):
            raise ConfigError("STRIPE_WEBHOOK_SECRET must start with whsec_")

        vapid_public_key = env.get("VAPID_PUBLIC_KEY", "").strip() or None
        vapid_private_key = env.get("VAPID_PRIVATE_KEY", "").strip() or None
        if bool(vapid_public_key) != bool(vapid_private_key):
            raise ConfigError("VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY must be set together")
        if vapid_private_key:
            _check_vapid_private_key(vapid_private_key)
        vapid_subject = env.get("VAPID_SUBJECT", "").strip() or cls.vapid_subject
        if not vapid_subject.startswith(("mailto:", "https://")):
            raise ConfigError("VAPID_SUBJECT must start with mailto: or https://")

        profile = env.get("PASSWORD_HASH_PROFILE", "standard").strip()
        if profile not in ("standard", "fast"):
            raise ConfigError("PASSWORD_HASH_PROFILE must be standard or fast")
        if profile == "fast" and environment == "production":
            raise ConfigError("PASSWORD_HASH_PROFILE=fast is not allowed in production")

        return cls(
            environment=environment,
            database_url=database_url,
            database_connect_timeout_seconds=_positive_number(
                env, "DATABASE_CONNECT_TIMEOUT_SECONDS", cls.database_connect_timeout_seconds),
            secret_key=secret_key,
            redis_url=redis_url,
            media_dir=Path(env.get("MEDIA_DIR", "").strip() or DEFAULT_DATA_DIR / "media"),
            stripe_secret_key=stripe_secret_key,
            stripe_publishable_key=env.get("STRIPE_PUBLISHABLE_KEY", "").strip() or None,
            stripe_webhook_secret=stripe_webhook_secret,
            stripe_api_base=env.get("STRIPE_API_BASE", "").strip() or None,
            stripe_timeout_seconds=_positive_number(env, "STRIPE_TIMEOUT_SECONDS", cls.stripe_timeout_seconds),
            session_max_age_seconds=_positive_int(env, "SESSION_MAX_AGE_SECONDS", cls.session_max_age_seconds),
            login_failures_per_account=_positive_int(
                env, "LOGIN_FAILURES_PER_ACCOUNT", cls.login_failures_per_account
            ),
            login_failures_per_ip=_positive_int(env, "LOGIN_FAILURES_PER_IP", cls.login_failures_per_ip),
            login_window_seconds=_positive_int(env, "LOGIN_WINDOW_SECONDS", cls.login_window_seconds),
            api_rate_limit_per_minute=_positive_int(env, "API_RATE_LIMIT_PER_MINUTE", cls.api_rate_limit_per_minute),
            password_hash_profile=profile,
            run_scheduled_jobs=_flag(env, "RUN_SCHEDULED_JOBS", default=environment != "test"),
            payment_window_minutes=_positive_int(env, "PAYMENT_WINDOW_MINUTES", cls.payment_window_minutes),
            cash_on_delivery_limit=_positive_int(env, "CASH_ON_DELIVERY_LIMIT", cls.cash_on_delivery_limit),
            vapid_public_key=vapid_public_key,
            vapid_private_key=vapid_private_key,
            vapid_subject=vapid_subject,
        )


def _check_vapid_private_key(key: str) -> None:
    """A key the push job cannot sign with would fail every send: refuse it at start-up instead."""
    from py_vapid import Vapid

    try:
        Vapid.from_string(private_key=key)
    except Exception:  # py_vapid raises several kinds for a malformed key
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


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be greater than zero")
    return value


def _positive_number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if not 0 < value < float("inf"):  # also refuses nan
        raise ConfigError(f"{name} must be a positive number")
    return value


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")
