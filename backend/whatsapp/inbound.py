"""What vendors write to the business number: the webhook's deliveries verified and stored once each, then acted
on by a job (`handle_whatsapp`) with the same state machine as the vendor's order board.

Meta signs each delivery with the app's secret (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`):
a delivery whose signature is missing or wrong is refused before anything is read or stored. Each message is
stored by its WhatsApp id (`INSERT ... ON CONFLICT DO NOTHING`), so a delivery that comes again, or a replay of
a captured one, stores nothing new and acts on nothing. The webhook answers as soon as the messages are stored;
the job acts on them after the commit.

A vendor answers a new order with its buttons (their payloads carry the order's id) or in words:

    TERIMA 1234            accept order PK-001234 (the number as the vendor reads it, with or without PK-)
    TOLAK 1234 stok habis  decline it, the rest of the message being the reason the buyer reads

Only a linked number's vendor acts, and only on their own orders; anything else gets a helpful answer and
changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import User
from backend.config import Settings
from backend.db import database_unreachable, run_after_commit, undone_if_refused, upsert_insert
from backend.errors import N_, DomainError, NotFound, ValidationFailed
from backend.i18n import DEFAULT_LOCALE, get_locale, gettext, set_locale
from backend.orders.models import OrderStatus
from backend.orders.states import change_status
from backend.whatsapp.models import WhatsAppInbound, WhatsAppLink
from backend.whatsapp.outbox import ACCEPT_PAYLOAD, DECLINE_PAYLOAD, order_number, queue_messages, text_message

logger = logging.getLogger("pasar_kawasan.whatsapp")

MSG_HELP = N_(
    "To answer an order, write TERIMA and the order number to accept it (TERIMA 1234), or TOLAK, the number and "
    "the reason to decline it (TOLAK 1234 stok habis). You can also use the buttons under a new order."
)
MSG_NOT_LINKED = N_(
    "This number is not linked to a shop on Pasar Kawasan. Link it in your account settings on Pasar Kawasan, "
    "then answer orders from here."
)
MSG_NOT_YOUR_ORDER = N_("Order %(number)s is not one of your orders. Check the number on the order.")
MSG_ACCEPTED = N_("Order %(number)s is accepted. The buyer has been told.")
MSG_DECLINED = N_("Order %(number)s is declined (%(reason)s). The buyer has been told.")
MSG_REASON_NEEDED = N_(
    "Say why you decline order %(number)s, so the buyer understands: write TOLAK %(short)s and the reason, for "
    "example TOLAK %(short)s stok habis."
)
MSG_FAILED = N_("Sorry, your message could not be handled. Please answer the order on Pasar Kawasan.")
MSG_NOT_DONE = N_("Order %(number)s was not changed: %(problem)s")

_COMMAND = re.compile(r"^\s*(terima|tolak)\b[\s:#.,-]*(?:pk[\s-]*)?0*(\d{1,9})\b[\s:.,-]*(.*)$", re.I | re.S)
_SIGNATURE = re.compile(r"^sha256=([0-9a-f]{64})$")


class SignatureRefused(DomainError):
    status_code = 401
    code = "bad_signature"
    default_message = N_("The delivery's signature could not be verified.")


def signature_valid(*, payload: bytes, header: str | None, app_secret: str) -> bool:
    """Whether `header` is Meta's X-Hub-Signature-256 of the raw body: sha256= and the hex HMAC-SHA256 keyed with
    the app's secret (compared in constant time)."""
    match = _SIGNATURE.match((header or "").strip().lower())
    if match is None:
        return False
    expected = hmac.new(app_secret.encode(), payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match.group(1))


def verify_subscription(*, settings: Settings, mode: str | None, token: str | None, challenge: str | None) -> str:
    """Meta's check when the webhook is registered (GET with hub.mode=subscribe, hub.verify_token and
    hub.challenge): the challenge, echoed, when the token is ours; NotFound otherwise (also with WhatsApp off)."""
    expected = settings.whatsapp_verify_token
    if (
        not settings.whatsapp_orders_enabled
        or expected is None
        or mode != "subscribe"
        or token is None
        or not challenge
        or not hmac.compare_digest(token.encode(), expected.encode())
    ):
        raise NotFound()
    return challenge


@dataclass(frozen=True)
class Received:
    message_id: str
    phone: str
    kind: Literal["text", "button", "other"]
    text: str


def received_messages(event: dict[str, Any], *, phone_number_id: str | None) -> list[Received]:
    """The messages of one delivery (entry[].changes[].value.messages[]) sent to our business number; status
    updates of our own messages, and anything addressed to another number, are left out."""
    found = []
    for entry in _list(event.get("entry")):
        for change in _list(_dict(entry).get("changes")):
            value = _dict(_dict(change).get("value"))
            if str(_dict(value.get("metadata")).get("phone_number_id", "")) != str(phone_number_id):
                continue
            for message in _list(value.get("messages")):
                message = _dict(message)
                message_id, sender = str(message.get("id", "")), str(message.get("from", ""))
                if not message_id or not sender.isdigit():
                    continue
                found.append(Received(message_id[:200], f"+{sender}"[:16], *_content(message)))
    return found


def _content(message: dict[str, Any]) -> tuple[Literal["text", "button", "other"], str]:
    kind = message.get("type")
    if kind == "text":
        return "text", str(_dict(message.get("text")).get("body", ""))[:1000]
    if kind == "button":  # a template's quick-reply button
        return "button", str(_dict(message.get("button")).get("payload", ""))[:1000]
    if kind == "interactive":  # a button of an interactive message
        reply = _dict(_dict(message.get("interactive")).get("button_reply"))
        return "button", str(reply.get("id", ""))[:1000]
    return "other", ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


async def receive_delivery(
    *, session: AsyncSession, settings: Settings, payload: bytes, signature: str | None, event: Any, now: datetime
) -> int:
    """Verify one webhook delivery and store each message it brings that was not stored before; returns how many
    were new. SignatureRefused (401) for a missing or forged signature, before anything is stored."""
    if not settings.whatsapp_orders_enabled or not settings.whatsapp_app_secret:
        raise NotFound()
    if not signature_valid(payload=payload, header=signature, app_secret=settings.whatsapp_app_secret):
        logger.warning("a WhatsApp webhook delivery with a missing or wrong signature was refused")
        raise SignatureRefused()
    messages = received_messages(_dict(event), phone_number_id=settings.whatsapp_phone_number_id)
    new = 0
    for message in messages:
        stored = await session.execute(
            upsert_insert(session)(WhatsAppInbound)
            .values(
                message_id=message.message_id,
                phone=message.phone,
                kind=message.kind,
                text=message.text,
                received_at=now,
            )
            .on_conflict_do_nothing(index_elements=["message_id"])
            .returning(col(WhatsAppInbound.id))
        )
        new += stored.scalar_one_or_none() is not None
    if new:
        run_after_commit(session, "handle_whatsapp")
    return new


# --- acting on what was received ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    target: OrderStatus
    order_id: int
    reason: str = ""


def read_command(kind: str, text: str) -> Command | None:
    """The order command in a message: a button's payload (accept:<id>, decline:<id>) or TERIMA/TOLAK words."""
    if kind == "button":
        action, _, order_id = text.partition(":")
        if action in (ACCEPT_PAYLOAD, DECLINE_PAYLOAD) and order_id.isdigit():
            target = OrderStatus.ACCEPTED if action == ACCEPT_PAYLOAD else OrderStatus.DECLINED
            return Command(target, int(order_id))
        # A button whose payload is not ours: read its words like typed ones.
    match = _COMMAND.match(text)
    if match is None:
        return None
    word, number, rest = match.groups()
    if word.lower() == "terima":
        return Command(OrderStatus.ACCEPTED, int(number))
    return Command(OrderStatus.DECLINED, int(number), " ".join(rest.split()))


async def handle_next_message(*, session: AsyncSession, now: datetime, today: date) -> WhatsAppInbound | None:
    """Act on the oldest stored message not yet handled, and queue the answer; None when there is none. Several
    workers each take a different message (SKIP LOCKED). The caller commits."""
    inbound = (
        await session.execute(
            select(WhatsAppInbound)
            .where(col(WhatsAppInbound.handled_at).is_(None))
            .order_by(col(WhatsAppInbound.id))
            .limit(1)
            .with_for_update(skip_locked=True)
        )
    ).scalar_one_or_none()
    if inbound is None:
        return None
    vendor = (
        await session.execute(
            select(User)
            .join(WhatsAppLink, col(WhatsAppLink.user_id) == col(User.id))
            .where(col(WhatsAppLink.phone) == inbound.phone, col(User.is_active).is_(True))
        )
    ).scalar_one_or_none()
    previous = get_locale()
    set_locale(vendor.locale if vendor is not None else DEFAULT_LOCALE)
    try:
        outcome, answer = await _act(session=session, inbound=inbound, vendor=vendor, now=now, today=today)
    except Exception as failure:
        if database_unreachable(failure):
            raise  # the job is tried again later, this message with it
        # A bug: the order change was rolled back with its savepoint; the vendor is told, and this message does
        # not hold up the ones after it run after run.
        logger.exception("WhatsApp message %s could not be acted on", inbound.message_id)
        outcome, answer = "failed", gettext(MSG_FAILED)
    finally:
        set_locale(previous)
    inbound.handled_at, inbound.outcome = now, outcome
    session.add(inbound)
    if await _worth_answering(session=session, inbound=inbound, now=now):
        await queue_messages(session=session, messages=[(inbound.phone, text_message(inbound.phone, answer))], now=now)
    await session.flush()
    return inbound


# The help text goes to a number that is not linked, or that sends what is no command, once in this long: an
# auto-responder or a spammer gets one answer, not one per message, and cannot use up the messages per second
# that vendors' new orders need. A sticker or a reaction gets none.
HELP_AGAIN_AFTER = timedelta(hours=3)
HELP_OUTCOMES = ("not_linked", "unclear")


async def _worth_answering(*, session: AsyncSession, inbound: WhatsAppInbound, now: datetime) -> bool:
    if inbound.outcome not in HELP_OUTCOMES:
        return True
    if inbound.kind not in ("text", "button"):
        return False
    helped = await session.execute(
        select(col(WhatsAppInbound.id))
        .where(
            col(WhatsAppInbound.phone) == inbound.phone,
            col(WhatsAppInbound.id) != inbound.id,
            col(WhatsAppInbound.outcome).in_(HELP_OUTCOMES),
            col(WhatsAppInbound.handled_at) > now - HELP_AGAIN_AFTER,
        )
        .limit(1)
    )
    return helped.first() is None


async def _act(
    *, session: AsyncSession, inbound: WhatsAppInbound, vendor: User | None, now: datetime, today: date
) -> tuple[str, str]:
    """What the message made of the order, and the answer, in the vendor's language."""
    if vendor is None:
        return "not_linked", gettext(MSG_NOT_LINKED)
    command = read_command(inbound.kind, inbound.text)
    if command is None:
        return "unclear", gettext(MSG_HELP)
    number = order_number(command.order_id)
    if command.target == OrderStatus.DECLINED and not command.reason:
        return "reason_needed", gettext(MSG_REASON_NEEDED, number=number, short=str(command.order_id))
    try:
        async with undone_if_refused(session):
            await change_status(
                session=session,
                order_id=command.order_id,
                target=command.target,
                actor=vendor,
                reason=command.reason,
                now=now,
                today=today,
            )
    except NotFound:
        return "not_yours", gettext(MSG_NOT_YOUR_ORDER, number=number)
    except DomainError as refused:
        return "refused", gettext(MSG_NOT_DONE, number=number, problem=_problem(refused))
    if command.target == OrderStatus.ACCEPTED:
        return "accepted", gettext(MSG_ACCEPTED, number=number)
    return "declined", gettext(MSG_DECLINED, number=number, reason=command.reason)


def _problem(refused: DomainError) -> str:
    if isinstance(refused, ValidationFailed) and refused.errors:
        first = refused.errors[0]
        return gettext(first.message, **first.params)
    return gettext(refused.message, **refused.params)
