"""The small HTTP server behind the stand-ins of other companies' APIs (the demo's Stripe and Xendit, and the
tests' ones): on loopback, each request answered in a thread of its own by the stand-in's handler."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handle = Callable[[BaseHTTPRequestHandler, str], None]


def serve_on_loopback(port: int, handle: Handle) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve on 127.0.0.1:`port` (0: a free one, read it from the server's address) in a daemon thread, passing
    each GET and POST to `handle(request, method)`; nothing is logged."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            handle(self, "GET")

        def do_POST(self) -> None:
            handle(self, "POST")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread


def stop_serving(server: ThreadingHTTPServer | None, thread: threading.Thread | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()
    if thread is not None:
        thread.join(timeout=5)
