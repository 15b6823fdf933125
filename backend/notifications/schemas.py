"""The inbox and Web Push subscriptions as the API (and the browser's own script) send and receive them."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from backend.errors import N_
from backend.notifications.models import Notification
from backend.notifications.service import InboxPage, notification_text
from backend.public import RowShape, UtcDatetime, public_from

MSG_READ_WHICH = N_("Give the ids of the notifications to mark as read, or all.")


class NotificationPublic(BaseModel):
    id: int
    text: str = Field(description="In the reader's language")
    url: str = Field(description="The page the notification is about (a path on this site); empty when none")
    read: bool
    created_at: UtcDatetime

    @classmethod
    def of(cls, notification: Notification) -> NotificationPublic:
        """Translated in the current language: call it where the reader's language is set."""
        return public_from(
            cls, notification, text=notification_text(notification), read=notification.read_at is not None
        )


class InboxPagePublic(BaseModel):
    items: list[NotificationPublic]
    page: int
    has_more: bool
    unread_count: int

    @classmethod
    def of(cls, inbox: InboxPage, *, unread_count: int) -> InboxPagePublic:
        return public_from(
            cls, inbox, items=[NotificationPublic.of(item) for item in inbox.items], unread_count=unread_count
        )


class InboxReadInput(BaseModel):
    ids: list[int] = Field(default_factory=list, max_length=500)
    all: bool = Field(default=False, description="Mark every unread notification as read (ids are then ignored)")

    @model_validator(mode="after")
    def _something_to_mark(self) -> InboxReadInput:
        if not self.all and not self.ids:
            raise ValueError(MSG_READ_WHICH)
        return self


class InboxReadResult(BaseModel):
    marked: int
    unread_count: int


class PushKeys(BaseModel):
    p256dh: str = Field(max_length=200, description="The browser's ECDH P-256 public key, base64url")
    auth: str = Field(max_length=100, description="The browser's 16-byte authentication secret, base64url")


class PushSubscriptionInput(BaseModel):
    """What `PushSubscription.toJSON()` gives in the browser (expirationTime is ignored)."""

    endpoint: str = Field(max_length=800)
    keys: PushKeys


class PushEndpointInput(BaseModel):
    """The subscription to forget; the whole `PushSubscription.toJSON()` may be sent, only the endpoint counts."""

    endpoint: str = Field(max_length=800)


class PushSubscriptionPublic(RowShape):
    id: int
    endpoint: str
    created_at: UtcDatetime


class PushKeyPublic(BaseModel):
    public_key: str = Field(description="The applicationServerKey for pushManager.subscribe(), base64url")
