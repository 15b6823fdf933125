"""Certificate input (pages and API alike) and its public shape."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from backend.certification.formats import FORMATS, CertificateKind
from backend.certification.models import Certificate
from backend.public import public_from


class CertificateInput(BaseModel):
    kind: CertificateKind
    number: str = Field(min_length=1, max_length=80, description="As printed on the document")
    issuer: str = Field(
        min_length=2, max_length=120, description="e.g. BPJPH, Dinas Kesehatan Kab. Batang, BBPVP Semarang"
    )
    issued_on: date | None = None
    expires_on: date | None = None


class CertificatePublic(BaseModel):
    id: int
    kind: str
    kind_label: str
    badge: str | None
    number: str
    issuer: str
    issued_on: date | None
    expires_on: date | None
    status: str
    status_reason: str
    document_url: str
    created_at: datetime

    @classmethod
    def of(cls, certificate: Certificate) -> CertificatePublic:
        kind_format = FORMATS[CertificateKind(certificate.kind)]
        return public_from(
            cls,
            certificate,
            kind_label=kind_format.label,
            badge=kind_format.badge,
            document_url=f"/api/v1/vendor/certificates/{certificate.id}/document",
        )
