"""The app as a real server process (`python -m backend serve`, as deployed), for the tests that need one: the
browser tests drive it with Chromium, the fault tests kill it and cut its database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from backend.config import Settings

ROOT = Path(__file__).resolve().parents[1]
# Importing the app takes about 4 s of CPU; on a busy two-core CI runner the wall time can be several times that.
SERVER_START_SECONDS = 60
SERVER_STOP_SECONDS = 5
# What uvicorn logs once a worker's application has started.
WORKER_STARTED = "Application startup complete"
# Settings the server must not inherit from the shell (a shared Redis, real Stripe keys, ...): it gets its own.
APP_VARIABLES = (
    "APP_ENV",
    "DATABASE_URL",
    "DATABASE_CONNECT_TIMEOUT_SECONDS",
    "DATABASE_POOL_SIZE",
    "DATABASE_MAX_OVERFLOW",
    "SECRET_KEY",
    "REDIS_URL",
    "MEDIA_DIR",
    "MEDIA_STORAGE",
    "S3_ENDPOINT_URL",
    "S3_BUCKET",
    "S3_REGION",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "S3_PUBLIC_BASE_URL",
    "PASSWORD_HASH_PROFILE",
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "STRIPE_TIMEOUT_SECONDS",
    "STRIPE_DEMO",
    "XENDIT_SECRET_KEY",
    "XENDIT_CALLBACK_TOKEN",
    "XENDIT_API_BASE",
    "XENDIT_VA_BANK",
    "XENDIT_TIMEOUT_SECONDS",
    "XENDIT_DEMO",
    "PLATFORM_BANK_NAME",
    "PLATFORM_BANK_ACCOUNT_NUMBER",
    "PLATFORM_BANK_ACCOUNT_HOLDER",
    "SESSION_MAX_AGE_SECONDS",
    "LOGIN_FAILURES_PER_ACCOUNT",
    "LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS",
    "LOGIN_FAILURES_PER_IP",
    "LOGIN_WINDOW_SECONDS",
    "API_RATE_LIMIT_PER_MINUTE",
    "RUN_SCHEDULED_JOBS",
    "PAYMENT_WINDOW_MINUTES",
    "CASH_ON_DELIVERY_LIMIT",
    "VAPID_PUBLIC_KEY",
    "VAPID_PRIVATE_KEY",
    "VAPID_SUBJECT",
    "TRUSTED_PROXIES",
    "OTP_SENDER",
    "OTP_CODES_PER_ADDRESS_PER_HOUR",
    "WHATSAPP_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_OTP_TEMPLATE",
    "WHATSAPP_OTP_LANGUAGE",
    "WHATSAPP_API_BASE",
    "WHATSAPP_TIMEOUT_SECONDS",
    # uvicorn's own default for the proxies it believes, read when it is not told: never from the shell.
    "FORWARDED_ALLOW_IPS",
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any of the app's settings, then `settings` (as environment
    variables), in test mode with fast password hashing."""
    env = {key: value for key, value in os.environ.items() if key not in APP_VARIABLES}
    # Few database connections per worker: two test processes each running a server with several workers, and
    # their own engines, stay well under PostgreSQL's 100; a busy moment waits for the pool, as in production.
    env.update(
        APP_ENV="test",
        PASSWORD_HASH_PROFILE="fast",
        PYTHONUNBUFFERED="1",
        DATABASE_POOL_SIZE="4",
        DATABASE_MAX_OVERFLOW="4",
    )
    env.update(settings)
    return env


def suite_environment(settings: Settings, **more: str) -> dict[str, str]:
    """`app_environment` for a server on the suite's own database, secret and media folder (`settings`, the
    suite's), with the scheduled jobs off (a test runs what it needs), then `more`."""
    return app_environment(
        DATABASE_URL=settings.database_url,
        SECRET_KEY=settings.secret_key,
        MEDIA_DIR=str(settings.media_dir),
        RUN_SCHEDULED_JOBS="false",
        **more,
    )


def run_command(args: list[str], env: dict[str, str]) -> None:
    """`python -m <args>` (an operator's command such as `backend migrate`), failing loudly with its output."""
    done = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"`python -m {' '.join(args)}` failed ({done.returncode}):\n{done.stdout}{done.stderr}")


@dataclass
class ServerProcess:
    """One uvicorn server serving the app with `environment`, in `workers` processes (more than one: uvicorn's
    supervisor and its workers, as deployed behind one port); `kill()` is a crash (SIGKILL to all of them),
    `start()` again a restart on a new port."""

    environment: dict[str, str]
    log_dir: Path
    workers: int = 1
    process: subprocess.Popen[bytes] | None = None
    url: str = ""
    starts: int = 0

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"server-{self.starts}.log"

    def start(self) -> str:
        assert self.process is None or self.process.poll() is not None, "the server is still running"
        self.starts += 1
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        # The operators' command, so the tests see what its uvicorn settings do (which proxies it believes).
        command = [
            sys.executable,
            "-m",
            "backend",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(self.workers),
        ]
        with self.log_path.open("wb") as log_file:
            # A session of its own, so that a crash takes the workers down with their supervisor.
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.environment,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_healthy()
        return self.url

    def _wait_until_healthy(self) -> None:
        """Until /healthz answers and, with several workers, every one of them has started (the first one up
        would otherwise take every request of a test that wants them spread)."""
        assert self.process is not None
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if (
                    httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
                    and self.log().count(WORKER_STARTED) >= self.workers
                ):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the server did not answer /healthz within {SERVER_START_SECONDS} s:\n{self.log()}")

    def kill(self) -> None:
        """A crash: no shutdown, no rollback, no flush; open transactions die with the connections."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # the supervisor stops its workers first
        try:
            self.process.wait(timeout=SERVER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def run_in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str, **settings: str
) -> str:
    """Run `python -m backend ARGV` in this process, with the app's settings taken from `settings` only (as
    `app_environment` gives a server), and return what it printed. The entry point is the same `main` a shell
    runs; starting a new interpreter for each command would only add seconds of imports."""
    from backend.__main__ import main

    for name in APP_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in {"APP_ENV": "test", "PASSWORD_HASH_PROFILE": "fast", **settings}.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def redis_url_for_this_process() -> str | None:
    """TEST_REDIS_URL, with a database of this test process's own under pytest-xdist (gw0 the one given, gw1 the
    one below it, ...): a test that empties its Redis, or claims a job's schedule slot there, never meets another
    process's tests. None when TEST_REDIS_URL is not set."""
    url = os.environ.get("TEST_REDIS_URL", "").strip()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker.startswith("gw"):
        return url or None
    base, _, number = url.rpartition("/")
    database = int(number) if number.isdigit() else 0
    return f"{base}/{max(database - int(worker[2:]), 0)}"
