"""What pages call stored values: statuses, units, kinds, weekdays.

Each mapping gives message ids by value; a template translates them with _(). They are Jinja globals, registered
once (web.templating.configure_environment), so no handler hands them to a template. The domains' own labels (an
order's status, a unit) stay with their models, where the API uses them too; the ones only pages show are here.
"""

from __future__ import annotations

from backend.catalog.models import CATEGORY_LABELS, UNIT_LABELS, ListingAction, ListingStatus, Unit
from backend.catalog.search import Sort
from backend.certification.formats import FORMATS, CertificateKind
from backend.certification.models import CertificateStatus
from backend.errors import N_
from backend.i18n import ngettext
from backend.moderation.models import REPORT_KIND_LABELS
from backend.orders.claim_models import CLAIM_KIND_LABELS, CLAIM_STATE_LABELS
from backend.orders.models import DELIVERY_LABELS, PAYMENT_LABELS, STATUS_LABELS, OrderStatus, PointKind
from backend.orders.states import Side
from backend.payments.invoices import STATE_LABELS
from backend.payments.models import TermsApplicationStatus
from backend.requests.models import OFFER_STATUS_LABELS, REQUEST_STATUS_LABELS
from backend.training.models import TRAINING_KIND_LABELS
from backend.vendors.help_contacts import CONTACT_KIND_LABELS

WEEKDAY_LABELS = {
    1: N_("Monday"),
    2: N_("Tuesday"),
    3: N_("Wednesday"),
    4: N_("Thursday"),
    5: N_("Friday"),
    6: N_("Saturday"),
    7: N_("Sunday"),
}
CERTIFICATE_KIND_LABELS = {kind: FORMATS[kind].label for kind in CertificateKind}
# How each kind's number looks, under the certificate form.
CERTIFICATE_NUMBER_HINTS = {kind: FORMATS[kind].hint for kind in CertificateKind}
CERTIFICATE_STATUS_LABELS = {
    CertificateStatus.UNVERIFIED: N_("Waiting for verification"),
    CertificateStatus.VERIFIED: N_("Verified"),
    CertificateStatus.REJECTED: N_("Rejected"),
}
LISTING_STATUS_LABELS = {
    ListingStatus.DRAFT: N_("Draft"),
    ListingStatus.PENDING_REVIEW: N_("Waiting for review"),
    ListingStatus.LIVE: N_("Live"),
    ListingStatus.REJECTED: N_("Rejected"),
    ListingStatus.PAUSED: N_("Paused"),
}
# What the vendor reads under a listing's status.
LISTING_NEXT_STEPS = {
    ListingStatus.DRAFT: N_("Add at least one photo, then submit it for review."),
    ListingStatus.PENDING_REVIEW: N_("A market manager is checking this listing. Buyers see it once it is approved."),
    ListingStatus.LIVE: N_("Buyers can see and order this product."),
    ListingStatus.REJECTED: N_("Fix what the manager asked for, then submit it again."),
    ListingStatus.PAUSED: N_("Hidden from buyers until you resume it."),
}
LISTING_ACTION_LABELS = {
    ListingAction.SUBMIT: N_("Submit for review"),
    ListingAction.PAUSE: N_("Pause"),
    ListingAction.RESUME: N_("Resume"),
}
POINT_KIND_LABELS = {PointKind.GATE: N_("Gate"), PointKind.DORMITORY: N_("Dormitory")}
# Who took a step of an order's history.
SIDE_LABELS = {
    Side.BUYER: N_("buyer"),
    Side.VENDOR: N_("vendor"),
    Side.MANAGER: N_("market manager"),
    Side.SYSTEM: N_("automatic"),
}
# The vendor's buttons on an order, by the status they lead to, and the button under a required reason.
ORDER_ACTION_LABELS = {
    OrderStatus.ACCEPTED: N_("Accept"),
    OrderStatus.DECLINED: N_("Decline"),
    OrderStatus.READY: N_("Mark ready"),
    OrderStatus.DELIVERED: N_("Mark delivered"),
    OrderStatus.CANCELLED: N_("Cancel order"),
}
ORDER_CONFIRM_LABELS = {
    OrderStatus.DECLINED: N_("Decline with this reason"),
    OrderStatus.CANCELLED: N_("Cancel with this reason"),
}
SORT_LABELS = {
    Sort.RELEVANCE: N_("Best match"),
    Sort.DISTANCE: N_("Nearest"),
    Sort.PRICE: N_("Lowest price"),
    Sort.RATING: N_("Best rated"),
}
TERMS_APPLICATION_LABELS = {
    TermsApplicationStatus.SUBMITTED: N_("Waiting for the market manager"),
    TermsApplicationStatus.DOCUMENTS_REQUESTED: N_("Documents asked for"),
    TermsApplicationStatus.GRANTED: N_("Granted"),
    TermsApplicationStatus.REFUSED: N_("Refused"),
}
# The manager's invoice list filters (web.invoices.MANAGER_FILTERS).
INVOICE_FILTER_LABELS = {
    "unpaid": N_("Open and overdue"),
    "overdue": N_("Overdue"),
    "paid": N_("Paid"),
    "void": N_("Void"),
}


def counted(quantity: int, unit: str) -> str:
    """A quantity with its unit, agreeing with the number: "1 piece", "200 pieces" ("200 pcs" in Indonesian,
    which does not inflect). Each unit is its own plural message, so a translation can say it its own way."""
    match unit:
        case Unit.PORSI:
            return ngettext("%(num)s portion", "%(num)s portions", quantity)
        case Unit.BOX:
            return ngettext("%(num)s box", "%(num)s boxes", quantity)
        case Unit.KG:
            return ngettext("%(num)s kg", "%(num)s kg", quantity)
        case Unit.PCS:
            return ngettext("%(num)s piece", "%(num)s pieces", quantity)
        case Unit.PACK:
            return ngettext("%(num)s pack", "%(num)s packs", quantity)
        case Unit.LUSIN:
            return ngettext("%(num)s dozen", "%(num)s dozen", quantity)
    return f"{quantity} {unit}"  # a unit no longer offered, kept on old orders as it was written


ROLE_LABELS = {
    "vendor": N_("Vendor"),
    "canteen_staff": N_("Canteen staff"),
    "worker": N_("Worker"),
    "manager": N_("Market manager"),
    "admin": N_("Admin"),
}

TEMPLATE_LABELS = {
    "role_labels": ROLE_LABELS,
    "category_labels": CATEGORY_LABELS,
    "unit_labels": UNIT_LABELS,
    "listing_status_labels": LISTING_STATUS_LABELS,
    "listing_next_steps": LISTING_NEXT_STEPS,
    "listing_action_labels": LISTING_ACTION_LABELS,
    "certificate_kind_labels": CERTIFICATE_KIND_LABELS,
    "certificate_number_hints": CERTIFICATE_NUMBER_HINTS,
    "certificate_status_labels": CERTIFICATE_STATUS_LABELS,
    "order_status_labels": STATUS_LABELS,
    "payment_labels": PAYMENT_LABELS,
    "delivery_labels": DELIVERY_LABELS,
    "point_kind_labels": POINT_KIND_LABELS,
    "help_contact_kind_labels": CONTACT_KIND_LABELS,
    "training_kind_labels": TRAINING_KIND_LABELS,
    "side_labels": SIDE_LABELS,
    "order_action_labels": ORDER_ACTION_LABELS,
    "order_confirm_labels": ORDER_CONFIRM_LABELS,
    "invoice_state_labels": STATE_LABELS,
    "invoice_filter_labels": INVOICE_FILTER_LABELS,
    "terms_application_labels": TERMS_APPLICATION_LABELS,
    "report_kind_labels": REPORT_KIND_LABELS,
    "sort_labels": SORT_LABELS,
    "weekday_labels": WEEKDAY_LABELS,
    "claim_state_labels": CLAIM_STATE_LABELS,
    "claim_kind_labels": CLAIM_KIND_LABELS,
    "request_status_labels": REQUEST_STATUS_LABELS,
    "offer_status_labels": OFFER_STATUS_LABELS,
}
