"""WhatsApp's tables: vendors' linked numbers, the messages waiting to be sent, and the messages received (each
message id once, so a webhook delivered twice acts once)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from backend.db import created_at_field, id_field


class WhatsAppLink(SQLModel, table=True):
    """A vendor's WhatsApp number for orders: proven by a one-time code sent to it, then messages about the
    vendor's orders and listings go there, and what the vendor answers from it acts on their orders.

    Until the code is entered the row holds the number being proven (`pending_phone`) and the code's HMAC only."""

    __tablename__ = "whatsapp_link"

    id: int = id_field()
    user_id: int = Field(foreign_key="user.id", unique=True, ondelete="CASCADE")
    # The linked number (E.164); None until a code was entered. One number serves one account.
    phone: str | None = Field(default=None, max_length=16, unique=True)
    linked_at: datetime | None = None
    pending_phone: str | None = Field(default=None, max_length=16)
    code_hash: str | None = Field(default=None, max_length=64)
    code_sent_at: datetime | None = None
    code_expires_at: datetime | None = None
    wrong_attempts: int = 0
    created_at: datetime = created_at_field()


class WhatsAppMessage(SQLModel, table=True):
    """A message waiting to be sent, or sent, to a WhatsApp number: the Cloud API's request body as composed when
    it was recorded (templates are in Indonesian). A job sends it with retries."""

    __tablename__ = "whatsapp_message"
    __table_args__ = (Index("ix_whatsapp_message_due", "sent_at", "next_attempt_at"),)

    id: int = id_field()
    phone: str = Field(max_length=16)
    body: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attempts: int = 0
    next_attempt_at: datetime = created_at_field()
    sent_at: datetime | None = None
    # Set when the Cloud API refused the message for good, or after the last retry.
    given_up_at: datetime | None = None
    last_error: str = Field(default="", max_length=300)
    # The id WhatsApp gave the message (wamid....), once sent.
    provider_id: str = Field(default="", max_length=200)
    created_at: datetime = created_at_field()


class WhatsAppInbound(SQLModel, table=True):
    """A message a person sent to the business number, stored by its WhatsApp id before it is acted on: the
    webhook answers at once, a job handles it, and the same id delivered again is not stored twice."""

    __tablename__ = "whatsapp_inbound"
    __table_args__ = (Index("ix_whatsapp_inbound_unhandled", "handled_at", "id"),)

    id: int = id_field()
    message_id: str = Field(max_length=200, unique=True)
    phone: str = Field(max_length=16)
    # The typed words, or a button's payload (kind "button").
    kind: str = Field(max_length=16)
    text: str = Field(default="", max_length=1000)
    received_at: datetime = created_at_field()
    handled_at: datetime | None = None
    outcome: str = Field(default="", max_length=40)
