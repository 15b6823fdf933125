"""Real Web Push parts for the notification stories: VAPID keys, a browser's subscription keys, and a push
service on 127.0.0.1 that records what it receives and answers as a test tells it to.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Litestar
from py_vapid import Vapid

from backend.accounts.models import User
from backend.clock import utcnow
from backend.config import Settings
from backend.db import Database
from backend.notifications import push
from backend.notifications.service import notify
from tests.conftest import AppFor


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class VapidKeys:
    public_key: str  # the applicationServerKey: an uncompressed P-256 point
    private_key: str  # the raw 32-byte private value


@pytest.fixture(scope="session")
def vapid_keys() -> VapidKeys:
    vapid = Vapid()
    vapid.generate_keys()
    private_value = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    point = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return VapidKeys(public_key=b64url(point), private_key=b64url(private_value))


@pytest.fixture
def push_settings(settings: Settings, vapid_keys: VapidKeys) -> Settings:
    return settings.model_copy(
        update={
            "vapid_public_key": vapid_keys.public_key,
            "vapid_private_key": vapid_keys.private_key,
            "vapid_subject": "mailto:operator@pasarkawasan.id",
        }
    )


@pytest.fixture
async def app(push_settings: Settings, app_for: AppFor, database: Database) -> Litestar:
    """The app with Web Push turned on (the `client` fixture talks to it)."""
    return await app_for(push_settings)


@dataclass
class Browser:
    """A browser's half of a push subscription, made as PushManager.subscribe() makes it: an ECDH P-256 key
    pair and a 16-byte authentication secret. It can decrypt what the push service hands it."""

    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def subscription(self, endpoint: str) -> dict[str, Any]:
        """What PushSubscription.toJSON() gives."""
        return {"endpoint": endpoint, "expirationTime": None, "keys": {"p256dh": self.p256dh, "auth": self.auth}}

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm")
        return json.loads(plain)


@dataclass(frozen=True)
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes


class PushService:
    """A push service (the kind Google, Mozilla and Apple run) on 127.0.0.1: records every POST and answers
    201, or the statuses queued with `answer()` for a subscription, one per request."""

    def __init__(self) -> None:
        self.received: list[Delivery] = []
        self.answers: dict[str, deque[int]] = {}
        self.delay_seconds = 0.0
        # Subscriptions whose pushes get no answer until `release()` (a push service that is slow to answer).
        self.held: set[str] = set()
        self.released = threading.Event()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                service.received.append(Delivery(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if service.delay_seconds:
                    time.sleep(service.delay_seconds)
                if self.path in service.held:
                    service.released.wait(60)
                queued = service.answers.get(self.path)
                status = queued.popleft() if queued else 201
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def endpoint(self, name: str) -> str:
        return f"{self.origin}/push/{name}"

    def answer(self, name: str, *statuses: int) -> None:
        """The next answers to pushes for the subscription `name`, in order; 201 once they are used up."""
        self.answers.setdefault(f"/push/{name}", deque()).extend(statuses)

    def hold(self, name: str) -> None:
        """Pushes for the subscription `name` are received but not answered until `release()`."""
        self.held.add(f"/push/{name}")

    def release(self) -> None:
        self.held.clear()
        self.released.set()

    def received_at(self, name: str) -> list[Delivery]:
        return [delivery for delivery in self.received if delivery.path == f"/push/{name}"]


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService()
    service.thread.start()
    try:
        yield service
    finally:
        service.release()
        service.server.shutdown()
        service.server.server_close()


@dataclass
class Phones:
    """Subscribes people's phones and tells them things, each step committed like a request."""

    database: Database
    settings: Settings
    service: PushService
    # When things are told: the real clock (the pages read it too) unless a test fixes it.
    now: datetime = field(default_factory=utcnow)

    async def subscribe(self, user: User, name: str, browser: Browser | None = None) -> Browser:
        browser = browser or Browser()
        async with self.database.sessionmaker() as session:
            await push.subscribe(
                session=session,
                settings=self.settings,
                user=user,
                endpoint=self.service.endpoint(name),
                p256dh=browser.p256dh,
                auth=browser.auth,
            )
            await session.commit()
        return browser

    async def notify(
        self,
        *users: User,
        message: str = "Expires on %(date)s. Renew it soon and upload the new one.",
        params: dict[str, Any] | None = None,
        url: str = "/vendor/certificates",
    ) -> None:
        async with self.database.sessionmaker() as session:
            await notify(
                session=session,
                user_ids={user.id for user in users},
                message=message,
                now=self.now,
                params={"date": "30 November 2026"} if params is None else params,
                url=url,
            )
            await session.commit()

    async def run_job(self, *, now: Any, settings: Settings | None = None) -> int:
        async with self.database.sessionmaker() as session:
            sent = await push.send_due_pushes(session=session, settings=settings or self.settings, now=now)
            await session.commit()
        return sent


@pytest.fixture
def phones(database: Database, push_settings: Settings, push_service: PushService) -> Phones:
    return Phones(database=database, settings=push_settings, service=push_service)
