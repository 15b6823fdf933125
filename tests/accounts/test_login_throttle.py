"""Wrong passwords are throttled without handing strangers a way to lock the owner out: per account and address,
per address, and only at a high ceiling per account; a throttled owner logs in with a code sent to WhatsApp."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from litestar import Litestar

from backend.accounts.models import Role
from tests.conftest import PASSWORD, csrf_token, found, submit

STRANGER = "203.0.113.7"
OWNER = "198.51.100.20"


@contextlib.asynccontextmanager
async def browser_at(app: Litestar, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of its own connecting from `address` (what the app counts as the client: no proxy is trusted)."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))  # type: ignore[arg-type]  # Litestar types the ASGI scope more narrowly than httpx
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        await csrf_token(client)
        yield client


async def guess(client: httpx.AsyncClient, phone: str, password: str = "tebak-tebakan") -> int:
    response = await submit(client, "/login", {"phone": phone, "password": password})
    return int(response.status_code)


async def test_a_strangers_wrong_passwords_do_not_stop_the_owner_logging_in_from_another_address(app, vendor):
    async with browser_at(app, STRANGER) as stranger:
        assert [await guess(stranger, vendor.phone) for _ in range(6)] == [401] * 5 + [429]

    async with browser_at(app, OWNER) as owner:
        response = await submit(owner, "/login", {"phone": vendor.phone, "password": PASSWORD})
        assert (response.status_code, response.headers["location"]) == (303, "/vendor")


async def test_the_same_address_is_refused_after_five_for_that_account_even_with_the_right_password(app, world, zone):
    sri, budi = [await world.user(Role.WORKER, zone=zone) for _ in range(2)]
    async with browser_at(app, STRANGER) as client:
        assert [await guess(client, sri.phone) for _ in range(5)] == [401] * 5
        refused = await submit(client, "/login", {"phone": sri.phone, "password": PASSWORD})
        assert refused.status_code == 429
        assert "Terlalu banyak kata sandi salah" in refused.text
        assert "Masuk dengan kode WhatsApp" in refused.text
        # The pair is throttled, not the address: another account still logs in from it.
        assert await guess(client, budi.phone, PASSWORD) == 303


async def test_one_address_guessing_many_accounts_is_refused(app, world, zone, settings):
    owner = await world.user(Role.WORKER, zone=zone)
    per_address = settings.login_failures_per_ip
    async with browser_at(app, STRANGER) as client:
        answers = [await guess(client, f"0812-3456-{7100 + attempt % 10:04d}") for attempt in range(per_address)]
        assert set(answers) == {401}
        assert await guess(client, owner.phone, PASSWORD) == 429
    async with browser_at(app, OWNER) as elsewhere:
        assert await guess(elsewhere, owner.phone, PASSWORD) == 303


async def test_an_account_guessed_at_from_everywhere_stops_at_its_ceiling_and_its_owner_logs_in_by_code(
    settings, app_for, world, zone, database, codes
):
    ceiling = settings.model_copy(update={"login_failures_per_account": 6})
    app = await app_for(ceiling)
    owner = await world.user(Role.WORKER, zone=zone)
    for n in range(3):
        async with browser_at(app, f"203.0.113.{10 + n}") as stranger:
            assert [await guess(stranger, owner.phone) for _ in range(2)] == [401, 401]

    async with browser_at(app, OWNER) as phone:
        assert await guess(phone, owner.phone, PASSWORD) == 429
        login = await phone.get("/login")
        offer = found(r'href="(/login/code[^"]*)"', login.text).group(1)
        assert "Masuk dengan kode WhatsApp" in login.text

        sent = await submit(phone, "/login/code", {"phone": "0" + owner.phone.removeprefix("+62")})
        assert sent.status_code == 303
        form = await phone.get(sent.headers["location"])
        assert "kode 6 angka" in form.text and 'action="/login/code/enter"' in form.text
        code = codes.last_code(owner.phone)
        wrong = await submit(
            phone, "/login/code/enter", {"phone": owner.phone, "code": "000000" if code != "000000" else "111111"}
        )
        assert wrong.status_code == 422
        assert "Kode itu salah" in wrong.text
        right = await submit(phone, "/login/code/enter", {"phone": owner.phone, "code": code})
        assert (right.status_code, right.headers["location"]) == (303, "/worker")
        assert (await phone.get("/worker", follow_redirects=False)).status_code == 200
    assert offer.startswith("/login/code")


async def test_a_login_code_is_only_sent_to_a_number_with_an_account_and_the_answer_is_the_same(
    app, world, zone, codes
):
    owner = await world.user(Role.WORKER, zone=zone)
    async with browser_at(app, OWNER) as client:
        unknown = await submit(client, "/login/code", {"phone": "0812-9999-0001"})
        known = await submit(client, "/login/code", {"phone": owner.phone})
        # Nobody learns from the answer whether the number has an account.
        assert unknown.status_code == known.status_code == 303
        refused = await submit(client, "/login/code/enter", {"phone": "0812-9999-0001", "code": "123456"})
        assert refused.status_code == 422
    assert [to for to, _ in codes.sent] == [owner.phone]
