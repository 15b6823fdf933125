"""The demo (`make run`, no internet) offers QRIS and virtual accounts on the local stand-in for Xendit that `python
-m backend serve` starts in development without a Xendit key: their pages say "Demo" and have a button that makes
the stand-in pay and post its callback, so a visitor pays end to end. Production never starts it."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from backend.clock import utcnow
from backend.config import Settings
from backend.db import Database
from backend.demo import CANTEEN_STAFF, DEMO_PASSWORD, WORKER
from backend.orders.models import OrderStatus, PaymentMethod
from backend.payments import demo_xendit
from backend.payments.demo_xendit import DemoRefused, DemoXendit, start_demo, wants_demo
from backend.payments.models import PaymentStatus
from tests.conftest import AppFor, DemoServer, browser, log_in, submit
from tests.orders.test_order_api import delivery_day
from tests.payments.conftest import (
    DEMO_GROUP,
    form_token,
    next_working_day,
    orders_of,
    payment_of,
    send_callback,
)
from tests.test_config import PRODUCTION

# --- when the stand-in runs ------------------------------------------------------------------------------


def test_the_stand_in_runs_in_development_without_a_key_and_never_in_production():
    development = Settings.from_env({})
    assert wants_demo(development)
    assert not wants_demo(development.model_copy(update={"xendit_secret_key": "xnd_production_real"}))
    assert not wants_demo(Settings.from_env({"APP_ENV": "test"}))
    production = Settings.from_env(PRODUCTION)
    assert not wants_demo(production)
    with pytest.raises(DemoRefused):
        start_demo(production, app_url="https://pasarkawasan.id")


def test_the_stand_in_settings_turn_qris_and_virtual_accounts_on():
    demo, variables = start_demo(Settings.from_env({}), app_url="http://127.0.0.1:8000")
    try:
        settings = Settings.from_env(variables)
        assert settings.xendit_demo and settings.gateway_enabled and settings.xendit_api_base == demo.url
        assert settings.xendit_secret_key == demo_xendit.DEMO_SECRET_KEY == demo.secret_key
    finally:
        demo.stop()


# --- the button, in the app ------------------------------------------------------------------------------


@pytest.fixture
def demo_settings(gateway_settings: Settings) -> Settings:
    return gateway_settings.model_copy(update={"xendit_demo": True})


@pytest.fixture
async def app(demo_settings: Settings, app_for: AppFor, database: Database) -> Litestar:
    """The app as the demo runs it: QRIS and virtual accounts through the stand-in, labelled "Demo"."""
    return await app_for(demo_settings)


@pytest.fixture
async def qris_checkout(ordering, catering, worker):
    """Ten nasi box for Rizky's team, to collect at the gate, paid by QRIS."""
    _, nasi_box = catering
    await ordering.put_in_cart(worker, nasi_box.id, 10)
    gate = await ordering.gate()
    return await ordering.checkout(
        worker, payment=PaymentMethod.QRIS, point_id=gate.id, day=delivery_day(), now=utcnow()
    )


async def test_in_the_demo_the_qris_page_says_demo_and_its_button_pays_on_the_stand_in(
    client, worker, qris_checkout, fake_xendit: DemoXendit, database
):
    checkout_id = qris_checkout.checkout.id
    await log_in(client, worker)
    page = await client.get(f"/checkouts/{checkout_id}/pay")
    assert page.status_code == 200, page.text
    assert "data-demo-payment" in page.text and "<strong>Demo</strong>" in page.text
    assert f'action="/checkouts/{checkout_id}/gateway/demo-pay"' in page.text

    paid = await submit(client, f"/checkouts/{checkout_id}/gateway/demo-pay", {})
    assert (paid.status_code, paid.headers["location"]) == (303, f"/checkouts/{checkout_id}/pay")
    payment = await payment_of(database, checkout_id)
    (request,) = fake_xendit.requests_for(payment.reference)
    assert request["status"] == "SUCCEEDED"
    (callback,) = fake_xendit.callbacks  # what the stand-in posts to the app (here, the test posts it)
    assert callback["data"]["payment_request_id"] == request["id"] and callback["data"]["amount"] == payment.amount

    # A second tap asks nothing more of the stand-in: the payment request is paid already.
    assert (await submit(client, f"/checkouts/{checkout_id}/gateway/demo-pay", {})).status_code == 303
    assert len(fake_xendit.callbacks) == 1

    assert (await send_callback(client, callback)).json()["outcome"] == "processed"
    assert [o.status for o in await orders_of(database, checkout_id)] == [OrderStatus.PLACED]
    after = await client.get(f"/checkouts/{checkout_id}/pay")
    assert 'data-payment="succeeded"' in after.text and "data-demo-payment" not in after.text
    assert (await submit(client, f"/checkouts/{checkout_id}/gateway/demo-pay", {})).status_code == 303
    assert len(fake_xendit.callbacks) == 1  # paid: nothing is asked of the stand-in


async def test_the_demo_button_pays_only_the_buyers_own_checkout(
    client, other_client, worker, canteen_staff, qris_checkout, fake_xendit: DemoXendit, database
):
    checkout_id = qris_checkout.checkout.id
    await log_in(client, worker)
    assert (await client.get(f"/checkouts/{checkout_id}/pay")).status_code == 200  # the QRIS code is made
    await log_in(other_client, canteen_staff)
    refused = await submit(other_client, f"/checkouts/{checkout_id}/gateway/demo-pay", {})
    assert refused.status_code == 404
    assert fake_xendit.callbacks == []
    assert (await payment_of(database, checkout_id)).status == PaymentStatus.PENDING


async def test_the_demo_button_needs_a_csrfform_token(client, worker, qris_checkout, fake_xendit: DemoXendit):
    checkout_id = qris_checkout.checkout.id
    await log_in(client, worker)
    assert (await client.get(f"/checkouts/{checkout_id}/pay")).status_code == 200
    forged = await client.post(f"/checkouts/{checkout_id}/gateway/demo-pay", data={}, follow_redirects=False)
    assert forged.status_code == 403
    assert fake_xendit.callbacks == []


async def test_with_a_real_xendit_there_is_no_demo_button(
    gateway_settings, app_for, worker, qris_checkout, fake_xendit: DemoXendit
):
    real = await app_for(gateway_settings)  # XENDIT_DEMO off: a real Xendit account's settings
    async with browser(real) as buyer:
        await log_in(buyer, worker)
        checkout_id = qris_checkout.checkout.id
        page = await buyer.get(f"/checkouts/{checkout_id}/pay")
        assert page.status_code == 200 and 'aria-label="QRIS"' in page.text
        assert "data-demo-payment" not in page.text and "demo-pay" not in page.text
        assert (await submit(buyer, f"/checkouts/{checkout_id}/gateway/demo-pay", {})).status_code == 404
    assert fake_xendit.callbacks == []


# --- `make run`'s server, end to end ---------------------------------------------------------------------


def _check_out(browser: httpx.Client, database: Path, phone: str, product: str, quantity: int, method: str) -> str:
    """Log in, put the product in the cart and check out with `method`; the pay page's address."""
    with sqlite3.connect(database) as connection:
        (product_id,) = connection.execute("SELECT id FROM product WHERE name = ?", (product,)).fetchone()
    token = form_token(browser.get("/login"))
    logged_in = browser.post("/login", data={"phone": phone, "password": DEMO_PASSWORD, "_csrf_token": token})
    assert logged_in.status_code == 303, logged_in.text
    token = form_token(browser.get("/offline"))
    added = browser.post("/cart/lines", data={"product_id": product_id, "quantity": quantity, "_csrf_token": token})
    assert added.status_code == 303, added.text
    cart = browser.get("/cart")
    assert f'value="{method}"' in cart.text  # offered in the demo
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', cart.text)
    assert key is not None
    placed = browser.post(
        "/checkout",
        data={
            "delivery_day": next_working_day(),
            "delivery_slot": "11:00",
            "delivery_place": "canteen" if method == "virtual_account" else "pickup",
            "payment_method": method,
            "idempotency_key": key.group(1),
            "_csrf_token": form_token(cart),
        },
    )
    assert placed.status_code == 303, placed.text
    return str(placed.headers["location"])


@pytest.mark.parametrize(
    ("phone", "product", "quantity", "method", "shown"),
    [
        (WORKER.phone, "Keripik Tempe Original 250 g", 2, "qris", 'aria-label="QRIS"'),
        (CANTEEN_STAFF[1].phone, "Nasi Box Ikan Bandeng Presto", 20, "virtual_account", "data-va-number"),
    ],
)
@DEMO_GROUP
def test_a_visitor_of_the_demo_pays_by_qris_or_virtual_account_with_the_demo_button(
    demo_server: DemoServer, phone, product, quantity, method, shown
):
    server, database = demo_server.server, demo_server.database
    assert "Demo QRIS and virtual accounts: a local stand-in for Xendit" in server.log()
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as browser:
        pay_url = _check_out(browser, database, phone, product, quantity, method)
        assert re.fullmatch(r"/checkouts/\d+/pay", pay_url)
        pay_page = browser.get(pay_url)
        assert pay_page.status_code == 200, pay_page.text
        assert shown in pay_page.text and "data-demo-payment" in pay_page.text  # labelled: no money moves

        paid = browser.post(
            f"{pay_url.removesuffix('/pay')}/gateway/demo-pay", data={"_csrf_token": form_token(pay_page)}
        )
        assert (paid.status_code, paid.headers["location"]) == (303, pay_url)
        # The stand-in posts its signed callback to the server in a moment; the page (polling) then says paid.
        deadline = time.monotonic() + 20
        status = ""
        while 'data-payment="succeeded"' not in status and time.monotonic() < deadline:
            time.sleep(0.2)
            status = browser.get(f"{pay_url.removesuffix('/pay')}/gateway/status", headers={"HX-Request": "true"}).text
        assert 'data-payment="succeeded"' in status, server.log()[-2000:]
        checkout_id = int(pay_url.split("/")[2])
        with sqlite3.connect(database) as connection:
            orders = connection.execute(
                "SELECT status FROM vendor_order WHERE checkout_id = ?", (checkout_id,)
            ).fetchall()
            callbacks = connection.execute("SELECT event FROM gateway_callback").fetchall()
        assert orders == [("placed",)]
        assert ("payment.succeeded",) in callbacks
