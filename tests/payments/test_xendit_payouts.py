"""Vendors' payouts through the payment gateway (Xendit's Payouts API), where it is set up: the admin pays a vendor
out, the payout is pending in the ledger at once (the balance cannot be spent twice), the job sends it to the
vendor's bank account once however often it runs or Xendit's answer is lost, and Xendit's callback settles it:
succeeded, the payout stands; failed, the balance comes back, the admin is told, and it can be paid out again.
Forged and repeated callbacks change nothing. Without the gateway, payouts stay bank transfers made by hand.

The gateway is the local stand-in for Xendit's HTTP API (backend.payments.demo_xendit), spoken to through the
official xendit-python SDK. Orders complete on the ordering helpers' fixed clock; pages run on the real clock.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func, select
from sqlmodel import col

from backend.accounts import service as accounts
from backend.accounts.models import Role
from backend.config import Settings
from backend.db import Database
from backend.errors import ValidationFailed
from backend.jobs import run_job, schedules
from backend.notifications.models import Notification
from backend.payments import ledger, payout_accounts
from backend.payments.demo_xendit import DemoXendit
from backend.payments.models import Payout, PayoutStatus
from backend.payments.payout_accounts import PayoutAccountInput, payout_channel
from backend.vendors import service as vendor_service
from tests.app_process import ServerProcess, suite_environment
from tests.conftest import AppFor, log_in, submit
from tests.orders.conftest import NOW
from tests.payments.conftest import XENDIT_CALLBACK_TOKEN, XENDIT_SECRET_KEY, send_callback
from tests.payments.test_ledger import assert_balanced, balance_of, bearer, canteens_pay, complete

OWED = 142_500  # ten nasi box at Rp 15.000, less 5 % commission


@pytest.fixture
async def app(gateway_settings: Settings, app_for: AppFor, database: Database) -> Litestar:
    """The app with the payment gateway set up (the fake Xendit)."""
    return await app_for(gateway_settings)


async def save_account(database: Database, vendor_user: Any, bank: str = "BNI") -> None:
    async with database.sessionmaker() as session:
        vendor = await vendor_service.require_vendor(session=session, user=vendor_user)
        data = PayoutAccountInput(bank_name=bank, account_number="0123-456-789", account_holder="Sri Rahayu")
        await payout_accounts.save_payout_account(session=session, actor=vendor_user, vendor=vendor, data=data, now=NOW)
        await session.commit()


@pytest.fixture
async def owed_vendor(ordering, catering, canteen_staff, admin, database):
    """Catering Bu Sri, owed Rp 142.500 for ten nasi box the canteen has paid for, paid out to BNI 0123456789."""
    seller, nasi_box = catering
    order = await ordering.order(canteen_staff, nasi_box.id, 10)
    await complete(database, order, seller.user, canteen_staff)
    await canteens_pay(database, admin, order)
    await save_account(database, seller.user)
    assert await balance_of(database, seller.vendor) == OWED
    return seller


async def pay_out(
    database: Database, admin: Any, vendor_id: int, amount: int, settings: Settings, reference: str = "XENDIT-1"
) -> Payout:
    async with database.sessionmaker() as session:
        try:
            payout = await ledger.record_payout(
                session=session,
                actor=admin,
                vendor_id=vendor_id,
                amount=amount,
                reference=reference,
                now=NOW,
                settings=settings,
            )
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
        return payout


async def send_payouts(database: Database, settings: Settings) -> int:
    """The job, as the worker runs it."""
    return int(await run_job("send_payouts", database=database, settings=settings, now=NOW))


async def payout_of(database: Database, payout_id: int) -> Payout:
    async with database.sessionmaker() as session:
        found = await session.get(Payout, payout_id)
        assert found is not None
        return found


async def payouts_count(database: Database) -> int:
    async with database.sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(Payout))).scalar_one()


def sent_payouts(fake: DemoXendit) -> list[tuple[dict[str, Any], str | None]]:
    return [(body, key) for method, path, body, key in fake.requests if (method, path) == ("POST", "/v2/payouts")]


# --- sending ----------------------------------------------------------------------------------------------


def test_payouts_are_sent_by_a_scheduled_job_only_where_the_gateway_is_set_up(settings, gateway_settings):
    assert "send_payouts" in {schedule.job for schedule in schedules(gateway_settings)}
    assert "send_payouts" not in {schedule.job for schedule in schedules(settings)}


def test_the_banks_vendors_name_map_to_xenditss_payout_channels():
    assert payout_channel("BCA") == "ID_BCA"
    assert payout_channel("Bank Mandiri") == "ID_MANDIRI"
    assert payout_channel("  bank  bri ") == "ID_BRI"
    assert payout_channel("BNI") == "ID_BNI"
    assert payout_channel("CIMB Niaga") == "ID_CIMB"
    assert payout_channel("Bank Jateng") is None  # not one we know the channel of: paid out by hand


async def test_a_payout_is_pending_at_once_and_sent_once_however_often_the_job_runs(
    owed_vendor, admin, database, gateway_settings, fake_xendit: DemoXendit
):
    payout = await pay_out(database, admin, owed_vendor.vendor.id, 100_000, gateway_settings)
    # Recorded and taken from the balance before anything is sent: a second payout cannot spend it again.
    assert payout.status == PayoutStatus.PENDING and payout.channel_code == "ID_BNI"
    assert await balance_of(database, owed_vendor.vendor) == OWED - 100_000
    assert sent_payouts(fake_xendit) == []
    with pytest.raises(ValidationFailed):
        await pay_out(database, admin, owed_vendor.vendor.id, 50_000, gateway_settings, reference="XENDIT-2")

    assert await send_payouts(database, gateway_settings) == 1
    assert await send_payouts(database, gateway_settings) == 0  # nothing pending any more

    ((body, key),) = sent_payouts(fake_xendit)
    assert key == f"payout-{payout.id}"
    assert body["reference_id"] == f"payout-{payout.id}" and body["channel_code"] == "ID_BNI"
    assert body["channel_properties"] == {"account_number": "0123456789", "account_holder_name": "Sri Rahayu"}
    assert int(body["amount"]) == 100_000 and body["currency"] == "IDR"
    (at_xendit,) = fake_xendit.payouts_for(f"payout-{payout.id}")
    sent = await payout_of(database, payout.id)
    assert sent.status == PayoutStatus.SENT and sent.gateway_payout_id == at_xendit["id"]
    await assert_balanced(database)


async def test_a_lost_answer_or_an_outage_is_retried_and_makes_one_payout(
    owed_vendor, admin, database, gateway_settings, fake_xendit: DemoXendit
):
    impatient = gateway_settings.model_copy(update={"xendit_timeout_seconds": 0.3})
    payout = await pay_out(database, admin, owed_vendor.vendor.id, OWED, impatient)

    fake_xendit.outage()
    assert await send_payouts(database, impatient) == 0
    waiting = await payout_of(database, payout.id)
    assert waiting.status == PayoutStatus.PENDING and "Xendit" in waiting.last_error
    fake_xendit.recover()

    # Xendit makes the payout, but its answer comes after the app stopped waiting.
    fake_xendit.slow_payouts_once(1.0)
    assert await send_payouts(database, impatient) == 0
    assert (await payout_of(database, payout.id)).status == PayoutStatus.PENDING
    assert len(fake_xendit.payouts_for(f"payout-{payout.id}")) == 1

    assert await send_payouts(database, impatient) == 1  # sent again, with the same idempotency key
    assert {key for _, key in sent_payouts(fake_xendit)} == {f"payout-{payout.id}"}
    (at_xendit,) = fake_xendit.payouts_for(f"payout-{payout.id}")
    sent = await payout_of(database, payout.id)
    assert (sent.status, sent.gateway_payout_id, sent.last_error) == (PayoutStatus.SENT, at_xendit["id"], "")
    await assert_balanced(database)


# --- settling ---------------------------------------------------------------------------------------------


async def test_the_succeeded_callback_settles_the_payout_once(
    client, owed_vendor, admin, database, gateway_settings, fake_xendit: DemoXendit
):
    payout = await pay_out(database, admin, owed_vendor.vendor.id, 100_000, gateway_settings)
    await send_payouts(database, gateway_settings)
    (at_xendit,) = fake_xendit.payouts_for(f"payout-{payout.id}")

    callback = fake_xendit.complete_payout(at_xendit["id"])
    answer = await send_callback(client, callback)
    assert answer.status_code == 200 and answer.json()["outcome"] == "processed"
    again = await send_callback(client, callback)
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"

    assert (await payout_of(database, payout.id)).status == PayoutStatus.SUCCEEDED
    assert await balance_of(database, owed_vendor.vendor) == OWED - 100_000
    await assert_balanced(database)

    # The vendor sees it arrived, on the page and through the API.
    await log_in(client, owed_vendor.user)
    page = await client.get("/vendor/balance")
    assert 'data-payout-status="succeeded"' in page.text
    balance = (await client.get("/api/v1/vendor/balance", headers=await bearer(database, owed_vendor.user))).json()
    assert [(p["id"], p["status"]) for p in balance["payouts"]] == [(payout.id, "succeeded")]


async def test_a_callback_before_the_answer_was_stored_still_settles_the_payout(
    client, owed_vendor, admin, database, gateway_settings, fake_xendit: DemoXendit
):
    impatient = gateway_settings.model_copy(update={"xendit_timeout_seconds": 0.3})
    payout = await pay_out(database, admin, owed_vendor.vendor.id, 100_000, impatient)
    fake_xendit.slow_payouts_once(1.0)
    await send_payouts(database, impatient)  # the answer was lost: the app does not know Xendit's id
    (at_xendit,) = fake_xendit.payouts_for(f"payout-{payout.id}")

    answer = await send_callback(client, fake_xendit.complete_payout(at_xendit["id"]))
    assert answer.json()["outcome"] == "processed"
    settled = await payout_of(database, payout.id)
    assert (settled.status, settled.gateway_payout_id) == (PayoutStatus.SUCCEEDED, at_xendit["id"])
    assert await send_payouts(database, impatient) == 0  # settled: not sent again
    assert len(fake_xendit.payouts_for(f"payout-{payout.id}")) == 1


async def test_a_failed_payout_gives_the_balance_back_tells_the_admin_and_can_be_sent_again(
    client, owed_vendor, admin, database, gateway_settings, fake_xendit: DemoXendit
):
    payout = await pay_out(database, admin, owed_vendor.vendor.id, OWED, gateway_settings)
    await send_payouts(database, gateway_settings)
    (at_xendit,) = fake_xendit.payouts_for(f"payout-{payout.id}")
    assert await balance_of(database, owed_vendor.vendor) == 0

    callback = fake_xendit.fail_payout(at_xendit["id"], "INVALID_DESTINATION")
    assert (await send_callback(client, callback)).json()["outcome"] == "processed"
    assert (await send_callback(client, callback)).json()["outcome"] == "duplicate"

    failed = await payout_of(database, payout.id)
    assert (failed.status, failed.last_error) == (PayoutStatus.FAILED, "INVALID_DESTINATION")
    assert await balance_of(database, owed_vendor.vendor) == OWED  # given back once
    await assert_balanced(database)
    async with database.sessionmaker() as session:
        (note,) = (await session.execute(select(Notification).where(col(Notification.user_id) == admin.id))).scalars()
    assert note.params["reason"] == "INVALID_DESTINATION" and note.url.startswith("/admin/balances")

    # The admin sees why, and sends it again (after the vendor corrected the account, say).
    await log_in(client, admin)
    page = await client.get("/admin/balances")
    assert 'data-payout-status="failed"' in page.text and "INVALID_DESTINATION" in page.text
    assert "data-through-gateway" in page.text
    again = await pay_out(database, admin, owed_vendor.vendor.id, OWED, gateway_settings, reference="XENDIT-2")
    await send_payouts(database, gateway_settings)
    assert len(fake_xendit.payouts_for(f"payout-{again.id}")) == 1
    assert (await payout_of(database, again.id)).status == PayoutStatus.SENT
    assert await balance_of(database, owed_vendor.vendor) == 0
    await assert_balanced(database)


async def test_a_payout_xendit_refuses_outright_is_failed_and_given_back(
    owed_vendor, admin, database, gateway_settings, fake_xendit: DemoXendit
):
    payout = await pay_out(database, admin, owed_vendor.vendor.id, OWED, gateway_settings)
    async with database.sessionmaker() as session:  # an account number Xendit will not take
        stored = await session.get(Payout, payout.id)
        assert stored is not None
        stored.channel_code = "XX_UNKNOWN"
        await session.commit()
    assert await send_payouts(database, gateway_settings) == 0
    failed = await payout_of(database, payout.id)
    assert failed.status == PayoutStatus.FAILED and "API_VALIDATION_ERROR" in failed.last_error
    assert await balance_of(database, owed_vendor.vendor) == OWED
    assert await send_payouts(database, gateway_settings) == 0  # not tried again
    await assert_balanced(database)


async def test_forged_callbacks_change_nothing(
    client, owed_vendor, admin, database, gateway_settings, fake_xendit: DemoXendit
):
    payout = await pay_out(database, admin, owed_vendor.vendor.id, OWED, gateway_settings)
    await send_payouts(database, gateway_settings)
    (at_xendit,) = fake_xendit.payouts_for(f"payout-{payout.id}")
    # What a failure callback would say, while Xendit's payout is still on its way.
    forged = fake_xendit.payout_callback(at_xendit["id"])
    forged["event"], forged["data"]["status"], forged["data"]["failure_code"] = "payout.failed", "FAILED", "X"

    assert (await send_callback(client, forged, token=None)).status_code == 401
    assert (await send_callback(client, forged, token="not-the-token")).status_code == 401
    # With the token (leaked, say), it is checked with Xendit, which says the payout is on its way.
    assert (await send_callback(client, forged)).json()["outcome"] == "ignored"
    # A payout that is not ours, and one for another amount.
    stranger = {**forged, "data": {**forged["data"], "id": "disb-not-ours", "reference_id": "payout-999999"}}
    assert (await send_callback(client, stranger)).json()["outcome"] == "rejected"
    fake_xendit.payouts[at_xendit["id"]]["amount"] = 1
    fake_xendit.fail_payout(at_xendit["id"])
    wrong = fake_xendit.payout_callback(at_xendit["id"])
    assert (await send_callback(client, wrong)).json()["outcome"] == "rejected"

    assert (await payout_of(database, payout.id)).status == PayoutStatus.SENT
    assert await balance_of(database, owed_vendor.vendor) == 0
    await assert_balanced(database)


# --- pages, API, and the manual path ----------------------------------------------------------------------


async def test_the_admin_sends_a_payout_from_the_page_and_reads_its_state(
    client, owed_vendor, admin, database, gateway_settings, fake_xendit: DemoXendit, count_queries
):
    await log_in(client, admin)
    count_queries.statements.clear()
    page = await client.get("/admin/balances")
    assert page.status_code == 200 and count_queries.count <= 5, count_queries.statements
    # No bank reference to type: the form carries its own.
    assert "data-through-gateway" in page.text and f'id="reference-{owed_vendor.vendor.id}"' not in page.text
    reference = page.text.split('name="reference" value="')[1].split('"')[0]
    sent = await submit(
        client, f"/admin/vendors/{owed_vendor.vendor.id}/payouts", {"amount": "100.000", "reference": reference}
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/admin/balances?notice=payout_sent"
    twice = await submit(
        client, f"/admin/vendors/{owed_vendor.vendor.id}/payouts", {"amount": "10.000", "reference": reference}
    )
    assert twice.status_code == 400  # the same form sent twice pays out once
    assert await payouts_count(database) == 1
    assert 'data-payout-status="pending"' in (await client.get("/admin/balances")).text

    await send_payouts(database, gateway_settings)
    listed = (await client.get("/api/v1/admin/payouts", headers=await bearer(database, admin))).json()
    assert [(p["status"], p["amount"], p["last_error"]) for p in listed] == [("sent", 100_000, "")]
    assert 'data-payout-status="sent"' in (await client.get("/admin/balances")).text


async def test_without_the_gateway_payouts_stay_bank_transfers_made_by_hand(
    client, owed_vendor, admin, database, settings, gateway_settings, fake_xendit: DemoXendit
):
    manual = await pay_out(database, admin, owed_vendor.vendor.id, 40_000, settings, reference="BCA 0001")
    assert manual.status == PayoutStatus.MANUAL and manual.channel_code == ""
    # With the gateway set up, a bank it does not pay out to is paid by hand too.
    await save_account(database, owed_vendor.user, bank="Bank Jateng")
    by_hand = await pay_out(database, admin, owed_vendor.vendor.id, 40_000, gateway_settings, reference="BCA 0002")
    assert by_hand.status == PayoutStatus.MANUAL
    assert await send_payouts(database, gateway_settings) == 0
    assert sent_payouts(fake_xendit) == []
    assert await balance_of(database, owed_vendor.vendor) == OWED - 80_000
    await assert_balanced(database)

    await log_in(client, admin)
    page = await client.get("/admin/balances")
    assert f'id="reference-{owed_vendor.vendor.id}"' in page.text and "data-through-gateway" not in page.text
    assert 'data-payout-status="manual"' in page.text


# --- two admins at once, over HTTP ------------------------------------------------------------------------


@pytest.fixture
def payout_server(settings: Settings, fake_xendit: DemoXendit, tmp_path_factory: pytest.TempPathFactory):
    """The app served by uvicorn on the database under test, with the gateway set up: two requests at once each
    have their own database connection, as in production."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("races between worker processes are tested on PostgreSQL")
    process = ServerProcess(
        log_dir=tmp_path_factory.mktemp("payouts-server"),
        workers=1,
        environment=suite_environment(
            settings,
            API_RATE_LIMIT_PER_MINUTE="100000",
            XENDIT_SECRET_KEY=XENDIT_SECRET_KEY,
            XENDIT_CALLBACK_TOKEN=XENDIT_CALLBACK_TOKEN,
            XENDIT_API_BASE=fake_xendit.url,
        ),
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.mark.postgres_only
@pytest.mark.one_database
async def test_two_admins_paying_out_the_same_balance_at_once_make_one_payout(
    world, owed_vendor, admin, database, gateway_settings, fake_xendit: DemoXendit, payout_server: ServerProcess
):
    other_admin = await world.user(Role.ADMIN, full_name="Admin Kedua")
    tokens = []
    for person in (admin, other_admin):
        async with database.sessionmaker() as session:
            raw, _ = await accounts.create_api_token(session=session, user=person, name="keuangan")
            await session.commit()
        tokens.append(raw)
    url = f"/api/v1/admin/vendors/{owed_vendor.vendor.id}/payouts"
    async with httpx.AsyncClient(base_url=payout_server.url, timeout=30) as http:
        # Each admin's app has called the API before (a token's first use is written down).
        for raw in tokens:
            assert (
                await http.get("/api/v1/admin/balances", headers={"Authorization": f"Bearer {raw}"})
            ).status_code == 200
        answers = await asyncio.gather(
            *(
                http.post(
                    url, json={"amount": OWED, "reference": f"XENDIT-{n}"}, headers={"Authorization": f"Bearer {raw}"}
                )
                for n, raw in enumerate(tokens)
            )
        )
    assert sorted(answer.status_code for answer in answers)[0] in (200, 201)
    assert sorted(answer.status_code for answer in answers)[1] in (400, 422), [a.text for a in answers]
    assert await payouts_count(database) == 1
    assert await balance_of(database, owed_vendor.vendor) == 0
    assert await send_payouts(database, gateway_settings) == 1
    assert len(sent_payouts(fake_xendit)) == 1
    await assert_balanced(database)
