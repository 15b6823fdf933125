"""Faults from outside the code: the server process killed, the database out of reach.

The app runs as a real server process (`python -m uvicorn backend.asgi:app`, as deployed) on the database under
test (the `database_url` of tests/conftest.py), so that it can be killed with SIGKILL and started again while
the test process looks at what the database kept. The tests send their requests over HTTP like any client.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from backend.config import Settings

ROOT = Path(__file__).resolve().parents[2]
# Importing the app takes about 4 s of CPU; on a busy two-core CI runner the wall time can be several times that.
SERVER_START_SECONDS = 60
SERVER_STOP_SECONDS = 5
# Settings the server must not inherit from the shell (a shared Redis, real Stripe keys, ...): it gets its own.
APP_VARIABLES = (
    "APP_ENV", "DATABASE_URL", "DATABASE_CONNECT_TIMEOUT_SECONDS", "SECRET_KEY", "REDIS_URL", "MEDIA_DIR",
    "PASSWORD_HASH_PROFILE", "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE", "SESSION_MAX_AGE_SECONDS", "LOGIN_FAILURES_PER_ACCOUNT", "LOGIN_FAILURES_PER_IP",
    "LOGIN_WINDOW_SECONDS", "API_RATE_LIMIT_PER_MINUTE", "RUN_SCHEDULED_JOBS", "VAPID_PUBLIC_KEY",
    "VAPID_PRIVATE_KEY",
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """One uvicorn process serving the app; `kill()` is a crash (SIGKILL), `start()` a restart on a new port."""

    settings: Settings
    log_dir: Path
    database_url: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    url: str = ""
    starts: int = 0

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"server-{self.starts}.log"

    def environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key not in APP_VARIABLES}
        env.update(
            APP_ENV="test",
            DATABASE_URL=self.database_url or self.settings.database_url,
            SECRET_KEY=self.settings.secret_key,
            MEDIA_DIR=str(self.settings.media_dir),
            PASSWORD_HASH_PROFILE="fast",
            RUN_SCHEDULED_JOBS="false",
            # Every request of a test comes from 127.0.0.1: the per-address limit must not refuse them.
            API_RATE_LIMIT_PER_MINUTE="100000",
            PYTHONUNBUFFERED="1",
            **self.extra_env,
        )
        return env

    def start(self) -> str:
        assert self.process is None or self.process.poll() is not None, "the server is still running"
        self.starts += 1
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        with self.log_path.open("wb") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "backend.asgi:app", "--host", "127.0.0.1", "--port", str(port),
                 "--no-access-log"],
                cwd=ROOT, env=self.environment(), stdout=log_file, stderr=subprocess.STDOUT,
            )
        self._wait_until_healthy()
        return self.url

    def _wait_until_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the server did not answer /healthz within {SERVER_START_SECONDS} s:\n{self.log()}")

    def kill(self) -> None:
        """A crash: no shutdown, no rollback, no flush; open transactions die with the connections."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=SERVER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[ServerProcess]:
    """The app as a server process on the database under test (not started yet: the test seeds first)."""
    process = ServerProcess(settings=settings, log_dir=tmp_path)
    try:
        yield process
    finally:
        process.stop()


class TcpProxy:
    """A TCP relay between the app and PostgreSQL that a test can cut and restore, like a network would.

    `cut()` closes every relayed connection and refuses new ones (nothing listens on the port); `go_silent()`
    closes them too but accepts new ones and never answers (a database host that has vanished); `restore()`
    relays again on the same port. Threads, so it keeps working while the test's event loop waits on requests.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._silent = False
        self.relayed = 0

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True, name="proxy-accept").start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # the listener was closed: cut() or close()
                return
            with self._lock:
                self._sockets.add(client)
                silent = self._silent
            if silent:
                continue  # kept open, never answered
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                self._close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.add(upstream)
                self.relayed += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True, name="proxy-pump").start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        self._close(source)
        self._close(sink)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def _close_all(self) -> None:
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._close(sock)

    def cut(self) -> None:
        """The database host goes away: live connections are dropped and new ones refused."""
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            self._close(listener)  # shut down first: closing alone would not wake the thread blocked in accept()
        self._close_all()

    def go_silent(self) -> None:
        """Live connections dropped; new ones accepted by the network but never answered."""
        with self._lock:
            self._silent = True
        self._close_all()
        if self._listener is None:
            self.start()

    def restore(self) -> None:
        with self._lock:
            self._silent = False
        self._close_all()
        if self._listener is None:
            self.start()

    def close(self) -> None:
        self.cut()
