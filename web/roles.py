"""Pages by role: who may open them (guards), where each role's pages start, and where a vendor without a business
profile is sent first."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.types import ExceptionHandlersMap

from backend.accounts.auth import requires_role
from backend.accounts.models import Role, User
from backend.orders.cart import BUYER_ROLES
from backend.vendors.service import ProfileIncomplete
from web.responses import see_other

VENDORS = [requires_role(Role.VENDOR)]
BUYERS = [requires_role(*BUYER_ROLES)]
CANTEEN_STAFF = [requires_role(Role.CANTEEN_STAFF)]
WORKERS = [requires_role(Role.WORKER)]
# An admin may do whatever a zone's market manager does, in every zone.
MANAGERS = [requires_role(Role.MANAGER, Role.ADMIN)]
ADMINS = [requires_role(Role.ADMIN)]

HOME_PATHS = {
    Role.VENDOR: "/vendor",
    Role.CANTEEN_STAFF: "/canteen",
    Role.WORKER: "/worker",
    Role.MANAGER: "/manager",
    Role.ADMIN: "/admin",
}


def home_path_for(user: User) -> str:
    return HOME_PATHS[Role(user.role)]


def _profile_first(_request: Request[Any, Any, Any], _exc: Exception) -> Response[Any]:
    """Certificates, products, orders and money hang on the business profile: send a vendor without one to fill
    it in."""
    return see_other("/vendor/profile", notice="profile_first")


# The exception handlers of a vendor's page that needs the business profile.
PROFILE_FIRST: ExceptionHandlersMap = {ProfileIncomplete: _profile_first}
