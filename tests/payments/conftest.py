"""Card payments' fixtures: a fake Stripe on 127.0.0.1 for each test, the app pointed at it, webhook events signed
as Stripe signs them, and a multi-vendor card checkout to pay.

Service-level steps run on the ordering helpers' fixed clock (Monday 23 November 2026, 09.00 WIB); HTTP requests
run on the real clock, which only stamps the payment's times.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import time as clock_time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import select
from sqlmodel import col

from backend.accounts.models import User
from backend.clock import utcnow, wib_today
from backend.config import Settings
from backend.db import Database
from backend.orders.models import Order, PaymentMethod
from backend.payments.demo_stripe import DemoStripe, signature_header
from backend.payments.demo_xendit import DemoXendit
from backend.payments.models import Payment, Refund
from tests.conftest import AppFor
from tests.orders.conftest import catering, ordering  # noqa: F401  (fixtures)

WEBHOOK_SECRET = "whsec_test_pasar_kawasan_0123456789abcdef"
SECRET_KEY = "sk_test_pasar_kawasan"
PUBLISHABLE_KEY = "pk_test_pasar_kawasan"


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[DemoStripe]:
    fake = DemoStripe().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake_stripe(stripe_server: DemoStripe) -> Iterator[DemoStripe]:
    """Stripe as a test finds it: no payments yet, answering promptly (one server for the run, on one port)."""
    try:
        yield stripe_server
    finally:
        stripe_server.reset()


@pytest.fixture
def stripe_settings(settings: Settings, fake_stripe: DemoStripe) -> Settings:
    # A short timeout, so a test of Stripe timing out takes seconds (three tries and the SDK's back-off).
    return settings.model_copy(
        update={
            "stripe_secret_key": SECRET_KEY,
            "stripe_publishable_key": PUBLISHABLE_KEY,
            "stripe_webhook_secret": WEBHOOK_SECRET,
            "stripe_api_base": fake_stripe.url,
            "stripe_timeout_seconds": 0.5,
        }
    )


@pytest.fixture
async def app(stripe_settings: Settings, app_for: AppFor, database: Database) -> Litestar:
    """The app with card payments on, talking to the fake Stripe (the `client` fixture uses it)."""
    return await app_for(stripe_settings)


def stripe_signature(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header exactly as Stripe computes it: t=<unix time>,v1=<hex HMAC-SHA256 of
    "<t>.<raw body>" keyed with the endpoint's whsec_ secret>."""
    return signature_header(payload, secret, timestamp)


async def deliver(
    client: Any, event: dict[str, Any], *, signature: str | None = "sign", payload: bytes | None = None
) -> Any:
    """Post an event to the webhook as Stripe would (signed unless told otherwise)."""
    body = payload if payload is not None else json.dumps(event, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if signature == "sign":
        headers["Stripe-Signature"] = stripe_signature(body)
    elif signature is not None:
        headers["Stripe-Signature"] = signature
    return await client.post("/api/v1/stripe/webhook", content=body, headers=headers)


@dataclass
class CardCheckout:
    checkout_id: int
    orders: list[Order]
    buyer: User
    sellers: list[Any]

    @property
    def total(self) -> int:
        return sum(order.total for order in self.orders)


@pytest.fixture
async def two_vendors(world, zone, catering):  # noqa: F811
    """Catering Bu Sri (nasi box, Rp 13.000 from 200) and Dapur Pak Joko (snack box at Rp 8.000)."""
    seller, nasi_box = catering
    other = await world.seller(zone, business_name="Dapur Pak Joko", daily_capacity=300)
    snack = await world.live_product(
        other, "Snack Box Kue Basah", price=8000, min_order_qty=10, order_cutoff=clock_time(15, 0)
    )
    return (seller, nasi_box), (other, snack)


@pytest.fixture
async def card_checkout(ordering, two_vendors, canteen_staff) -> CardCheckout:  # noqa: F811
    """A canteen's card checkout of 200 nasi box (Rp 2.600.000) and 50 snack box (Rp 400.000): two orders waiting
    for one payment of Rp 3.000.000."""
    (seller, nasi_box), (other, snack) = two_vendors
    await ordering.put_in_cart(canteen_staff, nasi_box.id, 200)
    await ordering.put_in_cart(canteen_staff, snack.id, 50)
    placement = await ordering.checkout(canteen_staff, payment=PaymentMethod.CARD)
    assert placement.checkout.id is not None
    return CardCheckout(
        checkout_id=placement.checkout.id, orders=placement.orders, buyer=canteen_staff, sellers=[seller, other]
    )


async def orders_of(database: Database, checkout_id: int) -> list[Order]:
    async with database.sessionmaker() as session:
        return list(
            (
                await session.execute(
                    select(Order).where(col(Order.checkout_id) == checkout_id).order_by(col(Order.id))
                )
            ).scalars()
        )


async def payment_of(database: Database, checkout_id: int) -> Payment:
    """The checkout's payment (the test fails when there is none)."""
    async with database.sessionmaker() as session:
        return (await session.execute(select(Payment).where(col(Payment.checkout_id) == checkout_id))).scalar_one()


async def refund_of(database: Database, order_id: int) -> Refund:
    """The order's refund (the test fails when there is none)."""
    async with database.sessionmaker() as session:
        return (await session.execute(select(Refund).where(col(Refund.order_id) == order_id))).scalar_one()


async def has_refund(database: Database, order_id: int) -> bool:
    async with database.sessionmaker() as session:
        return (await session.execute(select(Refund).where(col(Refund.order_id) == order_id))).first() is not None


async def has_payment(database: Database, checkout_id: int) -> bool:
    async with database.sessionmaker() as session:
        return (
            await session.execute(select(Payment).where(col(Payment.checkout_id) == checkout_id))
        ).first() is not None


async def start_paying(client: Any, database: Database, checkout: CardCheckout) -> dict[str, Any]:
    """The canteen's system asks for the checkout's PaymentIntent (POST /api/v1/checkouts/{id}/payment)."""
    from tests.orders.test_order_api import bearer

    started = await client.post(
        f"/api/v1/checkouts/{checkout.checkout_id}/payment", headers=await bearer(database, checkout.buyer)
    )
    assert started.status_code == 200, started.text
    return started.json()


# --- the payment gateway (Xendit): QRIS and virtual accounts ----------------------------------------------

XENDIT_SECRET_KEY = "xnd_development_pasar_kawasan_tests"
XENDIT_CALLBACK_TOKEN = "callback-token-pasar-kawasan-0123456789"


@pytest.fixture(scope="session")
def xendit_server() -> Iterator[DemoXendit]:
    fake = DemoXendit(secret_key=XENDIT_SECRET_KEY).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake_xendit(xendit_server: DemoXendit) -> Iterator[DemoXendit]:
    """Xendit as a test finds it: no payment requests yet, answering (one server for the run)."""
    try:
        yield xendit_server
    finally:
        xendit_server.reset()


@pytest.fixture
def gateway_settings(stripe_settings: Settings, fake_xendit: DemoXendit) -> Settings:
    """Every way to pay set up: cards (the fake Stripe), bank transfers, and QRIS and virtual accounts through
    the fake Xendit."""
    return stripe_settings.model_copy(
        update={
            "xendit_secret_key": XENDIT_SECRET_KEY,
            "xendit_callback_token": XENDIT_CALLBACK_TOKEN,
            "xendit_api_base": fake_xendit.url,
            "xendit_timeout_seconds": 2.0,
        }
    )


async def send_callback(client: Any, callback: dict[str, Any], *, token: str | None = XENDIT_CALLBACK_TOKEN) -> Any:
    """Post a callback to the app as Xendit does (with the dashboard's token unless told otherwise)."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["x-callback-token"] = token
    return await client.post("/api/v1/xendit/callback", content=json.dumps(callback).encode(), headers=headers)


# --- `make run`'s server, for the demo tests -------------------------------------------------------------


# The tests that share the demo server (tests/conftest.py) run in the browser tests' process, where the browser's
# own demo test uses it too.
DEMO_GROUP = pytest.mark.xdist_group("browser")


def form_token(page: httpx.Response) -> str:
    """The CSRF token of a page's forms."""
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert match, "the page should carry a CSRF token"
    return match.group(1)


def next_working_day(days_ahead: int = 3) -> str:
    """A delivery day the demo's vendors serve (Monday to Friday), at least `days_ahead` days from today in WIB."""
    day = wib_today(utcnow()) + timedelta(days=days_ahead)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return day.isoformat()
