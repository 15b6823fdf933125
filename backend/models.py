"""Every table of the application, imported in one place for Alembic and the test suite."""

from backend.accounts.models import ApiToken, AuthSession, LoginAttempt, Organisation, PhoneVerification, User, Zone
from backend.administration.models import ManagerInvitation, PasswordResetLink, PlatformBankAccount
from backend.catalog.models import (
    CatalogueEntry,
    PriceTier,
    Product,
    ProductCertificate,
    ProductPhoto,
    ProductRevision,
    ProductRevisionPhoto,
    VendorReach,
)
from backend.catalog.synonyms import SearchSynonym
from backend.catalog.vocabulary import SearchWord, SearchWordTrigram
from backend.certification.models import Certificate
from backend.moderation.models import (
    AuditEntry,
    CertificateNotice,
    ListingReport,
    RegisterImport,
    VendorInvitation,
)
from backend.notifications.models import Notification, PushMessage, PushSubscription
from backend.orders.claim_models import CreditNote, DeliveryClaim, DeliveryClaimLine
from backend.orders.models import (
    CapacityDay,
    CartLine,
    Checkout,
    DeliveryPoint,
    Order,
    OrderEvent,
    OrderLine,
    Review,
    StandingOrder,
    StandingOrderRun,
)
from backend.payments.models import Invoice, LedgerEntry, Payment, Payout, Refund, StripeEvent
from backend.requests.models import BuyerRequest, RequestOffer, SearchDemand
from backend.training.models import AttendanceImport, TrainingAttendee, TrainingCohort, TrainingProgramme
from backend.vendors.help_contacts import HelpContact
from backend.vendors.models import Vendor
from backend.whatsapp.models import WhatsAppInbound, WhatsAppLink, WhatsAppMessage

__all__ = [
    "ApiToken",
    "AttendanceImport",
    "AuditEntry",
    "AuthSession",
    "BuyerRequest",
    "CapacityDay",
    "CartLine",
    "CatalogueEntry",
    "Certificate",
    "CertificateNotice",
    "Checkout",
    "CreditNote",
    "DeliveryClaim",
    "DeliveryClaimLine",
    "DeliveryPoint",
    "HelpContact",
    "Invoice",
    "LedgerEntry",
    "ListingReport",
    "LoginAttempt",
    "ManagerInvitation",
    "Notification",
    "Order",
    "OrderEvent",
    "OrderLine",
    "Organisation",
    "PasswordResetLink",
    "Payment",
    "Payout",
    "PhoneVerification",
    "PlatformBankAccount",
    "PriceTier",
    "Product",
    "ProductCertificate",
    "ProductPhoto",
    "ProductRevision",
    "ProductRevisionPhoto",
    "PushMessage",
    "PushSubscription",
    "Refund",
    "RegisterImport",
    "RequestOffer",
    "Review",
    "SearchDemand",
    "SearchSynonym",
    "SearchWord",
    "SearchWordTrigram",
    "StandingOrder",
    "StandingOrderRun",
    "StripeEvent",
    "TrainingAttendee",
    "TrainingCohort",
    "TrainingProgramme",
    "User",
    "Vendor",
    "VendorInvitation",
    "VendorReach",
    "WhatsAppInbound",
    "WhatsAppLink",
    "WhatsAppMessage",
    "Zone",
]
