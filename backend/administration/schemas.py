"""Request and response shapes of the admin's pages and API: zones, manager invitations, accounts, the platform's
bank account."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, BeforeValidator, Field, field_validator

from backend.accounts.models import User, Zone
from backend.administration.models import ManagerInvitation
from backend.errors import N_
from backend.payments.ledger import MSG_RATE
from backend.payments.ledger_schemas import percent_to_bps
from backend.public import UtcDatetime
from backend.validation import Coordinate

MSG_ZONE_CODE = N_("Type a short code of 2 to 16 letters or digits, for example KITB.")
MSG_ZONE_NAME = N_("Type the zone's name (2 to 120 characters).")
MSG_REGENCY = N_("Type the regency or city (2 to 120 characters).")
MSG_PROVINCE = N_("Type the province (2 to 120 characters).")
MSG_LOCATION = N_("Type the zone's centre as numbers, for example -6.9545 and 110.0322.")
MSG_FULL_NAME = N_("Type the person's name (2 to 120 characters).")
MSG_ZONE_CHOICE = N_("Choose a zone.")
MSG_REASON = N_("Say why, in a few words (up to 500 characters).")


def _collapse(value: object) -> object:
    return " ".join(value.split()) if isinstance(value, str) else value


class ZoneInput(BaseModel):
    """A zone as the admin creates or edits it: its code, names, centre (where distances are measured from when a
    buyer has no location) and the platform's commission on its orders."""

    field_messages: ClassVar[dict[str, str]] = {
        "code": MSG_ZONE_CODE,
        "name": MSG_ZONE_NAME,
        "regency": MSG_REGENCY,
        "province": MSG_PROVINCE,
        "latitude": MSG_LOCATION,
        "longitude": MSG_LOCATION,
        "commission_bps": MSG_RATE,
    }

    code: str = Field(min_length=2, max_length=16, pattern=r"^[A-Z0-9-]+$", examples=["KITB"])
    name: str = Field(min_length=2, max_length=120, examples=["Kawasan Industri Terpadu Batang"])
    regency: str = Field(min_length=2, max_length=120, examples=["Kabupaten Batang"])
    province: str = Field(min_length=2, max_length=120, examples=["Jawa Tengah"])
    latitude: Coordinate
    longitude: Coordinate
    commission_bps: int = Field(default=500, ge=0, le=5000, description="Basis points: 500 = 5 %; 0 to 50 %")

    @field_validator("code", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("name", "regency", "province", mode="before")
    @classmethod
    def _spaces(cls, value: object) -> object:
        return _collapse(value)


class ZoneFormInput(ZoneInput):
    """The admin's page types the commission in per cent (the form's `commission`)."""

    commission_bps: Annotated[int, BeforeValidator(percent_to_bps)] = Field(default=500, ge=0, le=5000)


class ZonePublic(BaseModel):
    id: int
    code: str
    name: str
    regency: str
    province: str
    latitude: float
    longitude: float
    commission_bps: int

    @classmethod
    def of(cls, zone: Zone) -> ZonePublic:
        return cls.model_validate(zone, from_attributes=True)


class ManagerInvitationInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"full_name": MSG_FULL_NAME, "zone_id": MSG_ZONE_CHOICE}

    zone_id: int
    phone: str = Field(default="", description="The number the manager will log in with, as typed (0812...)")
    full_name: str = Field(min_length=2, max_length=120)

    @field_validator("full_name", mode="before")
    @classmethod
    def _spaces(cls, value: object) -> object:
        return _collapse(value)


class ManagerInvitationPublic(BaseModel):
    id: int
    zone_id: int
    phone: str
    full_name: str
    created_at: UtcDatetime
    expires_at: UtcDatetime
    accepted_at: UtcDatetime | None
    withdrawn_at: UtcDatetime | None

    @classmethod
    def of(cls, invitation: ManagerInvitation) -> ManagerInvitationPublic:
        return cls.model_validate(invitation, from_attributes=True)


class ManagerInvitationCreated(ManagerInvitationPublic):
    link: str = Field(description="The one-time link to send to the invited person (shown once)")


class MoveManagerInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"zone_id": MSG_ZONE_CHOICE}

    zone_id: int


class ReasonInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"reason": MSG_REASON}

    reason: str = Field(default="", max_length=500)


class AccountPublic(BaseModel):
    """An account as the admin sees it (never its password hash)."""

    id: int
    phone: str
    full_name: str
    role: str
    zone_id: int | None
    organisation_id: int | None
    is_active: bool
    phone_verified: bool
    created_at: UtcDatetime
    last_login_at: UtcDatetime | None

    @classmethod
    def of(cls, user: User) -> AccountPublic:
        return cls.model_validate(user, from_attributes=True)


class PasswordResetLinkCreated(BaseModel):
    user_id: int
    link: str = Field(description="The one-time link to send to the account's owner (shown once)")
    expires_at: UtcDatetime


class NewPasswordInput(BaseModel):
    password: str = ""


class PlatformBankPublic(BaseModel):
    bank_name: str
    account_number: str
    account_holder: str
    stored: bool = Field(description="True: set by an admin; false: from the PLATFORM_BANK_* settings")
