"""Request and response shapes of invoice-terms applications (the canteen's and the manager's API)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, Field

from backend.errors import N_
from backend.payments.ledger_schemas import number_text
from backend.public import RowShape, UtcDatetime, public_from

if TYPE_CHECKING:
    from backend.payments.terms import TermsApplicationView

MSG_DAYS = N_("Choose 14 or 30 days.")


Days = Annotated[Literal[14, 30], BeforeValidator(number_text)]


class TermsApplicationInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"requested_days": MSG_DAYS}

    company_name: str = Field(min_length=2, max_length=160, description="The company invoices are made out to")
    npwp: str = Field(max_length=30, description="The company's tax number (15 or 16 digits)")
    billing_address: str = Field(min_length=5, max_length=300, description="The address printed on invoices")
    requested_days: Days = Field(description="14 or 30 days to pay")


class GrantInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"days": MSG_DAYS}

    days: Days = Field(description="14 or 30 days to pay (the manager may grant other than what was asked)")


class NoteInput(BaseModel):
    note: str = Field(max_length=500, description="Which documents the manager needs")


class TermsDocumentPublic(RowShape):
    id: int
    title: str
    media_type: str
    created_at: UtcDatetime


class TermsApplicationPublic(BaseModel):
    id: int
    organisation_id: int
    canteen_name: str
    company_name: str
    npwp: str
    billing_address: str
    requested_days: int
    status: str
    manager_note: str = Field(description="The documents asked for, or the reason of a refusal")
    granted_days: int | None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    documents: list[TermsDocumentPublic]

    @classmethod
    def of(cls, view: TermsApplicationView) -> TermsApplicationPublic:
        documents = [TermsDocumentPublic.of(document) for document in view.documents]
        return public_from(cls, view.application, canteen_name=view.organisation.name, documents=documents)


class CanteenTermsStatePublic(BaseModel):
    invoice_terms_days: int | None = Field(description="The terms the canteen has now; null: no invoices")
    application: TermsApplicationPublic | None = Field(description="The latest application, open or decided")
