"""Web Push (RFC 8030, encrypted per RFC 8291, signed with VAPID per RFC 8292): browsers' subscriptions, and
the job that sends the queued pushes with retries.

A push is composed when it is sent, in the recipient's language. The job claims its rows with
`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL and holds them until the caller commits, so several workers
running it at once never push the same message twice.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import User
from backend.config import Settings
from backend.db import matched_rows, table_of
from backend.errors import N_, FieldError, NotFound, ValidationFailed
from backend.i18n import get_locale, gettext, set_locale
from backend.notifications.models import Notification, PushMessage, PushSubscription
from backend.notifications.service import notification_text

logger = logging.getLogger("pasar_kawasan.push")

MSG_PUSH_OFF = N_("Notifications on the phone are not available on this site.")
MSG_ENDPOINT = N_("This browser's push address is not valid.")
MSG_KEY = N_("This browser's push keys are not valid.")
PUSH_TITLE = N_("Pasar Kawasan: news for you")

# A push not delivered within a day (phone off, no signal) is dropped by the push service: it would be stale.
PUSH_TTL_SECONDS = 24 * 3600
SEND_TIMEOUT_SECONDS = 10
PARALLEL_SENDS = 8
MAX_ATTEMPTS = 5
# The wait after the 1st, 2nd, 3rd and 4th failed attempt; the 5th failure gives up.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
LONGEST_RETRY_AFTER = timedelta(hours=6)
LOCAL_HOSTS = ("127.0.0.1", "localhost")
# In production the server only posts to the browsers' own push services (Chrome, Firefox, Safari, Edge), so
# a made-up "subscription" cannot make it send requests to any address on the internet or the local network.
PUSH_SERVICE_DOMAINS = ("fcm.googleapis.com", "push.services.mozilla.com", "push.apple.com", "notify.windows.com")
ENDPOINT_MAX_LENGTH = 800  # the push_subscription.endpoint column
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


# --- subscriptions -------------------------------------------------------------------------------------


def public_key(settings: Settings) -> str:
    """The application server key a browser subscribes with (base64url); NotFound when push is off."""
    if not settings.web_push_enabled:
        raise NotFound(MSG_PUSH_OFF)
    assert settings.vapid_public_key is not None
    return settings.vapid_public_key


async def subscribe(
    *, session: AsyncSession, settings: Settings, user: User, endpoint: str, p256dh: str, auth: str
) -> PushSubscription:
    """Store the browser's subscription for `user`, or refresh its keys.

    A phone shared by two people keeps one subscription: when it was stored for someone else it moves to
    `user`, and the pushes still queued for the previous person are dropped with it."""
    if not settings.web_push_enabled:
        raise NotFound(MSG_PUSH_OFF)
    endpoint = endpoint.strip()
    errors = []
    if not _acceptable_endpoint(endpoint, development=settings.environment != "production"):
        errors.append(FieldError("endpoint", MSG_ENDPOINT))
    p256dh_raw, auth_raw = _base64url_bytes(p256dh), _base64url_bytes(auth)
    if p256dh_raw is None or not _is_p256_point(p256dh_raw):
        errors.append(FieldError("keys.p256dh", MSG_KEY))
    if auth_raw is None or len(auth_raw) != 16:
        errors.append(FieldError("keys.auth", MSG_KEY))
    if errors:
        raise ValidationFailed(errors)
    assert p256dh_raw is not None and auth_raw is not None
    keys = {"p256dh": _base64url(p256dh_raw), "auth": _base64url(auth_raw)}

    stored = await session.scalar(
        select(PushSubscription).where(col(PushSubscription.endpoint) == endpoint).with_for_update()
    )
    if stored is not None and stored.user_id != user.id:
        await session.delete(stored)  # its queued pushes go too (ON DELETE CASCADE)
        await session.flush()
        stored = None
    if stored is None:
        stored = PushSubscription(user_id=user.id, endpoint=endpoint, p256dh=keys["p256dh"], auth=keys["auth"])
        session.add(stored)
    else:
        stored.p256dh, stored.auth = keys["p256dh"], keys["auth"]
    await session.flush()
    return stored


async def unsubscribe(*, session: AsyncSession, user: User, endpoint: str) -> bool:
    """Forget the user's browser subscription (and its queued pushes); False when there was none."""
    result = await session.execute(
        delete(PushSubscription).where(
            col(PushSubscription.endpoint) == endpoint.strip(), col(PushSubscription.user_id) == user.id
        )
    )
    return bool(matched_rows(result))


def _acceptable_endpoint(endpoint: str, *, development: bool) -> bool:
    """Push services are reached over https only, in production only the known ones; plain http to this
    machine is for development and tests."""
    if not endpoint or len(endpoint) > ENDPOINT_MAX_LENGTH or any(char.isspace() for char in endpoint):
        return False
    try:
        parts = urlsplit(endpoint)
        hostname, _port = parts.hostname, parts.port  # a malformed port raises ValueError
    except ValueError:
        return False
    if not hostname or parts.username or parts.password:
        return False
    if parts.scheme == "https":
        return development or any(
            hostname == domain or hostname.endswith("." + domain) for domain in PUSH_SERVICE_DOMAINS
        )
    return parts.scheme == "http" and development and hostname in LOCAL_HOSTS


def _base64url_bytes(text: str) -> bytes | None:
    text = text.strip()
    if not _BASE64URL.match(text):
        return None
    try:
        return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None


def _base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _is_p256_point(raw: bytes) -> bool:
    """The browser's ECDH public key: an uncompressed point on P-256 (65 bytes starting with 0x04)."""
    if len(raw) != 65 or raw[0] != 0x04:
        return False
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        return False
    return True


# --- sending -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Push:
    message_id: int
    subscription_id: int
    attempts: int
    endpoint: str
    p256dh: str
    auth: str
    payload: str


@dataclass(frozen=True)
class _Outcome:
    """What came of one push; "gone" means the browser dropped the subscription."""

    kind: Literal["sent", "gone", "retry", "refused"]
    error: str = ""
    retry_after: timedelta | None = None


def push_tag(message_id: int) -> str:
    """One message's name on the phone (the notification's tag) and at the push service (its Topic header: at
    most 32 URL-safe characters): the same for every attempt at it."""
    return f"pk-push-{message_id}"


async def send_due_pushes(*, session: AsyncSession, settings: Settings, now: datetime, limit: int = 100) -> int:
    """Send up to `limit` pushes that are due, and record each outcome; returns how many were delivered.

    A 404 or 410 from the push service means the browser dropped the subscription: it is deleted, with its
    queued pushes. 429, 5xx, a network error or a timeout is retried after 1 min, 5 min, 30 min and 2 h, then
    given up. Another refusal (a 4xx) is given up at once: sending the same request again would not help.
    One bad push never stops the others. The caller commits (and so releases the claimed rows)."""
    return (await send_due_pushes_counted(session=session, settings=settings, now=now, limit=limit))[1]


async def send_due_pushes_counted(
    *, session: AsyncSession, settings: Settings, now: datetime, limit: int
) -> tuple[int, int]:
    """`send_due_pushes`, returning how many pushes it took up and how many of them were delivered."""
    if not settings.web_push_enabled:
        return 0, 0
    rows = (
        await session.execute(
            select(
                col(PushMessage.id),
                col(PushMessage.subscription_id),
                col(PushMessage.attempts),
                col(PushSubscription.endpoint),
                col(PushSubscription.p256dh),
                col(PushSubscription.auth),
                col(User.locale),
                Notification,
            )
            .join(PushSubscription, col(PushSubscription.id) == col(PushMessage.subscription_id))
            .join(User, col(User.id) == col(PushSubscription.user_id))
            .join(Notification, col(Notification.id) == col(PushMessage.notification_id))
            .where(
                col(PushMessage.sent_at).is_(None),
                col(PushMessage.given_up_at).is_(None),
                col(PushMessage.next_attempt_at) <= now,
            )
            .order_by(col(PushMessage.next_attempt_at), col(PushMessage.id))
            .limit(limit)
            # SQLite has no row locks (and renders nothing here); there one worker runs the job.
            .with_for_update(of=table_of(PushMessage), skip_locked=True)
        )
    ).all()
    if not rows:
        return 0, 0

    pushes, unwritable = [], []
    previous_locale = get_locale()
    try:
        for message_id, subscription_id, attempts, endpoint, p256dh, auth, locale, notification in rows:
            push = _Push(message_id, subscription_id, attempts, endpoint, p256dh, auth, payload="")
            set_locale(locale)
            try:
                payload = json.dumps(
                    {
                        "title": gettext(PUSH_TITLE),
                        "body": notification_text(notification),
                        "url": notification.url or "/inbox",
                        # Sent again (a worker killed between the push service's answer and our commit), the
                        # message replaces itself on the phone rather than showing twice.
                        "tag": push_tag(message_id),
                    },
                    ensure_ascii=False,
                )
            except (KeyError, ValueError, TypeError) as failure:  # a message and its parameters that do not fit
                logger.exception("push %s: notification %s cannot be written", message_id, notification.id)
                unwritable.append((push, _Outcome("refused", f"{type(failure).__name__}: {failure}")))
                continue
            pushes.append(replace(push, payload=payload))
    finally:
        set_locale(previous_locale)

    vapid = Vapid.from_string(private_key=settings.vapid_private_key)
    parallel = asyncio.Semaphore(PARALLEL_SENDS)

    async def deliver(push: _Push) -> _Outcome:
        async with parallel:
            return await _deliver(push, vapid=vapid, subject=settings.vapid_subject)

    outcomes = await asyncio.gather(*(deliver(push) for push in pushes))
    return len(rows), await _record(session, [*zip(pushes, outcomes, strict=True), *unwritable], now=now)


async def _deliver(push: _Push, *, vapid: Vapid, subject: str) -> _Outcome:
    """Encrypt and POST one push (pywebpush blocks: it runs in a thread, with a timeout); never raises."""
    try:
        await asyncio.wait_for(
            asyncio.to_thread(
                webpush,
                subscription_info={"endpoint": push.endpoint, "keys": {"p256dh": push.p256dh, "auth": push.auth}},
                data=push.payload,
                vapid_private_key=vapid,
                vapid_claims={"sub": subject},  # pywebpush adds "aud" (the push service) and "exp"
                ttl=PUSH_TTL_SECONDS,
                timeout=SEND_TIMEOUT_SECONDS,
                # A push service still holding an earlier copy of this message (sent again after a crash) replaces
                # it instead of delivering both (RFC 8030, section 5.4).
                headers={"Topic": push_tag(push.message_id)},
            ),
            timeout=SEND_TIMEOUT_SECONDS + 5,
        )
    except WebPushException as refused:
        status = refused.status_code
        if status is None:  # refused before sending, e.g. a malformed stored key
            detail = refused.message
        else:
            detail = f"HTTP {status}: {(getattr(refused.response, 'text', '') or '')[:200]}".strip()
        if status in (404, 410):
            logger.info("push subscription at %s is gone: %s", _host(push.endpoint), detail)
            return _Outcome("gone", detail)
        logger.warning("push %s to %s refused: %s", push.message_id, _host(push.endpoint), detail)
        if status is None or status == 429 or status >= 500:
            return _Outcome("retry", detail, _retry_after(refused.retry_after))
        return _Outcome("refused", detail)
    except (requests.RequestException, TimeoutError) as failure:
        logger.warning("push %s to %s failed: %r", push.message_id, _host(push.endpoint), failure)
        return _Outcome("retry", f"{type(failure).__name__}: {failure}")
    except Exception as failure:  # a bug or a bad stored key: logged with its traceback, retried, then given up
        logger.exception("push %s to %s failed unexpectedly", push.message_id, _host(push.endpoint))
        return _Outcome("retry", f"{type(failure).__name__}: {failure}")
    return _Outcome("sent")


async def _record(session: AsyncSession, results: list[tuple[_Push, _Outcome]], *, now: datetime) -> int:
    sent = [push for push, outcome in results if outcome.kind == "sent"]
    gone = {push.subscription_id for push, outcome in results if outcome.kind == "gone"}
    if sent:
        await session.execute(
            update(PushMessage)
            .where(col(PushMessage.id).in_([push.message_id for push in sent]))
            .values(sent_at=now, attempts=col(PushMessage.attempts) + 1, last_error="")
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(PushSubscription)
            .where(col(PushSubscription.id).in_({push.subscription_id for push in sent}))
            .values(last_sent_at=now)
            .execution_options(synchronize_session=False)
        )
    if gone:
        await session.execute(
            delete(PushSubscription)
            .where(col(PushSubscription.id).in_(gone))
            .execution_options(synchronize_session=False)
        )
    for push, outcome in results:
        if outcome.kind not in ("retry", "refused") or push.subscription_id in gone:
            continue
        attempts = push.attempts + 1
        values: dict[str, object] = {"attempts": attempts, "last_error": outcome.error[:300]}
        if outcome.kind == "refused" or attempts >= MAX_ATTEMPTS:
            values["given_up_at"] = now
        else:
            delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
            values["next_attempt_at"] = now + max(delay, outcome.retry_after or delay)
        await session.execute(
            update(PushMessage)
            .where(col(PushMessage.id) == push.message_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return len(sent)


def _retry_after(header: str | None) -> timedelta | None:
    """A push service's Retry-After in seconds (an HTTP date is ignored: the backoff applies)."""
    if header and header.strip().isdigit():
        return min(timedelta(seconds=int(header.strip())), LONGEST_RETRY_AFTER)
    return None


def _host(endpoint: str) -> str:
    # The endpoint's path is a capability (anyone holding it can push to the browser): only its host is logged.
    return urlsplit(endpoint).netloc
