"""The bank account a vendor is paid out to: recorded by the vendor, each change in the audit log (with the number
masked), and required before an admin can record a payout, which keeps where the money went."""

from __future__ import annotations

import re
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import User
from backend.errors import N_
from backend.moderation.audit import record
from backend.payments.models import PayoutAccount
from backend.vendors.models import Vendor

MSG_BANK = N_("Type the bank's name, for example BCA, BRI, Bank Jateng (2 to 60 characters).")
MSG_NUMBER = N_("Type the account number: 5 to 20 digits.")
MSG_HOLDER = N_("Type the account holder's name as the bank has it (2 to 120 characters).")
MSG_NO_ACCOUNT = N_("This vendor has not recorded a bank account for payouts yet.")


class PayoutAccountInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {
        "bank_name": MSG_BANK,
        "account_number": MSG_NUMBER,
        "account_holder": MSG_HOLDER,
    }

    bank_name: str = Field(min_length=2, max_length=60, description="The bank, as people call it (BCA, BRI, ...)")
    account_number: str = Field(description="Digits only; spaces, dots and dashes as typed are left out")
    account_holder: str = Field(min_length=2, max_length=120, description="The name the bank has on the account")

    @field_validator("bank_name", "account_holder", mode="before")
    @classmethod
    def _collapse_spaces(cls, value: object) -> object:
        return " ".join(value.split()) if isinstance(value, str) else value

    @field_validator("account_number", mode="before")
    @classmethod
    def _digits(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        digits = re.sub(r"[\s.\-]", "", value)
        if not (digits.isascii() and digits.isdigit() and 5 <= len(digits) <= 20):
            raise ValueError(MSG_NUMBER)
        return digits


# The payment gateway's payout channels (Xendit's channel codes) for the banks vendors name most; a bank not
# here is paid out by hand.
PAYOUT_CHANNELS = {
    "BCA": "ID_BCA",
    "CENTRAL ASIA": "ID_BCA",
    "BRI": "ID_BRI",
    "RAKYAT INDONESIA": "ID_BRI",
    "BNI": "ID_BNI",
    "NEGARA INDONESIA": "ID_BNI",
    "MANDIRI": "ID_MANDIRI",
    "BSI": "ID_BSI",
    "SYARIAH INDONESIA": "ID_BSI",
    "PERMATA": "ID_PERMATA",
    "CIMB": "ID_CIMB",
    "CIMB NIAGA": "ID_CIMB",
    "BTN": "ID_BTN",
    "TABUNGAN NEGARA": "ID_BTN",
    "DANAMON": "ID_DANAMON",
}


def payout_channel(bank_name: str) -> str | None:
    """The gateway's payout channel for the bank as the vendor typed it ("BCA", "Bank Mandiri", "bank bri"), or
    None for a bank it is not known to pay out to."""
    words = " ".join(bank_name.upper().replace(".", " ").split()).removeprefix("BANK ").removeprefix("PT ")
    return PAYOUT_CHANNELS.get(words.removeprefix("BANK ").removesuffix(" (PERSERO)").strip())


def masked(number: str) -> str:
    """•••• 6789: enough to recognise an account, not enough to use it."""
    return f"•••• {number[-4:]}" if number else ""


def _audited(account: PayoutAccount | None) -> dict[str, str] | None:
    if account is None:
        return None
    return {
        "bank_name": account.bank_name,
        "account_number": masked(account.account_number),
        "account_holder": account.account_holder,
    }


async def payout_account(*, session: AsyncSession, vendor_id: int) -> PayoutAccount | None:
    query = select(PayoutAccount).where(col(PayoutAccount.vendor_id) == vendor_id)
    return (await session.execute(query)).scalar_one_or_none()


async def save_payout_account(
    *, session: AsyncSession, actor: User, vendor: Vendor, data: PayoutAccountInput, now: datetime
) -> PayoutAccount:
    """The vendor records or changes their payout account; the change goes to the audit log."""
    account = await payout_account(session=session, vendor_id=vendor.id)
    before = _audited(account)
    if account is None:
        account = PayoutAccount(vendor_id=vendor.id, **data.model_dump(), updated_at=now)
    elif (account.bank_name, account.account_number, account.account_holder) == (
        data.bank_name,
        data.account_number,
        data.account_holder,
    ):
        return account
    else:
        account.bank_name, account.account_number = data.bank_name, data.account_number
        account.account_holder, account.updated_at = data.account_holder, now
    session.add(account)
    await session.flush()
    after = _audited(account)
    await record(session, actor, "vendor.payout_account", vendor, vendor.zone_id, before=before, after=after)
    return account
