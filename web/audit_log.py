"""The audit log in words: each action named as a person says it ("Listing approved: Keripik Tempe"), and what
changed as "field: before → after" lines with stored values shown by their labels (a status, a category, an
amount in rupiah), never as raw codes or JSON. Jinja globals (web.templating)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.catalog.models import CATEGORY_LABELS
from backend.errors import N_
from backend.i18n import gettext, ngettext
from backend.moderation.models import REPORT_KIND_LABELS, AuditEntry
from backend.money import format_rupiah
from backend.payments.ledger_schemas import bps_to_percent
from backend.phone import display_phone
from web.labels import (
    CERTIFICATE_KIND_LABELS,
    CERTIFICATE_STATUS_LABELS,
    LISTING_STATUS_LABELS,
    POINT_KIND_LABELS,
    TERMS_APPLICATION_LABELS,
)

AUDIT_ACTION_LABELS = {
    "listing.approve": N_("Listing approved"),
    "listing.reject": N_("Listing rejected"),
    "listing.hidden_expired_certificate": N_("Listing hidden: its certificate expired"),
    "revision.approve": N_("Change to a listing approved"),
    "revision.reject": N_("Change to a listing rejected"),
    "revision.withdraw": N_("Change to a listing withdrawn by the vendor"),
    "certificate.verify": N_("Certificate verified"),
    "certificate.reject": N_("Certificate refused"),
    "vendor.suspend": N_("Vendor suspended"),
    "vendor.reinstate": N_("Vendor reinstated"),
    "report.resolve": N_("Buyer's report resolved"),
    "register.import": N_("UMKM register imported"),
    "organisation.invoice_terms": N_("Invoice terms changed"),
    "invoice_terms.refuse": N_("Invoice terms refused"),
    "invoice.paid": N_("Invoice marked paid"),
    "zone.commission": N_("Commission changed"),
    "vendor.payout": N_("Payout recorded"),
    "vendor.payout_account": N_("Payout account changed"),
    "synonym.add": N_("Search synonym added"),
    "synonym.remove": N_("Search synonym removed"),
    "claim.decide": N_("Delivery report decided"),
    "zone.create": N_("Zone created"),
    "zone.update": N_("Zone changed"),
    "delivery_point.add": N_("Delivery point added"),
    "delivery_point.close": N_("Delivery point closed"),
    "delivery_point.open": N_("Delivery point opened again"),
    "help_contact.add": N_("Help contact added"),
    "help_contact.edit": N_("Help contact corrected"),
    "help_contact.remove": N_("Help contact removed"),
    "training.programme_add": N_("Training programme recorded"),
    "training.programme_edit": N_("Training programme corrected"),
    "training.cohort_add": N_("Training cohort added"),
    "training.cohort_edit": N_("Training cohort corrected"),
    "training.attendee_add": N_("Training attendee added"),
    "training.attendee_edit": N_("Training attendee corrected"),
    "training.attendee_remove": N_("Training attendee taken off the list"),
    "training.import": N_("Attendance list imported"),
    "training.verify": N_("Training completion verified"),
    "training.unverify": N_("Training verification withdrawn"),
    "manager.invite": N_("Manager invited"),
    "manager.invitation_withdraw": N_("Manager invitation withdrawn"),
    "manager.move": N_("Manager moved to another zone"),
    "manager.remove": N_("Manager removed"),
    "user.deactivate": N_("Account deactivated"),
    "user.reactivate": N_("Account reactivated"),
    "user.password_reset_link": N_("Password link created"),
    "platform.bank_account": N_("Platform bank account changed"),
}
FIELD_LABELS = {
    "status": N_("Status"),
    "name": N_("Name"),
    "description": N_("Description"),
    "revision": N_("Change"),
    "category": N_("Category"),
    "photos": N_("Photos"),
    "certificate_ids": N_("Certificates"),
    "number": N_("Number"),
    "kind": N_("Kind"),
    "expires_on": N_("Valid until"),
    "product_id": N_("Product"),
    "created": N_("New"),
    "updated": N_("Updated"),
    "unchanged": N_("Unchanged"),
    "rejected": N_("Refused lines"),
    "invoice_terms_days": N_("Invoice terms"),
    "requested_days": N_("Days asked for"),
    "npwp": N_("NPWP"),
    "paid_at": N_("Paid"),
    "payment_reference": N_("Payment reference"),
    "amount_due": N_("Amount due"),
    "amount": N_("Amount"),
    "reference": N_("Reference"),
    "payout_id": N_("Payout"),
    "commission_bps": N_("Commission"),
    "words": N_("Words"),
    "bank_name": N_("Bank"),
    "account_number": N_("Account number"),
    "account_holder": N_("Account holder"),
    "same_as": N_("Same as"),
    "agreed": N_("Agreed"),
    "code": N_("Code"),
    "regency": N_("Regency or city"),
    "province": N_("Province"),
    "latitude": N_("Latitude"),
    "longitude": N_("Longitude"),
    "zone": N_("Zone"),
    "phone": N_("Phone number"),
    "is_active": N_("Can log in"),
    "active": N_("Open to new orders"),
    "address": N_("Address"),
    "opening_hours": N_("Opening hours"),
    "note": N_("Note"),
    "organiser": N_("Organiser"),
    "starts_on": N_("First day"),
    "ends_on": N_("Last day"),
    "place": N_("Place"),
    "cohort": N_("Cohort"),
    "nib": N_("NIB"),
    "completed": N_("Passed"),
    "certificate_number": N_("Certificate number"),
    "verified": N_("Verified"),
}
VENDOR_STATUS_LABELS = {"active": N_("Active"), "suspended": N_("Suspended")}
REPORT_STATUS_LABELS = {"open": N_("Open"), "resolved": N_("Resolved")}
REVISION_STATUS_LABELS = {
    "pending": N_("Waiting for review"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "withdrawn": N_("Withdrawn"),
}
MONEY_FIELDS = {"amount", "amount_due"}


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


def _status_labels(action: str) -> dict[Any, str]:
    subject = action.split(".")[0]
    by_subject: dict[str, dict[Any, str]] = {
        "listing": LISTING_STATUS_LABELS,
        "certificate": CERTIFICATE_STATUS_LABELS,
        "vendor": VENDOR_STATUS_LABELS,
        "report": REPORT_STATUS_LABELS,
        "revision": REVISION_STATUS_LABELS,
        "invoice_terms": TERMS_APPLICATION_LABELS,
    }
    return by_subject.get(subject, {})


def _shown(action: str, field: str, value: Any) -> str:
    """A stored value as a person reads it."""
    if value is None or value == "":
        return "—"
    by_field: dict[str, dict[Any, str]] = {
        "status": _status_labels(action),
        "category": CATEGORY_LABELS,
        "kind": {**CERTIFICATE_KIND_LABELS, **REPORT_KIND_LABELS, **POINT_KIND_LABELS},
    }
    if field == "phone" and isinstance(value, str):
        return display_phone(value)
    if isinstance(value, bool):
        return gettext(N_("Yes") if value else N_("No"))
    labels = by_field.get(field, {})
    if isinstance(value, str | int) and value in labels:
        return gettext(labels[value])
    if field in MONEY_FIELDS and isinstance(value, int):
        return format_rupiah(value)
    if field == "commission_bps" and isinstance(value, int):
        return f"{bps_to_percent(value)} %"
    if field in ("invoice_terms_days", "requested_days"):
        return ngettext("%(num)s day", "%(num)s days", int(value))
    if field == "photos" and isinstance(value, list):
        return ngettext("%(num)s photo", "%(num)s photos", len(value))
    if field == "certificate_ids" and isinstance(value, list):
        return ngettext("%(num)s certificate", "%(num)s certificates", len(value))
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def audit_title(entry: AuditEntry) -> str:
    """ "Listing approved: Keripik Tempe" (the action's own code where it has no words yet)."""
    action = gettext(AUDIT_ACTION_LABELS[entry.action]) if entry.action in AUDIT_ACTION_LABELS else entry.action
    return f"{action}: {entry.subject_label}" if entry.subject_label else action


def audit_changes(entry: AuditEntry) -> list[Change]:
    """What the entry changed, field by field in the order it was recorded; unchanged fields left out."""
    before, after = entry.before or {}, entry.after or {}
    changes = []
    for field in dict.fromkeys([*before, *after]):
        old, new = before.get(field), after.get(field)
        if old == new:
            continue
        label = gettext(FIELD_LABELS[field]) if field in FIELD_LABELS else field
        changes.append(Change(label, _shown(entry.action, field, old), _shown(entry.action, field, new)))
    return changes
