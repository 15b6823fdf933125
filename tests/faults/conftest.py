"""Faults from outside the code: the server process killed, the database out of reach.

The app runs as a real server process (`python -m uvicorn backend.asgi:app`, as deployed) on the database under
test (the `database_url` of tests/conftest.py), so that it can be killed with SIGKILL and started again while
the test process looks at what the database kept. The tests send their requests over HTTP like any client.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.config import Settings
from tests.app_process import ServerProcess, free_port, suite_environment


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[ServerProcess]:
    """The app as a server process on the database under test (not started yet: the test seeds first)."""
    process = ServerProcess(
        log_dir=tmp_path,
        environment=suite_environment(
            settings,
            # Every request of a test comes from 127.0.0.1: the per-address limit must not refuse them.
            API_RATE_LIMIT_PER_MINUTE="100000",
        ),
    )
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
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
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
