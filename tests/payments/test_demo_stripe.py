"""The demo (`make run`, no internet) pays by card end to end on the local stand-in for Stripe that `python -m
backend serve` starts in development without a Stripe key, labelled "Demo"; production never starts it."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from backend.clock import utcnow, wib_today
from backend.config import Settings
from backend.demo import CANTEEN_STAFF, DEMO_PASSWORD
from backend.payments import demo_stripe
from backend.payments.demo_stripe import DemoRefused, start_demo, wants_demo
from tests.app_process import ServerProcess, app_environment, run_command
from tests.test_config import PRODUCTION


def test_the_stand_in_runs_in_development_without_a_key_and_never_in_production():
    development = Settings.from_env({})
    assert wants_demo(development)
    assert not wants_demo(development.model_copy(update={"stripe_secret_key": "sk_live_real"}))
    assert not wants_demo(Settings.from_env({"APP_ENV": "test"}))
    production = Settings.from_env(PRODUCTION)
    assert not wants_demo(production)
    with pytest.raises(DemoRefused):
        start_demo(production, app_url="https://pasarkawasan.id")


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`make run`'s server: development settings and nothing about Stripe, on the demo data."""
    data_dir = tmp_path_factory.mktemp("demo")
    database = data_dir / "demo.db"
    env = app_environment(
        APP_ENV="development",
        DATABASE_URL=f"sqlite:///{database}",
        MEDIA_DIR=str(data_dir / "media"),
        PASSWORD_HASH_PROFILE="fast",
        RUN_SCHEDULED_JOBS="false",
    )
    run_command(["backend", "migrate"], env)
    run_command(["backend", "load-demo"], env)
    server = ServerProcess(environment=env, log_dir=data_dir)
    try:
        yield server.start(), database
    finally:
        server.stop()


def _token(page: httpx.Response) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert match, "the page should carry a CSRF token"
    return match.group(1)


def _next_working_day() -> str:
    day = wib_today(utcnow()) + timedelta(days=3)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return day.isoformat()


def test_a_canteen_pays_by_card_on_the_demo_stand_in_and_its_webhook_places_the_order(demo_server):
    url, database = demo_server
    with sqlite3.connect(database) as connection:
        (nasi_box,) = connection.execute("SELECT id FROM product WHERE name = 'Nasi Box Ayam Bakar'").fetchone()
    with httpx.Client(base_url=url, follow_redirects=False, timeout=30) as browser:
        token = _token(browser.get("/login"))
        logged_in = browser.post(
            "/login", data={"phone": CANTEEN_STAFF[1].phone, "password": DEMO_PASSWORD, "_csrf_token": token}
        )
        assert logged_in.status_code == 303, logged_in.text
        token = _token(browser.get("/offline"))
        added = browser.post("/cart/lines", data={"product_id": nasi_box, "quantity": "50", "_csrf_token": token})
        assert added.status_code == 303, added.text
        cart = browser.get("/cart")
        assert 'value="card"' in cart.text and 'value="bank_transfer"' in cart.text  # both work in the demo
        key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', cart.text)
        assert key is not None
        placed = browser.post(
            "/checkout",
            data={
                "delivery_day": _next_working_day(),
                "delivery_slot": "11:00",
                "delivery_place": "canteen",
                "payment_method": "card",
                "idempotency_key": key.group(1),
                "_csrf_token": _token(cart),
            },
        )
        assert placed.status_code == 303, placed.text
        pay_url = placed.headers["location"]
        pay_page = browser.get(pay_url)
        assert "data-demo-payment" in pay_page.text  # labelled as a demo: no money moves

        to_stripe = browser.post(pay_url, data={"_csrf_token": _token(pay_page)})
        assert to_stripe.status_code == 303, to_stripe.text
        hosted = to_stripe.headers["location"]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/c/pay/cs_test_\w+", hosted) and not hosted.startswith(url)
        assert browser.get(hosted).status_code == 200
        paid = browser.post(hosted)  # the stand-in tells the app's webhook, then sends the browser back
        assert paid.status_code == 303 and "/return?session_id=cs_test_" in paid.headers["location"]
        with sqlite3.connect(database) as connection:
            events = connection.execute("SELECT type, processed_at IS NOT NULL FROM stripe_event").fetchall()
        assert events == [("checkout.session.completed", 1)]
        back = browser.get(paid.headers["location"])
        assert 'data-payment="succeeded"' in back.text


def test_the_stand_in_keys_pass_the_settings_checks():
    demo, variables = start_demo(Settings.from_env({}), app_url="http://127.0.0.1:8000")
    try:
        settings = Settings.from_env(variables)
        assert settings.stripe_demo and settings.stripe_api_base == demo.url
        assert settings.stripe_secret_key == demo_stripe.DEMO_SECRET_KEY
    finally:
        demo.stop()
