"""The demo (`make run`, no internet) pays by card end to end on the local stand-in for Stripe that `python -m
backend serve` starts in development without a Stripe key, labelled "Demo"; production never starts it."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import httpx
import pytest

from backend.config import Settings
from backend.demo import CANTEEN_STAFF, DEMO_PASSWORD
from backend.payments import demo_stripe
from backend.payments.demo_stripe import DemoRefused, start_demo, wants_demo
from tests.conftest import DemoServer
from tests.payments.conftest import DEMO_GROUP, form_token, next_working_day
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


@DEMO_GROUP
def test_a_canteen_pays_by_card_on_the_demo_stand_in_and_its_webhook_places_the_order(demo_server: DemoServer):
    url, database = demo_server.url, demo_server.database
    with sqlite3.connect(database) as connection:
        (nasi_box,) = connection.execute("SELECT id FROM product WHERE name = 'Nasi Box Ayam Bakar'").fetchone()
    with httpx.Client(base_url=url, follow_redirects=False, timeout=30) as browser:
        token = form_token(browser.get("/login"))
        logged_in = browser.post(
            "/login", data={"phone": CANTEEN_STAFF[1].phone, "password": DEMO_PASSWORD, "_csrf_token": token}
        )
        assert logged_in.status_code == 303, logged_in.text
        token = form_token(browser.get("/offline"))
        added = browser.post("/cart/lines", data={"product_id": nasi_box, "quantity": "50", "_csrf_token": token})
        assert added.status_code == 303, added.text
        cart = browser.get("/cart")
        assert 'value="card"' in cart.text and 'value="bank_transfer"' in cart.text  # both work in the demo
        key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', cart.text)
        assert key is not None
        placed = browser.post(
            "/checkout",
            data={
                "delivery_day": next_working_day(),
                "delivery_slot": "11:00",
                "delivery_place": "canteen",
                "payment_method": "card",
                "idempotency_key": key.group(1),
                "_csrf_token": form_token(cart),
            },
        )
        assert placed.status_code == 303, placed.text
        pay_url = placed.headers["location"]
        pay_page = browser.get(pay_url)
        assert "data-demo-payment" in pay_page.text  # labelled as a demo: no money moves

        to_stripe = browser.post(pay_url, data={"_csrf_token": form_token(pay_page)})
        assert to_stripe.status_code == 303, to_stripe.text
        hosted = to_stripe.headers["location"]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/c/pay/cs_test_\w+", hosted) and not hosted.startswith(url)
        assert browser.get(hosted).status_code == 200
        events_before = _stripe_events(database)
        paid = browser.post(hosted)  # the stand-in tells the app's webhook, then sends the browser back
        assert paid.status_code == 303 and "/return?session_id=cs_test_" in paid.headers["location"]
        new_events = _stripe_events(database) - events_before  # the server is shared with other demo tests
        assert [(kind, processed) for _id, kind, processed in new_events] == [("checkout.session.completed", 1)]
        back = browser.get(paid.headers["location"])
        assert 'data-payment="succeeded"' in back.text


def _stripe_events(database: Path) -> set[tuple[str, str, int]]:
    with sqlite3.connect(database) as connection:
        return set(connection.execute("SELECT id, type, processed_at IS NOT NULL FROM stripe_event").fetchall())


def test_the_stand_in_keys_pass_the_settings_checks():
    demo, variables = start_demo(Settings.from_env({}), app_url="http://127.0.0.1:8000")
    try:
        settings = Settings.from_env(variables)
        assert settings.stripe_demo and settings.stripe_api_base == demo.url
        assert settings.stripe_secret_key == demo_stripe.DEMO_SECRET_KEY
    finally:
        demo.stop()
