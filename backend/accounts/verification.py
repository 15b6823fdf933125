"""One-time codes sent to a phone number: proving the number of a new account, and logging in without the
password (when guessers have the password throttled).

A code is 6 digits from `secrets`, stored only as an HMAC keyed by the app's secret, valid for 10 minutes and for
5 wrong tries; a newer code replaces the older ones. A number gets a code at most once a minute and 5 times an
hour, whoever asks. Service functions take the session as a keyword and never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.code_senders import CodeSender
from backend.accounts.models import CodePurpose, PhoneVerification, User
from backend.db import as_utc, matched_rows
from backend.errors import N_, FieldError, TooManyAttempts, ValidationFailed
from backend.moderation import register
from backend.phone import InvalidPhoneNumber, normalize_phone
from backend.training import service as training

CODE_DIGITS = 6
MSG_CODE_WRONG = N_("That code is not right. You can try %(left)s more times.")
MSG_CODE_DEAD = N_("This code has expired or was tried too often. Ask for a new code.")
MSG_CODE_FORMAT = N_("Enter the 6 digits of the code.")
MSG_RESEND_SOON = N_("A code was just sent. You can ask for another in %(seconds)s seconds.")
MSG_RESEND_HOURLY = N_("Too many codes were sent to this number. Try again in %(minutes)s minutes.")
MSG_CODES_FROM_ADDRESS = N_("Too many codes were asked for from this connection. Try again in %(minutes)s minutes.")
MSG_NUMBER_TAKEN = N_("This number already belongs to another account.")


@dataclass(frozen=True)
class CodePolicy:
    secret_key: str
    lifetime: timedelta = timedelta(minutes=10)
    max_wrong_attempts: int = 5
    resend_interval: timedelta = timedelta(seconds=60)
    max_codes_per_hour: int = 5
    # Codes one address may have sent in an hour, whatever the numbers: nobody can flood others' WhatsApp (or
    # our bill) by asking for codes to number after number.
    max_codes_per_address_per_hour: int = 30


def code_hash(*, policy: CodePolicy, phone: str, purpose: str, code: str) -> str:
    """The HMAC of a code, bound to its number and purpose: a stolen table gives no code, and a code sent for one
    purpose or number is worth nothing for another."""
    message = f"{purpose}:{phone}:{code}".encode()
    return hmac.new(policy.secret_key.encode(), message, hashlib.sha256).hexdigest()


async def send_code(
    *,
    session: AsyncSession,
    user: User,
    purpose: CodePurpose,
    policy: CodePolicy,
    sender: CodeSender,
    ip_address: str,
    now: datetime,
) -> PhoneVerification:
    """Send a new code to the account's number, replacing its earlier codes for the same purpose.

    Refused (TooManyAttempts) within a minute of the number's last code, after 5 codes to it within an hour, or
    after `max_codes_per_address_per_hour` codes asked for from `ip_address` within an hour; CodeNotSent when the provider cannot deliver it (the
    caller's transaction then rolls back).
    """
    phone = user.phone
    last_hour = now - timedelta(hours=1)
    count, oldest, latest = (
        await session.execute(
            select(
                func.count(col(PhoneVerification.id)),
                func.min(col(PhoneVerification.created_at)),
                func.max(col(PhoneVerification.created_at)),
            ).where(col(PhoneVerification.phone) == phone, col(PhoneVerification.created_at) > last_hour)
        )
    ).one()
    if count and now - as_utc(latest) < policy.resend_interval:
        wait = max(1, int((as_utc(latest) + policy.resend_interval - now).total_seconds()))
        raise TooManyAttempts(MSG_RESEND_SOON, retry_after_seconds=wait, params={"seconds": wait})
    if count >= policy.max_codes_per_hour:
        wait = max(60, int((as_utc(oldest) + timedelta(hours=1) - now).total_seconds()))
        raise TooManyAttempts(MSG_RESEND_HOURLY, retry_after_seconds=wait, params={"minutes": -(-wait // 60)})
    from_address, first_from_address = (
        await session.execute(
            select(func.count(col(PhoneVerification.id)), func.min(col(PhoneVerification.created_at))).where(
                col(PhoneVerification.ip_address) == ip_address, col(PhoneVerification.created_at) > last_hour
            )
        )
    ).one()
    if from_address >= policy.max_codes_per_address_per_hour:
        wait = max(60, int((as_utc(first_from_address) + timedelta(hours=1) - now).total_seconds()))
        raise TooManyAttempts(MSG_CODES_FROM_ADDRESS, retry_after_seconds=wait, params={"minutes": -(-wait // 60)})

    await session.execute(
        update(PhoneVerification)
        .where(
            col(PhoneVerification.user_id) == user.id,
            col(PhoneVerification.purpose) == purpose,
            col(PhoneVerification.used_at).is_(None),
        )
        .values(used_at=now)
    )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    verification = PhoneVerification(
        user_id=user.id,
        phone=phone,
        purpose=purpose,
        code_hash=code_hash(policy=policy, phone=phone, purpose=purpose, code=code),
        ip_address=ip_address[:45],
        created_at=now,
        expires_at=now + policy.lifetime,
    )
    session.add(verification)
    await session.flush()
    await sender.send_code(phone=phone, code=code)
    return verification


async def check_code(
    *, session: AsyncSession, user: User, purpose: CodePurpose, code: str, policy: CodePolicy, now: datetime
) -> PhoneVerification:
    """Use the account's current code for `purpose` if `code` is it. A wrong code counts against it (the caller
    keeps that record when it refuses: `db.keep_when_refused`); the 5th wrong try, or expiry, kills it."""
    code = "".join(code.split())
    if not (len(code) == CODE_DIGITS and code.isascii() and code.isdigit()):
        raise ValidationFailed.single("code", MSG_CODE_FORMAT)
    verification = (
        await session.execute(
            select(PhoneVerification)
            .where(
                col(PhoneVerification.user_id) == user.id,
                col(PhoneVerification.purpose) == purpose,
                col(PhoneVerification.used_at).is_(None),
            )
            .order_by(col(PhoneVerification.created_at).desc(), col(PhoneVerification.id).desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if verification is None:
        raise ValidationFailed.single("code", MSG_CODE_DEAD)
    # Each try is taken from the code's allowance in the database before the code is compared, so tries sent at the
    # same moment cannot together get more than the allowance (the row stays locked until the request commits).
    tried = await session.execute(
        update(PhoneVerification)
        .where(
            col(PhoneVerification.id) == verification.id,
            col(PhoneVerification.used_at).is_(None),
            col(PhoneVerification.expires_at) > now,
            col(PhoneVerification.wrong_attempts) < policy.max_wrong_attempts,
        )
        .values(wrong_attempts=col(PhoneVerification.wrong_attempts) + 1)
    )
    if matched_rows(tried) != 1:
        raise ValidationFailed.single("code", MSG_CODE_DEAD)
    expected = code_hash(policy=policy, phone=verification.phone, purpose=purpose, code=code)
    if not hmac.compare_digest(expected, verification.code_hash):
        await session.refresh(verification)
        left = policy.max_wrong_attempts - verification.wrong_attempts
        if left <= 0:
            raise ValidationFailed.single("code", MSG_CODE_DEAD)
        raise ValidationFailed.single("code", MSG_CODE_WRONG, left=left)
    # The right code: the try was not a wrong one after all, and the code is used up.
    await session.execute(
        update(PhoneVerification)
        .where(col(PhoneVerification.id) == verification.id)
        .values(used_at=now, wrong_attempts=col(PhoneVerification.wrong_attempts) - 1)
    )
    await session.refresh(verification)
    return verification


async def confirm_phone(*, session: AsyncSession, user: User, code: str, policy: CodePolicy, now: datetime) -> User:
    """The owner entered the code sent at sign-up: the number is proven. Only now does a vendor from the district
    register get the business profile the register holds for that number."""
    user = await session.merge(user)
    if user.phone_verified_at is not None:
        return user
    verification = await check_code(
        session=session, user=user, purpose=CodePurpose.SIGN_UP, code=code, policy=policy, now=now
    )
    held_elsewhere = await session.execute(
        select(col(User.id)).where(
            col(User.phone) == verification.phone,
            col(User.id) != user.id,
            col(User.phone_verified_at).is_not(None),
        )
    )
    if held_elsewhere.first() is not None:
        raise ValidationFailed([FieldError("code", MSG_NUMBER_TAKEN)])
    user.phone_verified_at = now
    session.add(user)
    await session.flush()
    await register.welcome_vendor(session=session, user=user, now=now)
    await training.link_signed_up_vendor(session=session, user=user)
    return user


async def verified_account(*, session: AsyncSession, phone: str) -> User | None:
    """The active account with a proven number `phone` (as typed), if any: who may log in by code."""
    try:
        e164 = normalize_phone(phone)
    except InvalidPhoneNumber:
        return None
    return (
        await session.execute(
            select(User).where(
                col(User.phone) == e164, col(User.is_active).is_(True), col(User.phone_verified_at).is_not(None)
            )
        )
    ).scalar_one_or_none()


async def send_login_code(
    *, session: AsyncSession, phone: str, policy: CodePolicy, sender: CodeSender, ip_address: str, now: datetime
) -> None:
    """Send a login code to the number's account. A number without a (verified, active) account gets nothing,
    and the caller answers the same either way."""
    user = await verified_account(session=session, phone=phone)
    if user is not None:
        await send_code(
            session=session,
            user=user,
            purpose=CodePurpose.LOGIN,
            policy=policy,
            sender=sender,
            ip_address=ip_address,
            now=now,
        )


async def log_in_with_code(*, session: AsyncSession, phone: str, code: str, policy: CodePolicy, now: datetime) -> User:
    """The account of `phone`, when `code` is the login code just sent to it; the password throttle does not
    apply (the code has its own limits), so an owner whose password guessers have throttled still gets in."""
    user = await verified_account(session=session, phone=phone)
    if user is None:
        raise ValidationFailed.single("code", MSG_CODE_DEAD)
    await check_code(session=session, user=user, purpose=CodePurpose.LOGIN, code=code, policy=policy, now=now)
    user.last_login_at = now
    session.add(user)
    await session.flush()
    return user
