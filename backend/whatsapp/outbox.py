"""Messages to vendors' WhatsApp numbers: recorded in the transaction that caused them, sent later by a job
(`send_whatsapp`) through the Cloud API, with retries and within a rate limit.

What a vendor with a linked number is sent, as templates approved by Meta (in Indonesian, language "id"):

    pk_pesanan_baru        Pesanan baru {{1}} untuk {{2}} pukul {{3}} WIB.   [Terima] [Tolak] (quick replies)
    pk_status_pesanan      Pesanan {{1}} sekarang: {{2}}.
    pk_keputusan_pengelola Kabar dari pengelola Pasar Kawasan: {{1}}

The quick-reply buttons carry the order's id (`accept:<id>`, `decline:<id>`), which comes back in the webhook when
the vendor taps one. Answers to what a vendor wrote are plain text messages (WhatsApp allows them for 24 hours
after the vendor's own message).

The job claims its rows with `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers never send the
same message twice; a message the Cloud API could not take (a network error, a 5xx, 429 or a throttling code) is
tried again after 1 min, 5 min, 30 min and 2 h, then given up; any other refusal is given up at once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol

import httpx
from redis import asyncio as aioredis
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.clock import format_date
from backend.config import Settings
from backend.db import run_after_commit, table_of
from backend.i18n import get_locale, gettext, set_locale
from backend.orders.models import STATUS_LABELS, Order, OrderStatus
from backend.whatsapp.models import WhatsAppMessage

logger = logging.getLogger("pasar_kawasan.whatsapp")

TEMPLATE_LANGUAGE = "id"
TEMPLATE_NEW_ORDER = "pk_pesanan_baru"
TEMPLATE_ORDER_STATUS = "pk_status_pesanan"
TEMPLATE_MODERATION = "pk_keputusan_pengelola"
ACCEPT_PAYLOAD = "accept"
DECLINE_PAYLOAD = "decline"

MAX_ATTEMPTS = 5
# The wait after the 1st, 2nd, 3rd and 4th failed attempt; the 5th failure gives up.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
# Graph API error codes that mean "too much, later" (rate limits of the account, the number, or one recipient).
THROTTLED_CODES = frozenset({4, 80007, 130429, 131048, 131056})
MAX_TEXT = 1000


def order_number(order_id: int) -> str:
    """The order's number as people read it (Order.number), from its id alone."""
    return f"PK-{order_id:06d}"


# --- recording ---------------------------------------------------------------------------------------------


@functools.cache
def _notified_kinds() -> dict[str, str]:
    """Which inbox messages also go to a linked WhatsApp number, and as which template.

    Imported here, not at the top: the services that own these messages notify through notifications.service,
    which records WhatsApp messages through this module."""
    from backend.moderation import service as moderation
    from backend.orders.placement import MSG_NEW_ORDER
    from backend.orders.states import MSG_STATUS_CHANGED

    kinds = {MSG_NEW_ORDER: TEMPLATE_NEW_ORDER, MSG_STATUS_CHANGED: TEMPLATE_ORDER_STATUS}
    for decision in (
        moderation.NOTE_LISTING_APPROVED,
        moderation.NOTE_LISTING_REJECTED,
        moderation.NOTE_CERTIFICATE_VERIFIED,
        moderation.NOTE_CERTIFICATE_REJECTED,
        moderation.NOTE_SUSPENDED,
        moderation.NOTE_REINSTATED,
    ):
        kinds[decision] = TEMPLATE_MODERATION
    return kinds


class NoteLike(Protocol):
    @property
    def user_id(self) -> int: ...
    @property
    def message(self) -> str: ...
    @property
    def params(self) -> dict[str, Any]: ...
    @property
    def order_id(self) -> int | None: ...


async def record_for_notes(
    *, session: AsyncSession, notes: Sequence[NoteLike], phones: Mapping[int, str], now: datetime
) -> int:
    """Queue a template message for each note that has one (new orders, order changes, moderation decisions) and
    whose user linked a WhatsApp number (`phones`, by user id); returns how many. No statement when none is to be
    sent."""
    kinds = _notified_kinds()
    linked = phones
    wanted = [note for note in notes if note.message in kinds and note.user_id in linked]
    if not wanted:
        return 0
    paid = await _paid_orders(session, wanted)
    bodies = []
    for note in wanted:
        if note.order_id in paid:
            # A card or transfer order reaches its vendor when it is paid: as a new order, with its buttons.
            note, template = paid[note.order_id], TEMPLATE_NEW_ORDER
        else:
            template = kinds[note.message]
        bodies.append((linked[note.user_id], template_message(linked[note.user_id], template, note)))
    await queue_messages(session=session, messages=bodies, now=now)
    return len(bodies)


@dataclass(frozen=True)
class _NewOrder:
    user_id: int
    message: str
    params: dict[str, Any]
    order_id: int | None


async def _paid_orders(session: AsyncSession, notes: list[NoteLike]) -> dict[int, _NewOrder]:
    """The new-order notes standing for the notes that an order was placed once paid, by order id (one query, only
    when there are such notes)."""
    from backend.orders.states import MSG_STATUS_CHANGED

    placed = {
        note.order_id: note.user_id
        for note in notes
        if note.message == MSG_STATUS_CHANGED and note.params.get("status") == OrderStatus.PLACED and note.order_id
    }
    if not placed:
        return {}
    rows = await session.execute(
        select(col(Order.id), col(Order.delivery_day), col(Order.delivery_slot)).where(col(Order.id).in_(placed))
    )
    return {
        order_id: _NewOrder(
            user_id=placed[order_id],
            message=TEMPLATE_NEW_ORDER,
            params={"number": order_number(order_id), "day": day.isoformat(), "slot": f"{slot:%H.%M}"},
            order_id=order_id,
        )
        for order_id, day, slot in rows.all()
    }


async def queue_messages(*, session: AsyncSession, messages: list[tuple[str, dict[str, Any]]], now: datetime) -> None:
    """Record (phone, Cloud API body) pairs to send, due at `now`; the sending job starts after the commit."""
    if not messages:
        return
    await session.execute(
        insert(WhatsAppMessage),
        [{"phone": phone, "body": body, "next_attempt_at": now, "created_at": now} for phone, body in messages],
    )
    run_after_commit(session, "send_whatsapp")


def template_message(phone: str, template: str, note: NoteLike) -> dict[str, Any]:
    """The Cloud API's body for the template of one notification (parameters written in Indonesian)."""
    previous = get_locale()
    set_locale(TEMPLATE_LANGUAGE)
    try:
        params = dict(note.params)
        if template == TEMPLATE_NEW_ORDER:
            texts = [
                params["number"],
                format_date(date.fromisoformat(params["day"]), TEMPLATE_LANGUAGE),
                params["slot"],
            ]
        elif template == TEMPLATE_ORDER_STATUS:
            texts = [params["number"], gettext(STATUS_LABELS[OrderStatus(params["status"])]).lower()]
        else:
            texts = [gettext(note.message, **params)]
    finally:
        set_locale(previous)
    components: list[dict[str, Any]] = [
        {"type": "body", "parameters": [{"type": "text", "text": str(text)[:MAX_TEXT]} for text in texts]}
    ]
    if template == TEMPLATE_NEW_ORDER and note.order_id is not None:
        components += [
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": f"{payload}:{note.order_id}"}],
            }
            for index, payload in enumerate((ACCEPT_PAYLOAD, DECLINE_PAYLOAD))
        ]
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": phone.removeprefix("+"),
        "type": "template",
        "template": {"name": template, "language": {"code": TEMPLATE_LANGUAGE}, "components": components},
    }


def text_message(phone: str, text: str) -> dict[str, Any]:
    """A plain answer (within the 24 hours after the person's own message)."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": phone.removeprefix("+"),
        "type": "text",
        "text": {"preview_url": False, "body": text[:4096]},
    }


# --- the rate limit ----------------------------------------------------------------------------------------


class SendRate:
    """At most `per_second` messages a second from the business number: counted in Redis across every worker
    when there is Redis, else in this process. A sender over the limit waits for the next second.

    The one place below the job runner that reads a clock: the limit is about real seconds, not the job's `now`."""

    def __init__(
        self,
        *,
        per_second: int,
        key: str,
        redis: aioredis.Redis | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.per_second = per_second
        self.key = key
        self.redis = redis
        self.clock = clock
        self.sleep = sleep
        self._counts: dict[int, int] = {}

    async def take(self) -> None:
        """Wait until this second has room for one more message, and count it."""
        while True:
            moment = self.clock()
            second = int(moment)
            if await self._count(second) <= self.per_second:
                return
            await self.sleep(second + 1 - moment)

    async def _count(self, second: int) -> int:
        if self.redis is None:
            self._counts = {second: self._counts.get(second, 0) + 1}
            return self._counts[second]
        key = f"{self.key}:{second}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, 5)
            count, _ = await pipe.execute()
        return int(count)


def send_rate_for(settings: Settings, redis: aioredis.Redis | None = None) -> SendRate:
    return SendRate(
        per_second=settings.whatsapp_messages_per_second,
        key=f"pasar-kawasan:whatsapp-rate:{settings.whatsapp_phone_number_id}",
        redis=redis,
    )


# --- sending -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    kind: Literal["sent", "retry", "refused"]
    error: str = ""
    provider_id: str = ""
    throttled: bool = False


async def send_due_messages(
    *, session: AsyncSession, settings: Settings, now: datetime, rate: SendRate, limit: int = 50
) -> tuple[int, int]:
    """Send up to `limit` due messages and record each outcome; returns how many were taken and how many sent.
    When the Cloud API says we send too much, the rest wait for the next run. The caller commits."""
    if not settings.whatsapp_orders_enabled:
        return 0, 0
    rows = (
        (
            await session.execute(
                select(WhatsAppMessage)
                .where(
                    col(WhatsAppMessage.sent_at).is_(None),
                    col(WhatsAppMessage.given_up_at).is_(None),
                    col(WhatsAppMessage.next_attempt_at) <= now,
                )
                .order_by(col(WhatsAppMessage.next_attempt_at), col(WhatsAppMessage.id))
                .limit(limit)
                .with_for_update(of=table_of(WhatsAppMessage), skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    sent = 0
    url = f"{settings.whatsapp_api_base}/{settings.whatsapp_phone_number_id}/messages"
    async with httpx.AsyncClient(
        timeout=settings.whatsapp_timeout_seconds, headers={"Authorization": f"Bearer {settings.whatsapp_token}"}
    ) as client:
        for message in rows:
            await rate.take()
            outcome = await _post(client, url, message)
            await _record(session, message, outcome, now=now)
            sent += outcome.kind == "sent"
            if outcome.throttled:
                break
    return len(rows), sent


async def _post(client: httpx.AsyncClient, url: str, message: WhatsAppMessage) -> _Outcome:
    """POST one message to the Cloud API; never raises."""
    try:
        response = await client.post(url, json=message.body)
    except httpx.HTTPError as failure:
        logger.warning("WhatsApp message %s could not be sent: %r", message.id, failure)
        return _Outcome("retry", f"{type(failure).__name__}: {failure}")
    if response.status_code < 300:
        try:
            provider_id = str(response.json()["messages"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError):
            provider_id = ""
        return _Outcome("sent", provider_id=provider_id)
    code, detail = _graph_error(response)
    error = f"HTTP {response.status_code}: {detail}"
    throttled = response.status_code == 429 or code in THROTTLED_CODES
    logger.warning("WhatsApp refused message %s: %s", message.id, error)
    if throttled or response.status_code >= 500:
        return _Outcome("retry", error, throttled=throttled)
    return _Outcome("refused", error)


def _graph_error(response: httpx.Response) -> tuple[int | None, str]:
    """The Graph API's error code and its words ({"error": {"message", "code", ...}}), or the start of the body."""
    try:
        error = response.json()["error"]
        return int(error.get("code")), f"{error.get('message', '')} (code {error.get('code')})"
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, response.text[:200]


async def _record(session: AsyncSession, message: WhatsAppMessage, outcome: _Outcome, *, now: datetime) -> None:
    attempts = message.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "last_error": outcome.error[:300]}
    if outcome.kind == "sent":
        values.update(sent_at=now, provider_id=outcome.provider_id[:200])
    elif outcome.kind == "refused" or attempts >= MAX_ATTEMPTS:
        values["given_up_at"] = now
    else:
        values["next_attempt_at"] = now + RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    await session.execute(
        update(WhatsAppMessage)
        .where(col(WhatsAppMessage.id) == message.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
