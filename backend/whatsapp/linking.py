"""A vendor links a WhatsApp number for orders: a one-time code is sent to it (the site's code sender, an approved
authentication template in production), and the vendor enters it back.

The code is 6 digits from `secrets`, stored only as an HMAC keyed by the app's secret and bound to the number,
valid for 10 minutes and for 5 wrong tries; a new one may be asked for once a minute. A number serves one
account. Service functions take the session as a keyword and never commit.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.code_senders import CodeSender
from backend.accounts.models import Role, User
from backend.accounts.verification import (
    CODE_DIGITS,
    MSG_CODE_DEAD,
    MSG_CODE_FORMAT,
    MSG_CODE_WRONG,
    CodePolicy,
    code_hash,
)
from backend.config import Settings
from backend.db import as_utc, matched_rows
from backend.errors import N_, Forbidden, NotFound, TooManyAttempts, ValidationFailed
from backend.phone import InvalidPhoneNumber, normalize_phone
from backend.whatsapp.models import WhatsAppLink, WhatsAppMessage

PURPOSE = "whatsapp_link"
MSG_OFF = N_("Orders by WhatsApp are not available on this site.")
MSG_VENDORS_ONLY = N_("Only a vendor can take orders by WhatsApp.")
MSG_PHONE = N_("Enter a mobile number, such as 0812 3456 7890.")
MSG_NUMBER_LINKED_ELSEWHERE = N_("This number is already linked to another shop.")
MSG_NO_CODE_ASKED = N_("Ask for a code first.")
MSG_LINK_RESEND_SOON = N_("A code was just sent. You can ask for another in %(seconds)s seconds.")
MSG_LINK_TOO_MANY_WRONG = N_("Too many wrong codes. You can ask for a new code in %(hours)s hours.")
# Wrong codes count across new codes until this long after the last code was sent: asking for a new code every
# minute does not buy five more guesses each time.
WRONG_CODES_WINDOW = timedelta(hours=24)


async def link_of(*, session: AsyncSession, user: User) -> WhatsAppLink | None:
    """The user's WhatsApp link (linked, or waiting for its code), if any."""
    return (
        await session.execute(select(WhatsAppLink).where(col(WhatsAppLink.user_id) == user.id))
    ).scalar_one_or_none()


def check_allowed(settings: Settings, user: User) -> None:
    if not settings.whatsapp_orders_enabled:
        raise NotFound(MSG_OFF)
    if user.role != Role.VENDOR:
        raise Forbidden(MSG_VENDORS_ONLY)


async def send_link_code(
    *,
    session: AsyncSession,
    settings: Settings,
    user: User,
    phone: str,
    policy: CodePolicy,
    sender: CodeSender,
    now: datetime,
) -> WhatsAppLink:
    """Send a code to `phone` (as typed) to link it to the vendor's account; a new code replaces an older one.
    Refused for a number linked to another account (422) and within a minute of the last code (429); CodeNotSent
    when it cannot be delivered (the caller's transaction then rolls back)."""
    check_allowed(settings, user)
    try:
        e164 = normalize_phone(phone)
    except InvalidPhoneNumber:
        raise ValidationFailed.single("phone", MSG_PHONE) from None
    taken = await session.scalar(
        select(col(WhatsAppLink.id)).where(col(WhatsAppLink.phone) == e164, col(WhatsAppLink.user_id) != user.id)
    )
    if taken is not None:
        raise ValidationFailed.single("phone", MSG_NUMBER_LINKED_ELSEWHERE)
    link = (
        await session.execute(select(WhatsAppLink).where(col(WhatsAppLink.user_id) == user.id).with_for_update())
    ).scalar_one_or_none()
    if link is None:
        link = WhatsAppLink(user_id=user.id, created_at=now)
    elif link.code_sent_at is not None and now - as_utc(link.code_sent_at) < policy.resend_interval:
        wait = max(1, int((as_utc(link.code_sent_at) + policy.resend_interval - now).total_seconds()))
        raise TooManyAttempts(MSG_LINK_RESEND_SOON, retry_after_seconds=wait, params={"seconds": wait})
    last_sent = as_utc(link.code_sent_at) if link.code_sent_at is not None else None
    recent = last_sent is not None and now - last_sent < WRONG_CODES_WINDOW
    if last_sent is not None and recent and link.wrong_attempts >= policy.max_wrong_attempts:
        left = last_sent + WRONG_CODES_WINDOW - now
        hours = max(1, round(left.total_seconds() / 3600))
        raise TooManyAttempts(
            MSG_LINK_TOO_MANY_WRONG, retry_after_seconds=int(left.total_seconds()), params={"hours": hours}
        )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    link.pending_phone = e164
    link.code_hash = code_hash(policy=policy, phone=e164, purpose=PURPOSE, code=code)
    link.code_sent_at = now
    link.code_expires_at = now + policy.lifetime
    if not recent:
        link.wrong_attempts = 0
    session.add(link)
    await session.flush()
    await sender.send_code(phone=e164, code=code)
    return link


async def confirm_link(
    *, session: AsyncSession, settings: Settings, user: User, code: str, policy: CodePolicy, now: datetime
) -> WhatsAppLink:
    """Link the number the code was sent to, when `code` is that code. A wrong code counts against it (the caller
    keeps that record when it refuses: `db.keep_when_refused`); the 5th wrong try, or expiry, kills it."""
    check_allowed(settings, user)
    code = "".join(code.split())
    if not (len(code) == CODE_DIGITS and code.isascii() and code.isdigit()):
        raise ValidationFailed.single("code", MSG_CODE_FORMAT)
    link = await link_of(session=session, user=user)
    if link is None or link.pending_phone is None or link.code_hash is None:
        raise ValidationFailed.single("code", MSG_NO_CODE_ASKED)
    # The try is taken from the code's allowance before the code is compared, so tries sent at the same moment
    # cannot together get more than the allowance.
    tried = await session.execute(
        update(WhatsAppLink)
        .where(
            col(WhatsAppLink.id) == link.id,
            col(WhatsAppLink.code_hash).is_not(None),
            col(WhatsAppLink.code_expires_at) > now,
            col(WhatsAppLink.wrong_attempts) < policy.max_wrong_attempts,
        )
        .values(wrong_attempts=col(WhatsAppLink.wrong_attempts) + 1)
        .execution_options(synchronize_session=False)
    )
    if matched_rows(tried) != 1:
        raise ValidationFailed.single("code", MSG_CODE_DEAD)
    await session.refresh(link)
    expected = code_hash(policy=policy, phone=link.pending_phone, purpose=PURPOSE, code=code)
    if not hmac.compare_digest(expected, link.code_hash):
        left = policy.max_wrong_attempts - link.wrong_attempts
        if left <= 0:
            raise ValidationFailed.single("code", MSG_CODE_DEAD)
        raise ValidationFailed.single("code", MSG_CODE_WRONG, left=left)
    taken = await session.scalar(
        select(col(WhatsAppLink.id)).where(
            col(WhatsAppLink.phone) == link.pending_phone, col(WhatsAppLink.user_id) != user.id
        )
    )
    if taken is not None:
        raise ValidationFailed.single("code", MSG_NUMBER_LINKED_ELSEWHERE)
    link.phone, link.linked_at = link.pending_phone, now
    link.pending_phone = link.code_hash = link.code_sent_at = link.code_expires_at = None
    link.wrong_attempts = 0
    session.add(link)
    await session.flush()
    return link


MSG_UNLINKED_ERROR = "the number was unlinked before it was sent"


async def unlink(*, session: AsyncSession, user: User, now: datetime) -> bool:
    """Stop WhatsApp messages to the vendor's number (and answers from it acting on orders); False when none.
    Messages to it still waiting or being retried are given up: a lost or sold phone gets no more order details."""
    phones = (
        (
            await session.execute(
                delete(WhatsAppLink).where(col(WhatsAppLink.user_id) == user.id).returning(col(WhatsAppLink.phone))
            )
        )
        .scalars()
        .all()
    )
    if phones:
        await session.execute(
            update(WhatsAppMessage)
            .where(
                col(WhatsAppMessage.phone).in_(phones),
                col(WhatsAppMessage.sent_at).is_(None),
                col(WhatsAppMessage.given_up_at).is_(None),
            )
            .values(given_up_at=now, last_error=MSG_UNLINKED_ERROR)
        )
    return bool(phones)
