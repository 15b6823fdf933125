"""Response and request shapes of the moderation API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from backend.catalog.models import Product, ProductRevision
from backend.certification.models import Certificate
from backend.moderation.models import AuditEntry
from backend.moderation.service import (
    MSG_REASON_REQUIRED,
    MSG_REPORT_KIND,
    PhotoFile,
    QueueItem,
    RevisionItem,
)
from backend.public import RowShape
from backend.vendors.models import Vendor


class ReasonInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"reason": MSG_REASON_REQUIRED}

    reason: str = Field(min_length=3, max_length=500, description="Shown to the vendor")


class ReportInput(BaseModel):
    field_messages: ClassVar[dict[str, str]] = {"kind": MSG_REPORT_KIND}

    kind: str = Field(description="wrong_photo, not_halal, bad_quality or other")
    details: str = Field(default="", max_length=500)


class RegisterZoneInput(BaseModel):
    """The zone an admin imports a register for (a manager's is their own); the file comes beside it."""

    zone_id: int | None = None


class ChangePublic(BaseModel):
    field: str
    before: Any
    after: Any


class QueueItemPublic(BaseModel):
    product_id: int
    name: str
    category: str
    price: int
    unit: str
    vendor_id: int
    vendor_name: str
    submitted_at: datetime | None
    photo_urls: list[str]
    certificates: list[dict[str, Any]]
    first_review: bool
    changes: list[ChangePublic]

    @classmethod
    def of(cls, item: QueueItem) -> QueueItemPublic:
        return cls(
            product_id=item.product.id,
            name=item.product.name,
            category=item.product.category,
            price=item.product.price,
            unit=item.product.unit,
            vendor_id=item.vendor.id,
            vendor_name=item.vendor.business_name,
            submitted_at=item.product.submitted_at,
            photo_urls=[f"/media/{photo.detail_key}" for photo in item.photos],
            certificates=[
                {"id": c.id, "kind": c.kind, "number": c.number, "status": c.status, "expires_on": c.expires_on}
                for c in item.certificates
            ],
            first_review=item.first_review,
            changes=[ChangePublic(field=c.field, before=c.before, after=c.after) for c in item.changes],
        )


def _revision_value(value: Any) -> Any:
    """A field's value as the API gives it: photos as their image URLs, certificates as their facts."""
    if isinstance(value, list):
        return [_revision_value(item) for item in value]
    if isinstance(value, PhotoFile):
        return f"/media/{value.detail_key}"
    if isinstance(value, Certificate):
        return {"id": value.id, "kind": value.kind, "number": value.number, "status": value.status}
    return value


class RevisionItemPublic(BaseModel):
    revision_id: int
    product_id: int
    name: str = Field(description="The name on sale now")
    vendor_id: int
    vendor_name: str
    submitted_at: datetime
    updated_at: datetime
    changes: list[ChangePublic] = Field(
        description="Each changed field (name, description, category, certificate_ids, photos): `before` is on "
        "sale now, `after` is proposed; photos as image URLs, certificates as {id, kind, number, status}"
    )

    @classmethod
    def of(cls, item: RevisionItem) -> RevisionItemPublic:
        return cls(
            revision_id=item.revision.id,
            product_id=item.product.id,
            name=item.product.name,
            vendor_id=item.vendor.id,
            vendor_name=item.vendor.business_name,
            submitted_at=item.revision.submitted_at,
            updated_at=item.revision.updated_at,
            changes=[
                ChangePublic(field=c.field, before=_revision_value(c.before), after=_revision_value(c.after))
                for c in item.changes
            ],
        )


class DecisionPublic(BaseModel):
    id: int
    status: str
    reason: str

    @classmethod
    def of(cls, decided: Product | Certificate | Vendor | ProductRevision) -> DecisionPublic:
        """A listing, certificate, vendor or change to a listing as a manager's decision left it."""
        assert decided.id is not None
        if isinstance(decided, ProductRevision):
            return cls(id=decided.id, status=decided.status, reason=decided.reason)
        return cls(id=decided.id, status=decided.status, reason=decided.status_reason)


class ApprovalPublic(DecisionPublic):
    """An approved listing, with what buyers now see of it: whether it is in the catalogue (its certificates count)
    and the zone's canteens, gates and dormitories its vendor delivers to; `message` says it in words."""

    on_sale: bool
    canteens: int
    gates: int
    dormitories: int
    message: str


class AuditEntryPublic(BaseModel):
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str | None
    actor_role: str
    zone_id: int | None
    action: str
    subject_type: str
    subject_id: int
    subject_label: str = Field(description="What the subject was called then (a product's name, an invoice's number)")
    reason: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @classmethod
    def of(cls, entry: AuditEntry, actor_name: str | None) -> AuditEntryPublic:
        return cls(**entry.model_dump(), actor_name=actor_name)


class ReportPublic(RowShape):
    id: int
    product_id: int
    kind: str
    details: str
    status: str
    created_at: datetime
