"""A phone number is proven by a one-time code sent to it before the account can do anything, and only then does
a UMKM from the district register get its business profile."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from backend.accounts.models import CodePurpose, PhoneVerification, Role, User
from backend.accounts.service import create_api_token
from backend.accounts.verification import CodePolicy, check_code, code_hash, confirm_phone, send_code
from backend.errors import TooManyAttempts, ValidationFailed
from backend.moderation.models import VendorInvitation
from backend.vendors.models import Vendor
from tests.conftest import TEST_SECRET, browser, log_in, submit
from tests.moderation.test_register_import import REGISTER, run_import

POLICY = CodePolicy(secret_key=TEST_SECRET)
UMKM_NUMBER = "+6281234567001"  # Catering Bu Sri in the register
ADDRESS = "198.51.100.20"


def sri_signs_up(zone_id: int, password: str = "catering-sri-1") -> dict[str, str]:
    return {
        "role": "vendor",
        "full_name": "Sri Rahayu",
        "phone": "0812-3456-7001",
        "password": password,
        "zone_id": str(zone_id),
    }


async def business_profiles(database) -> int:
    async with database.sessionmaker() as session:
        return (await session.execute(select(func.count(col(Vendor.id))))).scalar_one()


async def claimed_invitations(database) -> int:
    async with database.sessionmaker() as session:
        return (
            await session.execute(
                select(func.count(col(VendorInvitation.id))).where(col(VendorInvitation.claimed_by_id).is_not(None))
            )
        ).scalar_one()


async def test_a_stranger_signing_up_with_a_register_umkms_number_gets_no_business_until_the_code_is_entered(
    client, zone, manager, database, codes
):
    await run_import(database, manager, REGISTER.encode())

    response = await submit(client, "/signup", sri_signs_up(zone.id, "bukan-punya-saya"))

    assert (response.status_code, response.headers["location"]) == (303, "/verify-phone")
    assert codes.sent_to(UMKM_NUMBER) == 1  # the code went to the UMKM's WhatsApp, not to the stranger
    assert await business_profiles(database) == 0
    assert await claimed_invitations(database) == 0
    # The stranger cannot reach the seller's pages, nor guess the code.
    assert (await client.get("/vendor", follow_redirects=False)).headers["location"] == "/verify-phone"
    wrong = await submit(
        client, "/verify-phone", {"code": "000000" if codes.last_code(UMKM_NUMBER) != "000000" else "111111"}
    )
    assert wrong.status_code == 422
    assert "Kode itu salah" in wrong.text and "4 kali lagi" in wrong.text
    assert await business_profiles(database) == 0
    async with database.sessionmaker() as session:  # the refused try was kept: it counts against the code
        assert (await session.execute(select(col(PhoneVerification.wrong_attempts)))).scalar_one() == 1

    # Whoever holds the phone reads the code and enters it: now the register's profile is theirs.
    right = await submit(client, "/verify-phone", {"code": codes.last_code(UMKM_NUMBER)})
    assert (right.status_code, right.headers["location"]) == (303, "/vendor")
    assert await business_profiles(database) == 1
    assert await claimed_invitations(database) == 1
    assert (await client.get("/vendor")).status_code == 200


async def test_the_verification_page_speaks_indonesian_and_works_as_a_plain_form(client, zone, codes):
    await submit(client, "/signup", sri_signs_up(zone.id))

    page = await client.get("/verify-phone")

    assert page.status_code == 200
    assert "Konfirmasi nomor Anda" in page.text
    assert 'action="/verify-phone"' in page.text and 'method="post"' in page.text
    assert "<script" not in page.text.split("<main", 1)[-1].split("</main>", 1)[0]
    assert "0812-3456-7001" in page.text


async def test_only_a_keyed_hash_of_the_code_is_stored(client, zone, database, codes):
    await submit(client, "/signup", sri_signs_up(zone.id))
    code = codes.last_code(UMKM_NUMBER)

    async with database.sessionmaker() as session:
        stored = (await session.execute(select(PhoneVerification))).scalar_one()
    assert code not in stored.code_hash
    assert stored.code_hash != hashlib.sha256(code.encode()).hexdigest()
    assert len(code) == 6 and code.isdigit()
    assert stored.purpose == CodePurpose.SIGN_UP


async def unproven_account(world, zone) -> User:
    return await world.user(Role.VENDOR, zone=zone, verified=False)


async def test_five_wrong_codes_kill_the_code_and_a_new_one_must_be_asked_for(world, zone, database, codes):
    user = await unproven_account(world, zone)
    now = world.now
    async with database.sessionmaker() as session:
        await send_code(
            session=session,
            user=user,
            purpose=CodePurpose.SIGN_UP,
            policy=POLICY,
            sender=codes,
            ip_address=ADDRESS,
            now=now,
        )
        await session.commit()
    right = codes.last_code(user.phone)
    wrong = "000000" if right != "000000" else "111111"

    messages = []
    for _ in range(5):
        async with database.sessionmaker() as session:
            with pytest.raises(ValidationFailed) as refused:
                await confirm_phone(session=session, user=user, code=wrong, policy=POLICY, now=now)
            await session.commit()  # the page keeps the wrong try (keep_when_refused)
        messages.append(refused.value.errors[0].params.get("left"))
    assert messages == [4, 3, 2, 1, None]  # the fifth wrong try kills the code

    async with database.sessionmaker() as session:
        with pytest.raises(ValidationFailed):
            await confirm_phone(session=session, user=user, code=right, policy=POLICY, now=now)

    later = now + POLICY.resend_interval
    async with database.sessionmaker() as session:
        await send_code(
            session=session,
            user=user,
            purpose=CodePurpose.SIGN_UP,
            policy=POLICY,
            sender=codes,
            ip_address=ADDRESS,
            now=later,
        )
        await session.commit()
    async with database.sessionmaker() as session:
        proven = await confirm_phone(
            session=session, user=user, code=codes.last_code(user.phone), policy=POLICY, now=later
        )
        await session.commit()
    assert proven.phone_verified_at is not None


async def test_an_expired_code_is_refused(world, zone, database, codes):
    user = await unproven_account(world, zone)
    async with database.sessionmaker() as session:
        await send_code(
            session=session,
            user=user,
            purpose=CodePurpose.SIGN_UP,
            policy=POLICY,
            sender=codes,
            ip_address=ADDRESS,
            now=world.now,
        )
        await session.commit()

    async with database.sessionmaker() as session:
        with pytest.raises(ValidationFailed) as refused:
            await confirm_phone(
                session=session,
                user=user,
                code=codes.last_code(user.phone),
                policy=POLICY,
                now=world.now + timedelta(minutes=10),
            )
    assert refused.value.errors[0].message.startswith("This code has expired")


async def test_a_code_is_used_once_and_only_for_its_purpose(world, zone, database, codes):
    user = await unproven_account(world, zone)
    async with database.sessionmaker() as session:
        await send_code(
            session=session,
            user=user,
            purpose=CodePurpose.SIGN_UP,
            policy=POLICY,
            sender=codes,
            ip_address=ADDRESS,
            now=world.now,
        )
        code = codes.last_code(user.phone)
        with pytest.raises(ValidationFailed):
            await check_code(
                session=session, user=user, purpose=CodePurpose.LOGIN, code=code, policy=POLICY, now=world.now
            )
        await check_code(
            session=session, user=user, purpose=CodePurpose.SIGN_UP, code=code, policy=POLICY, now=world.now
        )
        with pytest.raises(ValidationFailed):
            await check_code(
                session=session, user=user, purpose=CodePurpose.SIGN_UP, code=code, policy=POLICY, now=world.now
            )


async def test_codes_to_a_number_are_limited_to_one_a_minute_and_five_an_hour(world, zone, database, codes):
    user = await unproven_account(world, zone)

    async def ask_at(seconds: float) -> None:
        async with database.sessionmaker() as session:
            await send_code(
                session=session,
                user=user,
                purpose=CodePurpose.SIGN_UP,
                policy=POLICY,
                sender=codes,
                ip_address=ADDRESS,
                now=world.now + timedelta(seconds=seconds),
            )
            await session.commit()

    await ask_at(0)
    with pytest.raises(TooManyAttempts) as too_soon:
        await ask_at(30)
    assert too_soon.value.retry_after_seconds == 30
    for minute in (1, 2, 3, 4):
        await ask_at(minute * 60)
    with pytest.raises(TooManyAttempts) as hourly:
        await ask_at(5 * 60)
    assert hourly.value.params == {"minutes": 55}
    await ask_at(3600 + 1)  # the first code is more than an hour old

    assert codes.sent_to(user.phone) == 6
    # Only the newest code counts.
    async with database.sessionmaker() as session:
        unused = (
            await session.execute(select(PhoneVerification).where(col(PhoneVerification.used_at).is_(None)))
        ).scalars()
        assert len(list(unused)) == 1


async def test_asking_again_at_once_from_the_page_is_refused_with_the_wait(client, zone, codes):
    await submit(client, "/signup", sri_signs_up(zone.id))

    again = await submit(client, "/verify-phone/resend", {})

    assert again.status_code == 429
    assert "detik" in again.text
    assert codes.sent_to(UMKM_NUMBER) == 1


async def test_an_unproven_account_can_only_enter_the_code_change_language_and_log_out(
    client, world, zone, database, codes
):
    user = await unproven_account(world, zone)
    async with database.sessionmaker() as session:
        raw_token, _ = await create_api_token(session=session, user=user, name="kasir")
        await session.commit()

    login = await submit(client, "/login", {"phone": user.phone, "password": "rahasia-kantin-42"})
    assert login.status_code == 303
    for path in ("/vendor", "/settings", "/", "/orders"):
        response = await client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers.get("location")) == (303, "/verify-phone"), path
    refused = await submit(client, "/settings/tokens", {"name": "lagi"})
    assert (refused.status_code, refused.headers.get("location")) == (303, "/verify-phone")
    assert (await client.get("/verify-phone")).status_code == 200
    assert (await submit(client, "/language", {"locale": "en", "next": "/verify-phone"})).status_code == 303

    api = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw_token}"})
    assert api.status_code == 403
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["code"] == "phone_not_verified"
    assert api.json()["type"].endswith(":phone_not_verified")

    assert (await submit(client, "/logout", {})).status_code == 303
    assert (await client.get("/", follow_redirects=False)).status_code == 200


async def test_a_number_nobody_proved_can_be_signed_up_again_by_whoever_receives_its_code(
    client, other_client, zone, database, codes
):
    await submit(client, "/signup", sri_signs_up(zone.id, "bukan-punya-saya"))

    response = await submit(other_client, "/signup", sri_signs_up(zone.id))
    assert (response.status_code, response.headers["location"]) == (303, "/verify-phone")
    assert (await submit(other_client, "/verify-phone", {"code": codes.last_code(UMKM_NUMBER)})).status_code == 303

    async with database.sessionmaker() as session:
        users = (await session.execute(select(User))).scalars().all()
    assert [(u.phone, u.phone_verified_at is not None) for u in users] == [(UMKM_NUMBER, True)]
    # The stranger's unproven account is gone, and with it the session it had.
    assert (await client.get("/verify-phone", follow_redirects=False)).headers["location"].startswith("/login")
    # A proven number cannot be taken over.
    third = await submit(client, "/signup", sri_signs_up(zone.id, "lagi-lagi-saya"))
    assert third.status_code == 422
    assert "sudah punya akun" in third.text


async def test_a_verified_account_logs_in_as_before(client, vendor):
    await log_in(client, vendor)
    assert (await client.get("/vendor", follow_redirects=False)).status_code == 200


async def test_wrong_codes_sent_at_the_same_moment_get_no_more_than_five_tries(world, zone, database, codes):
    user = await unproven_account(world, zone)
    async with database.sessionmaker() as session:
        await send_code(
            session=session,
            user=user,
            purpose=CodePurpose.SIGN_UP,
            policy=POLICY,
            sender=codes,
            ip_address=ADDRESS,
            now=world.now,
        )
        await session.commit()
    right = codes.last_code(user.phone)
    wrong = [f"{(int(right) + n) % 10**6:06d}" for n in range(1, 11)]

    async def try_code(code: str) -> str:
        async with database.sessionmaker() as session:
            try:
                await check_code(
                    session=session, user=user, purpose=CodePurpose.SIGN_UP, code=code, policy=POLICY, now=world.now
                )
                return "accepted"
            except ValidationFailed as refused:
                return refused.errors[0].message
            finally:
                await session.commit()

    answers = await asyncio.gather(*(try_code(code) for code in wrong))

    assert "accepted" not in answers
    assert sum(answer.startswith("That code is not right") for answer in answers) == 4
    async with database.sessionmaker() as session:
        assert (await session.execute(select(col(PhoneVerification.wrong_attempts)))).scalar_one() == 5


async def test_one_address_cannot_have_codes_sent_to_number_after_number(settings, app_for, world, zone, codes):
    people = [await world.user(Role.WORKER, zone=zone) for _ in range(4)]
    strict = settings.model_copy(update={"otp_codes_per_address_per_hour": 3})
    async with browser(await app_for(strict)) as client:
        answers = [(await submit(client, "/login/code", {"phone": person.phone})).status_code for person in people]

    assert answers == [303, 303, 303, 429]
    assert [to for to, _ in codes.sent] == [person.phone for person in people[:3]]


async def test_a_code_for_a_number_another_verified_account_holds_proves_nothing(world, zone, database):
    """Sign-up refuses such a number already; this guards a code issued for another number (as a change of
    number would), checked again when it is entered."""
    owner = await world.user(Role.VENDOR, zone=zone)
    other = await unproven_account(world, zone)
    code = "424242"
    async with database.sessionmaker() as session:
        session.add(
            PhoneVerification(
                user_id=other.id,
                phone=owner.phone,
                purpose=CodePurpose.SIGN_UP,
                code_hash=code_hash(policy=POLICY, phone=owner.phone, purpose=CodePurpose.SIGN_UP, code=code),
                expires_at=world.now + timedelta(minutes=10),
            )
        )
        await session.commit()

    async with database.sessionmaker() as session:
        with pytest.raises(ValidationFailed) as refused:
            await confirm_phone(session=session, user=other, code=code, policy=POLICY, now=world.now)
    assert refused.value.errors[0].message == "This number already belongs to another account."
    async with database.sessionmaker() as session:
        assert (await session.get_one(User, other.id)).phone_verified_at is None
