"""People sign up with their WhatsApp number, log in, log out and change their password."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import col

from backend.accounts.models import AuthSession, LoginAttempt, Organisation, Role, User
from backend.accounts.service import hash_token
from tests.conftest import PASSWORD, browser, log_in, sign_up, submit


async def test_a_vendor_signs_up_with_a_local_phone_number_and_lands_on_the_seller_home(client, zone, database, codes):
    response = await sign_up(
        client,
        codes,
        {
            "role": "vendor",
            "full_name": "Sri  Rahayu",
            "phone": "0812-3456-7890",
            "password": "nasibox-enak-1",
            "zone_id": str(zone.id),
        },
    )

    assert response.headers["location"] == "/vendor"
    home = await client.get("/vendor")
    assert home.status_code == 200
    assert "Halo, Sri Rahayu" in home.text
    async with database.sessionmaker() as session:
        user = (await session.execute(select(User))).scalar_one()
    assert user.phone == "+6281234567890"
    assert user.role == "vendor"
    assert user.password_hash.startswith("$argon2id$")


async def test_a_canteen_sign_up_creates_its_organisation(client, zone, database, codes):
    response = await sign_up(
        client,
        codes,
        {
            "role": "canteen_staff",
            "full_name": "Dewi Lestari",
            "phone": "+62 813-1111-2222",
            "password": "kantin-pagi-7",
            "zone_id": str(zone.id),
            "organisation_name": "Kantin PT Batang Jaya",
        },
    )

    assert response.headers["location"] == "/canteen"
    page = await client.get("/canteen")
    assert "Kantin PT Batang Jaya" in page.text
    assert "Dewi Lestari" in page.text
    async with database.sessionmaker() as session:
        organisation = (await session.execute(select(Organisation))).scalar_one()
        user = (await session.execute(select(User))).scalar_one()
    assert user.organisation_id == organisation.id


async def test_bad_sign_up_keeps_what_was_typed_explains_in_indonesian_and_saves_nothing(client, zone, database):
    response = await submit(
        client,
        "/signup",
        {
            "role": "vendor",
            "full_name": "Sri Rahayu",
            "phone": "12345",
            "password": "pendek",
            "zone_id": str(zone.id),
        },
    )

    assert response.status_code == 422
    assert "Masukkan nomor HP" in response.text
    assert "minimal 8 karakter" in response.text
    assert 'value="Sri Rahayu"' in response.text
    assert "pendek" not in response.text  # a password is never echoed back
    async with database.sessionmaker() as session:
        assert (await session.execute(select(func.count(col(User.id))))).scalar_one() == 0


async def test_a_phone_number_can_only_have_one_account_whatever_its_spelling(client, vendor):
    national = "0" + vendor.phone.removeprefix("+62")
    response = await submit(
        client,
        "/signup",
        {
            "role": "worker",
            "full_name": "Orang Lain",
            "phone": national,
            "password": "password-baru-1",
            "zone_id": str(vendor.zone_id),
        },
    )

    assert response.status_code == 422
    assert "sudah punya akun" in response.text


def full_width(text: str) -> str:
    """The digits and plus sign as a full-width keyboard (Japanese, Chinese input methods) types them."""
    return text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789+"})


def arabic_indic(text: str) -> str:
    return text.translate({ord(str(digit)): 0x0660 + digit for digit in range(10)})


async def test_a_number_typed_in_other_digits_is_the_same_account(client, vendor, database):
    for lookalike in (
        full_width(vendor.phone),
        full_width("0" + vendor.phone.removeprefix("+62")),
        arabic_indic("0" + vendor.phone.removeprefix("+62")),
    ):
        response = await submit(
            client,
            "/signup",
            {
                "role": "worker",
                "full_name": "Orang Lain",
                "phone": lookalike,
                "password": "password-baru-1",
                "zone_id": str(vendor.zone_id),
            },
        )

        assert response.status_code == 422, lookalike
        assert "sudah punya akun" in response.text
    async with database.sessionmaker() as session:
        assert (await session.execute(select(col(User.phone)))).scalars().all() == [vendor.phone]


async def test_login_with_the_number_in_other_digits_finds_the_account(client, other_client, worker):
    response = await submit(client, "/login", {"phone": full_width(worker.phone), "password": PASSWORD})
    assert (response.status_code, response.headers.get("location")) == (303, "/worker")

    national = arabic_indic("0" + worker.phone.removeprefix("+62"))
    response = await submit(other_client, "/login", {"phone": national, "password": PASSWORD})
    assert (response.status_code, response.headers.get("location")) == (303, "/worker")


async def test_login_accepts_the_number_as_people_type_it_and_opens_the_role_home(client, worker):
    national = "0" + worker.phone.removeprefix("+62")
    response = await submit(client, "/login", {"phone": national, "password": PASSWORD})

    assert response.status_code == 303
    assert response.headers["location"] == "/worker"


async def test_a_wrong_password_is_refused_with_a_clear_message(client, worker):
    response = await submit(client, "/login", {"phone": worker.phone, "password": "salah-sekali"})

    assert response.status_code == 401
    assert "Nomor HP atau kata sandi salah" in response.text
    assert (await client.get("/worker", follow_redirects=False)).status_code == 303


async def test_six_wrong_passwords_in_a_row_lock_this_address_out_of_the_account_even_for_the_right_one(client, worker):
    for _ in range(5):
        response = await submit(client, "/login", {"phone": worker.phone, "password": "tebak-tebakan"})
        assert response.status_code == 401

    sixth = await submit(client, "/login", {"phone": worker.phone, "password": "tebak-lagi"})
    assert sixth.status_code == 429
    assert "Terlalu banyak kata sandi salah" in sixth.text
    assert "menit" in sixth.text

    right = await submit(client, "/login", {"phone": worker.phone, "password": PASSWORD})
    assert right.status_code == 429


async def test_a_successful_login_resets_the_count_of_wrong_passwords(client, worker):
    for _ in range(4):
        await submit(client, "/login", {"phone": worker.phone, "password": "tebak-tebakan"})
    await log_in(client, worker)
    await submit(client, "/logout", {})
    for _ in range(4):
        response = await submit(client, "/login", {"phone": worker.phone, "password": "tebak-tebakan"})
        assert response.status_code == 401


async def test_one_address_guessing_many_accounts_is_stopped(world, zone, settings, app_for, database):
    strict = settings.model_copy(update={"login_failures_per_ip": 4, "login_failures_per_account": 10})
    people = [await world.user(Role.WORKER, zone=zone) for _ in range(3)]
    async with browser(await app_for(strict)) as client:
        for attempt in range(4):
            person = people[attempt % 2]
            response = await submit(client, "/login", {"phone": person.phone, "password": f"salah-{attempt}"})
            assert response.status_code == 401

        response = await submit(client, "/login", {"phone": people[2].phone, "password": PASSWORD})

    assert response.status_code == 429
    assert "Terlalu banyak kata sandi salah" in response.text
    async with database.sessionmaker() as session:
        assert (await session.execute(select(func.count(col(LoginAttempt.id))))).scalar_one() == 4


async def test_login_gives_a_new_session_id_and_ends_the_previous_one(client, worker, database):
    await log_in(client, worker)
    first = client.cookies["pk_session"]
    await log_in(client, worker)
    second = client.cookies["pk_session"]

    assert first != second
    async with database.sessionmaker() as session:
        hashes = set((await session.execute(select(col(AuthSession.token_hash)))).scalars())
    assert hash_token(second) in hashes
    assert hash_token(first) not in hashes
    assert first not in hashes and second not in hashes  # only hashes are stored


async def test_logging_out_ends_the_session(client, worker):
    await log_in(client, worker)
    stolen = client.cookies["pk_session"]
    response = await submit(client, "/logout", {})
    assert response.status_code == 303

    client.cookies.set("pk_session", stolen, domain="testserver.local")
    assert (await client.get("/worker", follow_redirects=False)).headers["location"].startswith("/login")


async def test_changing_the_password_logs_out_other_devices(client, other_client, worker):
    await log_in(client, worker)
    await log_in(other_client, worker)

    response = await submit(
        client, "/settings/password", {"current_password": PASSWORD, "new_password": "kata-sandi-baru-9"}
    )
    assert response.status_code == 303
    assert (await client.get("/settings")).status_code == 200
    assert (await other_client.get("/worker", follow_redirects=False)).status_code == 303
    await submit(client, "/logout", {})
    assert (await submit(client, "/login", {"phone": worker.phone, "password": "kata-sandi-baru-9"})).status_code == 303


async def test_a_wrong_current_password_changes_nothing(client, worker):
    await log_in(client, worker)
    response = await submit(
        client, "/settings/password", {"current_password": "bukan-ini", "new_password": "kata-sandi-baru-9"}
    )
    assert response.status_code == 422
    assert "Kata sandi saat ini salah" in response.text
    await submit(client, "/logout", {})
    await log_in(client, worker)  # the old password still works


async def test_login_returns_to_the_page_that_asked_for_it_but_never_to_another_site(client, worker):
    redirect = await client.get("/settings", follow_redirects=False)
    assert redirect.headers["location"] == "/login?next=%2Fsettings"

    response = await submit(client, "/login", {"phone": worker.phone, "password": PASSWORD, "next": "/settings"})
    assert response.headers["location"] == "/settings"
    await submit(client, "/logout", {})
    response = await submit(
        client, "/login", {"phone": worker.phone, "password": PASSWORD, "next": "//evil.example/phish"}
    )
    assert response.headers["location"] == "/worker"
