"""Around every HTTP request, matched by a route or not: its id, its access-log line and its latency.

The id is the proxy's when a trusted proxy (TRUSTED_PROXIES) sent one that looks like an id, so a request can be
followed from the load balancer's log into ours; otherwise a new one. It is in the answer's X-Request-ID header and
on every log line written while the request is handled (backend.logs). The access line names the client as the
login throttle and the rate limit count it (backend.client_address) and the route's template; the latency goes to
the route template's histogram (backend.metrics), so a million product ids make one series, not a million.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import cast

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from backend.client_address import forwarded_client, is_trusted_proxy
from backend.config import Settings
from backend.logs import request_id
from backend.metrics import UNMATCHED_ROUTE, record_request

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's id may look like: a UUID, a hex string, a trace id; nothing that could break a log line.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+/-]{7,127}")
# Probes a load balancer and Prometheus send every few seconds: counted, but no access line when they succeed.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

access_logger = logging.getLogger("pasar_kawasan.access")


class ObservedRequests:
    """Wraps the whole app (404s and errors included); `create_app` puts it outermost."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.trusted_proxies = settings.trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        await self._observed(scope, receive, send)

    async def _observed(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        identifier = self._forwarded_id(scope) or uuid.uuid4().hex
        token = request_id.set(identifier)
        status = 500  # what the client gets when the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = identifier
            await send(message)

        try:
            await self.app(cast(Scope, scope), receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("path_template") or None
            record_request(method=scope["method"], route=route, status=status, seconds=seconds)
            if not (scope["path"] in QUIET_PATHS and status < 400):
                self._log_access(scope, route, status, seconds)
            request_id.reset(token)

    def _forwarded_id(self, scope: HTTPScope) -> str | None:
        peer = _peer(scope)
        if not is_trusted_proxy(peer, self.trusted_proxies):
            return None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1").strip()
                return candidate if SANE_REQUEST_ID.fullmatch(candidate) else None
        return None

    def _log_access(self, scope: HTTPScope, route: str | None, status: int, seconds: float) -> None:
        peer = _peer(scope)
        forwarded = [value.decode("latin-1") for name, value in scope["headers"] if name == b"x-forwarded-for"]
        client = forwarded_client(peer, forwarded, self.trusted_proxies)
        # A one-time token in the path (an invitation, a password reset link) stays out of the log.
        path = route if route and "token" in scope.get("path_params", {}) else scope["path"]
        access_logger.log(
            logging.INFO if status < 500 else logging.WARNING,
            "%s %s %d %.1f ms %s",
            scope["method"],
            path,
            status,
            seconds * 1000,
            client,
            extra={
                "method": scope["method"],
                "path": path,
                "route": route or UNMATCHED_ROUTE,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
                "client": client,
            },
        )


def _peer(scope: HTTPScope) -> str:
    """The address that connected (a proxy, or the client itself)."""
    client = scope.get("client")
    return client[0] if client else ""
