"""What the platform's operator keeps beyond the accounts themselves: invitations for market managers, one-time
links to set a new password, and the platform's bank account as the admin typed it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from backend.db import created_at_field, id_field


class ManagerInvitation(SQLModel, table=True):
    """An admin invites a person to manage a zone: the link carries a random token (only its SHA-256 is stored);
    the person opens it, chooses a password and proves the number with the code sent to it."""

    __tablename__ = "manager_invitation"

    id: int = id_field()
    zone_id: int = Field(foreign_key="zone.id", index=True)
    # The number the manager will log in with (E.164), and the name the admin knows them by.
    phone: str = Field(max_length=16, index=True)
    full_name: str = Field(max_length=120)
    token_hash: str = Field(max_length=64, unique=True)
    invited_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = created_at_field()
    expires_at: datetime
    accepted_at: datetime | None = None
    accepted_by_id: int | None = Field(default=None, foreign_key="user.id")
    withdrawn_at: datetime | None = None


class PasswordResetLink(SQLModel, table=True):
    """A link an admin makes for a person who cannot log in: used once, within its lifetime, to choose a new
    password. Only the SHA-256 of its token is stored."""

    __tablename__ = "password_reset_link"

    id: int = id_field()
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = created_at_field()
    expires_at: datetime
    used_at: datetime | None = None


class PlatformBankAccount(SQLModel, table=True):
    """The platform's bank account that buyers transfer to and invoices name, as the admin set it; it replaces the
    PLATFORM_BANK_* settings where the account is shown. One row at most."""

    __tablename__ = "platform_bank_account"

    id: int = id_field()
    bank_name: str = Field(max_length=60)
    account_number: str = Field(max_length=30)
    account_holder: str = Field(max_length=120)
    updated_at: datetime = created_at_field()
    updated_by_id: int = Field(foreign_key="user.id")

    @property
    def name(self) -> str:
        return self.bank_name
