"""Account tables: who uses the marketplace and how they prove it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, String
from sqlmodel import Field, SQLModel

from backend.db import created_at_field, id_field


class Role(StrEnum):
    VENDOR = "vendor"
    CANTEEN_STAFF = "canteen_staff"
    WORKER = "worker"
    MANAGER = "manager"
    ADMIN = "admin"


SELF_SERVICE_ROLES = (Role.VENDOR, Role.CANTEEN_STAFF, Role.WORKER)
ROLE_VALUES = ", ".join(f"'{role.value}'" for role in Role)


class Zone(SQLModel, table=True):
    """An industrial zone and the district around it (e.g. KITB in Kabupaten Batang)."""

    __table_args__ = (CheckConstraint("commission_bps >= 0 AND commission_bps <= 5000", name="commission_range"),)

    id: int = id_field()
    code: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=120)
    regency: str = Field(max_length=120)
    province: str = Field(max_length=120)
    timezone: str = Field(default="Asia/Jakarta", max_length=40)
    latitude: float
    longitude: float
    # The platform's commission on the zone's completed orders, in basis points (500 = 5 %); the admin sets it.
    commission_bps: int = 500
    created_at: datetime = created_at_field()


class Organisation(SQLModel, table=True):
    """A factory canteen's purchasing organisation; several staff users belong to one."""

    __table_args__ = (
        CheckConstraint("invoice_terms_days IS NULL OR invoice_terms_days IN (14, 30)", name="invoice_terms_known"),
    )

    id: int = id_field()
    zone_id: int = Field(foreign_key="zone.id", index=True)
    name: str = Field(max_length=160)
    # Where vendors bring the canteen's orders (its settings), written on each order when it is placed.
    address: str = Field(default="", max_length=300)
    # Who receives the orders at the gate or kitchen, and their phone (E.164), also written on each order.
    receiving_contact: str = Field(default="", max_length=120)
    receiving_phone: str = Field(default="", max_length=16)
    # What the checkout's notes for the vendor start with (the staff may change them per order).
    delivery_notes: str = Field(default="", max_length=500)
    # The factory the canteen feeds: where "near me" measures from for its staff.
    latitude: float | None = None
    longitude: float | None = None
    # Invoice terms a manager granted after checking the canteen: pay within 14 or 30 days; None: no invoices.
    invoice_terms_days: int | None = None
    npwp: str = Field(default="", max_length=30)
    created_at: datetime = created_at_field()


class User(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(f"role IN ({ROLE_VALUES})", name="role_known"),
        CheckConstraint("role != 'manager' OR zone_id IS NOT NULL", name="manager_has_zone"),
        CheckConstraint(
            "role != 'canteen_staff' OR organisation_id IS NOT NULL", name="canteen_staff_has_organisation"
        ),
        CheckConstraint("locale IN ('id', 'en')", name="locale_known"),
    )

    id: int = id_field()
    phone: str = Field(max_length=16, unique=True)
    full_name: str = Field(max_length=120)
    password_hash: str = Field(max_length=200)
    role: str = Field(sa_column=Column(String(16), nullable=False))
    zone_id: int | None = Field(default=None, foreign_key="zone.id", index=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    locale: str = Field(default="id", max_length=2)
    is_active: bool = True
    created_at: datetime = created_at_field()
    last_login_at: datetime | None = None
    password_changed_at: datetime | None = None
    # When the owner proved the number by entering a code sent to it; until then the account can do nothing else.
    phone_verified_at: datetime | None = None

    @property
    def phone_verified(self) -> bool:
        return self.phone_verified_at is not None


class AuthSession(SQLModel, table=True):
    """A logged-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "auth_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(index=True)
    ip_address: str = Field(default="", max_length=45)
    user_agent: str = Field(default="", max_length=200)


class ApiToken(SQLModel, table=True):
    """A personal token for a procurement system; shown once, stored hashed, revocable."""

    __tablename__ = "api_token"

    id: int = id_field()
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=80)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = created_at_field()
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class CodePurpose(StrEnum):
    SIGN_UP = "sign_up"  # proves the number of a new account
    LOGIN = "login"  # lets the owner in without the password (when guessers have the password throttled)


CODE_PURPOSE_VALUES = ", ".join(f"'{purpose.value}'" for purpose in CodePurpose)


class PhoneVerification(SQLModel, table=True):
    """A one-time code sent to a phone number. Only its HMAC (keyed by the app's secret) is stored; it expires,
    dies after too many wrong tries, and is used once."""

    __tablename__ = "phone_verification"
    __table_args__ = (
        CheckConstraint(f"purpose IN ({CODE_PURPOSE_VALUES})", name="purpose_known"),
        Index("ix_phone_verification_phone_created_at", "phone", "created_at"),
        Index("ix_phone_verification_ip_created_at", "ip_address", "created_at"),
    )

    id: int = id_field()
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    # The number the code was sent to (E.164): the account's own, or the one it is proving.
    phone: str = Field(max_length=16)
    purpose: str = Field(sa_column=Column(String(16), nullable=False))
    code_hash: str = Field(max_length=64)
    # Who asked for it: one address may not have codes sent to number after number.
    ip_address: str = Field(default="", max_length=45)
    created_at: datetime = created_at_field()
    expires_at: datetime
    wrong_attempts: int = 0
    used_at: datetime | None = None


class LoginAttempt(SQLModel, table=True):
    """Every login attempt, kept to throttle guessing per account and per address."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_phone_at", "phone", "attempted_at"),
        Index("ix_login_attempt_ip_at", "ip_address", "attempted_at"),
    )

    id: int = id_field()
    phone: str = Field(max_length=32)
    ip_address: str = Field(max_length=45)
    succeeded: bool
    attempted_at: datetime = created_at_field()
