"""Notifications' tables: the in-app inbox, browsers' Web Push subscriptions and the queue of pushes to send."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from backend.db import created_at_field, id_field


class Notification(SQLModel, table=True):
    """One line of a user's inbox. The text is a message id and its parameters, translated when shown, so a
    user who switches language reads the whole inbox in the new one."""

    __table_args__ = (Index("ix_notification_user_created", "user_id", "created_at"),)

    id: int = id_field()
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    order_id: int | None = Field(default=None, foreign_key="vendor_order.id", ondelete="CASCADE")
    message: str = Field(max_length=200)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    url: str = Field(default="", max_length=200)
    created_at: datetime = created_at_field()
    read_at: datetime | None = None


class PushSubscription(SQLModel, table=True):
    """A browser that agreed to receive Web Push for a user (the PushSubscription of the Push API)."""

    __tablename__ = "push_subscription"

    id: int = id_field()
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    endpoint: str = Field(max_length=800, unique=True)
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)
    created_at: datetime = created_at_field()
    last_sent_at: datetime | None = None


class PushMessage(SQLModel, table=True):
    """A notification waiting to be pushed, or pushed, to one subscription. A background job sends it with
    retries, composing the text in the recipient's language when it sends."""

    __tablename__ = "push_message"
    __table_args__ = (Index("ix_push_message_due", "sent_at", "next_attempt_at"),)

    id: int = id_field()
    subscription_id: int = Field(foreign_key="push_subscription.id", index=True, ondelete="CASCADE")
    notification_id: int = Field(foreign_key="notification.id", index=True, ondelete="CASCADE")
    attempts: int = 0
    next_attempt_at: datetime = created_at_field()
    sent_at: datetime | None = None
    # Set when the push service refused the subscription for good, or after the last retry.
    given_up_at: datetime | None = None
    last_error: str = Field(default="", max_length=300)
    created_at: datetime = created_at_field()
