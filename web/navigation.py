"""The phone shell's bottom bar: each role's main places, which one the reader is in, and which carries a badge.

The places are the same on every page, so they are data here rather than branches in the base template; the
badges' counts come with the logged-in user (backend.accounts.service.page_visitor), never from a query of
their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.accounts.models import Role
from backend.errors import N_


@dataclass(frozen=True)
class Place:
    href: str
    label: str  # a message id
    icon: str  # a name in macros/icons.html
    badge: str | None = None  # a field of ShellCounts shown on the place
    # Other pages that belong to this place, by the start of their path.
    covers: tuple[str, ...] = ()


# Unread notifications are counted on the header's inbox link, which every page shows.
ACCOUNT = Place("/settings", N_("Account"), "account", covers=("/inbox",))
BUYER_PLACES = (
    Place("/catalogue", N_("Catalogue"), "search", covers=("/products/", "/vendors/")),
    Place("/cart", N_("Cart"), "cart", badge="cart_lines", covers=("/checkouts/",)),
    Place("/orders", N_("Orders"), "orders"),
)
PLACES: dict[str, tuple[Place, ...]] = {
    Role.VENDOR: (
        Place("/vendor", N_("Home"), "home", covers=("/vendor/requests", "/vendor/wanted")),
        Place("/vendor/orders", N_("Orders"), "orders", badge="new_orders"),
        Place("/vendor/products", N_("Products"), "box"),
        Place("/vendor/balance", N_("Balance"), "wallet", covers=("/vendor/payout-account", "/vendor/reports")),
        ACCOUNT,
    ),
    Role.CANTEEN_STAFF: (
        *BUYER_PLACES,
        Place("/canteen/standing-orders", N_("Regular"), "repeat", covers=("/canteen/requests",)),
        ACCOUNT,
    ),
    Role.WORKER: (*BUYER_PLACES, ACCOUNT),
    Role.MANAGER: (
        Place(
            "/manager/queue",
            N_("Queue"),
            "queue",
            covers=("/manager/certificates", "/manager/reports", "/manager/requests", "/manager/wanted"),
        ),
        Place(
            "/manager/vendors",
            N_("Vendor list"),
            "store",
            covers=("/manager/register", "/manager/canteens", "/manager/training"),
        ),
        Place("/manager/dashboard", N_("Reports"), "chart", covers=("/manager/funnel",)),
        ACCOUNT,
    ),
    # The admin's own pages; the market managers' work an admin can also do is reached from the home.
    Role.ADMIN: (
        Place("/admin", N_("Home"), "home", covers=("/manager/",)),
        Place("/admin/zones", N_("Zones"), "map", covers=("/admin/commission",)),  # commission is set per zone
        Place("/admin/users", N_("Users"), "people", covers=("/admin/managers",)),
        Place("/admin/balances", N_("Balance"), "wallet", covers=("/manager/invoices", "/manager/transfers")),
        Place("/settings", N_("Account"), "account", covers=("/inbox", "/admin/settings")),
    ),
}


def places_for(role: str) -> tuple[Place, ...]:
    return PLACES.get(role, ())


def current_place(places: tuple[Place, ...], path: str) -> Place | None:
    """The place a page belongs to: the one whose address, or a covered path, starts the page's path longest."""
    best: tuple[int, Place] | None = None
    for place in places:
        for start in (place.href, *place.covers):
            matches = path == start or path.startswith(start if start.endswith("/") else start + "/")
            if matches and (best is None or len(start) > best[0]):
                best = (len(start), place)
    return best[1] if best else None
