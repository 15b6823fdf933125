"""Request and response shapes of the accounts API (tables would leak password and token hashes)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, Field, field_validator

from backend.accounts.models import ApiToken, Organisation, User, Zone
from backend.accounts.service import MSG_TOKEN_NAME
from backend.errors import N_
from backend.i18n import LOCALES
from backend.validation import Coordinate

MSG_LANGUAGE = N_("Choose Bahasa Indonesia or English.")


# --- the pages' account forms: their rules are the service's (a wrong login says nothing of which field was wrong)


class LoginInput(BaseModel):
    phone: str = ""
    password: str = ""
    next: str = Field(default="", description="The local page to go back to")


class SignUpInput(BaseModel):
    role: str = ""
    phone: str = ""
    full_name: str = ""
    password: str = ""
    zone_id: int | None = None
    organisation_name: str = ""


class PhoneCodeInput(BaseModel):
    code: str = ""


class CodeLoginInput(BaseModel):
    phone: str = ""
    code: str = ""


class PasswordChangeInput(BaseModel):
    current_password: str = ""
    new_password: str = ""


class LanguageInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"locale": MSG_LANGUAGE}

    locale: str
    next: str = Field(default="", description="The local page to go back to")

    @field_validator("locale")
    @classmethod
    def _known(cls, locale: str) -> str:
        if locale not in LOCALES:
            raise ValueError(MSG_LANGUAGE)
        return locale


class UserPublic(BaseModel):
    id: int
    phone: str = Field(description="E.164, e.g. +6281234567890")
    full_name: str
    role: str
    zone_id: int | None
    organisation_id: int | None
    locale: str

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls.model_validate(user, from_attributes=True)


class ZonePublic(BaseModel):
    id: int
    code: str
    name: str
    regency: str
    province: str
    timezone: str
    latitude: float
    longitude: float

    @classmethod
    def of(cls, zone: Zone) -> ZonePublic:
        return cls.model_validate(zone, from_attributes=True)


class ApiTokenCreate(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"name": MSG_TOKEN_NAME}

    name: str = Field(min_length=1, max_length=80, description="What the token is for, e.g. 'SAP procurement'")


class ApiTokenPublic(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The first characters of the token, to recognise it")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> ApiTokenPublic:
        return cls.model_validate(token, from_attributes=True)


class ApiTokenCreated(ApiTokenPublic):
    token: str = Field(description="The secret token. It is shown only this once.")


class CanteenSettingsInput(BaseModel):
    """A canteen's delivery settings; an empty or missing field clears it."""

    delivery_address: str = Field(default="", max_length=300, description="Where vendors bring the orders")
    receiving_contact: str = Field(default="", max_length=120, description="Who receives the orders")
    receiving_phone: str = Field(
        default="", max_length=32, description="Their mobile number, typed as 0812..., 62812... or +62812..."
    )
    delivery_notes: str = Field(default="", max_length=500, description="What every checkout's notes start with")


class CanteenSettingsPublic(BaseModel):
    organisation_id: int
    organisation_name: str
    delivery_address: str
    receiving_contact: str
    receiving_phone: str = Field(description="E.164, empty when not set")
    delivery_notes: str

    @classmethod
    def of(cls, organisation: Organisation) -> CanteenSettingsPublic:
        return cls(
            organisation_id=organisation.id,
            organisation_name=organisation.name,
            delivery_address=organisation.address,
            receiving_contact=organisation.receiving_contact,
            receiving_phone=organisation.receiving_phone,
            delivery_notes=organisation.delivery_notes,
        )


class FactoryLocation(BaseModel):
    """Where a canteen's factory is; both null to measure from the zone instead."""

    latitude: Coordinate | None = Field(default=None, ge=-11.5, le=6.5)
    longitude: Coordinate | None = Field(default=None, ge=94.0, le=141.5)
